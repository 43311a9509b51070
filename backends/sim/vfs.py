"""The virtual filesystem switch: the file operations of simulated processes.

Each operation finds its place in the mount tree with :mod:`.namei` (path
walk, permission bits) and asks the filesystem mounted there (any
:class:`~stepbox.core.kernel.unionfs.FileOps`) to do the work -- after the
checks the kernel makes at that layer: read-only mounts (EROFS), ``nodev``,
``noexec``, and who may write a directory or change a file.  The mount
tables themselves and mount(2), umount(2), pivot_root(2) are in
:mod:`.mounts`; :class:`VFS` is both.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from stepbox.core.kernel.unionfs import EntryKind

from .files import DirFile, InodeFile, PathFile, open_device
from .flow import ENOENT, EPERM, oserror
from .mounts import Loc, Mounts
from .namei import MAXSYMLINKS, R_OK, W_OK, X_OK, join_name, may, path_walk
from .tty import SlaveFile

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

SYMLINK, DIR = EntryKind.SYMLINK, EntryKind.DIR
O_WRONLY, O_RDWR, O_ACCMODE = 0o1, 0o2, 0o3
O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY = 0o100, 0o200, 0o1000, 0o2000, 0o200000


class VFS(Mounts):
    """Path resolution, file operations and mounts for simulated processes."""

    def __init__(self, kernel: SimKernel):
        super().__init__()
        self.k = kernel

    # -- path resolution --------------------------------------------------------------
    def walk(self, proc: Process, path: str, follow: bool = True, root: Loc | None = None) -> Loc:
        """Resolve ``path`` for ``proc`` to a Loc (OSError as the kernel).
        ``root`` confines the walk below another directory, as if chrooted
        there (what runc's securejoin does for paths inside a rootfs)."""
        if root is None:
            return path_walk(proc.ns.mnt.table, proc.root, proc.cwd, path, follow, False)
        return path_walk(proc.ns.mnt.table, root, root, path, follow, False)

    def lookup_or_parent(self, proc: Process, path: str, root: Loc | None = None):
        """One walk for "use it if it exists, else create it": ``(Loc, None)``
        when ``path`` exists, ``(None, (directory Loc, last name))`` when only
        its last name is missing (ENOENT if more is missing)."""
        r = root or proc.root
        return path_walk(proc.ns.mnt.table, r, r if root else proc.cwd, path, True, False, missing_ok=True)

    def walk_at(
        self, proc: Process, start: Loc, path: str, follow: bool = True, root: Loc | None = None
    ) -> Loc:
        """Resolve a relative ``path`` from the directory ``start`` (openat)."""
        return path_walk(proc.ns.mnt.table, root or proc.root, start, path, follow, False)

    def walk_parent(self, proc: Process, path: str, root: Loc | None = None):
        """The directory a new name would go in, and the name: ``(Loc, name)``.
        ``name`` is None when the path has no last name ("/", "..")."""
        if root is None:
            return path_walk(proc.ns.mnt.table, proc.root, proc.cwd, path, False, True)
        return path_walk(proc.ns.mnt.table, root, root, path, False, True)

    def fs_of(self, proc: Process, loc: Loc):
        """(filesystem, mount) of a Loc in ``proc``'s namespace."""
        m = proc.ns.mnt.table.mounts[loc[0]]
        return m.fs, m

    # -- permissions --------------------------------------------------------------------
    def may(self, proc: Process, st, want: int) -> bool:
        return may(proc, st, want)

    def _check_write(self, proc: Process, loc: Loc, path: str):
        fs, m = self.fs_of(proc, loc)
        if "ro" in m.flags:
            raise oserror(errno.EROFS, path)
        return fs

    def _check_dir_write(self, proc, loc, path):
        fs = self._check_write(proc, loc, path)
        if proc.uid != 0 and not self.may(proc, fs.lstat(loc[1]), W_OK | X_OK):
            raise oserror(errno.EACCES, path)
        return fs

    # -- file operations --------------------------------------------------------------
    def stat(self, proc, path: str):
        loc = self.walk(proc, path, True)
        return self.fs_of(proc, loc)[0].lstat(loc[1])

    def lstat(self, proc, path: str):
        loc = self.walk(proc, path, False)
        return self.fs_of(proc, loc)[0].lstat(loc[1])

    def listdir(self, proc, path: str) -> list[str]:
        loc = self.walk(proc, path, True)
        fs = self.fs_of(proc, loc)[0]
        if proc.uid != 0 and not self.may(proc, fs.lstat(loc[1]), R_OK):
            raise oserror(errno.EACCES, path)
        return fs.listdir(loc[1])

    def readlink(self, proc, path: str) -> str:
        loc = self.walk(proc, path, False)
        return self.fs_of(proc, loc)[0].readlink(loc[1])

    def _new_name(self, proc, path: str):
        (mid, dpath), name = self.walk_parent(proc, path)
        if name is None:
            raise oserror(errno.EEXIST, path)
        full = join_name(dpath, name)
        if (mid, full) in proc.ns.mnt.table.children:
            raise oserror(errno.EEXIST, path)
        self._no_new_names(proc, (mid, dpath), full, path)
        return (mid, dpath), full

    def _no_new_names(self, proc, dloc, full: str, path: str) -> None:
        """procfs's lookup of a missing name fails with ENOENT (no negative
        dentry), so creating one fails there -- before any EROFS or EPERM."""
        fs, _ = self.fs_of(proc, dloc)
        if getattr(fs, "NO_NEGATIVE_LOOKUP", False):
            try:
                fs.lstat(full)
            except FileNotFoundError:
                raise oserror(ENOENT, path) from None
            raise oserror(errno.EEXIST, path)

    def mkdir(self, proc, path: str, mode: int = 0o777) -> None:
        dloc, full = self._new_name(proc, path)
        fs = self._check_dir_write(proc, dloc, path)
        fs.mkdir(full, mode & ~proc.umask & 0o7777)
        self._own(proc, fs, full)

    def mknod(self, proc, path: str, mode: int, rdev: int) -> None:
        """mknod(2) of a character device, checked as vfs_mknod checks it:
        the directory, then CAP_MKNOD, then the device cgroup ("m")."""
        dloc, full = self._new_name(proc, path)
        fs = self._check_dir_write(proc, dloc, path)
        if "CAP_MKNOD" not in proc.caps:
            raise oserror(errno.EPERM, path)
        if not self.k.cgroups.device_permits(proc.cgroup, "c", os.major(rdev), os.minor(rdev), "m"):
            raise oserror(errno.EPERM, path)
        fs.mknod(full, mode & ~proc.umask & 0o7777, rdev)
        self._own(proc, fs, full)

    def symlink(self, proc, target: str, path: str) -> None:
        dloc, full = self._new_name(proc, path)
        fs = self._check_dir_write(proc, dloc, path)
        fs.symlink(target, full)
        self._own(proc, fs, full)

    @staticmethod
    def _own(proc, fs, full: str) -> None:
        """New files belong to the creating process's user."""
        if proc.uid or proc.gid:
            fs.chown(full, proc.uid, proc.gid)

    def _existing_name(self, proc, path: str, removing_dir: bool | None = None):
        """The parent Loc, full name, last name and the parent's inode (in
        a MemFS, else None) of an existing ``path`` a call removes or
        renames.  ``removing_dir``: rmdir (True) or unlink (False), whose
        may_delete() looks at the type of what the parent holds -- ENOTDIR
        / EISDIR -- before a mount point is EBUSY."""
        (mid, dpath), name, directory = path_walk(
            proc.ns.mnt.table, proc.root, proc.cwd, path, False, True, with_inode=True
        )
        if name is None:
            raise oserror(errno.EBUSY, path)
        full = join_name(dpath, name)
        if (mid, full) in proc.ns.mnt.table.children:
            if removing_dir is not None:
                is_dir = self.fs_of(proc, (mid, dpath))[0].lstat(full).kind is DIR
                if removing_dir and not is_dir:
                    raise oserror(errno.ENOTDIR, path)
                if not removing_dir and is_dir:
                    raise oserror(errno.EISDIR, path)
            raise oserror(errno.EBUSY, path)  # a mount point cannot be removed
        return (mid, dpath), full, name, directory

    def rmdir(self, proc, path: str) -> None:
        dloc, full, name, directory = self._existing_name(proc, path, removing_dir=True)
        fs = self._check_dir_write(proc, dloc, path)
        if directory is None:
            fs.rmdir(full)
        else:
            # The walk held the parent's inode (a MemFS): remove the name
            # there, not by a second walk of the whole path in the MemFS.
            fs.rmdir_in(directory, name, full)

    def unlink(self, proc, path: str) -> None:
        dloc, full, _, _ = self._existing_name(proc, path, removing_dir=False)
        self._check_dir_write(proc, dloc, path).unlink(full)

    def rename(self, proc, src: str, dst: str) -> None:
        # renameat2 looks both parents up first (a missing one is ENOENT),
        # then refuses to cross a mount, and only then a mount point (EBUSY).
        (smid, spath), sname = self.walk_parent(proc, src)
        if sname is None:
            raise oserror(errno.EBUSY, src)
        (dmid, dpath), dname = self.walk_parent(proc, dst)
        if dname is None:
            raise oserror(errno.EBUSY, dst)
        if dmid != smid:
            raise oserror(errno.EXDEV, dst)  # rename never crosses a mount
        sloc, sfull, dfull = (smid, spath), join_name(spath, sname), join_name(dpath, dname)
        children = proc.ns.mnt.table.children
        if (smid, sfull) in children or (dmid, dfull) in children:
            # vfs_rename: the source must exist, a name onto itself is done,
            # the types must match (may_delete), then a mount point is EBUSY.
            fs = self.fs_of(proc, sloc)[0]
            source_is_dir = fs.lstat(sfull).kind is DIR
            if sfull == dfull:
                return
            try:
                target_is_dir = fs.lstat(dfull).kind is DIR
            except FileNotFoundError:
                target_is_dir = None
            if target_is_dir is not None and source_is_dir != target_is_dir:
                raise oserror(errno.EISDIR if target_is_dir else errno.ENOTDIR, dst)
            raise oserror(errno.EBUSY, src)
        fs, _ = self.fs_of(proc, (dmid, dpath))
        if getattr(fs, "NO_NEGATIVE_LOOKUP", False):
            try:
                self._no_new_names(proc, (dmid, dpath), join_name(dpath, dname), dst)
            except FileExistsError:
                pass  # replacing an existing entry: procfs says EPERM below
        fs = self._check_dir_write(proc, sloc, src)
        fs.rename(sfull, join_name(dpath, dname))

    def link(self, proc, src: str, dst: str) -> None:
        sloc = self.walk(proc, src, False)
        dloc, dfull = self._new_name(proc, dst)
        if dloc[0] != sloc[0]:
            # filename_create() comes first in linkat: a taken name is EEXIST
            # even across mounts, then a different mount is EXDEV.
            if self.fs_of(proc, dloc)[0].exists(dfull):
                raise oserror(errno.EEXIST, dst)
            raise oserror(errno.EXDEV, dst)
        self._check_dir_write(proc, dloc, dst).link(sloc[1], dfull)

    def chmod(self, proc, path: str, mode: int) -> None:
        loc = self.walk(proc, path, True)
        fs = self._check_write(proc, loc, path)
        if proc.uid != 0 and fs.lstat(loc[1]).uid != proc.uid:
            raise oserror(EPERM, path)
        fs.chmod(loc[1], mode)

    def file_id(self, proc, path: str, follow: bool = True) -> tuple:
        """What ``(st_dev, st_ino)`` tells programs: whether two names are
        the same file (StatResult carries no inode numbers on purpose)."""
        loc = self.walk(proc, path, follow)
        fs, _ = self.fs_of(proc, loc)
        lookup = getattr(fs, "lookup", None)
        return id(fs), (id(lookup(loc[1], follow=False)) if lookup else loc[1])

    def utime(self, proc, path: str) -> None:
        """utimes(path, NULL): the owner, or anyone who may write the file."""
        loc = self.walk(proc, path, True)
        fs = self._check_write(proc, loc, path)
        st = fs.lstat(loc[1])
        if proc.uid != 0 and st.uid != proc.uid and not self.may(proc, st, W_OK):
            raise oserror(errno.EACCES, path)
        fs.utime(loc[1])

    def chown(self, proc, path: str, uid: int, gid: int, follow: bool = True) -> None:
        loc = self.walk(proc, path, follow)
        fs = self._check_write(proc, loc, path)
        if proc.uid != 0:
            # Without CAP_CHOWN only the owner may change a file's group, and
            # only to its own group; the owner never changes.
            st = fs.lstat(loc[1])
            if st.uid != proc.uid or uid not in (-1, st.uid) or gid not in (-1, st.gid, proc.gid):
                raise oserror(EPERM, path)
        fs.chown(loc[1], uid, gid)

    def truncate(self, proc, path: str, size: int) -> None:
        loc = self.walk(proc, path, True)
        fs = self._check_write(proc, loc, path)
        if proc.uid != 0 and not self.may(proc, fs.lstat(loc[1]), W_OK):
            raise oserror(errno.EACCES, path)
        fs.truncate(loc[1], size)

    def access(self, proc, path: str, mode: int) -> bool:
        try:
            loc = self.walk(proc, path, True)
            fs, m = self.fs_of(proc, loc)
            st = fs.lstat(loc[1])
        except OSError:
            return False
        if mode & W_OK and "ro" in m.flags:
            return False
        if mode & X_OK and "noexec" in m.flags and st.kind is not DIR:
            return False
        return self.may(proc, st, mode) if mode else True

    def open(self, proc, path: str, flags: int = 0, mode: int = 0o666, _links: int = 0):
        acc = flags & O_ACCMODE
        writing = acc in (O_WRONLY, O_RDWR) or flags & O_TRUNC
        if flags & O_CREAT:
            (mid, dpath), name = self.walk_parent(proc, path)
            if name is None:
                raise oserror(errno.EISDIR, path)
            full = join_name(dpath, name)
            table = proc.ns.mnt.table
            if (mid, full) in table.children:
                loc = table.top(table.children[(mid, full)])
            else:
                fs = table.mounts[mid].fs
                try:
                    st = fs.lstat(full)
                except FileNotFoundError:
                    if getattr(fs, "NO_NEGATIVE_LOOKUP", False):
                        # procfs's lookup fails first: ENOENT, not EROFS/EACCES
                        raise oserror(ENOENT, path) from None
                    fs = self._check_dir_write(proc, (mid, dpath), path)
                    fs.write(full, b"", append=True, mode=mode & ~proc.umask & 0o7777)
                    self._own(proc, fs, full)
                    loc = (mid, full)
                    flags &= ~O_TRUNC
                else:
                    if flags & O_EXCL:
                        raise oserror(errno.EEXIST, path)
                    if st.kind is SYMLINK:
                        try:
                            loc = self.walk(proc, path, True)
                        except FileNotFoundError:
                            # A dangling symlink: O_CREAT makes the file it names.
                            if _links >= MAXSYMLINKS:
                                raise oserror(errno.ELOOP, path) from None
                            target = fs.readlink(full)
                            if not target.startswith("/"):
                                target = path.rsplit("/", 1)[0] + "/" + target if "/" in path else target
                            return self.open(proc, target, flags, mode, _links + 1)
                    else:
                        loc = (mid, full)
        else:
            loc = self.walk(proc, path, True)
        fs, m = self.fs_of(proc, loc)
        fspath = loc[1]
        st = fs.lstat(fspath)
        if st.kind is DIR:
            if writing:
                raise oserror(errno.EISDIR, path)
            return DirFile(loc)
        if flags & O_DIRECTORY:
            raise oserror(errno.ENOTDIR, path)
        if writing and "ro" in m.flags:
            raise oserror(errno.EROFS, path)
        if proc.uid != 0:
            want = (R_OK if acc != O_WRONLY else 0) | (W_OK if writing else 0)
            if not self.may(proc, st, want):
                raise oserror(errno.EACCES, path)
        if st.kind == "socket":
            raise oserror(errno.ENXIO, path)  # a socket is reached by connect(2), not open(2)
        if st.is_device:
            if "nodev" in m.flags:
                raise oserror(errno.EACCES, path)
            rdev = fs.rdev(fspath)
            access = ("r" if acc != O_WRONLY else "") + ("w" if acc in (O_WRONLY, O_RDWR) else "")
            if not self.k.cgroups.device_permits(proc.cgroup, "c", os.major(rdev), os.minor(rdev), access):
                raise oserror(errno.EPERM, path)  # the device cgroup says no
            if (os.major(rdev), os.minor(rdev)) == (5, 0) and proc.ctty is not None:
                return SlaveFile(proc.ctty)  # /dev/tty: the process's controlling terminal
            return open_device(rdev, flags)
        opener = getattr(fs, "open", None)
        if opener is not None:
            node = opener(fspath, flags & ~(O_CREAT | O_EXCL), 0o644)
            return InodeFile(node, flags)
        if flags & O_TRUNC:
            fs.write(fspath, b"")
        return PathFile(fs, fspath, flags)
