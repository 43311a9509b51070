"""Layer changesets <-> MemFS trees.

A layer travels as a *changeset* (a list of :class:`LayerEntry`, what an
image layer tar holds) and lives, in the simulator, as a :class:`MemFS`
holding exactly what overlayfs would find in a layer directory:

=====================  ==========================================
changeset              in the layer's tree
=====================  ==========================================
``FILE`` / ``SYMLINK``  a file / a symlink
``DIR``                a directory; ``opaque`` -> xattr
                       ``trusted.overlay.opaque="y"``
``HARDLINK``           a second name of the inode at ``link``
``WHITEOUT``           a character device 0/0 (mode 0)
=====================  ==========================================

:func:`tree_from_entries` goes one way, :func:`entries_from_tree` the other;
the round trip is the identity on well-formed changesets.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from stepbox.core.kernel.contents import Contents
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.unionfs import EntryKind, LayerEntry, entry_parts

from .memfs import Inode, InodeKind, MemFS
from .overlay import OPAQUE_XATTR, is_opaque, is_whiteout, make_whiteout


def _parent_dir(fs: MemFS, parts: list[str], path: str) -> Inode:
    """The directory an entry goes in; missing parents are made (as tar does).
    Never follows a symlink: a layer must not write through ``a -> /etc``."""
    directory = fs.root
    for name in parts[:-1]:
        node = directory.data.get(name)
        if node is None:
            node = Inode(InodeKind.DIR, 0o755, {})
            fs._attach(directory, name, node)
        elif node.kind is not InodeKind.DIR:
            raise KernelError(f"refusing layer entry {path!r}: {name!r} above it is not a directory")
        directory = node
    return directory


def tree_from_entries(entries: Iterable[LayerEntry]) -> MemFS:
    """Build a layer's tree from its changeset (a later entry replaces an
    earlier one at the same path, as when extracting a tar)."""
    fs = MemFS()
    dir_mtimes: dict[int, tuple[Inode, float]] = {}  # node kept: ids stay unique
    for e in entries:
        parts = entry_parts(e.path)
        parent = _parent_dir(fs, parts, e.path)
        name = parts[-1]
        old = parent.data.get(name)
        if e.kind is EntryKind.DIR:
            if old is not None and old.kind is InodeKind.DIR:
                node = old  # update it in place
            else:
                if old is not None:
                    fs._detach(parent, name)
                node = Inode(InodeKind.DIR, e.mode, {})
                fs._attach(parent, name, node)
            node.mode, node.uid, node.gid = e.mode & 0o7777, e.uid, e.gid
            dir_mtimes[id(node)] = (node, e.mtime)
            if e.opaque:
                node.xattrs = {**(node.xattrs or {}), OPAQUE_XATTR: b"y"}
            continue
        if old is not None:
            fs._detach(parent, name)  # (a directory goes with its subtree)
        if e.kind is EntryKind.FILE:
            data = bytearray()
            for piece in e.contents.chunks():  # no whole second copy of a big file
                data += piece
            node = Inode(InodeKind.FILE, e.mode, data, uid=e.uid, gid=e.gid, mtime=e.mtime)
        elif e.kind is EntryKind.SYMLINK:
            if not e.link:
                raise KernelError(f"refusing layer entry {e.path!r}: empty symlink target")
            node = Inode(InodeKind.SYMLINK, 0o777, e.link, uid=e.uid, gid=e.gid, mtime=e.mtime)
        elif e.kind is EntryKind.WHITEOUT:
            node = make_whiteout()
        elif e.kind is EntryKind.HARDLINK:
            target_parts = entry_parts(e.link)
            target_dir = _parent_dir(fs, target_parts, e.link)
            node = target_dir.data.get(target_parts[-1])
            if node is None or node.kind is InodeKind.DIR:
                raise KernelError(
                    f"refusing layer entry {e.path!r}: hard link to "
                    f"{e.link!r}, which is not a file earlier in the layer"
                )
            node.nlink += 1
            parent.data[name] = node
            continue
        else:
            raise KernelError(f"unknown layer entry kind {e.kind!r} at {e.path!r}")
        fs._attach(parent, name, node)
    # Adding entries touched the directories' mtimes: set them last, as tar
    # does (a parent the changeset did not list gets 0, deterministically).
    for _path, node in fs.walk():
        if node.kind is InodeKind.DIR:
            node.mtime = dir_mtimes.get(id(node), (node, 0.0))[1]
    fs.root.mtime = 0.0
    return fs


def entries_from_tree(fs: MemFS) -> Iterator[LayerEntry]:
    """A layer's tree read back as a changeset: sorted, parents first; the
    second and later names of an inode come as ``HARDLINK`` to the first."""
    first_name: dict[int, str] = {}
    for path, node in fs.walk():
        rel = path[1:]
        if is_whiteout(node):
            yield LayerEntry(rel, EntryKind.WHITEOUT, mode=0, uid=node.uid, gid=node.gid, mtime=node.mtime)
            continue
        if node.kind is InodeKind.DIR:
            yield LayerEntry(
                rel,
                EntryKind.DIR,
                mode=node.mode,
                uid=node.uid,
                gid=node.gid,
                mtime=node.mtime,
                opaque=is_opaque(node),
            )
            continue
        if node.kind is InodeKind.CHARDEV:
            continue  # other devices have no changeset form (see SIMPLIFICATIONS.md)
        if node.nlink > 1:
            seen = first_name.get(id(node))
            if seen is not None:
                yield LayerEntry(
                    rel,
                    EntryKind.HARDLINK,
                    mode=node.mode,
                    uid=node.uid,
                    gid=node.gid,
                    mtime=node.mtime,
                    link=seen,
                )
                continue
            first_name[id(node)] = rel
        if node.kind is InodeKind.SYMLINK:
            yield LayerEntry(
                rel,
                EntryKind.SYMLINK,
                mode=node.mode,
                uid=node.uid,
                gid=node.gid,
                mtime=node.mtime,
                link=node.data,
            )
        else:
            yield LayerEntry(
                rel,
                EntryKind.FILE,
                mode=node.mode,
                uid=node.uid,
                gid=node.gid,
                mtime=node.mtime,
                contents=InodeContents(node),
            )


class InodeContents(Contents):
    """A file of a simulated layer, read when it is needed: a copy of the
    whole file (``bytes(node.data)``) per entry would double the memory of
    an export or a commit.  The size is the one listed; later writes to
    the file show in what is read (as on the kernel)."""

    def __init__(self, node: Inode):
        self.node, self.size = node, len(node.data)

    def open(self) -> BinaryIO:
        return io.BufferedReader(_InodeReader(self.node))


class _InodeReader(io.RawIOBase):
    # Slices, not a memoryview: a view held open would make the simulated
    # file impossible to resize (BufferError) while an export reads it.
    def __init__(self, node: Inode):
        self.node, self.pos = node, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.node.data[self.pos : self.pos + len(buffer)]
        buffer[: len(piece)] = piece
        self.pos += len(piece)
        return len(piece)
