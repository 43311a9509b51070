"""``docker diff``: what a container changed, as docker reports it.

Every change lands in the read-write layer (copy-up), but not everything in
that layer is a change: overlayfs copies a file up when it is hard-linked or
its metadata is touched to the same value, and copies up every directory on
the way to a changed file.  ``docker diff`` therefore compares the container's
filesystem with the one below it (the image plus the init layer) -- Docker's
"naive diff", ``archive.ChangesDirs`` -- and reports

* ``A path``: it is not below;
* ``D path``: it is below but gone (a whiteout, or a name an opaque
  directory -- deleted and made again -- no longer has); only the top-most
  deleted name, not what was under it;
* ``C path``: it is below and its type, permission bits or owner differ, or
  -- for anything but a directory -- its size or modification time;
* ``C dir`` for every directory that holds an A, C or D (and is not itself
  added), so ``echo hi > /tmp/x`` gives ``C /tmp`` and ``A /tmp/x``.

Only the paths in the read-write layer are looked up below, and the result
is sorted by path (Docker's order is its Go maps' order: random).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from stepbox.core.image.flatten import apply_layer
from stepbox.core.kernel import EntryKind, Kernel, LayerEntry

from .record import ContainerRecord


def container_changes(kernel: Kernel, record: ContainerRecord) -> list[tuple[str, str]]:
    unionfs = kernel.unionfs
    below: dict[str, LayerEntry] = {}
    for layer in reversed([record.init_layer, *record.lowers]):  # bottom first
        if unionfs.has_layer(layer):
            apply_layer(below, unionfs.changes(layer))
    return changes_against(below, unionfs.changes(record.rw_layer))


def changes_against(below: dict[str, LayerEntry], upper: Iterable[LayerEntry]) -> list[tuple[str, str]]:
    """Docker's changes of the read-write layer ``upper`` (a changeset) over
    the merged filesystem ``below`` (path -> entry, as :func:`apply_layer`
    leaves it)."""
    upper_at = {entry.path: entry for entry in upper}
    changes: dict[str, str] = {}
    below_children: dict[str, list[str]] | None = None
    for path, entry in upper_at.items():
        old = below.get(path)
        if entry.kind is EntryKind.WHITEOUT:
            if old is not None:
                changes[path] = "D"
            continue
        if old is None:
            changes[path] = "A"
        elif _differs(old, _size(old, below), entry, _size(entry, upper_at)):
            changes[path] = "C"
        if entry.kind is EntryKind.DIR and entry.opaque and old is not None and old.kind is EntryKind.DIR:
            # Deleted and made again: what it had below and has no more is deleted.
            if below_children is None:
                below_children = _children(below)
            for child in below_children.get(path, ()):
                if child not in upper_at:
                    changes[child] = "D"
    for path in list(changes):
        parent = posixpath.dirname(path)
        while parent and parent not in changes:
            changes[parent] = "C"
            parent = posixpath.dirname(parent)
    return [(kind, "/" + path) for path, kind in sorted(changes.items())]


def _differs(old: LayerEntry, old_size: int, new: LayerEntry, new_size: int) -> bool:
    """moby's ``statDifferent``: directories by type, mode and owner only
    (their size and mtime change with every name added or removed)."""
    if _kind(old) is not _kind(new) or (old.mode, old.uid, old.gid) != (new.mode, new.uid, new.gid):
        return True
    if new.kind is EntryKind.DIR:
        return False
    return old_size != new_size or not _same_time(old.mtime, new.mtime)


def _same_time(a: float, b: float) -> bool:
    """Equal seconds, and equal nanoseconds unless one side has none -- a time
    read from a tar header (an image layer) has no fraction."""
    if int(a) != int(b):
        return False
    fraction_a, fraction_b = round(a % 1, 6), round(b % 1, 6)
    return fraction_a == fraction_b or fraction_a == 0 or fraction_b == 0


def _kind(entry: LayerEntry) -> EntryKind:
    return EntryKind.FILE if entry.kind is EntryKind.HARDLINK else entry.kind


def _size(entry: LayerEntry, tree: dict[str, LayerEntry]) -> int:
    if entry.kind is EntryKind.SYMLINK:
        return len(entry.link.encode())
    if entry.kind is EntryKind.HARDLINK and not entry.size:
        target = tree.get(entry.link)  # a hardlink's content is its target's
        return target.size if target is not None else 0
    return entry.size


def _children(tree: dict[str, LayerEntry]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for path in tree:
        children.setdefault(posixpath.dirname(path), []).append(path)
    return children
