"""Mounts and mount tables (the kernel's fs/namespace.c).

A :class:`Mount` attaches a filesystem (any
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

:class:`Mounts` holds what mount(2), umount(2) and pivot_root(2) do to a
table, and how a Loc reads as a path again (``/proc/PID/mounts``, getcwd).
"""

from __future__ import annotations

import errno
import functools
import itertools
from typing import TYPE_CHECKING

from stepbox.core.kernel.observe import MountEntry

from .flow import oserror
from .namei import path_walk

if TYPE_CHECKING:  # pragma: no cover
    from .namespaces import MountNamespace
    from .process_table import Process

Loc = tuple  # (mount id, path inside the mount's filesystem)

# Per-mount flags (the rest of the options belong to the filesystem).
MOUNT_FLAGS = ("ro", "rw", "nosuid", "nodev", "noexec", "relatime", "strictatime", "noatime", "nodiratime")
PROPAGATION = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_RO = frozenset({"ro"})
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
        # A slot-by-slot copy without __init__'s keyword plumbing: every
        # container's make-private and pivot_root replace several mounts.
        m = Mount.__new__(Mount)
        m.id, m.parent, m.mountpoint, m.fs, m.fs_root = (
            self.id,
            self.parent,
            self.mountpoint,
            self.fs,
            self.fs_root,
        )
        m.source, m.fstype, m.flags, m.data, m.shared = (
            self.source,
            self.fstype,
            self.flags,
            self.data,
            self.shared,
        )
        for name, value in changes.items():
            setattr(m, name, value)
        return m

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
        mid, parent = m.id, m.parent
        # Mounts.pivot_root finds what is outside the new root in one pass
        # by id: that holds while a mount's parent is older (an MS_MOVE,
        # which the simulator does not have, would have to renumber).
        assert parent < mid, f"mount {mid} under the newer mount {parent}"
        self.mounts[mid] = m
        if parent:
            self.children[(parent, m.mountpoint)] = mid
            nkids = self.nkids
            nkids[parent] = nkids.get(parent, 0) + 1

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

    def below(self, mid: int, path: str) -> list[int]:
        """The ids of the mounts sitting on mount ``mid`` below its directory
        ``path``, in the order of ``children`` (the order they were mounted).
        The scan goes from the newest entry back and stops once it has seen
        nkids[mid] entries of ``mid`` (no fewer than it has in children: each
        entry is a mount of the table sitting on ``mid``): a namespace's newest
        mounts are the usual ones looked for (the masked paths under /proc),
        its oldest the host's."""
        base = path.rstrip("/") + "/"
        out = []
        left = self.nkids.get(mid, 0)
        if left:
            for (pid, mp), cid in reversed(self.children.items()):
                if pid == mid:
                    if mp.startswith(base):
                        out.append(cid)
                    left -= 1
                    if not left:
                        break
            out.reverse()
        return out

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


def parse_mount_options(options) -> tuple[frozenset[str], tuple[str, ...], bool, str | None]:
    return _parse_mount_options(tuple(options))


@functools.lru_cache(maxsize=256)
def _parse_mount_options(
    options: tuple[str, ...],
) -> tuple[frozenset[str], tuple[str, ...], bool, str | None]:
    """Split mount options into per-mount flags, filesystem data, whether
    it is a bind mount, and a propagation change."""
    flags: set[str] = set()
    data: list[str] = []
    bind, propagation = False, None
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
        if value and key == "size" and fstype == "tmpfs":
            value = _tmpfs_size(value)
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


def _tmpfs_size(text: str) -> str:
    """tmpfs's size= as the kernel shows it: whole 4 KiB pages, in k."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    try:
        number = int(text[:-1]) * units[text[-1].lower()] if text[-1].lower() in units else int(text)
    except (ValueError, IndexError):
        return text  # a percentage of RAM, or nonsense: as given
    pages = -(-number // 4096)
    return f"{pages * 4}k"


class Mounts:
    """The mount operations on the mount tables of one kernel."""

    def __init__(self) -> None:
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

    @staticmethod
    def _lookup(proc: Process, path: str) -> Loc:
        return path_walk(proc.ns.mnt.table, proc.root, proc.cwd, path, True, False)

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
        table = proc.ns.mnt.table
        if table.users > 1:
            table = self.writable(proc.ns.mnt)
        mid, point = target
        m = Mount(
            next(self._ids), mid, point, fs, fs_root, source, fstype, flags, data, table.mounts[mid].shared
        )
        table.add(m)
        return m

    def bind(self, proc: Process, source: Loc, target: Loc, flags: frozenset, recursive: bool) -> Mount:
        """mount --bind: the same filesystem (from ``source``'s directory)
        shown a second time at ``target``."""
        table = proc.ns.mnt.table
        src = table.mounts[source[0]]
        below: list[int] = []
        if recursive and table.nkids.get(src.id):
            # rbind: the mounts below the source directory come along -- the
            # ones there *before* this bind, as copy_tree() copies the tree
            # first: a bind of a mount's root onto itself is below it too.
            below = table.below(src.id, source[1])
        # The bind's flags and the source's but "ro" (the sets made only
        # when there is something to add or take away).
        kept = src.flags - _RO if "ro" in src.flags else src.flags
        top = self.attach(
            proc, target, src.fs, source[1], src.source, src.fstype, flags | kept if flags else kept, src.data
        )
        if below:
            for child_id in below:
                child = proc.ns.mnt.table.mounts[child_id]
                # Same filesystem, so the same path inside it names the spot.
                self.bind(proc, (child.id, child.fs_root), (top.id, child.mountpoint), child.flags, True)
        return top

    def umount(self, proc: Process, path: str) -> None:
        loc = self._lookup(proc, path)
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
        mounts = table.mounts
        for mid, m in list(mounts.items()):
            if m.shared:
                mounts[mid] = m.replace(shared=False)

    def pivot_root(self, proc: Process, new_root: str, loc: Loc | None = None) -> None:
        """pivot_root(new_root, new_root) + umount2(old root, MNT_DETACH), as
        runc does it: the mount at ``new_root`` becomes the root of the
        namespace, and everything that is not below it is detached.
        ``loc``: where ``new_root`` leads, if the caller walked it already."""
        table = proc.ns.mnt.table
        if loc is None:
            loc = self._lookup(proc, new_root)
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
        mounts = table.mounts
        # Whatever is not below the new root goes.  A mount's parent was in
        # the table before it, so has a smaller id (ids are handed out in
        # order): in id order a mount is below the new root exactly when its
        # parent is -- one pass, where the subtree took one more.
        below = {m.id}
        for mid in sorted(mounts):
            other = mounts[mid]
            if other.parent in below:
                below.add(mid)
            elif mid != m.id:
                table.remove(other)
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
