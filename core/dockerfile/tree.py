"""A filesystem as a dict, for looking things up without mounting anything.

``COPY`` needs to know what the image already has (is ``/app`` a directory?
who is user ``www-data``?) and ``COPY --from=stage`` reads files out of
another image.  Both work on the image's layers *flattened*
(:func:`stepbox.core.image.flatten.flatten`) into a ``Tree``: relative path ->
:class:`~.context.ContextFile` -- the same record the build context uses, so
copying does not care where its files come from.

Symlinks are followed *in scope*, like moby's ``FollowSymlinkInScope``: an
absolute target or a ``..`` that climbs above the root stays inside the tree,
so a symlink in a context or an image can never reach the host's files.
"""

from __future__ import annotations

import posixpath

from stepbox.core.kernel import EntryKind, LayerEntry

from .context import ContextFile

Tree = dict[str, ContextFile]
MAX_SYMLINKS = 40


def tree_from_entries(entries: list[LayerEntry]) -> Tree:
    """A flattened layer stack as a tree (hardlinks become files with the
    target's contents).  The files' contents stay where the entries say
    (ranges of the layer blobs): ``COPY --from`` reads them when it writes
    its layer, never a whole stage in memory."""
    by_path = {e.path: e for e in entries}
    tree: Tree = {".": ContextFile(".", "dir", 0o755, 0, 0, 0.0)}
    for e in entries:
        if e.kind is EntryKind.DIR:
            tree[e.path] = ContextFile(e.path, "dir", e.mode, e.uid, e.gid, e.mtime)
        elif e.kind is EntryKind.SYMLINK:
            tree[e.path] = ContextFile(e.path, "symlink", e.mode, e.uid, e.gid, e.mtime, link=e.link)
        elif e.kind is EntryKind.FILE:
            tree[e.path] = ContextFile(e.path, "file", e.mode, e.uid, e.gid, e.mtime, contents=e.contents)
        elif e.kind is EntryKind.HARDLINK:
            target = by_path.get(e.link)
            contents = target.contents if target is not None and target.size else e.contents
            tree[e.path] = ContextFile(e.path, "file", e.mode, e.uid, e.gid, e.mtime, contents=contents)
    for path in list(tree):  # parents a layer left implicit
        parent = posixpath.dirname(path)
        while parent and parent not in tree:
            tree[parent] = ContextFile(parent, "dir", 0o755, 0, 0, 0.0)
            parent = posixpath.dirname(parent)
    return tree


def resolve(tree: Tree, path: str, *, follow_last: bool = True) -> str | None:
    """The real relative path of ``path`` in ``tree`` after following symlinks
    in scope; ``None`` if some component does not exist.  The last component
    need not exist (its parent's real path joined with it is returned)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    current: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if current:
                current.pop()
            continue
        candidate = "/".join(current + [part])
        entry = tree.get(candidate)
        is_last = not parts
        if entry is not None and entry.kind == "symlink" and (follow_last or not is_last):
            hops += 1
            if hops > MAX_SYMLINKS:
                return None
            target = [p for p in entry.link.split("/") if p not in ("", ".")]
            if entry.link.startswith("/"):
                current = []
            parts = target + parts
            continue
        if entry is None and not is_last:
            return None
        current.append(part)
    return "/".join(current) or "."


def lookup(tree: Tree, path: str, *, follow_last: bool = True) -> ContextFile | None:
    real = resolve(tree, path, follow_last=follow_last)
    return tree.get(real) if real is not None else None


def is_dir(tree: Tree, path: str) -> bool:
    entry = lookup(tree, path)
    return entry is not None and entry.kind == "dir"


def _id_from_file(tree: Tree, file: str, name: str, what: str) -> int:
    if name.isdecimal():
        return int(name)
    entry = lookup(tree, file)
    if entry is not None and entry.kind == "file":
        for line in entry.data.decode(errors="replace").splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[0] == name and fields[2].isdecimal():
                return int(fields[2])
    raise LookupError(f"no such {what}: {name}")


def user_id(tree: Tree, name: str) -> int:
    return _id_from_file(tree, "etc/passwd", name, "user")


def group_id(tree: Tree, name: str) -> int:
    return _id_from_file(tree, "etc/group", name, "group")
