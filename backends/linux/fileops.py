"""``HostFileOps``: file operations confined to one directory tree.

A container's files are untrusted: a layer may contain ``etc -> /etc`` or
``x -> ../../../../root``.  If the engine naively did
``open(merged + "/etc/passwd", "w")`` it would follow such a symlink and
write to the *host's* file -- the classic container breakout (runc's
CVE-2019-5736 family, Docker's CVE-2018-15664).

So every path is resolved by the kernel *as if the tree's top were "/"*:
``openat2(rootfd, path, ..., RESOLVE_IN_ROOT)`` (Linux 5.6).  Absolute
symlinks restart at the tree's top and ``..`` cannot climb above it.  For
operations on a name itself (unlink, rename, lstat ...) we resolve the
*parent directory* that way and then act on the last component with the
``*at`` syscalls (``dir_fd=``), which never follow a final symlink.
"""

from __future__ import annotations

import errno
import os
import stat as statmod

from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult

from . import libc

_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS


def stat_result(st: os.stat_result) -> StatResult:
    mode = st.st_mode
    if statmod.S_ISDIR(mode):
        kind = EntryKind.DIR
    elif statmod.S_ISLNK(mode):
        kind = EntryKind.SYMLINK
    else:
        kind = EntryKind.FILE
    return StatResult(
        kind=kind,
        mode=statmod.S_IMODE(mode),
        uid=st.st_uid,
        gid=st.st_gid,
        size=st.st_size,
        nlink=st.st_nlink,
        is_device=statmod.S_ISCHR(mode) or statmod.S_ISBLK(mode),
    )


def split_path(path: str) -> tuple[str, str]:
    """ "/a/b/c" -> ("a/b", "c"); "/" -> ("", "")."""
    if not path.startswith("/"):
        raise OSError(errno.EINVAL, f"path must be absolute inside the container: {path!r}")
    parts = [p for p in path.split("/") if p and p != "."]
    if not parts:
        return "", ""
    return "/".join(parts[:-1]), parts[-1]


class HostFileOps(FileOps):
    """File operations on the tree at host directory ``root``; paths are
    absolute *inside* it ("/etc/hostname")."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def __repr__(self) -> str:
        return f"HostFileOps({self.root!r})"

    # -- resolution -------------------------------------------------------------
    def _open(self, rel: str, flags: int, mode: int = 0) -> int:
        rootfd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if not rel:
                return os.dup(rootfd) if flags & os.O_PATH else os.open(".", flags, mode, dir_fd=rootfd)
            return libc.openat2(rootfd, rel, flags, mode, _RESOLVE)
        finally:
            os.close(rootfd)

    def _parent(self, path: str) -> tuple[int, str]:
        """(fd of the resolved parent directory, last component)."""
        parent, name = split_path(path)
        if not name:
            raise OSError(errno.EBUSY, "operation not permitted on the root directory", path)
        return self._open(parent, os.O_PATH | os.O_DIRECTORY), name

    # -- reading ----------------------------------------------------------------
    def lstat(self, path: str) -> StatResult:
        parent, name = split_path(path)
        if not name:
            return self.stat("/")
        fd = self._open(parent, os.O_PATH | os.O_DIRECTORY)
        try:
            return stat_result(os.stat(name, dir_fd=fd, follow_symlinks=False))
        finally:
            os.close(fd)

    def stat(self, path: str) -> StatResult:
        fd = self._open("/".join(split_path(path)).strip("/"), os.O_PATH)
        try:
            return stat_result(os.fstat(fd))
        finally:
            os.close(fd)

    def listdir(self, path: str) -> list[str]:
        fd = self._open("/".join(split_path(path)).strip("/"), os.O_RDONLY | os.O_DIRECTORY)
        try:
            return os.listdir(fd)  # getdents order: what the filesystem gives
        finally:
            os.close(fd)

    def read(self, path: str) -> bytes:
        """A regular file's bytes.  Opened without blocking and refused unless
        it is a regular file: the tree is the container's, and a FIFO put at
        /etc/passwd would otherwise hang whoever reads it (the daemon
        starting that container) until some writer came."""
        fd = self._open("/".join(split_path(path)).strip("/"), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            kind = os.fstat(fd).st_mode
            if statmod.S_ISDIR(kind):
                raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), path)
            if not statmod.S_ISREG(kind):
                raise OSError(errno.EINVAL, "not a regular file", path)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def readlink(self, path: str) -> str:
        fd, name = self._parent(path)
        try:
            return os.readlink(name, dir_fd=fd)
        finally:
            os.close(fd)

    # -- writing -------------------------------------------------------------------
    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        fd = self._open("/".join(split_path(path)).strip("/"), flags, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def truncate(self, path: str, size: int) -> None:
        fd = self._open("/".join(split_path(path)).strip("/"), os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        fd, name = self._parent(path)
        try:
            os.mkdir(name, mode, dir_fd=fd)
        finally:
            os.close(fd)

    def rmdir(self, path: str) -> None:
        fd, name = self._parent(path)
        try:
            os.rmdir(name, dir_fd=fd)
        finally:
            os.close(fd)

    def unlink(self, path: str) -> None:
        fd, name = self._parent(path)
        try:
            os.unlink(name, dir_fd=fd)
        finally:
            os.close(fd)

    def rename(self, src: str, dst: str) -> None:
        sfd, sname = self._parent(src)
        try:
            dfd, dname = self._parent(dst)
            try:
                os.rename(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)
            finally:
                os.close(dfd)
        finally:
            os.close(sfd)

    def symlink(self, target: str, path: str) -> None:
        fd, name = self._parent(path)
        try:
            os.symlink(target, name, dir_fd=fd)
        finally:
            os.close(fd)

    def link(self, src: str, dst: str) -> None:
        sfd, sname = self._parent(src)
        try:
            dfd, dname = self._parent(dst)
            try:
                os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
            finally:
                os.close(dfd)
        finally:
            os.close(sfd)

    def chmod(self, path: str, mode: int) -> None:
        # chmod follows symlinks; resolve inside the root, then change the
        # inode through the fd's /proc magic link (fchmod refuses O_PATH fds).
        fd = self._open("/".join(split_path(path)).strip("/"), os.O_PATH)
        try:
            os.chmod(f"/proc/self/fd/{fd}", mode)
        finally:
            os.close(fd)

    def chown(self, path: str, uid: int, gid: int) -> None:
        parent, name = split_path(path)
        if not name:
            os.chown(self.root, uid, gid, follow_symlinks=False)
            return
        fd = self._open(parent, os.O_PATH | os.O_DIRECTORY)
        try:
            os.chown(name, uid, gid, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)
