"""Applying changesets on top of each other: what a stack of layers *means*.

This is the union filesystem's rule written as a pure function over
:class:`LayerEntry` lists, bottom layer first: a whiteout deletes a name (and
everything under it), an opaque directory hides what lower layers had in it,
anything else replaces what was there.  ``export`` uses it to produce a
container's flat filesystem, ``import`` goes the other way (one layer), and
tests use it as the reference model of the union filesystem.  Entries keep
their files' contents where they are (see :mod:`stepbox.core.kernel.contents`):
a flattened tree costs memory for its names, not for its files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from stepbox.core.kernel import EntryKind, LayerEntry
from stepbox.core.kernel.contents import EMPTY


def _drop_subtree(tree: dict[str, LayerEntry], path: str) -> None:
    prefix = path + "/"
    for name in [p for p in tree if p.startswith(prefix)]:
        del tree[name]


def apply_layer(tree: dict[str, LayerEntry], entries: Iterable[LayerEntry]) -> None:
    """Apply one changeset to ``tree`` (path -> entry) in place."""
    entries = list(entries)
    # Hardlinks name a file of the same layer: remember its content before
    # the layer's own whiteouts or replacements can touch it.
    origin = {e.path: e for e in entries if e.kind is EntryKind.FILE}
    for entry in entries:
        if entry.kind is EntryKind.WHITEOUT:
            tree.pop(entry.path, None)
            _drop_subtree(tree, entry.path)
            continue
        previous = tree.get(entry.path)
        if entry.kind is EntryKind.DIR and (
            entry.opaque or (previous and previous.kind is not EntryKind.DIR)
        ):
            _drop_subtree(tree, entry.path)
        elif entry.kind is not EntryKind.DIR and previous and previous.kind is EntryKind.DIR:
            _drop_subtree(tree, entry.path)
        if entry.kind is EntryKind.HARDLINK:
            target = origin.get(entry.link) or tree.get(entry.link)
            if target is None or target.kind not in (EntryKind.FILE, EntryKind.HARDLINK):
                raise ValueError(f"hardlink {entry.path!r} points to {entry.link!r}, which is not a file")
            if target.kind is EntryKind.HARDLINK:
                target = tree[target.link]
            # Keep the content too, in case a later layer deletes the target.
            tree[entry.path] = replace(entry, link=target.path, contents=target.contents)
            continue
        tree[entry.path] = replace(entry, opaque=False)


def flatten(layers: Iterable[Iterable[LayerEntry]]) -> list[LayerEntry]:
    """The merged view of ``layers`` (bottom first) as one changeset with no
    whiteouts.  Hardlinks whose target did not survive become regular files."""
    tree: dict[str, LayerEntry] = {}
    for layer in layers:
        apply_layer(tree, layer)
    result = []
    for entry in tree.values():
        if entry.kind is EntryKind.HARDLINK:
            target = tree.get(entry.link)
            if (
                target is None
                or target.kind is not EntryKind.FILE
                or not target.contents.same_file(entry.contents)
            ):
                entry = replace(entry, kind=EntryKind.FILE, link="")
            else:
                entry = replace(entry, contents=EMPTY)
        result.append(entry)
    return sorted(result, key=lambda e: e.path.split("/"))
