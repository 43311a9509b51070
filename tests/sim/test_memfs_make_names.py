"""MemFS.make_names (names made from a handle on their parent) against
FileOps.make_names (mkdir, write + chmod, symlink, each a whole walk): the
same tree -- kinds, modes, owners, link counts, contents and every time
(the clock counts its calls, so a time taken in another order shows) -- or
the same error, after the same names."""

from __future__ import annotations

import itertools
import stat

from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.backends.sim.memfs import InodeKind, MemFS
from stepbox.core.container.plan.create import INIT_LAYER_NAMES
from stepbox.core.kernel.unionfs import EntryKind, FileOps, NewName


def fresh() -> MemFS:
    ticks = itertools.count(1)
    fs = MemFS(clock=lambda: float(next(ticks)))
    # what a name may meet: a setgid directory with another group, a file,
    # a symlink to a directory and a dangling one
    fs.mkdir("/g", 0o2775)
    fs.chown("/g", 0, 42)
    fs.write("/f", b"x")
    fs.symlink("/g", "/lnk")
    fs.symlink("/nowhere", "/dangling")
    return fs


def tree(fs: MemFS) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for path, node in fs.walk():
        data: object = bytes(node.data) if node.kind is InodeKind.FILE else None
        if node.kind is InodeKind.SYMLINK:
            data = node.data
        if node.kind is InodeKind.DIR:
            data = list(node.data)  # listdir's order
        out.append((path, node.kind, node.mode, node.uid, node.gid, node.nlink, node.mtime, data))
    out.append(("/", fs.root.mode, fs.root.nlink, fs.root.mtime, list(fs.root.data)))
    return out


def outcome(fs: MemFS, make, names):
    try:
        make(fs, names)
    except OSError as e:
        return ("error", e.errno, tree(fs))
    return ("made", tree(fs))


def test_the_init_layer_is_the_same_as_by_whole_walks():
    a, b = fresh(), fresh()
    assert outcome(a, MemFS.make_names, INIT_LAYER_NAMES) == outcome(b, FileOps.make_names, INIT_LAYER_NAMES)
    assert stat.S_IMODE(a.lstat("/etc/hosts").mode) == 0o755
    assert a.readlink("/etc/mtab") == "/proc/mounts"


PARTS = st.sampled_from(["d", "e", "g", "f", "lnk", "dangling", ".", "..", "", "x" * 256])
PATHS = st.lists(PARTS, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts)) | st.sampled_from(
    ["/d/", "//d", "d", "/g/", "/lnk/n", "/d/./n"]
)
NAMES = st.builds(
    NewName,
    PATHS,
    st.sampled_from([EntryKind.DIR, EntryKind.FILE, EntryKind.SYMLINK]),
    st.sampled_from([0o755, 0o700, 0o4755, 0o1777]),
    st.sampled_from(["/proc/mounts", "", "d"]),
)


@settings(max_examples=300)
@given(st.lists(NAMES, max_size=8))
def test_any_names_make_the_same_tree_or_error(names):
    a, b = fresh(), fresh()
    assert outcome(a, MemFS.make_names, names) == outcome(b, FileOps.make_names, names)
