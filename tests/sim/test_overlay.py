"""OverlayFS, one overlayfs rule per test, then two properties:

* against a *reference model* -- the merged view computed naively (layers
  flattened bottom-up into one plain MemFS) and then changed by the same
  operations -- same result or errno for each call, same view at the end;
* ``changes()`` of the upper layer, imported as a layer on top of the same
  lowers, shows the same merged view again (a commit loses nothing).

Every rule here was checked on the real overlayfs of Linux 6.x; the
differential test in ``tests/diff`` checks them all again, generated.
"""

from __future__ import annotations

import errno

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from stepbox.backends.sim.layers import entries_from_tree, tree_from_entries
from stepbox.backends.sim.memfs import O_RDONLY, O_WRONLY, Inode, InodeKind, MemFS
from stepbox.backends.sim.overlay import OPAQUE_XATTR, OverlayFS, is_opaque, is_whiteout
from stepbox.backends.sim.unionfs import SimUnionFS
from stepbox.core.kernel import EntryKind, LayerEntry

F, D, L, W, H = (EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.WHITEOUT, EntryKind.HARDLINK)


def layer(*entries: LayerEntry) -> MemFS:
    return tree_from_entries(entries)


def overlay(*lowers: MemFS) -> OverlayFS:
    return OverlayFS(list(lowers), MemFS())


def errno_of(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except OSError as e:
        return e.errno
    return None


def upper_entries(fs: OverlayFS) -> list[tuple]:
    """The upper layer as (path, kind[, opaque]) -- what a commit would take."""
    return [(e.path, e.kind.value) + ((True,) if e.opaque else ()) for e in entries_from_tree(fs.upper)]


# -- lookup -------------------------------------------------------------------------------


def test_the_top_most_layer_wins():
    fs = overlay(layer(LayerEntry("f", F, data=b"top")), layer(LayerEntry("f", F, data=b"bottom")))
    assert fs.read("/f") == b"top"


def test_directories_merge():
    fs = overlay(layer(LayerEntry("d/a", F)), layer(LayerEntry("d/b", F)))
    assert sorted(fs.listdir("/d")) == ["a", "b"]
    assert fs.stat("/d").nlink == 1  # a merged directory reports nlink 1


def test_a_whiteout_in_a_lower_layer_hides_the_name_below():
    fs = overlay(layer(LayerEntry("gone", W)), layer(LayerEntry("gone", F), LayerEntry("kept", F)))
    assert fs.listdir("/") == ["kept"]
    assert errno_of(fs.stat, "/gone") == errno.ENOENT


def test_an_opaque_directory_hides_everything_below_it():
    fs = overlay(
        layer(LayerEntry("d", D, opaque=True), LayerEntry("d/new", F)), layer(LayerEntry("d/old", F))
    )
    assert fs.listdir("/d") == ["new"]
    assert fs.stat("/d").nlink == 2  # not merged: the real count


def test_a_file_hides_a_directory_below_and_a_file_below_a_directory_is_ignored():
    fs = overlay(layer(LayerEntry("x", F)), layer(LayerEntry("x/y", F)))
    assert fs.lstat("/x").kind is EntryKind.FILE
    fs = overlay(layer(LayerEntry("x/y", F)), layer(LayerEntry("x", F)), layer(LayerEntry("x/z", F)))
    assert fs.listdir("/x") == ["y"]  # the lookup stops at the file


def test_merged_listing_order_is_lowest_layer_then_upper_then_middle():
    bottom = layer(LayerEntry("c", F), LayerEntry("a", F))
    middle = layer(LayerEntry("z", F))
    fs = OverlayFS([middle, bottom], MemFS())
    fs.write("/k", b"")
    # each layer in its own (newest first) order: bottom, upper, middle
    assert fs.listdir("/") == ["a", "c", "k", "z"]


def test_an_unmerged_directory_lists_its_whiteouts_like_the_kernel():
    fs = overlay(layer(LayerEntry("d/ghost", W)))
    assert fs.listdir("/d") == ["ghost"]
    assert errno_of(fs.lstat, "/d/ghost") == errno.ENOENT


def test_but_rmdir_does_not_count_those_whiteouts():
    # The kernel's emptiness check reads the merged cache, which drops them.
    fs = overlay(layer(LayerEntry("b/c/ghost", W)), layer(LayerEntry("x", F)))
    assert fs.listdir("/b/c") == ["ghost"]
    fs.rmdir("/b/c")
    assert upper_entries(fs) == [("b", "dir"), ("b/c", "whiteout")]


def test_symlinks_resolve_in_the_merged_view():
    fs = overlay(
        layer(LayerEntry("link", L, link="/etc/hostname")), layer(LayerEntry("etc/hostname", F, data=b"box"))
    )
    assert fs.read("/link") == b"box"


# -- copy-up --------------------------------------------------------------------------------


def test_writing_a_lower_file_copies_it_up_with_mode_owner_and_parents():
    lower = layer(
        LayerEntry("a", D, mode=0o700, uid=5, gid=6),
        LayerEntry("a/b", D, mode=0o4711),
        LayerEntry("a/b/f", F, mode=0o640, uid=7, data=b"old"),
    )
    fs = overlay(lower)
    fs.write("/a/b/f", b"new", append=True)
    assert fs.read("/a/b/f") == b"oldnew"
    assert lower.read("/a/b/f") == b"old"  # the lower layer is never written
    up = fs.upper
    assert (up.stat("/a").mode, up.stat("/a").uid, up.stat("/a").gid) == (0o700, 5, 6)
    assert up.stat("/a/b").mode == 0o4711
    assert (up.stat("/a/b/f").mode, up.stat("/a/b/f").uid) == (0o640, 7)
    assert upper_entries(fs) == [("a", "dir"), ("a/b", "dir"), ("a/b/f", "file")]


@pytest.mark.parametrize(
    "change",
    [
        lambda fs: fs.chmod("/f", 0o600),
        lambda fs: fs.chown("/f", 1, 1),
        lambda fs: fs.truncate("/f", 0),
        lambda fs: fs.write("/f", b"", append=True),  # opening for writing is enough
        lambda fs: fs.link("/f", "/g"),
        lambda fs: fs.open("/f", O_WRONLY),
    ],
)
def test_every_change_copies_up(change):
    fs = overlay(layer(LayerEntry("f", F, data=b"x")))
    change(fs)
    assert fs.upper.exists("/f")


def test_a_copy_up_keeps_the_mtime_and_a_truncation_sets_it():
    # docker diff tells a changed file by its mtime: a copy-up alone (chmod
    # to the same mode) must not change it, truncating must.
    fs = overlay(
        layer(
            LayerEntry("f", F, data=b"x", mtime=100),
            LayerEntry("g", F, data=b"", mtime=100),
            LayerEntry("h", F, data=b"", mtime=100),
        )
    )
    fs.upper.clock = lambda: 5000.0
    fs.chmod("/f", 0o644)
    fs.open("/f", O_WRONLY | 0o1000)  # O_TRUNC: always a write
    fs.truncate("/g", 3)
    fs.truncate("/h", 0)  # the same size: truncate(2) changes no time
    times = {e.path: e.mtime for e in entries_from_tree(fs.upper)}
    assert (times["f"], times["g"], times["h"]) == (5000.0, 5000.0, 100)
    fs2 = overlay(layer(LayerEntry("f", F, data=b"x", mtime=100)))
    fs2.chmod("/f", 0o644)
    assert [e.mtime for e in entries_from_tree(fs2.upper)] == [100]


def test_reading_does_not_copy_up():
    fs = overlay(layer(LayerEntry("d/f", F, data=b"x")))
    fs.read("/d/f")
    fs.stat("/d/f")
    fs.listdir("/d")
    fs.open("/d/f", O_RDONLY)
    assert fs.upper.listdir("/") == []


def test_chmod_of_a_directory_copies_up_only_the_directory():
    fs = overlay(layer(LayerEntry("d/f", F)))
    fs.chmod("/d", 0o700)
    assert upper_entries(fs) == [("d", "dir")]
    assert fs.stat("/d").nlink == 1 and sorted(fs.listdir("/d")) == ["f"]


def test_copy_up_breaks_hard_links_as_with_index_off():
    fs = overlay(layer(LayerEntry("f", F, data=b"one"), LayerEntry("h", H, link="f")))
    assert fs.stat("/f").nlink == 2
    fs.write("/f", b"two")
    assert fs.read("/h") == b"one"  # the other name keeps the lower inode
    assert (fs.stat("/f").nlink, fs.stat("/h").nlink) == (1, 2)


def test_link_copies_up_the_source_and_links_in_the_upper():
    fs = overlay(layer(LayerEntry("g", F, data=b"g")))
    fs.link("/g", "/g2")
    assert fs.stat("/g").nlink == 2
    fs.write("/g2", b"changed")
    assert fs.read("/g") == b"changed"
    assert [(e.path, e.kind) for e in entries_from_tree(fs.upper)] == [("g", F), ("g2", H)]


def test_an_fd_opened_read_only_before_a_copy_up_sees_the_copy():
    fs = overlay(layer(LayerEntry("f", F, data=b"old")))
    reader = fs.open("/f", O_RDONLY)
    fs.write("/f", b"new")
    assert reader.read_at(0, 10) == b"new"  # Linux >= 4.19
    assert errno_of(reader.write_at, 0, b"x") == errno.EBADF


def test_an_fd_follows_the_copy_up_of_its_own_name_not_of_another_hard_link():
    fs = overlay(layer(LayerEntry("g", F, data=b"old"), LayerEntry("h", H, link="g")))
    by_g, by_h = fs.open("/g", O_RDONLY), fs.open("/h", O_RDONLY)
    fs.write("/g", b"new")
    assert (by_g.read_at(0, 9), by_h.read_at(0, 9)) == (b"new", b"old")
    fs.write("/h", b"more", append=True)
    assert by_h.read_at(0, 9) == b"oldmore"


# -- deleting ----------------------------------------------------------------------------------


def test_unlink_of_a_lower_file_leaves_a_whiteout():
    fs = overlay(layer(LayerEntry("d/f", F)))
    fs.unlink("/d/f")
    assert not fs.exists("/d/f")
    assert upper_entries(fs) == [("d", "dir"), ("d/f", "whiteout")]
    whiteout = fs.upper.lstat("/d/f")
    assert whiteout.is_device and whiteout.mode == 0 and whiteout.size == 0


def test_unlink_of_an_upper_only_file_leaves_nothing():
    fs = overlay(layer())
    fs.write("/f", b"")
    fs.unlink("/f")
    assert upper_entries(fs) == []


def test_unlink_of_a_copied_up_file_leaves_a_whiteout():
    fs = overlay(layer(LayerEntry("f", F)))
    fs.write("/f", b"x")
    fs.unlink("/f")
    assert upper_entries(fs) == [("f", "whiteout")]


def test_rmdir_of_a_lower_dir_leaves_a_whiteout_and_of_an_upper_dir_nothing():
    fs = overlay(layer(LayerEntry("low", D)))
    fs.mkdir("/up")
    fs.rmdir("/low")
    fs.rmdir("/up")
    assert upper_entries(fs) == [("low", "whiteout")]


def test_rmdir_of_a_merged_dir_that_still_shows_lower_entries_is_enotempty_and_copies_nothing():
    fs = overlay(layer(LayerEntry("a/b/c", F)))
    assert errno_of(fs.rmdir, "/a/b") == errno.ENOTEMPTY
    assert upper_entries(fs) == []


def test_rmdir_after_deleting_the_lower_entries():
    fs = overlay(layer(LayerEntry("d/x", F)))
    fs.unlink("/d/x")
    fs.rmdir("/d")  # the upper dir held only a whiteout
    assert upper_entries(fs) == [("d", "whiteout")]


def test_a_dir_created_where_a_whiteout_is_is_opaque():
    fs = overlay(layer(LayerEntry("d/old", F)))
    fs.unlink("/d/old")
    fs.rmdir("/d")
    fs.mkdir("/d")
    assert fs.listdir("/d") == []
    assert upper_entries(fs) == [("d", "dir", True)]
    assert fs.upper.getxattr("/d", OPAQUE_XATTR) == b"y"


def test_a_file_created_where_a_whiteout_is_replaces_it():
    fs = overlay(layer(LayerEntry("f", F, data=b"old")))
    fs.unlink("/f")
    fs.write("/f", b"new")
    assert upper_entries(fs) == [("f", "file")]


# -- rename -------------------------------------------------------------------------------------------


def test_rename_of_a_lower_directory_is_exdev():
    fs = overlay(layer(LayerEntry("d", D), LayerEntry("e/x", F)))
    assert errno_of(fs.rename, "/d", "/n") == errno.EXDEV
    fs.chmod("/e", 0o755)  # copied up: now merged, still EXDEV
    assert errno_of(fs.rename, "/e", "/n") == errno.EXDEV


def test_rename_error_order_vfs_errors_then_exdev_then_enotempty():
    fs = overlay(layer(LayerEntry("d", D), LayerEntry("f", F), LayerEntry("full/x", F)))
    assert errno_of(fs.rename, "/d", "/f") == errno.ENOTDIR
    assert errno_of(fs.rename, "/f", "/d") == errno.EISDIR
    assert errno_of(fs.rename, "/d", "/full") == errno.EXDEV
    fs.mkdir("/u")
    assert errno_of(fs.rename, "/u", "/full") == errno.ENOTEMPTY
    assert upper_entries(fs) == [("u", "dir")]  # no copy-up on a failed rename


def test_rename_of_a_lower_file_copies_up_and_whiteouts_the_source():
    fs = overlay(layer(LayerEntry("f", F, data=b"a")))
    fs.rename("/f", "/g")
    assert fs.read("/g") == b"a"
    assert upper_entries(fs) == [("f", "whiteout"), ("g", "file")]


def test_rename_of_lower_hard_links_onto_each_other_is_a_real_rename():
    fs = overlay(layer(LayerEntry("f", F), LayerEntry("h", H, link="f")))
    fs.rename("/f", "/h")
    assert fs.listdir("/") == ["h"]
    assert upper_entries(fs) == [("f", "whiteout"), ("h", "file")]


def test_rename_of_upper_hard_links_onto_each_other_does_nothing():
    fs = overlay(layer())
    fs.write("/f", b"")
    fs.link("/f", "/h")
    fs.rename("/f", "/h")
    assert sorted(fs.listdir("/")) == ["f", "h"]


def test_an_upper_directory_moved_into_a_merged_directory_becomes_opaque():
    fs = overlay(layer(LayerEntry("x", D), LayerEntry("t", D)))
    fs.mkdir("/n")
    fs.rename("/n", "/fresh")
    fs.mkdir("/n2")
    fs.rename("/n2", "/x/n2")
    fs.mkdir("/n3")
    fs.rename("/n3", "/t")  # over an empty merged dir
    assert upper_entries(fs) == [
        ("fresh", "dir", True),
        ("t", "dir", True),
        ("x", "dir"),
        ("x/n2", "dir", True),
    ]


def test_renaming_an_opaque_dir_that_hides_a_lower_one_leaves_a_whiteout():
    fs = overlay(layer(LayerEntry("d/x", F)))
    fs.unlink("/d/x")
    fs.rmdir("/d")
    fs.mkdir("/d")
    fs.rename("/d", "/e")
    assert upper_entries(fs) == [("d", "whiteout"), ("e", "dir", True)]


def test_a_directory_in_a_pure_upper_parent_moves_plainly():
    fs = overlay(layer())
    fs.mkdir("/p")
    fs.mkdir("/p/n")
    fs.rename("/p/n", "/p/q")
    assert upper_entries(fs) == [("p", "dir"), ("p/q", "dir")]


# -- the VFS extras ---------------------------------------------------------------------------------------


def test_open_for_writing_returns_the_upper_inode():
    fs = overlay(layer(LayerEntry("f", F, data=b"abc")))
    node = fs.open("/f", O_WRONLY)
    assert isinstance(node, Inode) and node is fs.upper.lookup("/f")
    node.write_at(3, b"d")
    assert fs.read("/f") == b"abcd"
    assert fs.rdev("/f") == 0


def test_mknod_makes_devices_but_never_a_whiteout():
    fs = overlay(layer(LayerEntry("dev", D)))
    fs.mknod("/dev/null", 0o666, (1 << 8) | 3)
    assert fs.lstat("/dev/null").is_device and fs.rdev("/dev/null") == (1 << 8) | 3
    assert errno_of(fs.mknod, "/dev/fake", 0, 0) == errno.EPERM


def test_private_overlay_xattrs_are_hidden_in_the_merged_view():
    fs = overlay(layer(LayerEntry("d", D, opaque=True)))
    assert fs.listxattr("/d") == []
    assert errno_of(fs.getxattr, "/d", OPAQUE_XATTR) == errno.ENODATA


# -- the merged root, made once and kept (OverlayFS._root) ---------------------------------


def _names_at_root(fs: OverlayFS) -> dict:
    """What a lookup of each name finds from the kept root, as the VFS's
    walk asks it (namei: merged_node, then child) and as the whole walk
    does -- each checked against an overlay of the same layers made now,
    whose root is new -- and the same for the root's listing."""
    names = ("new", "moved", "lower", "direct", "late")
    fresh = OverlayFS(fs.lowers, fs.upper)
    by_walk = {n: fs.exists("/" + n) for n in names}
    by_child = {n: OverlayFS.child(fs.merged_node("/"), n) is not None for n in names}
    assert by_walk == by_child == {n: fresh.exists("/" + n) for n in names}
    assert fs.listdir("/") == fresh.listdir("/")
    return by_walk


def test_the_kept_root_sees_names_made_removed_and_renamed_at_the_root():
    union = SimUnionFS()
    union.import_layer("image", [LayerEntry("lower", F, data=b"l")])
    union.create_layer("init")
    union.create_layer("rw")
    fs = union.merged(union.mount(["init", "image"], "rw", "c1"))
    assert _names_at_root(fs) == {"new": False, "moved": False, "lower": True, "direct": False, "late": False}
    fs.write("/new", b"n")  # made at the root, through the overlay
    assert _names_at_root(fs)["new"] and fs.read("/new") == b"n"
    fs.rename("/new", "/moved")
    assert _names_at_root(fs) == {"new": False, "moved": True, "lower": True, "direct": False, "late": False}
    fs.unlink("/lower")  # a whiteout at the upper's root
    assert not _names_at_root(fs)["lower"]
    fs.upper.write("/direct", b"d")  # the upper layer written directly
    union.layer_files("init").write("/late", b"i")  # a lower layer, while mounted
    assert _names_at_root(fs) == {"new": False, "moved": True, "lower": False, "direct": True, "late": True}
    fs.unlink("/moved")
    fs.mkdir("/lower")  # over the whiteout: an opaque directory, the root unchanged
    assert fs.listdir("/lower") == [] and not _names_at_root(fs)["moved"]


def test_the_kept_root_follows_the_upper_roots_opaque_xattr():
    fs = overlay(layer(LayerEntry("lower", F)))
    assert fs.exists("/lower")
    fs.upper.setxattr("/", OPAQUE_XATTR, b"y")  # the whole upper opaque: no lower below
    assert not fs.exists("/lower") and OverlayFS.child(fs.merged_node("/"), "lower") is None
    assert fs.listdir("/") == []
    fs.upper.removexattr("/", OPAQUE_XATTR)
    assert fs.exists("/lower") and OverlayFS.child(fs.merged_node("/"), "lower") is not None
    fs.upper.root.xattrs = None  # no xattrs at all: the root is kept again
    assert fs.exists("/lower") and fs.listdir("/") == OverlayFS(fs.lowers, fs.upper).listdir("/")


# -- properties -----------------------------------------------------------------------------------------

NAMES = ["a", "b", "c"]
rel_paths = hs.lists(hs.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
targets = hs.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    hs.booleans(),
    hs.lists(hs.sampled_from(NAMES + [".."]), min_size=1, max_size=3),
)
raw_entries = hs.one_of(
    hs.builds(
        LayerEntry,
        rel_paths,
        hs.just(F),
        mode=hs.sampled_from([0o644, 0o4755]),
        uid=hs.sampled_from([0, 1]),
        data=hs.binary(max_size=3),
    ),
    hs.builds(LayerEntry, rel_paths, hs.just(D), mode=hs.sampled_from([0o755, 0o700]), opaque=hs.booleans()),
    hs.builds(LayerEntry, rel_paths, hs.just(D)),
    hs.builds(LayerEntry, rel_paths, hs.just(L), link=targets),
    hs.builds(LayerEntry, rel_paths, hs.just(W), mode=hs.just(0)),
    hs.builds(LayerEntry, rel_paths, hs.just(H), link=rel_paths),
)


def well_formed(entries: list[LayerEntry]) -> list[LayerEntry]:
    """Last entry per path, parents first, nothing below a non-directory,
    hard links only to a file earlier in the layer."""
    last = {e.path: e for e in entries}
    kept: dict[str, LayerEntry] = {}
    for path in sorted(last):
        e = last[path]
        parts = path.split("/")
        if any(
            kept.get("/".join(parts[:i]), e).kind not in (D,) and "/".join(parts[:i]) in kept
            for i in range(1, len(parts))
        ):
            continue
        if e.kind is H and (e.link not in kept or kept[e.link].kind is not F):
            continue
        kept[path] = e
    return list(kept.values())


stacks = hs.lists(hs.lists(raw_entries, max_size=10).map(well_formed), min_size=1, max_size=3)
component = hs.sampled_from(NAMES * 6 + [".", ".."])
paths = hs.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash else ""),
    hs.lists(component, min_size=1, max_size=3),
    hs.sampled_from([False] * 7 + [True]),
)
ops = hs.one_of(
    hs.tuples(hs.just("write"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("append"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("truncate"), paths, hs.integers(0, 4)),
    hs.tuples(hs.just("mkdir"), paths),
    hs.tuples(hs.just("rmdir"), paths),
    hs.tuples(hs.just("unlink"), paths),
    hs.tuples(hs.just("rename"), paths, paths),
    hs.tuples(hs.just("rename"), paths, paths),
    hs.tuples(hs.just("symlink"), targets, paths),
    hs.tuples(hs.just("link"), paths, paths),
    hs.tuples(hs.just("chmod"), paths, hs.sampled_from([0o755, 0o600, 0o4755, 0o2775])),
    hs.tuples(hs.just("chown"), paths, hs.integers(0, 1), hs.integers(0, 1)),
    hs.tuples(hs.just("read"), paths),
    hs.tuples(hs.just("readlink"), paths),
    hs.tuples(hs.just("listdir"), paths),
)


class Model:
    """The reference: the merged view as one plain MemFS, flattened naively
    from the layers bottom-up, plus the one thing overlayfs adds that a
    plain filesystem does not have -- directories with a lower part (every
    directory of the initial view, tracked by inode identity) cannot be
    renamed (EXDEV).  Lower hard links are flattened as separate files:
    copy-up breaks them anyway."""

    def __init__(self, layers: list[MemFS]) -> None:
        view: dict[str, Inode] = {}
        for fs in reversed(layers):  # bottom first
            for path, node in fs.walk():
                if (
                    is_whiteout(node)
                    or node.kind is not InodeKind.DIR
                    or is_opaque(node)
                    or (path in view and view[path].kind is not InodeKind.DIR)
                ):
                    for p in [p for p in view if p == path or p.startswith(path + "/")]:
                        del view[p]
                if is_whiteout(node):
                    continue
                if node.kind is InodeKind.DIR:
                    view[path] = Inode(InodeKind.DIR, node.mode, {}, uid=node.uid, gid=node.gid)
                else:
                    data = bytearray(node.data) if node.kind is InodeKind.FILE else node.data
                    view[path] = Inode(node.kind, node.mode, data, uid=node.uid, gid=node.gid)
        self.fs = MemFS()
        for path in sorted(view):
            parent_path, _, name = path.rpartition("/")
            parent = self.fs.lookup(parent_path or "/", follow=False)
            self.fs._attach(parent, name, view[path])
        self.lower_dirs = {id(n) for n in view.values() if n.kind is InodeKind.DIR}
        self.keep = list(view.values())  # ids stay unique while we live

    def rename(self, src: str, dst: str) -> None:
        trial = MemFS()
        trial.root = self._clone_root()
        try:
            trial.rename(src, dst)
            failure = None
        except OSError as e:
            failure = e
        if failure is not None and failure.errno != errno.ENOTEMPTY:
            raise failure
        node = self.fs.lookup(src, follow=False)
        if node.kind is InodeKind.DIR and id(node) in self.lower_dirs:
            try:
                target = self.fs.lookup(dst, follow=False)
            except OSError:
                target = None
            if failure is None and target is node:
                return  # rename onto itself
            if failure is None or not self._contains(target, node):
                raise OSError(errno.EXDEV, "lower directory")
        if failure is not None:
            raise failure
        self.fs.rename(src, dst)

    def _clone_root(self) -> Inode:
        import copy

        return copy.deepcopy(self.fs.root)

    @staticmethod
    def _contains(directory: Inode | None, node: Inode) -> bool:
        if directory is None or directory.kind is not InodeKind.DIR:
            return False
        return any(child is node or Model._contains(child, node) for child in directory.data.values())

    def __getattr__(self, name):
        return getattr(self.fs, name)


def run_op(fs, op):
    name, *args = op
    try:
        if name == "append":
            fs.write(args[0], args[1], append=True)
            return "ok"
        if name == "listdir":
            return sorted(
                n for n in fs.listdir(args[0]) if fs.exists(args[0].rstrip("/") + "/" + n)
            )  # whiteout ghosts: see above
        result = getattr(fs, name)(*args)
        return "ok" if result is None else result
    except OSError as e:
        return errno.errorcode[e.errno]


def view(fs, path="/", nlink=False) -> dict:
    out = {}
    for name in sorted(fs.listdir(path)):
        child = path.rstrip("/") + "/" + name
        if not fs.exists(child):
            continue
        s = fs.lstat(child)
        key = (s.kind.value, s.mode, s.uid, s.gid) + ((s.nlink,) if nlink else ())
        if s.kind is EntryKind.DIR:
            out[child] = key
            out.update(view(fs, child, nlink))
        elif s.kind is EntryKind.SYMLINK:
            out[child] = key + (fs.readlink(child),)
        else:
            out[child] = key + (fs.read(child),)
    return out


@given(stacks, hs.lists(ops, max_size=25))
def test_overlay_agrees_with_the_naive_model(stack, sequence):
    layers = [tree_from_entries(entries) for entries in stack]
    fs = OverlayFS(layers, MemFS())
    model = Model(layers)
    assert view(fs) == view(model.fs)
    for op in sequence:
        assert run_op(fs, op) == run_op(model, op), op
    assert view(fs) == view(model.fs)


@given(stacks, hs.lists(ops, max_size=25))
def test_the_changeset_replayed_as_a_layer_gives_the_same_view(stack, sequence):
    # What `docker commit` does: the read-write layer's changes become a layer.
    union = SimUnionFS()
    lowers = [f"l{i}" for i in range(len(stack))]
    for layer_id, entries in zip(lowers, stack, strict=True):
        union.import_layer(layer_id, entries)
    union.create_layer("rw")
    fs = union.merged(union.mount(lowers, "rw", "c1"))
    for op in sequence:
        run_op(fs, op)
    union.import_layer("commit", union.changes("rw"))
    union.create_layer("rw2")
    again = union.merged(union.mount(["commit", *lowers], "rw2", "c2"))
    assert view(again, nlink=True) == view(fs, nlink=True)


def _by_whole_walk(fs: OverlayFS, path: str, follow: bool):
    """What _get found before its plain-path lookup: the whole walk."""
    found = fs._walk(path, follow)
    if found.node is None:
        raise OSError(errno.ENOENT, path)
    if found.must_be_dir and not found.node.is_dir:
        raise OSError(errno.ENOTDIR, path)
    return found.node


def _found(lookup, *args):
    """The merged node's layers and chain of names, or the errno."""
    try:
        node = lookup(*args)
    except OSError as e:
        return errno.errorcode[e.errno]
    return (id(node.upper), [id(n) for n in node.lowers], node.path())


@given(stacks, hs.lists(ops, max_size=10), hs.lists(paths, min_size=1, max_size=8), hs.booleans())
def test_a_plain_path_is_found_as_the_whole_walk_finds_it(stack, sequence, lookups, follow):
    # _get takes a plain absolute path name by name, without _walk: the same
    # node (same layers, same chain of parents for a copy-up) or errno.
    fs = OverlayFS([tree_from_entries(entries) for entries in stack], MemFS())
    for op in sequence:
        run_op(fs, op)
    for path in [*lookups, *(p.rstrip("/") or "/" for p in lookups)]:
        assert _found(fs._get, path, follow) == _found(_by_whole_walk, fs, path, follow), path
