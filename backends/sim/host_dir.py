"""``HostDirFS``: a real directory of the machine, as a simulated filesystem.

The simulated machine keeps its own files in memory, but a bind mount of a
host path (``-v "$PWD/data:/data"``) or a volume's data directory must show
the *real* files: what a simulated container writes there is on the disk
afterwards.  This class is that window -- and only that window.  A path
inside it never leads out of the directory:

* every name on the way is opened with ``O_NOFOLLOW`` relative to the
  directory before it (``openat``), so a symlink swapped in by someone else
  meanwhile makes the call fail instead of escaping;
* symlinks inside are followed here, in Python, as the kernel's
  ``RESOLVE_IN_ROOT`` would: an absolute target starts again at the
  directory, ``..`` stops there.

(The simulated VFS follows symlinks itself and hands over paths without
them; this class holds the line whoever calls it.)  On a system without
``openat`` (Windows) the checks are made on joined paths instead, which a
concurrent writer could race: see SIMPLIFICATIONS.md.
"""

from __future__ import annotations

import errno
import os
import stat as statmod
from typing import Literal

from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult

MAXSYMLINKS = 40
_HAS_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _err(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


OVERFLOW_ID = 65534  # how a user namespace shows an id it has no mapping for ("nobody")


def stat_result(st: os.stat_result, owner: tuple[int, int] | None = None) -> StatResult:
    """``owner``: without root, the real (uid, gid) that the simulated
    root stands for (see HostDirFS)."""
    mode = st.st_mode
    uid, gid = st.st_uid, st.st_gid
    if owner is not None:
        uid = 0 if uid == owner[0] else OVERFLOW_ID
        gid = 0 if gid == owner[1] else OVERFLOW_ID
    if statmod.S_ISDIR(mode):
        kind = EntryKind.DIR
    elif statmod.S_ISLNK(mode):
        kind = EntryKind.SYMLINK
    else:
        kind = EntryKind.FILE
    return StatResult(
        kind=kind,
        mode=statmod.S_IMODE(mode),
        uid=uid,
        gid=gid,
        size=st.st_size,
        nlink=st.st_nlink,
        is_device=statmod.S_ISCHR(mode) or statmod.S_ISBLK(mode),
        mtime=st.st_mtime,
        ino=st.st_ino,
    )


def is_normal_absolute(path: str) -> bool:
    """Is ``path`` absolute and already what normpath makes of it (no "//",
    no "." or ".." names, no "/" at the end) -- every path the engine makes."""
    return path[:1] == "/" and path[-1:] != "/" and "//" not in path and "/." not in path


class HostDirFS(FileOps):
    """File operations on the host directory ``root``; paths are absolute
    inside it ("/sub/file").

    Run by root, owners are the real ones.  Run by a user, the simulated
    root stands for that user, as in rootless Docker: the user's files show
    as root's, ``chown`` to root keeps them the user's, and any other owner
    is one the user cannot give away (EINVAL, as for an unmapped id)."""

    def __init__(self, root: str, owner: tuple[int, int] | None | Literal["look it up"] = "look it up"):
        """``owner``: who runs the simulator, (uid, gid) or None for root
        (known to the caller that makes many of these, or looked up here)."""
        # (abspath is normpath's work for a path that is normal already:
        # the host side makes one of these for every bind of every start.)
        self.root = root if is_normal_absolute(root) else os.path.abspath(root)
        if isinstance(owner, str):
            euid = os.geteuid() if hasattr(os, "geteuid") else 0
            owner = None if euid == 0 else (euid, os.getegid())
        self.owner: tuple[int, int] | None = owner

    def __repr__(self) -> str:
        return f"HostDirFS({self.root!r})"

    # -- resolution ----------------------------------------------------------------
    def _open_dir(self, parts: list[str], path: str) -> int:
        """An fd of the directory ``parts`` below the root, each name opened
        without following a symlink."""
        fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            for name in parts:
                try:
                    nxt = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
                except OSError as e:
                    if e.errno == errno.ELOOP:  # a symlink appeared meanwhile
                        raise _err(errno.ELOOP, path) from None
                    raise _err(e.errno or errno.EIO, path) from None
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _lstat_at(self, parts: list[str], path: str) -> os.stat_result:
        if not parts:
            return os.stat(self.root)
        if not _HAS_DIR_FD:
            return os.lstat(os.path.join(self.root, *parts))
        fd = self._open_dir(parts[:-1], path)
        try:
            return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            raise _err(e.errno or errno.EIO, path) from None
        finally:
            os.close(fd)

    def _readlink_at(self, parts: list[str], path: str) -> str:
        if not _HAS_DIR_FD:
            return os.readlink(os.path.join(self.root, *parts))
        fd = self._open_dir(parts[:-1], path)
        try:
            return os.readlink(parts[-1], dir_fd=fd)
        finally:
            os.close(fd)

    def _resolve(self, path: str, follow_last: bool) -> list[str]:
        """The names below the root that ``path`` leads to, with every
        symlink on the way (and the last one if ``follow_last``) resolved
        inside the root.  A missing last name is kept (for creating it)."""
        if not path.startswith("/"):
            raise _err(errno.EINVAL, path)
        todo = [n for n in path.split("/") if n not in ("", ".")]
        todo.reverse()
        done: list[str] = []
        links = 0
        while todo:
            name = todo.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if done:
                    done.pop()
                continue
            last = not todo
            try:
                st = self._lstat_at([*done, name], path)
            except FileNotFoundError:
                if last:
                    done.append(name)
                    return done
                raise _err(errno.ENOENT, path) from None
            if statmod.S_ISLNK(st.st_mode) and (not last or follow_last):
                links += 1
                if links > MAXSYMLINKS:
                    raise _err(errno.ELOOP, path)
                target = self._readlink_at([*done, name], path)
                if target.startswith("/"):
                    done = []
                todo.extend(reversed([n for n in target.split("/") if n not in ("", ".")]))
                continue
            if not last and not statmod.S_ISDIR(st.st_mode):
                raise _err(errno.ENOTDIR, path)
            done.append(name)
        return done

    def _parent(self, path: str) -> tuple[list[str], str]:
        """(resolved parent directory, last name): for the calls that act on
        a name itself (unlink, mkdir, lchown ...)."""
        names = [n for n in path.split("/") if n not in ("", ".")]
        if not names or names[-1] == "..":
            raise _err(errno.EBUSY, path)
        parent = self._resolve("/" + "/".join(names[:-1]), follow_last=True)
        return parent, names[-1]

    def _at(self, parent: list[str], path: str):
        """A context for ``*at`` calls in ``parent``: (dir fd or None, how to
        name an entry in it)."""
        return _AtDir(self, parent, path)

    def _open(self, parts: list[str], flags: int, path: str, mode: int = 0o644) -> int:
        with self._at(parts[:-1], path) as at:
            try:
                return os.open(at.name(parts[-1]), flags | _NOFOLLOW | _CLOEXEC, mode, dir_fd=at.fd)
            except OSError as e:
                raise _err(e.errno or errno.EIO, path) from None

    # -- reading -------------------------------------------------------------------
    def lstat(self, path: str) -> StatResult:
        return stat_result(self._lstat_at(self._resolve(path, follow_last=False), path), self.owner)

    def stat(self, path: str) -> StatResult:
        parts = self._resolve(path, follow_last=True)
        return stat_result(self._lstat_at(parts, path), self.owner)

    def real_lstat(self, path: str) -> os.stat_result:
        """The real file's own lstat: its inode, time and st_blocks as the
        host's filesystem counts them (``ls -s``, ``du``, ``ls -l``'s total)."""
        return self._lstat_at(self._resolve(path, follow_last=False), path)

    def listdir(self, path: str) -> list[str]:
        parts = self._resolve(path, follow_last=True)
        if not _HAS_DIR_FD:
            return os.listdir(os.path.join(self.root, *parts))
        fd = self._open_dir(parts, path)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def read(self, path: str) -> bytes:
        parts = self._resolve(path, follow_last=True)
        if not parts:
            raise _err(errno.EISDIR, path)
        fd = self._open(parts, os.O_RDONLY | _NONBLOCK, path)
        try:
            if statmod.S_ISDIR(os.fstat(fd).st_mode):
                raise _err(errno.EISDIR, path)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def readlink(self, path: str) -> str:
        parent, name = self._parent(path)
        st = self._lstat_at([*parent, name], path)
        if not statmod.S_ISLNK(st.st_mode):
            raise _err(errno.EINVAL, path)
        return self._readlink_at([*parent, name], path)

    def rdev(self, path: str) -> int:
        return self._lstat_at(self._resolve(path, follow_last=False), path).st_rdev

    # -- writing -------------------------------------------------------------------
    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        parts = self._resolve(path, follow_last=True)
        if not parts:
            raise _err(errno.EISDIR, path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        fd = self._open(parts, flags, path, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def truncate(self, path: str, size: int) -> None:
        parts = self._resolve(path, follow_last=True)
        fd = self._open(parts, os.O_WRONLY, path)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        parent, name = self._parent(path)
        with self._at(parent, path) as at:
            at.call(os.mkdir, name, mode)

    def rmdir(self, path: str) -> None:
        parent, name = self._parent(path)
        with self._at(parent, path) as at:
            at.call(os.rmdir, name)

    def unlink(self, path: str) -> None:
        parent, name = self._parent(path)
        with self._at(parent, path) as at:
            at.call(os.unlink, name)

    def symlink(self, target: str, path: str) -> None:
        parent, name = self._parent(path)
        with self._at(parent, path) as at:
            try:
                os.symlink(target, at.name(name), dir_fd=at.fd)
            except OSError as e:
                raise _err(e.errno or errno.EIO, path) from None

    def rename(self, src: str, dst: str) -> None:
        sparent, sname = self._parent(src)
        dparent, dname = self._parent(dst)
        with self._at(sparent, src) as s, self._at(dparent, dst) as d:
            try:
                os.rename(s.name(sname), d.name(dname), src_dir_fd=s.fd, dst_dir_fd=d.fd)
            except OSError as e:
                raise _err(e.errno or errno.EIO, src) from None

    def link(self, src: str, dst: str) -> None:
        sparent, sname = self._parent(src)
        dparent, dname = self._parent(dst)
        with self._at(sparent, src) as s, self._at(dparent, dst) as d:
            try:
                os.link(s.name(sname), d.name(dname), src_dir_fd=s.fd, dst_dir_fd=d.fd, follow_symlinks=False)
            except OSError as e:
                raise _err(e.errno or errno.EIO, dst) from None

    def chmod(self, path: str, mode: int) -> None:
        parts = self._resolve(path, follow_last=True)
        if not parts:
            os.chmod(self.root, mode)
            return
        # Through an fd opened without following: chmod by name would follow
        # a symlink put there after the check.
        fd = self._open(parts, os.O_RDONLY | _NONBLOCK, path)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def chown(self, path: str, uid: int, gid: int) -> None:
        if self.owner is not None:
            uid, gid = (self._real_id(uid, self.owner[0], path), self._real_id(gid, self.owner[1], path))
        parts = self._resolve(path, follow_last=False)
        if not parts:
            os.chown(self.root, uid, gid)
            return
        with self._at(parts[:-1], path) as at:
            at.call(os.chown, parts[-1], uid, gid, follow_symlinks=False)

    @staticmethod
    def _real_id(wanted: int, own: int, path: str) -> int:
        if wanted in (-1, 0):
            return -1 if wanted == -1 else own
        raise _err(errno.EINVAL, path)

    def set_mtime(self, path: str, mtime: float) -> None:
        parts = self._resolve(path, follow_last=False)
        ns = int(mtime * 1e9)
        if not parts:
            os.utime(self.root, ns=(ns, ns))
            return
        with self._at(parts[:-1], path) as at:
            at.call(os.utime, parts[-1], ns=(ns, ns), follow_symlinks=False)

    def utime(self, path: str, mtime: float | None = None, follow: bool = True) -> None:
        """utimensat(path, times): now (``touch``), or ``mtime`` (``touch -d``);
        ``follow=False`` sets a symlink's own time (``touch -h``).  The
        signature MemFS and the overlay have, which the VFS calls: a
        ``touch`` of a bind-mounted /etc/hostname crashed on the old one."""
        if mtime is not None or not follow:
            parts = self._resolve(path, follow_last=follow)
            ns = None if mtime is None else (int(mtime * 1e9), int(mtime * 1e9))
            if not parts:
                os.utime(self.root, ns=ns) if ns is not None else os.utime(self.root)
                return
            with self._at(parts[:-1], path) as at:
                if ns is None:
                    at.call(os.utime, parts[-1], follow_symlinks=False)
                else:
                    at.call(os.utime, parts[-1], ns=ns, follow_symlinks=False)
            return
        parts = self._resolve(path, follow_last=True)
        if not parts:
            os.utime(self.root)
            return
        fd = self._open(parts, os.O_RDONLY | _NONBLOCK, path)
        try:
            os.utime(fd)
        finally:
            os.close(fd)


class _AtDir:
    """An open directory for ``*at`` calls (or, without ``openat``, its path)."""

    def __init__(self, fs: HostDirFS, parent: list[str], path: str):
        self.fs, self.parent, self.path = fs, parent, path
        self.fd: int | None = None

    def __enter__(self) -> _AtDir:
        if _HAS_DIR_FD:
            self.fd = self.fs._open_dir(self.parent, self.path)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)

    def name(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.fs.root, *self.parent, name)

    def call(self, func, name: str, *args, **kwargs):
        try:
            if self.fd is None:
                return func(self.name(name), *args, **kwargs)
            return func(name, *args, dir_fd=self.fd, **kwargs)
        except OSError as e:
            raise _err(e.errno or errno.EIO, self.path) from None
