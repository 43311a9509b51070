"""Path resolution: from a path to a place in the mount tree (the kernel's fs/namei.c).

:func:`path_walk` goes one name at a time, like the kernel's
``link_path_walk``: from the process's root for an absolute path, else from
its cwd; at a mount point it continues in the mounted filesystem; a
symlink's target is spliced into the names still to walk (absolute targets
restart at the *process's* root, so a symlink cannot lead out of a
container); ``..`` at the root of a mount climbs to where it is mounted, and
``..`` at the process's root stays there.  After ``pivot_root`` the old root
is detached from the table (:mod:`.mounts`), so no walk of any kind can
reach the host's files -- unlike ``chroot``, whose old root is still mounted
and reachable for a process that gets a directory fd or cwd outside it.

:func:`may` is ``generic_permission()``, which lives in namei.c too: the
permission bits checked on the way.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from stepbox.core.kernel.unionfs import EntryKind

from .flow import ENOENT, oserror
from .memfs import NAME_MAX, InodeKind, MemFS
from .overlay import OverlayFS

if TYPE_CHECKING:  # pragma: no cover
    from .memfs import Inode
    from .mounts import Loc, MountTable
    from .process_table import Process

MAXSYMLINKS = 40
SYMLINK, DIR = EntryKind.SYMLINK, EntryKind.DIR
R_OK, W_OK, X_OK = 4, 2, 1
_MEM_DIR, _MEM_LINK = InodeKind.DIR, InodeKind.SYMLINK


def join_name(path: str, name: str) -> str:
    return "/" + name if path == "/" else path + "/" + name


def split_names(path: str) -> list[str]:
    """The names of ``path``, last first (so that ``pop`` gives the next)."""
    names = [n for n in path.split("/") if n and n != "."]
    names.reverse()
    return names


def path_walk(
    table: MountTable,
    root: Loc,
    cwd: Loc,
    path: str,
    follow: bool,
    parent: bool,
    missing_ok: bool = False,
    missing_dirs: bool = False,
    with_inode: bool = False,
):
    """link_path_walk(): resolve ``path`` one name at a time in ``table``,
    from ``root`` (an absolute path) or ``cwd``.  ``follow``: follow a
    symlink in the last name.  ``parent``: stop before the last name and
    return ``(directory Loc, last name)``.  ``missing_ok``: return
    ``(None, (directory Loc, name))`` when only the last name is missing.
    ``missing_dirs`` (with ``missing_ok``, for ``mkdir -p``): also when a
    name before the last is missing and no symlink was followed -- then
    ``(None, (directory Loc, name, the names after it in order, the
    directory's inode if it is in a MemFS, else None))``, and ``(None,
    (directory Loc, name, [], inode or None))`` for a missing last name.
    ``with_inode`` (with ``parent``): ``(directory Loc, last name, the
    directory's inode if the walk held it in a MemFS, else None)`` -- what
    rmdir needs to remove the name without a second walk."""
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
    merged = None  # the current directory's merged node, while inside an OverlayFS
    try:
        while names:
            name = names.pop()
            if not name or name == ".":
                continue
            if name == "..":
                node = merged = None
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
                # table.top(child), the usual case (nothing stacked on the
                # mount's root) without the call:
                landing = (child, mounts[child].fs_root)
                mid, cur = landing if landing not in children else table.top(child)
                node = merged = None
                continue
            fs = mounts[mid].fs
            if fs.__class__ is MemFS:
                # Fast path: step from inode to inode instead of asking
                # the filesystem to walk the whole path again for each name.
                if node is None:
                    node = fs.root if cur == "/" else fs.lookup(cur)
                    if node.kind is not _MEM_DIR:
                        raise oserror(errno.ENOTDIR, path)
                # (A node kept from the name before is a directory: a name
                # with more to come was checked to be one, below.)
                entry = node.data.get(name)
                if entry is None:
                    if missing_ok and (not names or (missing_dirs and not links)):
                        return None, (
                            _missing((mid, cur), name, names, node) if missing_dirs else ((mid, cur), name)
                        )
                    raise oserror(ENOENT, path)
                is_link = entry.kind is _MEM_LINK
                is_dir = entry.kind is _MEM_DIR
            elif fs.__class__ is OverlayFS:
                # The same for the union: one merged lookup per name
                # (ovl_lookup), not a walk of every layer from the top.
                if merged is None:
                    merged = fs.merged_node(cur)
                    if not merged.is_dir:
                        raise oserror(errno.ENOTDIR, path)
                if len(name) > NAME_MAX:
                    raise oserror(errno.ENAMETOOLONG, path)
                found = OverlayFS.child(merged, name)
                if found is None:
                    if missing_ok and (not names or (missing_dirs and not links)):
                        return None, (
                            _missing((mid, cur), name, names) if missing_dirs else ((mid, cur), name)
                        )
                    raise oserror(ENOENT, path)
                top = found.upper  # Merged.top, without the property's call
                if top is None:
                    top = found.lowers[0]
                is_link = top.kind is _MEM_LINK
                is_dir = top.kind is _MEM_DIR
                entry = top if is_link else None
            else:
                entry = None
                try:
                    st = fs.lstat(nxt)
                except FileNotFoundError:
                    if missing_ok and (not names or (missing_dirs and not links)):
                        return None, (
                            _missing((mid, cur), name, names) if missing_dirs else ((mid, cur), name)
                        )
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
                node = merged = None
                continue
            if more and not is_dir:
                raise oserror(errno.ENOTDIR, path)
            cur = nxt
            if merged is not None:
                merged = found
            else:
                node = entry
    except OSError as e:
        if e.filename != path:
            raise oserror(e.errno or errno.EIO, path) from None
        raise
    if parent:
        # (``node`` is the inode of ``cur`` only when the last step was a
        # name in a MemFS: a mount crossed, "..", a symlink or no step
        # at all left it None.)
        return ((mid, cur), last, node) if with_inode else ((mid, cur), last)
    if missing_ok:
        return (mid, cur), None
    return (mid, cur)


def _missing(dloc: Loc, name: str, names: list[str], directory: Inode | None = None) -> tuple:
    """What path_walk with ``missing_dirs`` returns for a missing ``name``
    in the directory ``dloc`` (``names``: those still to walk, last first;
    ``directory``: dloc's inode, when the walk held it in a MemFS)."""
    names.reverse()
    return dloc, name, names, directory


def may(proc: Process, st, want: int) -> bool:
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
