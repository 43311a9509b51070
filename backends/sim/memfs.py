"""MemFS: a POSIX directory tree kept in memory -- the simulator's tmpfs.

Every filesystem of the simulated kernel is one of these: each image layer,
each container's init and read-write layer, the tmpfs a process mounts, the
backing store of the simulated host.  It behaves like Linux's tmpfs seen by
root: the same errnos in the same situations (``ENOENT``, ``ENOTDIR``,
``EISDIR``, ``EEXIST``, ``ENOTEMPTY``, ``EINVAL``, ``EPERM``, ``ELOOP`` ...),
symlinks followed in the middle of a path (40 at most, like the kernel's
``MAXSYMLINKS``), hard links that share one inode.

Two ideas carry the whole module:

* An **inode** (:class:`Inode`) is the file itself: kind, mode, owner, data,
  link count.  A **directory** is just an inode whose data maps names to
  inodes.  A hard link is a second name for the same inode object, which is
  why writing through one name changes what the other reads, and why
  ``nlink`` counts names.
* **Path resolution** (:meth:`MemFS._walk`) walks a path one name at a time
  from the root, keeping the stack of directories it went through (so that
  ``..`` goes back physically, as in the kernel) and splicing a symlink's
  target into the names still to walk.

No permission checks are made: MemFS is what root sees.  The simulated
kernel's VFS checks permissions itself from :meth:`stat` before calling in.

Directory order.  :meth:`listdir` gives names newest first, the order a
Linux tmpfs gives (``ls -f``).  It is deliberately *not* sorted, so that no
test can lean on an order the real kernel would not give.

Extra methods for the simulated kernel's VFS (beyond :class:`FileOps`):

``open(path, flags=O_RDONLY, mode=0o644) -> Inode``
    open(2)'s path part: follows symlinks, honours ``O_CREAT``, ``O_EXCL``,
    ``O_TRUNC``, ``O_DIRECTORY``, ``O_NOFOLLOW``; ``EISDIR`` when a directory
    is opened for writing.  The returned inode is the open file: keep it in
    the fd table and use :meth:`Inode.read_at`, :meth:`Inode.write_at`,
    :meth:`Inode.truncate` and :attr:`Inode.size`.  It keeps working after
    the name is unlinked, exactly like an open fd on Linux (the inode lives
    while someone holds it).
``lookup(path, follow=True) -> Inode``
    The inode a path names (``ENOENT`` ... as :meth:`stat`).
``read_at(path, offset, n)`` / ``write_at(path, offset, data)``
    pread/pwrite by path (``write_at`` does not create the file).
``mknod(path, mode, rdev)``
    A character device (``/dev/null`` is ``mknod("/dev/null", 0o666, makedev(1, 3))``);
    MemFS stores the device number, the VFS gives it meaning.
    A char device 0/0 is an overlayfs *whiteout*.
``setxattr / getxattr / removexattr / listxattr``
    Extended attributes, as bytes; ``getxattr`` of a missing name is ``ENODATA``.
``rdev(path)``, ``ino(path)``
    The device number of a device node; the inode number of anything.
``clone() -> MemFS``
    A deep copy sharing nothing (hard links stay hard links inside the copy).
``walk() -> Iterator[(path, Inode)]``
    Every entry, sorted, parents first (for serialising a layer).

Whiteouts (char 0/0) are ordinary device nodes here: only the overlay gives
them their meaning.  Stat reports a device as ``kind=FILE, is_device=True``
(:class:`StatResult` has no device kind); a whiteout also has ``size`` 0
and ``mode`` 0.
"""

from __future__ import annotations

import copy
import enum
import errno
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator

from stepbox.core.kernel.unionfs import EntryKind, FileOps, NewName, StatResult

MAXSYMLINKS = 40  # the kernel gives ELOOP after following this many
NAME_MAX = 255

# open(2) flags, Linux values (the same numbers as ``sys_api``).
O_ACCMODE, O_RDONLY, O_WRONLY, O_RDWR = 0o3, 0o0, 0o1, 0o2
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0o100, 0o200, 0o1000, 0o2000
O_DIRECTORY, O_NOFOLLOW = 0o200000, 0o400000

S_ISUID, S_ISGID, S_IXGRP = 0o4000, 0o2000, 0o010
DIR_SIZE = 4096  # what stat reports as a directory's size (ext4-like)


def makedev(major: int, minor: int) -> int:
    return os.makedev(major, minor) if hasattr(os, "makedev") else (major << 8) | minor


class InodeKind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    CHARDEV = "chardev"
    SOCKET = "socket"  # made by bind(2) of an AF_UNIX socket (net/unix.py)


_DIR, _SYMLINK, _CHARDEV = InodeKind.DIR, InodeKind.SYMLINK, InodeKind.CHARDEV
# What MemFS.make_names makes in a parent it holds (the rest: the general calls).
_NEW_DIR, _NEW_FILE, _NEW_SYMLINK = EntryKind.DIR, EntryKind.FILE, EntryKind.SYMLINK
_MADE_BY_NAME = frozenset((_NEW_DIR, _NEW_FILE, _NEW_SYMLINK))
_NOT_A_PLAIN_NAME = frozenset(("", ".", ".."))

_STAT_KIND = {
    InodeKind.FILE: EntryKind.FILE,
    InodeKind.DIR: EntryKind.DIR,
    InodeKind.SYMLINK: EntryKind.SYMLINK,
    # StatResult has no device kind: a device reports FILE with is_device=True.
    InodeKind.CHARDEV: EntryKind.FILE,
    InodeKind.SOCKET: EntryKind.SOCKET,
}

_inode_numbers = itertools.count(1)


_STRERROR: dict[int, str] = {}


def _err(code: int, path: str = "") -> OSError:
    """An OSError the way os.* raises it: ``errno``, ``strerror``, ``filename``."""
    # The texts are looked up once (a lookup raised with every ENOENT).
    text = _STRERROR.get(code)
    if text is None:
        text = _STRERROR[code] = os.strerror(code)
    return OSError(code, text, path) if path else OSError(code, text)


def check_unlink(path: str, exists: bool, is_dir: bool, has_name: bool, must_be_dir: bool) -> None:
    """unlink(2)'s refusals, in the kernel's order; shared by MemFS and the
    overlay so both answer the same errno for the same case."""
    if not exists:
        raise _err(errno.ENOENT, path)
    if is_dir or not has_name:
        raise _err(errno.EISDIR, path)
    if must_be_dir:
        raise _err(errno.ENOTDIR, path)


def check_rmdir(path: str, exists: bool, is_dir: bool, has_name: bool) -> None:
    """rmdir(2)'s refusals before the emptiness check, in the kernel's order."""
    if not exists:
        raise _err(errno.ENOENT, path)
    if not has_name:
        # No last name: "a/." is EINVAL, "a/.." ENOTEMPTY, "/" EBUSY.
        stripped = path.rstrip("/")
        if stripped == "." or stripped.endswith("/."):
            raise _err(errno.EINVAL, path)
        raise _err(errno.EBUSY if not stripped else errno.ENOTEMPTY, path)
    if not is_dir:
        raise _err(errno.ENOTDIR, path)


class Inode:
    """One file: a regular file, a directory, a symlink or a char device.

    ``data`` depends on ``kind``: ``bytearray`` for a file, ``dict[str, Inode]``
    for a directory (insertion-ordered), ``str`` (the target) for a symlink,
    ``None`` for a device (whose number is ``rdev``).
    """

    __slots__ = ("kind", "mode", "uid", "gid", "data", "nlink", "rdev", "xattrs", "mtime", "ino")

    def __init__(
        self,
        kind: InodeKind,
        mode: int,
        data,
        *,
        uid: int = 0,
        gid: int = 0,
        rdev: int = 0,
        mtime: float = 0.0,
    ) -> None:
        self.kind = kind
        self.mode = mode & 0o7777
        self.uid = uid
        self.gid = gid
        self.data = data
        # A directory's link count is 2 ("." and its name in the parent) plus
        # one per subdirectory (each subdirectory's "..").
        self.nlink = 2 if kind is InodeKind.DIR else 1
        self.rdev = rdev
        self.xattrs: dict[str, bytes] | None = None
        self.mtime = mtime
        self.ino = next(_inode_numbers)

    # -- the open-file interface (used through an fd) ----------------------------

    @property
    def size(self) -> int:
        if self.kind is InodeKind.FILE:
            return len(self.data)
        if self.kind is InodeKind.SYMLINK:
            return len(self.data.encode())
        if self.kind is InodeKind.DIR:
            return DIR_SIZE
        return 0

    def read_at(self, offset: int, n: int) -> bytes:
        """pread(2): at most ``n`` bytes from ``offset``; ``b""`` at or past EOF."""
        if self.kind is InodeKind.DIR:
            raise _err(errno.EISDIR)
        if offset < 0 or n < 0:
            raise _err(errno.EINVAL)
        if self.kind is not InodeKind.FILE:
            return b""  # devices: the VFS decides what they read
        return bytes(self.data[offset : offset + n])

    def write_at(self, offset: int, data: bytes) -> int:
        """pwrite(2): writing past EOF fills the gap with zero bytes."""
        if self.kind is InodeKind.DIR:
            raise _err(errno.EISDIR)
        if offset < 0:
            raise _err(errno.EINVAL)
        if self.kind is not InodeKind.FILE:
            return len(data)
        buf = self.data
        if offset > len(buf):
            buf.extend(bytes(offset - len(buf)))
        buf[offset : offset + len(data)] = data
        return len(data)

    def truncate(self, size: int) -> None:
        if self.kind is InodeKind.DIR:
            raise _err(errno.EISDIR)
        if size < 0 or self.kind is not InodeKind.FILE:
            raise _err(errno.EINVAL)
        buf = self.data
        if size < len(buf):
            del buf[size:]
        else:
            buf.extend(bytes(size - len(buf)))

    def stat(self) -> StatResult:
        return StatResult(
            kind=_STAT_KIND[self.kind],
            mode=self.mode,
            uid=self.uid,
            gid=self.gid,
            size=self.size,
            nlink=self.nlink,
            is_device=self.kind is InodeKind.CHARDEV,
            mtime=self.mtime,
            ino=self.ino,
        )

    def __repr__(self) -> str:
        return f"<Inode {self.ino} {self.kind.value} {self.mode:o} nlink={self.nlink}>"


def inherit_setgid(parent: Inode, node: Inode) -> Inode:
    """A new name in a set-group-ID directory takes the directory's group,
    and a new subdirectory the set-group-ID bit too (the BSD group rule,
    which Linux applies to setgid directories)."""
    if parent.mode & S_ISGID:
        node.gid = parent.gid
        if node.kind is InodeKind.DIR:
            node.mode |= S_ISGID
    return node


def _split(path: str) -> list[str]:
    """The names of a path, last first (so ``pop()`` gives the next one).
    "." stays: in "a/." it makes "a" a middle name, which must be a directory."""
    parts = [p for p in path.split("/") if p]
    parts.reverse()
    return parts


class _Where:
    """Where a path led: the parent directory, the last name, and the inode
    that name has there (``None`` if the name does not exist yet).
    ``name`` is ``None`` when the path names a directory without a last name
    ("/", "a/..").  ``stack`` is the chain of directories from the root
    (``stack[-1]`` is ``parent``)."""

    __slots__ = ("stack", "name", "node", "must_be_dir")

    def __init__(self, stack: list[Inode], name: str | None, node: Inode | None, must_be_dir: bool) -> None:
        self.stack = stack
        self.name = name
        self.node = node
        self.must_be_dir = must_be_dir

    @property
    def parent(self) -> Inode:
        return self.stack[-1]


class MemFS(FileOps):
    """An in-memory POSIX tree; see the module docstring for what it offers."""

    def __init__(self, *, clock: Callable[[], float] = time.time, root_mode: int = 0o755) -> None:
        self.clock = clock
        self.root = Inode(InodeKind.DIR, root_mode, {}, mtime=clock())

    # -- path resolution -------------------------------------------------------------

    def _walk(self, path: str, follow: bool, slash_follows: bool = True, creat: bool = False) -> _Where:
        """Resolve ``path`` up to its last name.

        Symlinks in the middle are always followed; the last one only when
        ``follow`` (stat, open) or the path ends in "/" (which also demands a
        directory) -- except for the calls that remove or move a name
        (``slash_follows=False``): they act on the symlink itself.  Missing
        middle names are ENOENT, a non-directory in the middle is ENOTDIR,
        more than 40 symlinks is ELOOP.  ``creat`` is open(O_CREAT): a last
        name with a trailing "/" is EISDIR before anything is looked up (also
        when the "/" ends a symlink's target being followed).
        """
        if not path:
            raise _err(errno.ENOENT, path)
        if path[0] == "/" and path.find("/", 1) < 0 and 1 < len(path) <= NAME_MAX + 1 and path[1] != ".":
            # One plain name in the root ("/null", "/pts": a new /dev's
            # names): what the loop below does for it, without the split.
            root = self.root
            name = path[1:]
            node = root.data.get(name)
            if node is None or node.kind is not _SYMLINK or not follow:
                return _Where([root], name, node, False)
        must_be_dir = path.endswith("/")
        # (The hot path of every call: plain split, empty names skipped in
        # the loop; a trailing "/" was stripped so the last name is last.)
        todo = path.strip("/").split("/")
        todo.reverse()
        stack = [self.root]
        links = 0
        while todo:
            name = todo.pop()
            if not name or name == ".":
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
            node = stack[-1].data.get(name)
            if node is None:
                if last:
                    return _Where(stack, name, None, must_be_dir)
                raise _err(errno.ENOENT, path)
            kind = node.kind
            if kind is _SYMLINK and (not last or follow or (must_be_dir and slash_follows)):
                links += 1
                if links > MAXSYMLINKS:
                    raise _err(errno.ELOOP, path)
                target = node.data
                if target.startswith("/"):
                    stack = [self.root]
                if last and target.endswith("/"):
                    must_be_dir = True
                todo.extend(_split(target))
                continue
            if last:
                return _Where(stack, name, node, must_be_dir)
            if kind is not _DIR:
                raise _err(errno.ENOTDIR, path)
            stack.append(node)
        # The path ended on a directory reached without a last name
        # ("/", "a/.", "a/.."): the kernel's LAST_ROOT/LAST_DOT/LAST_DOTDOT.
        return _Where(stack, None, stack[-1], True)

    def lookup(self, path: str, follow: bool = True) -> Inode:
        where = self._walk(path, follow)
        node = where.node
        if node is None:
            raise _err(errno.ENOENT, path)
        if where.must_be_dir and node.kind is not InodeKind.DIR:
            raise _err(errno.ENOTDIR, path)
        return node

    def _dir(self, path: str) -> Inode:
        node = self.lookup(path)
        if node.kind is not InodeKind.DIR:
            raise _err(errno.ENOTDIR, path)
        return node

    def _creatable(self, path: str, follow: bool = False) -> _Where:
        """Where a new name would go; EEXIST if it is taken."""
        # The last name is not followed, even with a trailing "/": a dangling
        # symlink there is EEXIST (filename_create).
        where = self._walk(path, follow, slash_follows=False)
        if where.node is not None:
            raise _err(errno.EEXIST, path)
        return where

    def _attach(self, parent: Inode, name: str, node: Inode) -> None:
        parent.data[name] = node
        if node.kind is InodeKind.DIR:
            parent.nlink += 1
        parent.mtime = self.clock()

    def _detach(self, parent: Inode, name: str) -> Inode:
        node = parent.data.pop(name)
        if node.kind is InodeKind.DIR:
            parent.nlink -= 1
            node.nlink = 0  # an open fd on a removed directory sees nlink 0
        else:
            node.nlink -= 1
        parent.mtime = self.clock()
        return node

    # -- FileOps: reading ---------------------------------------------------------------

    def lstat(self, path: str) -> StatResult:
        return self.lookup(path, follow=False).stat()

    def exists(self, path: str) -> bool:
        # FileOps.exists is "lstat does not fail": the same lookup, without
        # building the StatResult nobody reads (every container start asks
        # for each of its device nodes and /dev symlinks).
        try:
            self.lookup(path, follow=False)
        except OSError:
            return False
        return True

    def stat(self, path: str) -> StatResult:
        return self.lookup(path, follow=True).stat()

    def listdir(self, path: str) -> list[str]:
        # Newest first, as tmpfs gives them.
        return list(reversed(self._dir(path).data))

    def read(self, path: str) -> bytes:
        node = self.lookup(path)
        if node.kind is InodeKind.DIR:
            raise _err(errno.EISDIR, path)
        return bytes(node.data) if node.kind is InodeKind.FILE else b""

    def readlink(self, path: str) -> str:
        node = self.lookup(path, follow=False)
        if node.kind is not InodeKind.SYMLINK:
            raise _err(errno.EINVAL, path)
        return node.data

    # -- FileOps: writing ---------------------------------------------------------------

    def open(self, path: str, flags: int = 0, mode: int = 0o644) -> Inode:
        """The path part of open(2); returns the inode to keep as the open file."""
        follow = not (flags & O_NOFOLLOW)
        where = self._walk(path, follow, creat=bool(flags & O_CREAT))
        node = where.node
        if node is None:
            if not flags & O_CREAT:
                raise _err(errno.ENOENT, path)
            if where.must_be_dir or flags & O_DIRECTORY:
                raise _err(errno.EISDIR, path)  # open("new/", O_CREAT)
            node = Inode(InodeKind.FILE, mode, bytearray(), mtime=self.clock())
            assert where.name is not None  # only "/" has no last name, and it exists
            self._attach(where.parent, where.name, inherit_setgid(where.parent, node))
            return node
        if flags & O_CREAT and flags & O_EXCL:
            raise _err(errno.EEXIST, path)
        if node.kind is InodeKind.SYMLINK:  # only reached with O_NOFOLLOW
            raise _err(errno.ELOOP, path)
        if node.kind is InodeKind.DIR:
            if flags & O_ACCMODE or flags & O_CREAT:
                raise _err(errno.EISDIR, path)
        elif where.must_be_dir or flags & O_DIRECTORY:
            raise _err(errno.ENOTDIR, path)
        if flags & O_TRUNC and node.kind is InodeKind.FILE:  # even O_RDONLY, as Linux does
            node.data.clear()
            node.mtime = self.clock()
        return node

    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        flags = O_WRONLY | O_CREAT | (O_APPEND if append else O_TRUNC)
        node = self.open(path, flags, mode)
        if node.kind is InodeKind.FILE:
            if append:
                node.data.extend(data)
            else:
                node.data[:] = data  # O_TRUNC + write, without a second copy
            node.mtime = self.clock()

    def read_at(self, path: str, offset: int, n: int) -> bytes:
        return self.lookup(path).read_at(offset, n)

    def write_at(self, path: str, offset: int, data: bytes) -> int:
        return self.lookup(path).write_at(offset, data)

    def truncate(self, path: str, size: int) -> None:
        node = self.lookup(path)
        if node.kind is InodeKind.DIR:
            raise _err(errno.EISDIR, path)
        if size < 0 or node.kind is not InodeKind.FILE:
            raise _err(errno.EINVAL, path)
        if size != node.size:  # truncate(2) to the same size is no write
            node.truncate(size)
            node.mtime = self.clock()

    # mkdir, symlink and mknod: by path (walk to the parent, refuse a taken
    # name), or ``*_in`` for a caller that holds the directory the new name
    # goes in (it walked there, or just made it) -- a container's /dev gets
    # ~15 names that way, without walking ``path`` from the root again.
    # Both end in the one ``_add_*`` of each kind: the inode, the setgid
    # rule, the directory's times.  (Written out, not _creatable then
    # _attach: the calls between them were a good part of their cost, and
    # every container start makes ~20 names.)  For ``*_in``, ``path`` is
    # the name's full path, what an error names; a name that is not a
    # plain one ("", ".", "..", too long) takes the call by path, which
    # refuses it as it says.

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        where = self._walk(path, False, False)
        name = where.name
        if where.node is not None or name is None:
            raise _err(errno.EEXIST, path)
        self._add_dir(where.stack[-1], name, mode)

    def mkdir_in(self, parent: Inode, name: str, path: str, mode: int = 0o755) -> Inode:
        """mkdir(path, mode), ``path``'s last name ``name`` going in the
        directory ``parent``; returns the new directory."""
        if name in _NOT_A_PLAIN_NAME or len(name) > NAME_MAX:
            self.mkdir(path, mode)  # EEXIST or ENAMETOOLONG
        if name in parent.data:
            raise _err(errno.EEXIST, path)
        return self._add_dir(parent, name, mode)

    def symlink(self, target: str, path: str) -> None:
        if not target:
            raise _err(errno.ENOENT, path)
        where = self._walk(path, False, False)
        if where.node is not None:
            raise _err(errno.EEXIST, path)
        if where.must_be_dir:
            raise _err(errno.ENOENT, path)  # symlink("t", "new/"): the kernel says ENOENT
        name = where.name
        assert name is not None  # only "/" has no last name, and it exists
        self._add_symlink(where.stack[-1], name, target)

    def symlink_in(self, parent: Inode, name: str, target: str, path: str) -> None:
        """symlink(target, path), ``name`` going in the directory ``parent``."""
        if not target or name in _NOT_A_PLAIN_NAME or len(name) > NAME_MAX:
            self.symlink(target, path)  # ENOENT, EEXIST or ENAMETOOLONG
        if name in parent.data:
            raise _err(errno.EEXIST, path)
        self._add_symlink(parent, name, target)

    def mknod(self, path: str, mode: int, rdev: int) -> None:
        """A character device node (the only kind of node MemFS makes)."""
        where = self._walk(path, False, False)
        if where.node is not None:
            raise _err(errno.EEXIST, path)
        if where.must_be_dir:
            raise _err(errno.ENOENT, path)
        name = where.name
        assert name is not None  # only "/" has no last name, and it exists
        self._add_chardev(where.stack[-1], name, mode, rdev)

    def mknod_in(self, parent: Inode, name: str, path: str, mode: int, rdev: int) -> None:
        """mknod(path, mode, rdev), ``name`` going in the directory ``parent``."""
        if name in _NOT_A_PLAIN_NAME or len(name) > NAME_MAX:
            self.mknod(path, mode, rdev)  # EEXIST or ENAMETOOLONG
        if name in parent.data:
            raise _err(errno.EEXIST, path)
        self._add_chardev(parent, name, mode, rdev)

    # The new names themselves.  The clock is read once for the new inode
    # and its directory's mtime: the kernel stamps both with one
    # current_time().  A directory with the setgid bit passes its group on,
    # and to a new directory the bit too (inherit_setgid's rule).

    def _add_dir(self, parent: Inode, name: str, mode: int) -> Inode:
        now = self.clock()
        node = Inode(_DIR, mode, {}, mtime=now)
        if parent.mode & S_ISGID:
            node.gid = parent.gid
            node.mode |= S_ISGID
        parent.data[name] = node
        parent.nlink += 1  # the new directory's ".."
        parent.mtime = now
        return node

    def _add_symlink(self, parent: Inode, name: str, target: str) -> None:
        now = self.clock()
        node = Inode(_SYMLINK, 0o777, target, mtime=now)
        if parent.mode & S_ISGID:
            node.gid = parent.gid
        parent.data[name] = node
        parent.mtime = now

    def _add_chardev(self, parent: Inode, name: str, mode: int, rdev: int) -> None:
        now = self.clock()
        node = Inode(_CHARDEV, mode, None, rdev=rdev, mtime=now)
        if parent.mode & S_ISGID:
            node.gid = parent.gid
        parent.data[name] = node
        parent.mtime = now

    def mksock(self, path: str, mode: int) -> None:
        """The name bind(2) gives an AF_UNIX socket (EEXIST if taken, as EADDRINUSE)."""
        where = self._creatable(path)
        if where.must_be_dir:
            raise _err(errno.ENOENT, path)
        assert where.name is not None
        node = Inode(InodeKind.SOCKET, mode, None, mtime=self.clock())
        self._attach(where.parent, where.name, inherit_setgid(where.parent, node))

    def link(self, src: str, dst: str) -> None:
        # link(2) does not follow a final symlink in src: it links the symlink.
        # Checks in the kernel's order: find src, make room for dst, and only
        # then refuse a directory (vfs_link's EPERM).
        node = self.lookup(src, follow=False)
        where = self._creatable(dst)
        if where.name is None:
            raise _err(errno.EEXIST, dst)
        if where.must_be_dir:
            raise _err(errno.ENOENT, dst)
        if node.kind is InodeKind.DIR:
            raise _err(errno.EPERM, src)
        node.nlink += 1
        where.parent.data[where.name] = node
        where.parent.mtime = self.clock()

    def unlink(self, path: str) -> None:
        where = self._walk(path, follow=False, slash_follows=False)
        node = where.node
        check_unlink(
            path,
            node is not None,
            node is not None and node.kind is InodeKind.DIR,
            where.name is not None,
            where.must_be_dir,
        )
        assert where.name is not None  # check_unlink refused a path without one
        self._detach(where.parent, where.name)

    def rmdir(self, path: str) -> None:
        where = self._walk(path, follow=False, slash_follows=False)
        node = where.node
        check_rmdir(
            path, node is not None, node is not None and node.kind is InodeKind.DIR, where.name is not None
        )
        assert node is not None and where.name is not None  # check_rmdir refused the rest
        self._remove_dir(where.parent, where.name, node, path)

    def rmdir_in(self, parent: Inode, name: str, path: str) -> None:
        """rmdir(path), ``path``'s last name ``name`` being in the directory
        ``parent`` (a caller that walked there already: the VFS; see the
        ``*_in`` calls of creation above)."""
        if name in _NOT_A_PLAIN_NAME or len(name) > NAME_MAX:
            self.rmdir(path)  # by path, which answers these as it says
            return
        node = parent.data.get(name)
        check_rmdir(path, node is not None, node is not None and node.kind is _DIR, True)
        assert node is not None  # check_rmdir refused a missing name
        self._remove_dir(parent, name, node, path)

    def _remove_dir(self, parent: Inode, name: str, node: Inode, path: str) -> None:
        """rmdir's removal of the directory ``node``, ``name`` in ``parent``,
        once check_rmdir passed: only an empty one goes."""
        if node.data:
            raise _err(errno.ENOTEMPTY, path)
        self._detach(parent, name)

    def rename(self, src: str, dst: str) -> None:
        """rename(2), checks in the order ``do_renameat2`` / ``vfs_rename`` make them."""
        old = self._walk(src, follow=False, slash_follows=False)
        new = self._walk(dst, follow=False, slash_follows=False)
        if old.name is None or new.name is None:
            raise _err(errno.EBUSY, src)  # renaming "/", "x/." or "x/.."
        if old.node is None:
            raise _err(errno.ENOENT, src)
        node, target = old.node, new.node
        is_dir = node.kind is InodeKind.DIR
        if not is_dir and (old.must_be_dir or new.must_be_dir):
            raise _err(errno.ENOTDIR, src)
        # A directory cannot move below itself; nor may the target be an
        # ancestor of the source (it cannot be empty then).
        if is_dir and any(d is node for d in new.stack):
            raise _err(errno.EINVAL, src)
        if target is not None and any(d is target for d in old.stack):
            raise _err(errno.ENOTEMPTY, dst)
        if target is node:
            return  # same inode: nothing to do
        if target is not None:
            if is_dir and target.kind is not InodeKind.DIR:
                raise _err(errno.ENOTDIR, dst)
            if not is_dir and target.kind is InodeKind.DIR:
                raise _err(errno.EISDIR, dst)
            if is_dir and target.data:
                raise _err(errno.ENOTEMPTY, dst)
            self._detach(new.parent, new.name)
        del old.parent.data[old.name]
        if is_dir:
            old.parent.nlink -= 1
        old.parent.mtime = self.clock()
        self._attach(new.parent, new.name, node)

    def chmod(self, path: str, mode: int) -> None:
        node = self.lookup(path)
        node.mode = mode & 0o7777

    def make_names(self, names: Iterable[NewName]) -> None:
        """FileOps.make_names from a handle on each parent: a name whose
        parent is the root or a directory made earlier in this call ("/dev",
        then "/dev/pts") is made in that directory's inode, with the same
        inode, times and setgid rule as mkdir, write + chmod and symlink --
        without a walk from the root per path (the init layer: 12 names, each
        one or two names deep).  The handles live for this call only, and the
        names are only added: nothing here can detach one.  Any other name
        (a parent not made here, a name taken, ".", "..", "//", a trailing
        "/", too long, an empty target) takes the general call, which says
        what it says."""
        made: dict[str, Inode] = {"": self.root}
        clock, attach = self.clock, self._attach
        for new in names:
            path, kind = new.path, new.kind
            parent_path, _, name = path.rpartition("/")
            parent = made.get(parent_path) if path[:1] == "/" else None
            if (
                parent is None
                or name in _NOT_A_PLAIN_NAME
                or len(name) > NAME_MAX
                or name in parent.data
                or kind not in _MADE_BY_NAME
                or (kind is _NEW_SYMLINK and not new.target)
            ):
                FileOps.make_names(self, (new,))
                continue
            if kind is _NEW_DIR:  # mkdir
                made[path] = self._add_dir(parent, name, new.mode)
            elif kind is _NEW_FILE:  # open(O_CREAT|O_TRUNC), write of b"", chmod
                node = Inode(InodeKind.FILE, new.mode, bytearray(), mtime=clock())
                attach(parent, name, inherit_setgid(parent, node))
                node.mtime = clock()
                node.mode = new.mode & 0o7777
            else:  # symlink
                self._add_symlink(parent, name, new.target)

    def utime(self, path: str, mtime: float | None = None, follow: bool = True) -> None:
        """Set the modification time (``None``: now)."""
        self.lookup(path, follow).mtime = self.clock() if mtime is None else mtime

    def set_mtime(self, path: str, mtime: float) -> None:
        self.lookup(path, follow=False).mtime = mtime

    def chown(self, path: str, uid: int, gid: int) -> None:
        node = self.lookup(path, follow=False)
        if uid != -1:
            node.uid = uid
        if gid != -1:
            node.gid = gid
        # chown(2) drops set-user-ID and (when group-executable) set-group-ID
        # of a non-directory, even for root -- the kernel's ATTR_KILL_SUID.
        if node.kind is not InodeKind.DIR and node.kind is not InodeKind.SYMLINK:
            node.mode &= ~S_ISUID
            if node.mode & S_IXGRP:
                node.mode &= ~S_ISGID

    # -- extended attributes --------------------------------------------------------------

    def setxattr(self, path: str, name: str, value: bytes, *, follow: bool = False) -> None:
        node = self.lookup(path, follow=follow)
        if node.xattrs is None:
            node.xattrs = {}
        node.xattrs[name] = bytes(value)

    def getxattr(self, path: str, name: str, *, follow: bool = False) -> bytes:
        node = self.lookup(path, follow=follow)
        if not node.xattrs or name not in node.xattrs:
            raise _err(errno.ENODATA, path)
        return node.xattrs[name]

    def removexattr(self, path: str, name: str, *, follow: bool = False) -> None:
        node = self.lookup(path, follow=follow)
        if not node.xattrs or name not in node.xattrs:
            raise _err(errno.ENODATA, path)
        del node.xattrs[name]

    def listxattr(self, path: str, *, follow: bool = False) -> list[str]:
        node = self.lookup(path, follow=follow)
        return list(node.xattrs or ())

    # -- small helpers -------------------------------------------------------------------

    def rdev(self, path: str) -> int:
        return self.lookup(path, follow=False).rdev

    def ino(self, path: str) -> int:
        return self.lookup(path, follow=False).ino

    def clone(self) -> MemFS:
        """A deep copy (``copy.deepcopy`` keeps shared inodes shared)."""
        twin = MemFS.__new__(MemFS)
        twin.clock = self.clock
        twin.root = copy.deepcopy(self.root)
        return twin

    def walk(self) -> Iterator[tuple[str, Inode]]:
        """Every (path, inode) below the root in sorted order, each directory
        before what it holds -- for serialising a layer, not for users
        (``listdir`` is the user's order)."""

        def visit(prefix: str, directory: Inode) -> Iterator[tuple[str, Inode]]:
            for name in sorted(directory.data):
                node = directory.data[name]
                path = f"{prefix}/{name}"
                yield path, node
                if node.kind is InodeKind.DIR:
                    yield from visit(path, node)

        return visit("", self.root)
