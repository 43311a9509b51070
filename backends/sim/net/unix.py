"""AF_UNIX datagram sockets named in the filesystem -- what syslogd and
logger (glibc's syslog(3)) use to talk over /dev/log.

Only ``socket(AF_UNIX, SOCK_DGRAM)`` is modelled, as Linux's af_unix.c
answers it:

* ``bind(path)`` makes a socket inode at ``path`` (``srwxr-xr-x`` less the
  umask; ``ls``, ``stat`` and ``test -S`` see it); a name that exists:
  ``EADDRINUSE``; a socket already bound: ``EINVAL``.  Closing the socket
  leaves the name behind (a *stale* socket); ``unlink`` removes it;
* ``connect(path)``/``sendto(path)``: no such name: ``ENOENT``; a name that
  is not a socket, or a socket nobody holds any more: ``ECONNREFUSED``; no
  write permission on it: ``EACCES``;
* ``send`` on a socket whose peer went away: ``ECONNREFUSED``; never
  connected: ``ENOTCONN``; ``read``/``recv`` take one whole datagram each
  (the rest of a longer one is lost, as without MSG_TRUNC);
* ``open(2)`` of a socket inode: ``ENXIO`` (vfs.py).

Which socket holds a name is kept per kernel, by inode number (Linux keeps
it in the inode; a MemFS inode is deep-copied by ``clone``, a socket must
not be).  Not modelled: abstract names, SOCK_STREAM, SCM_CREDENTIALS, the
sender's address, and the receive queue's limit (net.unix.max_dgram_qlen,
10 datagrams: a real sender then blocks; here the queue has no bound).
"""

from __future__ import annotations

import errno
from collections import deque
from typing import TYPE_CHECKING, Any

from ..files import OpenFile
from ..flow import EBADF, oserror
from .sockets import waits_on

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import SimKernel

W_OK = 2


def _bound(k: SimKernel) -> dict[int, UnixDgram]:
    """inode number -> the socket bound there, for one kernel."""
    names = getattr(k, "unix_names", None)
    if names is None:
        names = k.unix_names = {}  # type: ignore[attr-defined]
    return names


class UnixDgram(OpenFile):
    """One AF_UNIX SOCK_DGRAM socket: its queue of datagrams, its name, its peer."""

    __slots__ = ("k", "dgrams", "waiters", "ino", "peer", "closed")
    kind = "socket"

    def __init__(self, k: SimKernel):
        super().__init__(2)  # O_RDWR
        self.k = k
        self.dgrams: deque[bytes] = deque()
        self.waiters: list = []
        self.ino: int | None = None  # the inode bind(2) made
        self.peer: UnixDgram | None = None  # connect(2)'s
        self.closed = False

    def __repr__(self) -> str:
        return f"<UnixDgram ino={self.ino} queued={len(self.dgrams)}>"

    @property
    def pipe(self):  # what Sys.read parks on
        return self

    def wake_readers(self, k) -> None:
        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            if waits_on(proc.block, self):
                k.sched.wake(proc)

    def ready(self) -> bool:
        return bool(self.dgrams)

    def read(self, k, n):
        if not self.dgrams:
            return None
        return self.dgrams.popleft()[:n]

    def write(self, k, data):
        if self.peer is None:
            raise oserror(errno.ENOTCONN)
        return deliver(self.peer, bytes(data))

    def release(self, k):
        self.closed = True
        if self.ino is not None and _bound(k).get(self.ino) is self:
            del _bound(k)[self.ino]
        self.dgrams.clear()
        self.peer = None
        self.wake_readers(k)


def deliver(target: UnixDgram, data: bytes) -> int:
    if target.closed:
        raise oserror(errno.ECONNREFUSED)
    target.dgrams.append(data)
    target.wake_readers(target.k)
    return len(data)


class UnixSyscalls:
    """socket(AF_UNIX, SOCK_DGRAM) and its calls (mixin of SimSys: ``self.k``, ``self.p``)."""

    __slots__ = ()
    k: Any
    p: Any

    def _unix(self, fd: int) -> UnixDgram:
        f = self.p.fds.get(fd)
        if f is None:
            raise oserror(EBADF)
        if not isinstance(f, UnixDgram):
            raise oserror(errno.ENOTSOCK)
        return f

    def socket_unix(self) -> int:
        """socket(AF_UNIX, SOCK_DGRAM, 0)."""
        from ..syscalls import lowest_free_fd

        fd = lowest_free_fd(self.p.fds)
        self.p.fds[fd] = UnixDgram(self.k)
        return fd

    def bind_unix(self, fd: int, path: str) -> None:
        sock = self._unix(fd)
        if sock.ino is not None:
            raise oserror(errno.EINVAL)
        if not path:
            raise oserror(errno.EINVAL)  # abstract and autobind names: not modelled
        vfs, proc = self.k.vfs, self.p
        try:
            dloc, full = vfs._new_name(proc, path)
        except FileExistsError:
            raise oserror(errno.EADDRINUSE, path) from None
        fs = vfs._check_dir_write(proc, dloc, path)
        try:
            fs.mksock(full, 0o777 & ~proc.umask)
        except FileExistsError:
            raise oserror(errno.EADDRINUSE, path) from None
        vfs._own(proc, fs, full)
        sock.ino = fs.lookup(full, follow=False).ino
        _bound(self.k)[sock.ino] = sock

    def _named(self, path: str) -> UnixDgram:
        """The socket bound at ``path`` (unix_find_bsd)."""
        vfs, proc = self.k.vfs, self.p
        loc = vfs.walk(proc, path, True)  # ENOENT, ENOTDIR, EACCES on the way
        fs = vfs.fs_of(proc, loc)[0]
        st = fs.lstat(loc[1])
        if not vfs.may(proc, st, W_OK):
            raise oserror(errno.EACCES, path)
        if st.kind != "socket":
            raise oserror(errno.ECONNREFUSED, path)
        lookup = getattr(fs, "lookup", None)
        target = _bound(self.k).get(lookup(loc[1], follow=False).ino) if lookup else None
        if target is None:
            raise oserror(errno.ECONNREFUSED, path)
        return target

    def connect_unix(self, fd: int, path: str) -> None:
        sock = self._unix(fd)
        sock.peer = self._named(path)

    def sendto_unix(self, fd: int, data: bytes, path: str) -> int:
        self._unix(fd)
        return deliver(self._named(path), bytes(data))
