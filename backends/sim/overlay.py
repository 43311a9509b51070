"""OverlayFS: read-only lower MemFS layers under one writable upper MemFS.

This is the simulator's overlayfs, and it follows the kernel's
``Documentation/filesystems/overlayfs.rst`` with the module defaults of a
current kernel (``redirect_dir=off``, ``index=off``, ``metacopy=off``) --
checked rule by rule against the real thing (``tests/diff``).

**Lookup** goes top-down, one name at a time (:meth:`OverlayFS._child`):
the upper layer first, then each lower layer, top-most first.  A directory
found in several layers is *merged*: its listing is the union of theirs.
The search below stops at

* a **whiteout** -- a character device 0/0 -- which says "this name is
  deleted": it hides the name in every layer below;
* an **opaque directory** -- xattr ``trusted.overlay.opaque="y"`` -- which
  hides everything below it at that path;
* a non-directory: a file hides what is below it, and a file below a
  directory is ignored.

**Copy-up.**  Lower layers are never written.  The first time a lower file
is changed (write, append, truncate, chmod, chown, link), it is copied to the
upper layer -- its parents first, each keeping its mode and owner -- and
from then on the upper copy is the file.  Copy-up makes a new inode, so with
``index=off`` it *breaks hard links*: the other names of a lower hard link
keep showing the old contents.

**Deleting** a name that a lower layer has leaves a whiteout in the upper
layer; a name only the upper layer had is just removed.  Creating a
directory where a whiteout is makes it opaque (the old contents must not
come back).  ``rmdir`` of a merged directory that still shows entries is
``ENOTEMPTY`` even if the upper part is empty.

**Rename** of a file copies it up and leaves a whiteout at the old name if a
lower layer has that name.  A directory that exists in a lower layer cannot
be renamed (``EXDEV``: without ``redirect_dir`` the kernel has no way to
record "this directory's lower part is elsewhere"); ``mv`` then falls back to
copy-and-delete.  A directory only the upper layer has can be; moved into a
merged directory it is made opaque.

Merged directories report ``nlink`` 1 (the kernel does not count their
subdirectories), and list their names lowest layer first, then the upper
layer's, then the middle layers' -- the order ``ovl_dir_read_merged`` builds.
A directory that is not merged (one layer only) is listed as that layer
lists it, *whiteouts included*: the kernel then shows a name that ``lstat``
says does not exist.

Extra methods for the simulated kernel's VFS (like :class:`MemFS`):
``open(path, flags, mode)`` (copies up when opened for writing; the returned
object has ``read_at``/``write_at``/``truncate``/``size``), ``lookup``,
``read_at``, ``write_at``, ``rdev``, ``mknod`` (char devices; 0/0 is EPERM:
nobody may forge a whiteout from above), ``getxattr``/``listxattr`` (read-only
view; ``trusted.overlay.*`` is hidden, as the kernel hides it).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from stepbox.core.kernel.unionfs import FileOps, StatResult

from .memfs import (
    MAXSYMLINKS,
    NAME_MAX,
    O_ACCMODE,
    O_APPEND,
    O_CREAT,
    O_DIRECTORY,
    O_EXCL,
    O_NOFOLLOW,
    O_TRUNC,
    O_WRONLY,
    S_ISGID,
    S_ISUID,
    S_IXGRP,
    Inode,
    InodeKind,
    MemFS,
    _err,
    _split,
    check_rmdir,
    check_unlink,
    inherit_setgid,
)

OPAQUE_XATTR = "trusted.overlay.opaque"
_PRIVATE_XATTR_PREFIX = "trusted.overlay."


_CHARDEV = InodeKind.CHARDEV


def is_whiteout(node: Inode | None) -> bool:
    """overlayfs's mark for a deleted name: a character device 0/0."""
    return node is not None and node.kind is InodeKind.CHARDEV and node.rdev == 0


def is_opaque(node: Inode | None) -> bool:
    return (
        node is not None
        and node.kind is InodeKind.DIR
        and node.xattrs is not None
        and node.xattrs.get(OPAQUE_XATTR) == b"y"
    )


def make_whiteout() -> Inode:
    return Inode(InodeKind.CHARDEV, 0, None, rdev=0)


class Merged:
    """One name of the merged view, as a lookup found it.

    ``upper`` is the upper layer's inode (``None`` until copied up);
    ``lowers`` the lower inodes it shows: for a directory every lower
    directory merged into it, top-most first; for a non-directory at most
    one.  ``parent`` is the merged directory it was found in (``None`` for
    the root) -- the chain copy-up climbs.
    """

    __slots__ = ("name", "parent", "upper", "lowers")

    def __init__(self, name: str, parent: Merged | None, upper: Inode | None, lowers: list[Inode]) -> None:
        self.name = name
        self.parent = parent
        self.upper = upper
        self.lowers = lowers

    @property
    def top(self) -> Inode:
        return self.upper if self.upper is not None else self.lowers[0]

    @property
    def is_dir(self) -> bool:
        return self.top.kind is InodeKind.DIR

    @property
    def is_merge(self) -> bool:
        """A directory with more than one layer behind it (the kernel's
        OVL_TYPE_MERGE): upper + lower, or several lowers."""
        return self.is_dir and len(self.lowers) + (self.upper is not None) > 1

    def path(self) -> str:
        names = []
        node: Merged | None = self
        while node is not None and node.parent is not None:
            names.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(names))


class _Found:
    """Result of a merged walk: parent directory, last name, what is there."""

    __slots__ = ("parent", "name", "node", "must_be_dir", "stack")

    def __init__(
        self, parent: Merged, name: str | None, node: Merged | None, must_be_dir: bool, stack: list[Merged]
    ) -> None:
        self.parent = parent
        self.name = name
        self.node = node
        self.must_be_dir = must_be_dir
        self.stack = stack


class LowerOpenFile:
    """An fd opened read-only on a file that is still only in a lower layer.

    Since Linux 4.19 such an fd follows a later copy-up: once any writer has
    copied the file up, reads through this fd see the upper copy.  This
    object asks the overlay for the copy on every read to get that.

    What is followed is the *name* the fd was opened by, not the lower inode:
    with index=off each name of a lower hard link is its own overlay inode,
    and copying up one name leaves an fd opened by another on the old file.
    A lower file is always copied up at the name it was opened by (a rename
    copies up first), so (lower inode, path) identifies the copy.
    """

    __slots__ = ("fs", "lower", "path", "kind", "rdev")

    def __init__(self, fs: OverlayFS, lower: Inode, path: str) -> None:
        self.fs = fs
        self.lower = lower
        self.path = path
        self.kind = lower.kind
        self.rdev = lower.rdev

    def _real(self) -> Inode:
        return self.fs._copied_up.get((id(self.lower), self.path), self.lower)

    @property
    def size(self) -> int:
        return self._real().size

    @property
    def nlink(self) -> int:
        return self._real().nlink

    def read_at(self, offset: int, n: int) -> bytes:
        return self._real().read_at(offset, n)

    def write_at(self, offset: int, data: bytes) -> int:
        raise _err(errno.EBADF)  # opened read-only

    def truncate(self, size: int) -> None:
        raise _err(errno.EBADF)

    def stat(self) -> StatResult:
        return self._real().stat()


class OverlayFS(FileOps):
    """The merged view of ``lowers`` (top-most first) under ``upper``."""

    def __init__(self, lowers: Sequence[MemFS], upper: MemFS) -> None:
        self.lowers = list(lowers)
        self.upper = upper
        # (id(lower inode), merged path) -> its upper copy, for read-only fds
        # opened before the copy-up (see LowerOpenFile).  Lower inodes live
        # as long as their layer, which outlives this mount: ids stay unique.
        self._copied_up: dict[tuple[int, str], Inode] = {}
        # The merged root once made, while the upper root has no xattrs (_root).
        self._root_node: Merged | None = None

    # -- lookup ------------------------------------------------------------------------

    def _root(self) -> Merged:
        """The merged root, where every walk in this filesystem starts (~15
        times a container start).  Made once and kept: it is made of the
        layers' root inodes and the opaque xattrs on them, nothing else.

        * The root inodes stay: ``lowers`` and ``upper`` are never rebound,
          and a MemFS's ``root`` is set only before anyone holds the MemFS
          (its __init__, SimUnionFS._load, MemFS.clone).
        * Names made, removed or renamed at the root change nothing here:
          the node holds the root inodes, whose entries every lookup reads
          afresh (_child).  Copy-up never changes it: the root always has
          its upper (``_copy_up`` asserts it).
        * A lower root's xattrs never change while mounted: only MemFS's
          setxattr/removexattr write xattrs (no caller outside tests), and
          the code that builds a layer (layers.tree_from_entries, before
          the layer is stored) or this class, on inodes it makes or moves
          (never a root); the engine writes a layer only through FileOps,
          which has no xattr call -- as the kernel's overlayfs fixes the
          root's lower stack when mounting (ovl_fill_super).
        * The upper root's xattrs are checked at each use all the same (it
          is the writable layer, MemFS.setxattr of its "/" reaches them):
          the kept node serves only while the upper root has none, as when
          it was made; with any, it is made afresh every time, as before.
        """
        root = self._root_node
        if root is not None and self.upper.root.xattrs is None:
            return root
        lowers = []
        for layer in self.lowers:
            lowers.append(layer.root)
            if layer.root.xattrs is not None and is_opaque(layer.root):
                break
        upper = self.upper.root
        root = Merged("", None, upper, [] if upper.xattrs is not None and is_opaque(upper) else lowers)
        self._root_node = root if upper.xattrs is None else None
        return root

    def merged_node(self, path: str) -> Merged:
        """What a lookup of the directory ``path`` (no symlinks in it) finds:
        where the VFS's name-by-name walk (namei.path_walk) starts in this
        filesystem, going on with :meth:`child` one name at a time."""
        if path == "/":
            # Where nearly every walk into a rootfs starts (the mount's
            # root): the same node _get("/") finds, without the walk.
            return self._root()
        return self._get(path)

    @staticmethod
    def _child(parent: Merged, name: str) -> Merged | None:
        """Look ``name`` up in a merged directory (``ovl_lookup``)."""
        upper = parent.upper.data.get(name) if parent.upper is not None else None
        if upper is not None:
            if upper.kind is _CHARDEV and upper.rdev == 0:  # a whiteout (is_whiteout, inlined)
                return None
            # (xattrs first: the few opaque directories have some, most inodes none)
            if upper.kind is not InodeKind.DIR or (upper.xattrs is not None and is_opaque(upper)):
                return Merged(name, parent, upper, [])
        lowers: list[Inode] = []
        for directory in parent.lowers:
            node = directory.data.get(name)
            if node is None:
                continue
            if node.kind is _CHARDEV and node.rdev == 0:  # a whiteout
                break
            if node.kind is not InodeKind.DIR:
                # A non-directory counts only if nothing above had the name;
                # either way nothing below it is looked at.
                if upper is None and not lowers:
                    lowers.append(node)
                break
            lowers.append(node)
            if node.xattrs is not None and is_opaque(node):
                break
        if upper is None and not lowers:
            return None
        return Merged(name, parent, upper, lowers)

    # What the VFS's walk (namei.path_walk) calls, one name at a time.
    child = _child

    @staticmethod
    def _lower_positive(parent: Merged, name: str) -> bool:
        """Does a lower layer still show ``name`` in ``parent``?  Then deleting
        it needs a whiteout (``ovl_lower_positive``)."""
        for directory in parent.lowers:
            node = directory.data.get(name)
            if node is not None:
                return not is_whiteout(node)
        return False

    def _walk(self, path: str, follow: bool, slash_follows: bool = True, creat: bool = False) -> _Found:
        """The merged twin of :meth:`MemFS._walk` (same rules, same errnos)."""
        if not path:
            raise _err(errno.ENOENT, path)
        must_be_dir = path.endswith("/")
        todo = _split(path)
        root = self._root()
        stack = [root]
        links = 0
        while todo:
            name = todo.pop()
            if name == ".":
                continue
            if name == "..":
                if len(stack) > 1:
                    stack.pop()
                continue
            if len(name) > NAME_MAX:
                raise _err(errno.ENAMETOOLONG, path)
            last = not todo
            if last and creat and must_be_dir:
                raise _err(errno.EISDIR, path)
            node = self._child(stack[-1], name)
            if node is None:
                if last:
                    return _Found(stack[-1], name, None, must_be_dir, stack)
                raise _err(errno.ENOENT, path)
            top = node.top
            if top.kind is InodeKind.SYMLINK and (not last or follow or (must_be_dir and slash_follows)):
                links += 1
                if links > MAXSYMLINKS:
                    raise _err(errno.ELOOP, path)
                target = top.data
                if target.startswith("/"):
                    stack = [root]
                if last and target.endswith("/"):
                    must_be_dir = True
                todo.extend(_split(target))
                continue
            if last:
                return _Found(stack[-1], name, node, must_be_dir, stack)
            if top.kind is not InodeKind.DIR:
                raise _err(errno.ENOTDIR, path)
            stack.append(node)
        return _Found(stack[-1], None, stack[-1], True, stack)

    def _get(self, path: str, follow: bool = True) -> Merged:
        if path[:1] == "/" and len(path) <= NAME_MAX and "//" not in path and "/." not in path:
            # A plain absolute path ("/etc/passwd": no ".", "..", "//", no
            # name too long) is looked up name by name with _child, as _walk
            # does, without its bookkeeping.  A name missing, a symlink to
            # follow or a file on the way: the whole walk, which then says
            # what it says.
            if path == "/":
                return self._root()
            if path[-1] != "/":
                plain = self._plain(path[1:].split("/"), follow)
                if plain is not None:
                    return plain
        found = self._walk(path, follow)
        if found.node is None:
            raise _err(errno.ENOENT, path)
        if found.must_be_dir and not found.node.is_dir:
            raise _err(errno.ENOTDIR, path)
        return found.node

    def _plain(self, names: list[str], follow: bool) -> Merged | None:
        """What _walk finds for a plain path's names (see _get); None where
        only the whole walk can say."""
        node = self._root()
        for name in names[:-1]:
            child = self._child(node, name)
            if child is None or child.top.kind is not InodeKind.DIR:
                return None
            node = child
        found = self._child(node, names[-1])
        if found is None or (follow and found.top.kind is InodeKind.SYMLINK):
            return None
        return found

    def lookup(self, path: str, follow: bool = True) -> Inode:
        """The inode that currently shows at ``path`` (upper copy or lower)."""
        return self._get(path, follow).top

    # -- copy-up -----------------------------------------------------------------------

    def _copy_up(self, node: Merged) -> Inode:
        """Make sure ``node`` has an upper inode; parents first (``ovl_copy_up``)."""
        if node.upper is not None:
            return node.upper
        parent = node.parent
        assert parent is not None, "the root always has an upper"
        upper_parent = self._copy_up(parent)
        existing = upper_parent.data.get(node.name)
        if existing is not None and not is_whiteout(existing):
            # Another lookup (the other path of a rename) copied it up already.
            node.upper = existing
            return existing
        lower = node.lowers[0]
        if lower.kind is InodeKind.DIR:
            data: object = {}
        elif lower.kind is InodeKind.FILE:
            data = bytearray(lower.data)
        else:
            data = lower.data
        copy = Inode(
            lower.kind, lower.mode, data, uid=lower.uid, gid=lower.gid, rdev=lower.rdev, mtime=lower.mtime
        )
        if lower.xattrs:
            kept = {k: v for k, v in lower.xattrs.items() if not k.startswith(_PRIVATE_XATTR_PREFIX)}
            copy.xattrs = kept or None
        self.upper._attach(upper_parent, node.name, copy)
        node.upper = copy
        if lower.kind is InodeKind.FILE:
            self._copied_up[(id(lower), node.path())] = copy
        return copy

    # -- reading -----------------------------------------------------------------------

    def _stat(self, node: Merged) -> StatResult:
        result = node.top.stat()
        if node.is_merge:
            # "nlink=1 seems to pacify 'find' and other utilities" -- ovl_getattr
            return StatResult(
                result.kind,
                result.mode,
                result.uid,
                result.gid,
                result.size,
                1,
                result.is_device,
                mtime=result.mtime,
                ino=result.ino,
            )
        return result

    def lstat(self, path: str) -> StatResult:
        return self._stat(self._get(path, follow=False))

    def stat(self, path: str) -> StatResult:
        return self._stat(self._get(path, follow=True))

    def _names(self, node: Merged) -> list[str]:
        """A merged directory's names in the order the kernel gives them."""
        layers = ([node.upper] if node.upper is not None else []) + node.lowers
        if len(layers) == 1:
            # Not merged: the kernel passes the layer's own readdir through,
            # whiteouts included (a name listed that lstat calls ENOENT) --
            # harmless whiteouts at the bottom of an image show up like that.
            return list(reversed(layers[0].data))
        seen: set[str] = set()
        groups: list[list[str]] = []
        for layer in layers:
            group = []
            for name in reversed(layer.data):  # each layer's own (tmpfs) order
                if name not in seen:
                    seen.add(name)
                    group.append(name)
            groups.append(group)
        # Lowest layer first, then the top (upper) and the middle ones.
        ordered = groups[-1] + [n for g in groups[:-1] for n in g]
        return [n for n in ordered if self._child(node, n) is not None]

    def _is_empty(self, node: Merged) -> bool:
        """Emptiness as rmdir and rename see it: whiteouts never count, even
        in a directory whose listing shows them (``ovl_check_empty_dir``)."""
        return not any(self._child(node, name) is not None for name in self._names(node))

    def listdir(self, path: str) -> list[str]:
        node = self._get(path)
        if not node.is_dir:
            raise _err(errno.ENOTDIR, path)
        return self._names(node)

    def read(self, path: str) -> bytes:
        top = self._get(path).top
        if top.kind is InodeKind.DIR:
            raise _err(errno.EISDIR, path)
        return bytes(top.data) if top.kind is InodeKind.FILE else b""

    def readlink(self, path: str) -> str:
        top = self._get(path, follow=False).top
        if top.kind is not InodeKind.SYMLINK:
            raise _err(errno.EINVAL, path)
        return top.data

    def read_at(self, path: str, offset: int, n: int) -> bytes:
        return self.lookup(path).read_at(offset, n)

    def rdev(self, path: str) -> int:
        return self.lookup(path, follow=False).rdev

    def getxattr(self, path: str, name: str, *, follow: bool = False) -> bytes:
        top = self.lookup(path, follow)
        if name.startswith(_PRIVATE_XATTR_PREFIX) or not top.xattrs or name not in top.xattrs:
            raise _err(errno.ENODATA, path)
        return top.xattrs[name]

    def listxattr(self, path: str, *, follow: bool = False) -> list[str]:
        top = self.lookup(path, follow)
        return [k for k in (top.xattrs or ()) if not k.startswith(_PRIVATE_XATTR_PREFIX)]

    # -- creating ----------------------------------------------------------------------

    def _create(self, found: _Found, node: Inode) -> None:
        """Put a new inode at a free name: into the upper copy of the parent,
        over a whiteout if one is there (a directory then becomes opaque)."""
        assert found.name is not None  # a free name (_free_name, or open's O_CREAT walk)
        upper_parent = self._copy_up(found.parent)
        inherit_setgid(upper_parent, node)
        old = upper_parent.data.get(found.name)
        if old is not None:  # only a whiteout can be there
            self.upper._detach(upper_parent, found.name)
            if node.kind is InodeKind.DIR:
                node.xattrs = {OPAQUE_XATTR: b"y"}
        self.upper._attach(upper_parent, found.name, node)

    def _free_name(self, path: str) -> _Found:
        found = self._walk(path, follow=False, slash_follows=False)
        if found.node is not None or found.name is None:
            raise _err(errno.EEXIST, path)
        return found

    def open(self, path: str, flags: int = 0, mode: int = 0o644):
        """open(2)'s path part; for writing (or O_TRUNC) the file is copied
        up first.  Returns an :class:`Inode` or a :class:`LowerOpenFile`."""
        found = self._walk(path, not flags & O_NOFOLLOW, creat=bool(flags & O_CREAT))
        node = found.node
        if node is None:
            if not flags & O_CREAT:
                raise _err(errno.ENOENT, path)
            if found.must_be_dir or flags & O_DIRECTORY:
                raise _err(errno.EISDIR, path)
            inode = Inode(InodeKind.FILE, mode, bytearray(), mtime=self.upper.clock())
            self._create(found, inode)
            return inode
        if flags & O_CREAT and flags & O_EXCL:
            raise _err(errno.EEXIST, path)
        top = node.top
        if top.kind is InodeKind.SYMLINK:
            raise _err(errno.ELOOP, path)
        writing = bool(flags & O_ACCMODE) or bool(flags & O_TRUNC)
        if top.kind is InodeKind.DIR:
            if flags & O_ACCMODE or flags & O_CREAT:
                raise _err(errno.EISDIR, path)
            return top
        if found.must_be_dir or flags & O_DIRECTORY:
            raise _err(errno.ENOTDIR, path)
        if not writing:
            return top if node.upper is not None else LowerOpenFile(self, top, node.path())
        inode = self._copy_up(node)
        if flags & O_TRUNC and inode.kind is InodeKind.FILE:
            inode.data.clear()
            inode.mtime = self.upper.clock()  # as MemFS: a truncating open is a write
        return inode

    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        flags = O_WRONLY | O_CREAT | (O_APPEND if append else O_TRUNC)
        inode = self.open(path, flags, mode)
        if inode.kind is InodeKind.FILE:
            if append:
                inode.data.extend(data)
            else:
                inode.data[:] = data
            inode.mtime = self.upper.clock()

    def write_at(self, path: str, offset: int, data: bytes) -> int:
        return self.open(path, O_WRONLY).write_at(offset, data)

    def truncate(self, path: str, size: int) -> None:
        node = self._get(path)
        kind = node.top.kind
        if kind is InodeKind.DIR:
            raise _err(errno.EISDIR, path)
        if size < 0 or kind is not InodeKind.FILE:
            raise _err(errno.EINVAL, path)
        inode = self._copy_up(node)
        if size != inode.size:  # truncate(2) to the same size is no write
            inode.truncate(size)
            inode.mtime = self.upper.clock()

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        found = self._free_name(path)
        self._create(found, Inode(InodeKind.DIR, mode, {}, mtime=self.upper.clock()))

    def symlink(self, target: str, path: str) -> None:
        if not target:
            raise _err(errno.ENOENT, path)
        found = self._free_name(path)
        if found.must_be_dir:
            raise _err(errno.ENOENT, path)
        self._create(found, Inode(InodeKind.SYMLINK, 0o777, target, mtime=self.upper.clock()))

    def mknod(self, path: str, mode: int, rdev: int) -> None:
        """A character device in the merged view (``mknod /dev/null``)."""
        if rdev == 0:
            raise _err(errno.EPERM, path)  # ovl_mknod: no "whiteouts" from above
        found = self._free_name(path)
        if found.must_be_dir:
            raise _err(errno.ENOENT, path)
        self._create(found, Inode(InodeKind.CHARDEV, mode, None, rdev=rdev, mtime=self.upper.clock()))

    def mksock(self, path: str, mode: int) -> None:
        """A bound AF_UNIX socket's name in the merged view (made in the upper layer)."""
        found = self._free_name(path)
        if found.must_be_dir:
            raise _err(errno.ENOENT, path)
        self._create(found, Inode(InodeKind.SOCKET, mode, None, mtime=self.upper.clock()))

    def link(self, src: str, dst: str) -> None:
        node = self._get(src, follow=False)
        found = self._free_name(dst)
        if found.must_be_dir:
            raise _err(errno.ENOENT, dst)
        if node.is_dir:
            raise _err(errno.EPERM, src)
        assert found.name is not None  # _free_name
        inode = self._copy_up(node)  # the upper copy gets the new name
        upper_parent = self._copy_up(found.parent)
        if found.name in upper_parent.data:  # a whiteout: replace it
            self.upper._detach(upper_parent, found.name)
        inode.nlink += 1
        upper_parent.data[found.name] = inode

    # -- removing ----------------------------------------------------------------------

    def _remove(self, parent: Merged, name: str) -> None:
        """Take ``name`` out of the merged view: remove the upper entry and,
        if a lower layer has the name, leave a whiteout (``ovl_do_remove``)."""
        upper_parent = self._copy_up(parent)
        if name in upper_parent.data:
            self.upper._detach(upper_parent, name)
        if self._lower_positive(parent, name):
            self.upper._attach(upper_parent, name, make_whiteout())

    def unlink(self, path: str) -> None:
        found = self._walk(path, follow=False, slash_follows=False)
        node = found.node
        check_unlink(
            path,
            node is not None,
            node is not None and node.is_dir,
            found.name is not None,
            found.must_be_dir,
        )
        assert found.name is not None  # check_unlink refused a path without one
        self._remove(found.parent, found.name)

    def rmdir(self, path: str) -> None:
        found = self._walk(path, follow=False, slash_follows=False)
        node = found.node
        check_rmdir(path, node is not None, node is not None and node.is_dir, found.name is not None)
        assert node is not None and found.name is not None  # check_rmdir refused the rest
        if not self._is_empty(node):  # checked before any copy-up
            raise _err(errno.ENOTEMPTY, path)
        self._remove(found.parent, found.name)

    @staticmethod
    def _names_of(stack: list[Merged], node: Merged | None) -> list[str]:
        chain = [m.name for m in stack[1:]]
        if node is not None:
            chain.append(node.name)
        return chain

    def rename(self, src: str, dst: str) -> None:
        """rename(2): the VFS's checks (as in MemFS), then overlayfs's."""
        old = self._walk(src, follow=False, slash_follows=False)
        new = self._walk(dst, follow=False, slash_follows=False)
        if old.name is None or new.name is None:
            raise _err(errno.EBUSY, src)
        if old.node is None:
            raise _err(errno.ENOENT, src)
        node, target = old.node, new.node
        is_dir = node.is_dir
        if not is_dir and (old.must_be_dir or new.must_be_dir):
            raise _err(errno.ENOTDIR, src)
        # Merged nodes are made afresh by each lookup, so ancestry is checked
        # on the physical chains of names.
        old_path = self._names_of(old.stack, node)
        new_parent_path = self._names_of(new.stack, None)
        if is_dir and new_parent_path[: len(old_path)] == old_path:
            raise _err(errno.EINVAL, src)
        if target is not None:
            target_path = self._names_of(new.stack, target)
            if self._names_of(old.stack, None)[: len(target_path)] == target_path:
                raise _err(errno.ENOTEMPTY, dst)
            same_path = old_path == target_path
            same_upper = node.upper is not None and node.upper is target.upper
            if same_path or same_upper:
                return  # one inode: nothing to do
            if is_dir and not target.is_dir:
                raise _err(errno.ENOTDIR, dst)
            if not is_dir and target.is_dir:
                raise _err(errno.EISDIR, dst)
        # overlayfs: a directory with a lower part cannot move (no redirect_dir).
        if is_dir and node.lowers:
            raise _err(errno.EXDEV, src)
        if target is not None and target.is_dir and not self._is_empty(target):
            raise _err(errno.ENOTEMPTY, dst)
        inode = self._copy_up(node)
        new_upper_parent = self._copy_up(new.parent)
        old_upper_parent = self._copy_up(old.parent)
        if new.name in new_upper_parent.data:  # the target, or a whiteout
            self.upper._detach(new_upper_parent, new.name)
        del old_upper_parent.data[old.name]
        if is_dir:
            old_upper_parent.nlink -= 1
        if is_dir and not is_opaque(inode) and new.parent.is_merge:
            # Moved into a merged directory, a pure-upper directory must not
            # start showing a lower directory of the same name: opaque.
            if inode.xattrs is None:
                inode.xattrs = {}
            inode.xattrs[OPAQUE_XATTR] = b"y"
        self.upper._attach(new_upper_parent, new.name, inode)
        if self._lower_positive(old.parent, old.name):
            self.upper._attach(old_upper_parent, old.name, make_whiteout())

    # -- attributes --------------------------------------------------------------------

    def chmod(self, path: str, mode: int) -> None:
        self._copy_up(self._get(path)).mode = mode & 0o7777

    def utime(self, path: str, mtime: float | None = None, follow: bool = True) -> None:
        # A metadata change: overlayfs copies the file up, contents and all.
        inode = self._copy_up(self._get(path, follow))
        inode.mtime = self.upper.clock() if mtime is None else mtime

    def set_mtime(self, path: str, mtime: float) -> None:
        self._copy_up(self._get(path, follow=False)).mtime = mtime

    def chown(self, path: str, uid: int, gid: int) -> None:
        node = self._get(path, follow=False)
        inode = self._copy_up(node)
        if uid != -1:
            inode.uid = uid
        if gid != -1:
            inode.gid = gid
        if inode.kind is not InodeKind.DIR and inode.kind is not InodeKind.SYMLINK:
            inode.mode &= ~S_ISUID  # as MemFS.chown: ATTR_KILL_SUID
            if inode.mode & S_IXGRP:
                inode.mode &= ~S_ISGID
