"""Open files: what an fd points at.

``open(2)`` creates an *open file description* -- the file, the access mode
and the current offset -- and puts a pointer to it in the process's fd
table.  ``dup2`` and ``fork`` copy the pointer, not the description, which
is why a parent and a child that share a stdout also share its offset.  Here
that description is an :class:`OpenFile` with a reference count ``refs``;
the last ``close`` releases it (for a pipe: the reader sees EOF once the last
write end is gone).

Kinds of open file:

* :class:`InodeFile` -- a file of a filesystem that hands out inodes
  (MemFS and the overlay), read and written at an offset;
* :class:`PathFile` -- a file of a filesystem that only has whole-file
  operations (procfs: its text is generated when first read, like seq_file);
* :class:`DeviceFile` -- a character device, by major/minor number
  (``/dev/null`` 1:3, ``/dev/zero`` 1:5, ``/dev/full`` 1:7, ``/dev/random``
  1:8, ``/dev/urandom`` 1:9);
* :class:`PipeEnd` -- one end of a :class:`Pipe`;
* :class:`HostFile` -- a file of the *real* machine (a container's log file:
  the engine opens it before the container starts, as containerd-shim does).
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from stepbox.core.kernel import log_times

from .flow import EBADF, oserror
from .memfs import InodeKind
from .scheduler import PipeWait

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel

O_ACCMODE, O_WRONLY, O_RDWR, O_APPEND = 0o3, 0o1, 0o2, 0o2000


class OpenFile:
    __slots__ = ("refs", "readable", "writable")
    kind = "file"

    def __init__(self, flags: int = 0):
        self.refs = 1
        acc = flags & O_ACCMODE
        self.readable = acc != O_WRONLY
        self.writable = acc in (O_WRONLY, O_RDWR)

    def read(self, k: SimKernel, n: int) -> bytes | None:
        """Up to ``n`` bytes; b"" at end of file; None if a read would block."""
        raise oserror(errno.EINVAL)

    def write(self, k: SimKernel, data: bytes) -> int:
        raise oserror(errno.EINVAL)

    def close(self, k: SimKernel) -> None:
        self.refs -= 1
        if self.refs == 0:
            self.release(k)

    def release(self, k: SimKernel) -> None:
        """The last reference went away."""

    def _check(self, want_write: bool) -> None:
        if not (self.writable if want_write else self.readable):
            raise oserror(EBADF)


class InodeFile(OpenFile):
    __slots__ = ("node", "offset", "append")

    def __init__(self, node, flags: int):
        super().__init__(flags)
        self.node = node
        self.offset = 0
        self.append = bool(flags & O_APPEND)

    def read(self, k, n):
        self._check(False)
        data = self.node.read_at(self.offset, n)
        self.offset += len(data)
        return data

    def write(self, k, data):
        self._check(True)
        if self.append:
            self.offset = self.node.size
        written = self.node.write_at(self.offset, data)
        self.offset += written
        if written and self.node.kind is InodeKind.FILE:
            self.node.mtime = k.wall_clock()  # write(2) updates the file's mtime (docker diff reads it)
        return written


class PathFile(OpenFile):
    """A file of a filesystem with only whole-file operations."""

    __slots__ = ("fs", "path", "offset", "snapshot", "append")

    def __init__(self, fs, path: str, flags: int):
        super().__init__(flags)
        self.fs, self.path = fs, path
        self.offset = 0
        self.snapshot: bytes | None = None
        self.append = bool(flags & O_APPEND)

    def read(self, k, n):
        self._check(False)
        if self.snapshot is None:
            self.snapshot = self.fs.read(self.path)
        data = self.snapshot[self.offset : self.offset + n]
        self.offset += len(data)
        return data

    def write(self, k, data):
        self._check(True)
        if self.append or self.offset == 0:
            self.fs.write(self.path, data, append=self.append or self.offset > 0)
        else:
            old = self.fs.read(self.path)
            new = old[: self.offset].ljust(self.offset, b"\0") + data + old[self.offset + len(data) :]
            self.fs.write(self.path, new)
        self.offset += len(data)
        return len(data)


class DirFile(OpenFile):
    """An open directory (O_RDONLY|O_DIRECTORY): read() is EISDIR."""

    __slots__ = ("loc",)
    kind = "dir"

    def __init__(self, loc):
        super().__init__(0)
        self.loc = loc

    def read(self, k, n):
        raise oserror(errno.EISDIR)

    def write(self, k, data):
        raise oserror(EBADF)


# -- devices ---------------------------------------------------------------------------


class DeviceFile(OpenFile):
    __slots__ = ("rdev",)
    kind = "device"

    def __init__(self, rdev: int, flags: int):
        super().__init__(flags)
        self.rdev = rdev


class NullDevice(DeviceFile):
    """/dev/null: reads end at once, writes vanish."""

    __slots__ = ()

    def read(self, k, n):
        self._check(False)
        return b""

    def write(self, k, data):
        self._check(True)
        return len(data)


class ZeroDevice(NullDevice):
    """/dev/zero: an endless supply of zero bytes."""

    __slots__ = ()

    def read(self, k, n):
        self._check(False)
        return bytes(n)


class FullDevice(ZeroDevice):
    """/dev/full: reads like /dev/zero, every write fails with ENOSPC."""

    __slots__ = ()

    def write(self, k, data):
        raise oserror(errno.ENOSPC)


class RandomDevice(NullDevice):
    """/dev/random, /dev/urandom: bytes from the kernel's (seeded, so
    reproducible) random generator."""

    __slots__ = ()

    def read(self, k, n):
        self._check(False)
        return k.random.randbytes(n)


# (major, minor) -> class; anything else opens as ENXIO ("no such device").
DEVICES = {
    (1, 3): NullDevice,
    (1, 5): ZeroDevice,
    (1, 7): FullDevice,
    (1, 8): RandomDevice,
    (1, 9): RandomDevice,
}
DEVICE_NODES = {
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
    "ptmx": (5, 2),
}


def open_device(rdev: int, flags: int) -> DeviceFile:
    cls = DEVICES.get((os.major(rdev), os.minor(rdev)))
    if cls is None:
        # /dev/tty with no controlling terminal (a container run without -t).
        raise oserror(errno.ENXIO)
    return cls(rdev, flags)


# -- pipes -------------------------------------------------------------------------------

PIPE_CAPACITY = 65536  # a Linux pipe holds 16 pages by default


class Pipe:
    """The buffer between a pipe's two ends, of :data:`PIPE_CAPACITY` bytes.
    ``Sys.write`` does not block: on a full pipe it writes what fits and
    returns the count, and with no room at all it fails with EAGAIN, so the
    writer yields and lets the reader run (see SIMPLIFICATIONS.md)."""

    __slots__ = ("buf", "readers", "writers", "waiters", "on_drain")

    def __init__(self):
        self.buf = bytearray()
        self.readers = 0
        self.writers = 0
        self.waiters: list = []  # processes blocked reading
        self.on_drain = None  # called when a read made room (the engine's stdin writer)

    def wake_readers(self, k) -> None:
        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            block = proc.block
            if isinstance(block, PipeWait) and (block.pipe is self or self in getattr(block, "queues", ())):
                k.sched.wake(proc)


class PipeEnd(OpenFile):
    __slots__ = ("pipe",)
    kind = "pipe"

    def __init__(self, pipe: Pipe, write_end: bool):
        super().__init__(O_WRONLY if write_end else 0)
        self.pipe = pipe
        if write_end:
            pipe.writers += 1
        else:
            pipe.readers += 1

    def read(self, k, n):
        self._check(False)
        buf = self.pipe.buf
        if buf:
            data = bytes(buf[:n])
            del buf[:n]
            if self.pipe.on_drain is not None:
                self.pipe.on_drain()
            return data
        if self.pipe.writers == 0:
            return b""  # every write end closed: end of file
        return None  # would block

    def write(self, k, data):
        self._check(True)
        pipe = self.pipe
        if pipe.readers == 0:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        room = PIPE_CAPACITY - len(pipe.buf)
        if room <= 0:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        if len(data) > room:
            data = data[:room]
        pipe.buf += data
        if pipe.waiters:
            pipe.wake_readers(k)
        return len(data)

    def release(self, k):
        pipe = self.pipe
        if self.writable:
            pipe.writers -= 1
            if pipe.writers == 0 and pipe.waiters:
                pipe.wake_readers(k)  # readers now see EOF
        else:
            pipe.readers -= 1


class HostFile(OpenFile):
    """A file on the real machine, opened by the engine outside the
    container (the log files named by ``SpawnSpec.stdio``), as the shim
    does: created (appending) when the process is made, so a reader finds
    it even if the container never writes.

    A plain fd, not a Python file object: opening one of those costs an
    fstat and an lseek more, for every container's two logs.  The log's
    time index (see core.kernel.log_times) is opened at the first write --
    a log nothing was written to has no times to keep, and a missing index
    reads as an empty one."""

    __slots__ = ("fd", "times", "times_path")
    kind = "host"

    def __init__(self, path: str, write: bool):
        super().__init__(O_WRONLY if write else 0)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND if write else os.O_RDONLY
        self.fd = os.open(path, flags | os.O_CLOEXEC, 0o666)  # what open(path, "ab") makes
        self.times: int | None = None
        self.times_path = log_times.index_path(path) if write else None

    def read(self, k, n):
        self._check(False)
        return os.read(self.fd, n)

    def write(self, k, data):
        self._check(True)
        if self.times_path is not None and data:
            if self.times is None:
                self.times = os.open(
                    self.times_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640
                )
            # O_APPEND: the chunk lands at the end, wherever this fd was.
            log_times.record(self.times, os.lseek(self.fd, 0, os.SEEK_END))
        return os.write(self.fd, data)

    def release(self, k):
        os.close(self.fd)
        if self.times is not None:
            os.close(self.times)
