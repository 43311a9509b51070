"""The container's files as ``docker cp`` sees them.

A container's ``/`` is its union mount, with volumes, bind mounts and its
own /etc files mounted on top.  ``docker cp`` must see all of that (copying
into ``/data`` reaches the volume) -- and it must see it *from inside*: the
path is the container's, and so is every symlink on the way.  A container
that made ``/x -> /`` or ``/etc/shadow -> /etc/passwd`` must not lead the
daemon, which runs as root on the host, to the host's ``/`` (that was
CVE-2018-15664, a race against Docker's symlink check).

So paths are resolved here one name at a time, as the kernel's
``openat2(RESOLVE_IN_ROOT)`` would resolve them with the container's root
as ``/``: an absolute symlink starts again at the container's root, ``..``
stops there, and each step is asked of the filesystem that holds it -- the
union mount, or a volume -- whose own file operations are confined to it
in turn (``openat2`` on the real kernel).  A race can at worst send a path
somewhere else *inside* the container, never out of it.

Docker leaves out what is not a volume or a bind: a ``--tmpfs`` mount and
``/proc``, ``/dev``, ``/sys`` are not seen (the directory under them is).
"""

from __future__ import annotations

import errno
import itertools
import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stepbox.core.kernel.kernel import Kernel
from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult, UnionMount

from .etc_files import ETC_FILES

if TYPE_CHECKING:
    from stepbox.core.volumes.store import VolumeStore

    from .record import ContainerRecord

MAXSYMLINKS = 40


@dataclass(frozen=True)
class Mounted:
    """One mount on top of the union: ``files`` shows the container path
    ``destination`` at ``inside`` (its root, or a file of it)."""

    destination: str
    files: FileOps
    inside: str = "/"
    writable: bool = True


def _error(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


class ContainerFiles:
    """File operations with container paths, across the union mount and the
    mounts on it.  Every method takes an absolute container path."""

    def __init__(self, rootfs: FileOps, mounts: list[Mounted], readonly_root: bool = False):
        self.rootfs = rootfs
        # Deepest first: a volume at /data/logs is found before one at /data.
        self.mounts = sorted(mounts, key=lambda m: len(m.destination), reverse=True)
        self.readonly_root = readonly_root

    # -- where a path lives ---------------------------------------------------------
    def holder(self, path: str) -> tuple[FileOps, str, Mounted | None]:
        """(the filesystem, the path inside it, the mount) for a container
        path without symlinks in it."""
        for m in self.mounts:
            if path == m.destination:
                return m.files, m.inside, m
            if path.startswith(m.destination.rstrip("/") + "/"):
                rest = path[len(m.destination.rstrip("/")) :]
                if m.inside != "/":
                    raise _error(errno.ENOTDIR, path)  # below a file
                return m.files, rest, m
        return self.rootfs, path, None

    def _lstat(self, path: str) -> StatResult:
        files, inside, _ = self.holder(path)
        return files.lstat(inside)

    def _readlink(self, path: str) -> str:
        files, inside, _ = self.holder(path)
        return files.readlink(inside)

    def resolve(self, path: str, follow_last: bool) -> str:
        """The container path ``path`` leads to: every symlink on the way
        followed inside the container (the last one only if
        ``follow_last``).  A missing last name is kept."""
        todo = [n for n in path.split("/") if n not in ("", ".")]
        todo.reverse()
        done: list[str] = []
        links = 0
        while todo:
            name = todo.pop()
            if name == "..":
                if done:
                    done.pop()
                continue
            current = "/" + "/".join([*done, name])
            last = not todo
            try:
                st = self._lstat(current)
            except FileNotFoundError:
                if last:
                    done.append(name)
                    break
                raise _error(errno.ENOENT, path) from None
            if st.kind is EntryKind.SYMLINK and (not last or follow_last):
                links += 1
                if links > MAXSYMLINKS:
                    raise _error(errno.ELOOP, path)
                target = self._readlink(current)
                if target.startswith("/"):
                    done = []
                todo.extend(reversed([n for n in target.split("/") if n not in ("", ".")]))
                continue
            if not last and st.kind is not EntryKind.DIR:
                raise _error(errno.ENOTDIR, path)
            done.append(name)
        return "/" + "/".join(done)

    # -- reading ------------------------------------------------------------------------
    def lstat(self, path: str) -> StatResult:
        """lstat of a resolved path (no symlink before its last name)."""
        return self._lstat(path)

    def listdir(self, path: str) -> list[str]:
        """The names in a directory -- with the mount points below it that
        the directory itself does not have (yet)."""
        files, inside, _ = self.holder(path)
        names = files.listdir(inside)
        prefix = path.rstrip("/") + "/"
        for m in self.mounts:
            if m.destination.startswith(prefix) and "/" not in m.destination[len(prefix) :]:
                name = m.destination[len(prefix) :]
                if name and name not in names:
                    names.append(name)
        return names

    def read(self, path: str) -> bytes:
        files, inside, _ = self.holder(path)
        return files.read(inside)

    def readlink(self, path: str) -> str:
        return self._readlink(path)

    # -- writing ------------------------------------------------------------------------
    def writable(self, path: str) -> FileOps:
        """The filesystem to change ``path`` in; refused as Docker refuses a
        read-only volume or, outside any volume, a read-only root."""
        files, inside, mount = self.holder(path)
        if mount is not None:
            if not mount.writable:
                raise ReadOnly("mounted volume is marked read-only")
        elif self.readonly_root:
            raise ReadOnly("container rootfs is marked read-only")
        return files

    def inside(self, path: str) -> str:
        return self.holder(path)[1]


class ReadOnly(Exception):
    """``docker cp`` into a read-only volume or a ``--read-only`` root."""


def join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory != "/" else "/" + name


_openings = itertools.count()  # names the volumes' users for each opening


@contextmanager
def opened(kernel: Kernel, volumes: VolumeStore, record: ContainerRecord) -> Iterator[ContainerFiles]:
    """The files of container ``record``, running or not: a stopped one's
    union is mounted for the time being (as dockerd mounts it for ``docker
    cp``), and so is a volume whose driver mounts a filesystem."""
    unionfs = kernel.unionfs
    made_mount = None
    if record.mount:
        target, lowers, upper, options = (record.mount[k] for k in ("target", "lowers", "upper", "options"))
        rootfs = unionfs.merged(UnionMount(target, tuple(lowers), upper, options))
    else:
        made_mount = unionfs.mount([record.init_layer, *record.lowers], record.rw_layer, record.id)
        rootfs = unionfs.merged(made_mount)
    mounted_volumes = []
    user = f"files {record.id} {next(_openings)}"  # one of the volume's users while open
    try:
        mounts = []
        for data in record.mounts:
            if data["type"] == "volume":
                volume = volumes.get(data["name"])
                volumes.use(volume, user)
                mounted_volumes.append(volume)
                mounts.append(Mounted(data["destination"], volumes.files(volume), "/", data["rw"]))
            elif data["type"] == "bind" and os.path.lexists(data["source"]):
                mounts.append(_bind(kernel, data["source"], data["destination"], data["rw"]))
        if record.started_once:
            taken = {m.destination for m in mounts}
            for name, destination in ETC_FILES.items():
                source = os.path.join(record.log_dir, name)
                if destination not in taken and os.path.exists(source):
                    mounts.append(_bind(kernel, source, destination, not record.config.readonly_rootfs))
        yield ContainerFiles(rootfs, mounts, readonly_root=record.config.readonly_rootfs)
    finally:
        for volume in mounted_volumes:
            volumes.release(volume, user)
        if made_mount is not None:
            unionfs.unmount(made_mount)


def _bind(kernel: Kernel, source: str, destination: str, writable: bool) -> Mounted:
    if os.path.isdir(source):
        return Mounted(destination, kernel.host_mounts.files(source), "/", writable)
    parent, name = os.path.split(source)
    return Mounted(destination, kernel.host_mounts.files(parent), "/" + name, writable)
