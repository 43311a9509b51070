"""The virtual filesystem switch: mount tables, path resolution, file ops.

**Mounts.**  A :class:`Mount` attaches a filesystem (any
:class:`~stepbox.core.kernel.unionfs.FileOps`: a MemFS, the overlay of a
container, procfs ...) -- or one directory of it, for a bind mount
(``fs_root``) -- at a directory of its *parent* mount.  The mounts a process
can see form its mount namespace's :class:`MountTable`.  A place in the tree
is a :data:`Loc`: ``(mount id, path inside that mount's filesystem)``; a
process's root and working directory are Locs.

**Copy-on-write mount tables.**  ``clone(CLONE_NEWNS)`` gives the child a
*copy* of the parent's mount table: mounting or unmounting afterwards in one
namespace does not change the other.  The copy shares the parent's table
until one side changes it (mount ids stay the same in both, so Locs stay
valid) -- what makes a clone cheap.

**Path resolution** (:meth:`VFS.walk`) goes one name at a time, like the
kernel's ``link_path_walk``: from the process's root for an absolute path,
else from its cwd; at a mount point it continues in the mounted filesystem;
a symlink's target is spliced into the names still to walk (absolute targets
restart at the *process's* root, so a symlink cannot lead out of a
container); ``..`` at the root of a mount climbs to where it is mounted, and
``..`` at the process's root stays there.  After ``pivot_root`` the old root
is detached from the table, so no walk of any kind can reach the host's
files -- unlike ``chroot``, whose old root is still mounted and reachable
for a process that gets a directory fd or cwd outside it.
"""

from __future__ import annotations

import errno
import functools
import itertools
from typing import TYPE_CHECKING

from stepbox.core.kernel.observe import MountEntry
from stepbox.core.kernel.unionfs import EntryKind

from .files import DirFile, InodeFile, PathFile, open_device
from .flow import ENOENT, EPERM, oserror
from .memfs import InodeKind, MemFS

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .namespaces import MountNamespace
    from .process_table import Process

Loc = tuple  # (mount id, path inside the mount's filesystem)
_MEM_DIR, _MEM_LINK = InodeKind.DIR, InodeKind.SYMLINK

MAXSYMLINKS = 40
SYMLINK, DIR = EntryKind.SYMLINK, EntryKind.DIR
O_WRONLY, O_RDWR, O_ACCMODE = 0o1, 0o2, 0o3
O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY = 0o100, 0o200, 0o1000, 0o2000, 0o200000
R_OK, W_OK, X_OK = 4, 2, 1

# Per-mount flags (the rest of the options belong to the filesystem).
MOUNT_FLAGS = ("ro", "rw", "nosuid", "nodev", "noexec", "relatime", "strictatime", "noatime", "nodiratime")
PROPAGATION = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
MS_NAMES = {
    "ro": "MS_RDONLY",
    "nosuid": "MS_NOSUID",
    "nodev": "MS_NODEV",
    "noexec": "MS_NOEXEC",
    "strictatime": "MS_STRICTATIME",
    "noatime": "MS_NOATIME",
}


class Mount:
    """One mount: immutable once in a table (changes make a new record)."""

    __slots__ = ("id", "parent", "mountpoint", "fs", "fs_root", "source", "fstype", "flags", "data", "shared")

    def __init__(
        self,
        id: int,
        parent: int,
        mountpoint: str,
        fs,
        fs_root: str,
        source: str,
        fstype: str,
        flags: frozenset = frozenset(),
        data: str = "",
        shared: bool = False,
    ):
        self.id = id
        self.parent = parent  # id of the mount it sits on; 0 for the root
        self.mountpoint = mountpoint  # path in the parent's filesystem
        self.fs = fs
        self.fs_root = fs_root  # "/" or the directory a bind mount shows
        self.source = source
        self.fstype = fstype
        self.flags = flags  # "ro", "nosuid", "nodev", "noexec", atime flags
        self.data = data  # filesystem options as /proc/mounts shows them
        self.shared = shared  # propagation (shown, not simulated: SIMPLIFICATIONS)

    @property
    def readonly(self) -> bool:
        return "ro" in self.flags

    def options(self) -> str:
        """The options column of /proc/mounts: per-mount flags, then the
        filesystem's own."""
        f = self.flags
        opts = ["ro" if "ro" in f else "rw"]
        opts += [name for name in ("nosuid", "nodev", "noexec") if name in f]
        if "noatime" in f:
            opts.append("noatime")
        elif "strictatime" not in f:
            opts.append("relatime")
        if self.data:
            opts.append(self.data)
        return ",".join(opts)

    def replace(self, **changes) -> Mount:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return Mount(**values)

    def __repr__(self) -> str:
        return f"<Mount {self.id} {self.fstype} on {self.parent}:{self.mountpoint}>"


class MountTable:
    """The mounts of one mount namespace (shared copy-on-write)."""

    __slots__ = ("mounts", "children", "nkids", "root_id", "users")

    def __init__(self):
        self.mounts: dict[int, Mount] = {}
        self.children: dict[tuple[int, str], int] = {}  # (parent id, mountpoint) -> mount id
        self.nkids: dict[int, int] = {}  # mount id -> how many mounts sit on it
        self.root_id = 0
        self.users = 1  # namespaces sharing this object

    def copy(self) -> MountTable:
        t = MountTable()
        t.mounts = dict(self.mounts)
        t.children = dict(self.children)
        t.nkids = dict(self.nkids)
        t.root_id = self.root_id
        return t

    def add(self, m: Mount) -> None:
        self.mounts[m.id] = m
        if m.parent:
            self.children[(m.parent, m.mountpoint)] = m.id
            self.nkids[m.parent] = self.nkids.get(m.parent, 0) + 1

    def remove(self, m: Mount) -> None:
        del self.mounts[m.id]
        if m.parent:
            if self.children.get((m.parent, m.mountpoint)) == m.id:
                del self.children[(m.parent, m.mountpoint)]
            self.nkids[m.parent] -= 1

    def top(self, mid: int) -> Loc:
        """The Loc one lands on entering mount ``mid`` (a mount stacked on
        its root hides it)."""
        m = self.mounts[mid]
        loc = (mid, m.fs_root)
        child = self.children.get(loc)
        while child is not None:
            m = self.mounts[child]
            loc = (child, m.fs_root)
            child = self.children.get(loc)
        return loc

    def subtree(self, mid: int) -> list[int]:
        below: dict[int, list[int]] = {}
        for m in self.mounts.values():
            if m.parent:
                below.setdefault(m.parent, []).append(m.id)
        out, todo = [], [mid]
        while todo:
            cur = todo.pop()
            out.append(cur)
            todo.extend(below.get(cur, ()))
        return out


def _join(path: str, name: str) -> str:
    return "/" + name if path == "/" else path + "/" + name


def split_names(path: str) -> list[str]:
    """The names of ``path``, last first (so that ``pop`` gives the next)."""
    names = [n for n in path.split("/") if n and n != "."]
    names.reverse()
    return names


def parse_mount_options(options) -> tuple[frozenset, list[str], bool, str | None]:
    return _parse_mount_options(tuple(options))


@functools.lru_cache(maxsize=256)
def _parse_mount_options(options: tuple) -> tuple[frozenset, list[str], bool, str | None]:
    """Split mount options into per-mount flags, filesystem data, whether
    it is a bind mount, and a propagation change."""
    flags, data, bind, propagation = set(), [], False, None
    for opt in options:
        if not opt:
            continue
        if opt in MOUNT_FLAGS:
            if opt == "rw":
                flags.discard("ro")
            else:
                flags.add(opt)
        elif opt in ("bind", "rbind"):
            bind = True
        elif opt in PROPAGATION:
            propagation = opt.lstrip("r")
        elif opt in ("newinstance", "remount", "defaults"):
            continue
        else:
            data.append(opt)
    return frozenset(flags), tuple(data), bind, propagation


@functools.lru_cache(maxsize=256)
def show_fs_data(fstype: str, data: tuple) -> str:
    """Filesystem options the way the kernel prints them back (its own
    order, octal without a leading zero, defaults left out)."""
    kv = {}
    for opt in data:
        key, _, value = opt.partition("=")
        if value and key in ("mode", "ptmxmode"):
            value = oct(int(value, 8))[2:]
        kv[key] = value
    if fstype == "tmpfs":
        if kv.get("mode") == "1777":
            del kv["mode"]
        order = ["size", "nr_inodes", "mode", "uid", "gid"]
        kv.setdefault("inode64", "")
    elif fstype == "devpts":
        order = ["gid", "mode", "ptmxmode"]
    else:
        order = []
    keys = [k for k in order if k in kv] + [k for k in kv if k not in order]
    return ",".join(f"{k}={kv[k]}" if kv[k] else k for k in keys)


class VFS:
    """Path resolution and file operations for simulated processes."""

    def __init__(self, kernel: SimKernel):
        self.k = kernel
        self._ids = itertools.count(1)

    def new_mount_id(self) -> int:
        return next(self._ids)

    # -- mount tables ---------------------------------------------------------------
    @staticmethod
    def writable(mntns: MountNamespace) -> MountTable:
        """The namespace's own table, copied first if it is still shared."""
        table = mntns.table
        if table.users > 1:
            table.users -= 1
            table = mntns.table = table.copy()
        return table

    @staticmethod
    def share(table: MountTable) -> MountTable:
        table.users += 1
        return table

    # -- path resolution --------------------------------------------------------------
    def walk(self, proc: Process, path: str, follow: bool = True, root: Loc | None = None) -> Loc:
        """Resolve ``path`` for ``proc`` to a Loc (OSError as the kernel).
        ``root`` confines the walk below another directory, as if chrooted
        there (what runc's securejoin does for paths inside a rootfs)."""
        if root is None:
            return self._walk(proc.ns.mnt.table, proc.root, proc.cwd, path, follow, False)
        return self._walk(proc.ns.mnt.table, root, root, path, follow, False)

    def lookup_or_parent(self, proc: Process, path: str, root: Loc | None = None):
        """One walk for "use it if it exists, else create it": ``(Loc, None)``
        when ``path`` exists, ``(None, (directory Loc, last name))`` when only
        its last name is missing (ENOENT if more is missing)."""
        r = root or proc.root
        return self._walk(proc.ns.mnt.table, r, r if root else proc.cwd, path, True, False, missing_ok=True)

    def walk_at(
        self, proc: Process, start: Loc, path: str, follow: bool = True, root: Loc | None = None
    ) -> Loc:
        """Resolve a relative ``path`` from the directory ``start`` (openat)."""
        return self._walk(proc.ns.mnt.table, root or proc.root, start, path, follow, False)

    def walk_parent(self, proc: Process, path: str, root: Loc | None = None):
        """The directory a new name would go in, and the name: ``(Loc, name)``.
        ``name`` is None when the path has no last name ("/", "..")."""
        if root is None:
            return self._walk(proc.ns.mnt.table, proc.root, proc.cwd, path, False, True)
        return self._walk(proc.ns.mnt.table, root, root, path, False, True)

    def _walk(
        self,
        table: MountTable,
        root: Loc,
        cwd: Loc,
        path: str,
        follow: bool,
        parent: bool,
        missing_ok: bool = False,
    ):
        if not path:
            raise oserror(ENOENT, path)
        mounts, children = table.mounts, table.children
        mid, cur = root if path[0] == "/" else cwd
        names = path.split("/")
        names.reverse()  # last name first, so pop() gives the next
        last = None
        if parent:
            while names and names[0] in ("", "."):
                del names[0]
            if names and names[0] != "..":
                last = names.pop(0)
        links = 0
        node = None  # the current directory's inode, while inside a MemFS
        try:
            while names:
                name = names.pop()
                if not name or name == ".":
                    continue
                if name == "..":
                    node = None
                    if (mid, cur) == root:
                        continue
                    m = mounts[mid]
                    while cur == m.fs_root and m.parent:
                        # At the root of a mount: ".." is taken where it is mounted.
                        mid, cur = m.parent, m.mountpoint
                        m = mounts[mid]
                        if (mid, cur) == root:
                            break
                    if (mid, cur) != root and cur != m.fs_root:
                        cur = cur.rsplit("/", 1)[0] or "/"
                    continue
                nxt = "/" + name if cur == "/" else cur + "/" + name
                child = children.get((mid, nxt))
                if child is not None:
                    mid, cur = table.top(child)
                    node = None
                    continue
                fs = mounts[mid].fs
                if fs.__class__ is MemFS:
                    # Fast path: step from inode to inode instead of asking
                    # the filesystem to walk the whole path again for each name.
                    if node is None:
                        node = fs.root if cur == "/" else fs.lookup(cur)
                    if node.kind is not _MEM_DIR:
                        raise oserror(errno.ENOTDIR, path)
                    entry = node.data.get(name)
                    if entry is None:
                        if missing_ok and not names:
                            return None, ((mid, cur), name)
                        raise oserror(ENOENT, path)
                    is_link = entry.kind is _MEM_LINK
                    is_dir = entry.kind is _MEM_DIR
                else:
                    entry = None
                    try:
                        st = fs.lstat(nxt)
                    except FileNotFoundError:
                        if missing_ok and not names:
                            return None, ((mid, cur), name)
                        raise
                    is_link = st.kind is SYMLINK
                    is_dir = st.kind is DIR
                # A name with more to come -- including the parent of the
                # name a create/unlink/rename works on -- must be a directory
                # (a symlink to one is followed).
                more = bool(names) or last is not None
                if is_link and (more or follow):
                    links += 1
                    if links > MAXSYMLINKS:
                        raise oserror(errno.ELOOP, path)
                    target = entry.data if entry is not None else fs.readlink(nxt)
                    if target.startswith("/"):
                        mid, cur = root
                    names.extend(split_names(target))
                    node = None
                    continue
                if more and not is_dir:
                    raise oserror(errno.ENOTDIR, path)
                cur = nxt
                node = entry
        except OSError as e:
            if e.filename != path:
                raise oserror(e.errno, path) from None
            raise
        if parent:
            return (mid, cur), last
        if missing_ok:
            return (mid, cur), None
        return (mid, cur)

    def fs_of(self, proc: Process, loc: Loc):
        """(filesystem, mount) of a Loc in ``proc``'s namespace."""
        m = proc.ns.mnt.table.mounts[loc[0]]
        return m.fs, m

    # -- permissions --------------------------------------------------------------------
    def may(self, proc: Process, st, want: int) -> bool:
        """generic_permission(): root passes read/write checks
        (CAP_DAC_OVERRIDE), and exec needs at least one x bit."""
        mode = st.mode
        if proc.uid == 0 and "CAP_DAC_OVERRIDE" in proc.caps:
            if want & X_OK and st.kind is not DIR and not mode & 0o111:
                return False
            return True
        if proc.uid == st.uid:
            bits = (mode >> 6) & 7
        elif proc.gid == st.gid:
            bits = (mode >> 3) & 7
        else:
            bits = mode & 7
        return bits & want == want

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
        full = _join(dpath, name)
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

    def _existing_name(self, proc, path: str):
        (mid, dpath), name = self.walk_parent(proc, path)
        if name is None:
            raise oserror(errno.EBUSY, path)
        full = _join(dpath, name)
        if (mid, full) in proc.ns.mnt.table.children:
            raise oserror(errno.EBUSY, path)  # a mount point cannot be removed
        return (mid, dpath), full

    def rmdir(self, proc, path: str) -> None:
        dloc, full = self._existing_name(proc, path)
        self._check_dir_write(proc, dloc, path).rmdir(full)

    def unlink(self, proc, path: str) -> None:
        dloc, full = self._existing_name(proc, path)
        self._check_dir_write(proc, dloc, path).unlink(full)

    def rename(self, proc, src: str, dst: str) -> None:
        sloc, sfull = self._existing_name(proc, src)
        (dmid, dpath), dname = self.walk_parent(proc, dst)
        if dname is None:
            raise oserror(errno.EBUSY, dst)
        if dmid != sloc[0]:
            raise oserror(errno.EXDEV, dst)  # rename never crosses a mount
        fs, _ = self.fs_of(proc, (dmid, dpath))
        if getattr(fs, "NO_NEGATIVE_LOOKUP", False):
            try:
                self._no_new_names(proc, (dmid, dpath), _join(dpath, dname), dst)
            except FileExistsError:
                pass  # replacing an existing entry: procfs says EPERM below
        fs = self._check_dir_write(proc, sloc, src)
        fs.rename(sfull, _join(dpath, dname))

    def link(self, proc, src: str, dst: str) -> None:
        sloc = self.walk(proc, src, False)
        dloc, dfull = self._new_name(proc, dst)
        if dloc[0] != sloc[0]:
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
            full = _join(dpath, name)
            table = proc.ns.mnt.table
            if (mid, full) in table.children:
                loc = table.top(table.children[(mid, full)])
            else:
                fs = table.mounts[mid].fs
                try:
                    st = fs.lstat(full)
                except FileNotFoundError:
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
        if st.is_device:
            if "nodev" in m.flags:
                raise oserror(errno.EACCES, path)
            return open_device(fs.rdev(fspath), flags)
        opener = getattr(fs, "open", None)
        if opener is not None:
            node = opener(fspath, flags & ~(O_CREAT | O_EXCL), 0o644)
            return InodeFile(node, flags)
        if flags & O_TRUNC:
            fs.write(fspath, b"")
        return PathFile(fs, fspath, flags)

    # -- mounting -------------------------------------------------------------------------
    def attach(
        self,
        proc: Process,
        target: Loc,
        fs,
        fs_root: str,
        source: str,
        fstype: str,
        flags: frozenset,
        data: str,
    ) -> Mount:
        """Add a mount at ``target`` in ``proc``'s mount namespace."""
        table = self.writable(proc.ns.mnt)
        parent = table.mounts[target[0]]
        m = Mount(
            self.new_mount_id(),
            target[0],
            target[1],
            fs,
            fs_root,
            source,
            fstype,
            flags,
            data,
            shared=parent.shared,
        )
        table.add(m)
        return m

    def bind(self, proc: Process, source: Loc, target: Loc, flags: frozenset, recursive: bool) -> Mount:
        """mount --bind: the same filesystem (from ``source``'s directory)
        shown a second time at ``target``."""
        table = proc.ns.mnt.table
        src = table.mounts[source[0]]
        top = self.attach(
            proc, target, src.fs, source[1], src.source, src.fstype, flags | (src.flags - {"ro"}), src.data
        )
        if recursive and table.nkids.get(src.id):
            # rbind: the mounts below the source directory come along.
            base = source[1].rstrip("/") + "/"
            below = [
                cid for (pid, mp), cid in table.children.items() if pid == src.id and mp.startswith(base)
            ]
            for child_id in below:
                child = proc.ns.mnt.table.mounts[child_id]
                # Same filesystem, so the same path inside it names the spot.
                self.bind(proc, (child.id, child.fs_root), (top.id, child.mountpoint), child.flags, True)
        return top

    def umount(self, proc: Process, path: str) -> None:
        loc = self.walk(proc, path, True)
        table = proc.ns.mnt.table
        m = table.mounts[loc[0]]
        if loc[1] != m.fs_root or not m.parent:
            raise oserror(errno.EINVAL, path)  # not a mount point (or the root)
        if table.nkids.get(m.id):
            raise oserror(errno.EBUSY, path)
        self.writable(proc.ns.mnt).remove(m)

    def make_private(self, proc: Process) -> None:
        """mount --make-rprivate /: no mount event propagates in or out."""
        table = self.writable(proc.ns.mnt)
        for mid, m in list(table.mounts.items()):
            if m.shared:
                table.mounts[mid] = m.replace(shared=False)

    def pivot_root(self, proc: Process, new_root: str) -> None:
        """pivot_root(new_root, new_root) + umount2(old root, MNT_DETACH), as
        runc does it: the mount at ``new_root`` becomes the root of the
        namespace, and everything that is not below it is detached."""
        table = proc.ns.mnt.table
        loc = self.walk(proc, new_root, True)
        m = table.mounts[loc[0]]
        if loc[1] != m.fs_root or not m.parent:
            raise oserror(errno.EINVAL, new_root)  # new_root must be a mount point
        old_root = table.mounts[proc.root[0]]
        if loc == proc.root:
            raise oserror(errno.EBUSY, new_root)
        if m.shared or table.mounts[m.parent].shared or old_root.shared:
            # The kernel refuses while mounts are shared: the pivot would
            # propagate to the host.  That is why runtimes make them private first.
            raise oserror(errno.EINVAL, new_root)
        table = self.writable(proc.ns.mnt)
        keep = set(table.subtree(m.id))
        for mid in list(table.mounts):
            if mid not in keep:
                table.remove(table.mounts[mid])
        table.children.pop((m.parent, m.mountpoint), None)
        table.mounts[m.id] = m.replace(parent=0, mountpoint="/")
        table.root_id = m.id
        proc.root = proc.cwd = table.top(m.id)

    # -- /proc/PID/mounts ---------------------------------------------------------------
    def mount_entries(self, proc: Process) -> list[MountEntry]:
        table = proc.ns.mnt.table
        root = proc.root
        out = []
        for mid in sorted(table.mounts):
            m = table.mounts[mid]
            path = self._path_from(table, (mid, m.fs_root), root)
            if path is not None:
                out.append(MountEntry(m.source, path, m.fstype, m.options()))
        return out

    def path_of(self, proc: Process, loc: Loc) -> str | None:
        """The absolute path of ``loc`` as ``proc`` sees it (getcwd)."""
        return self._path_from(proc.ns.mnt.table, loc, proc.root)

    @staticmethod
    def _path_from(table: MountTable, loc: Loc, root: Loc) -> str | None:
        suffix = ""
        mid, path = loc
        for _ in range(len(table.mounts) + 1):
            if mid == root[0]:
                rpath = root[1]
                if rpath == "/":
                    rel = path
                elif path == rpath:
                    rel = ""
                elif path.startswith(rpath + "/"):
                    rel = path[len(rpath) :]
                else:
                    return None
                full = (rel.rstrip("/") if rel != "/" else "") + suffix
                return full or "/"
            m = table.mounts.get(mid)
            if m is None or not m.parent:
                return None
            inside = path[len(m.fs_root) :] if m.fs_root != "/" else path
            suffix = (inside.rstrip("/") if inside != "/" else "") + suffix
            mid, path = m.parent, m.mountpoint
        return None

    def getcwd(self, proc: Process) -> str:
        path = self.path_of(proc, proc.cwd)
        return path if path is not None else "(unreachable)/"
