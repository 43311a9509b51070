"""SimUnionFS: the layer store and mounts of the simulator, and its
persistence under a state dir (a later program sees the same layers)."""

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from stepbox.backends.sim.unionfs import SimUnionFS
from stepbox.core.kernel import EntryKind, LayerEntry, Tracer, UnionMount
from stepbox.core.kernel.errors import KernelError

F, D, L, W, H = (EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.WHITEOUT, EntryKind.HARDLINK)

BASE = [
    LayerEntry("bin", D, mode=0o755),
    LayerEntry("bin/sh", F, mode=0o755, data=b"#!sh"),
    LayerEntry("bin/ash", H, link="bin/sh", mode=0o755),
    LayerEntry("etc", D),
    LayerEntry("etc/passwd", F, data=b"root:x:0:0\n"),
    LayerEntry("etc/motd", F, data=b"hi\n"),
    LayerEntry("tmp", D, mode=0o1777),
    LayerEntry("usr/lib", D),
    LayerEntry("usr/lib/x", F, data=b"x"),
    LayerEntry("lib", L, link="usr/lib"),
]
TOP = [
    LayerEntry("etc", D),
    LayerEntry("etc/motd", W, mode=0),
    LayerEntry("usr", D),
    LayerEntry("usr/lib", D, opaque=True),
    LayerEntry("usr/lib/y", F, data=b"y"),
]


def strip(entries):
    """Entries without mtimes (set by the clock on new files)."""
    return [(e.path, e.kind, e.mode, e.uid, e.gid, e.data, e.link, e.opaque) for e in entries]


@pytest.fixture
def union() -> SimUnionFS:
    u = SimUnionFS(Tracer())
    u.import_layer("base", BASE)
    u.import_layer("top", TOP)
    return u


# -- layers ------------------------------------------------------------------------------------


def test_import_then_changes_gives_the_changeset_back_sorted_parents_first(union):
    got = list(union.changes("base"))
    assert [e.path for e in got] == [
        "bin",
        "bin/ash",
        "bin/sh",
        "etc",
        "etc/motd",
        "etc/passwd",
        "lib",
        "tmp",
        "usr",
        "usr/lib",
        "usr/lib/x",
    ]
    # The first name in sorted order holds the data, the later ones link to it.
    assert (got[1].kind, got[1].data) == (F, b"#!sh")
    assert (got[2].kind, got[2].link) == (H, "bin/ash")
    assert got[0].mode == 0o755 and got[7].mode == 0o1777
    top = {e.path: e for e in union.changes("top")}
    assert top["etc/motd"].kind is W and top["usr/lib"].opaque


def test_layer_files_show_whiteouts_as_char_devices_0_0(union):
    s = union.layer_files("top").lstat("/etc/motd")
    assert s.is_device and s.size == 0 and s.mode == 0
    assert union.layer_files("top").rdev("/etc/motd") == 0


def test_import_is_atomic_and_refuses_bad_entries():
    union = SimUnionFS()
    with pytest.raises(KernelError, match="hard link"):
        union.import_layer("bad", [LayerEntry("a", F), LayerEntry("b", H, link="missing")])
    with pytest.raises(KernelError, match="relative"):
        union.import_layer("bad", [LayerEntry("../escape", F)])
    with pytest.raises(KernelError, match="not a directory"):
        union.import_layer("bad", [LayerEntry("a", F), LayerEntry("a/b", F)])
    assert not union.has_layer("bad") and union.layers() == []


def test_import_makes_missing_parents_and_later_entries_replace_earlier_ones():
    union = SimUnionFS()
    union.import_layer(
        "l",
        [
            LayerEntry("a/b/c", F, data=b"1"),
            LayerEntry("a/b/c", F, data=b"2"),
            LayerEntry("a", D, mode=0o700),
        ],
    )
    files = union.layer_files("l")
    assert files.read("/a/b/c") == b"2" and files.stat("/a").mode == 0o700


def test_setuid_survives_import(union):
    union.import_layer("suid", [LayerEntry("su", F, mode=0o4755, uid=0, gid=0)])
    assert union.layer_files("suid").stat("/su").mode == 0o4755


def test_layer_ids_are_unique_and_missing_layers_are_enoent(union):
    # the errors the Linux backend gives (its layer directory exists / is missing)
    with pytest.raises(FileExistsError):
        union.import_layer("base", [])
    with pytest.raises(FileExistsError):
        union.create_layer("top")
    with pytest.raises(FileNotFoundError):
        union.layer_files("nope")
    with pytest.raises(FileNotFoundError):
        union.changes("nope")


def test_create_layer_and_write_it_directly(union):
    union.create_layer("init")
    files = union.layer_files("init")
    files.mkdir("/etc")
    files.write("/etc/hostname", b"box\n")
    assert [(e.path, e.kind) for e in union.changes("init")] == [("etc", D), ("etc/hostname", F)]
    assert union.layers() == ["base", "init", "top"]


def test_remove_layer_is_idempotent(union):
    union.remove_layer("top")
    union.remove_layer("top")
    union.remove_layer("never-was")
    assert union.layers() == ["base"]


# -- mounts -------------------------------------------------------------------------------------------


def test_mount_shape_and_merged_view(union):
    union.create_layer("rw")
    mount = union.mount(["top", "base"], "rw", "c1")
    assert mount == UnionMount(
        target="/var/lib/stepbox/overlay/mounts/c1/merged",
        lowers=("top", "base"),
        upper="rw",
        options="rw,relatime,lowerdir=/var/lib/stepbox/overlay/layers/top/diff:"
        "/var/lib/stepbox/overlay/layers/base/diff,upperdir=/var/lib/stepbox/overlay/layers/rw/diff,"
        "workdir=/var/lib/stepbox/overlay/mounts/c1/work",
    )
    fs = union.merged(mount)
    assert sorted(fs.listdir("/etc")) == ["passwd"]  # motd is whited out
    assert fs.listdir("/usr/lib") == ["y"]  # opaque
    assert fs.listdir("/lib") == ["y"]  # the symlink resolves in the merge
    assert union.mounted() == [mount]


def test_writes_land_in_the_upper_layer_only(union):
    union.create_layer("rw")
    fs = union.merged(union.mount(["top", "base"], "rw", "c1"))
    fs.write("/etc/passwd", b"changed", append=True)
    fs.unlink("/bin/sh")
    fs.mkdir("/new")
    assert [(e.path, e.kind.value) for e in union.changes("rw")] == [
        ("bin", "dir"),
        ("bin/sh", "whiteout"),
        ("etc", "dir"),
        ("etc/passwd", "file"),
        ("new", "dir"),
    ]
    assert union.layer_files("base").read("/etc/passwd") == b"root:x:0:0\n"
    assert fs.read("/bin/ash") == b"#!sh"  # the other hard link stays


def test_unmount_is_idempotent_and_merged_needs_a_mount(union):
    union.create_layer("rw")
    mount = union.mount(["base"], "rw", "c1")
    union.unmount(mount)
    union.unmount(mount)
    assert union.mounted() == []
    with pytest.raises(OSError) as e:
        union.merged(mount)
    assert e.value.errno == errno.ENOENT


def test_mount_refusals(union):
    union.create_layer("rw")
    with pytest.raises(OSError) as e:
        union.mount([], "rw", "c1")  # overlayfs needs a lowerdir
    assert e.value.errno == errno.EINVAL
    union.mount(["base"], "rw", "c1")
    with pytest.raises(OSError) as e:
        union.mount(["base"], "rw", "c2")  # upperdir in use
    assert e.value.errno == errno.EBUSY
    with pytest.raises(FileNotFoundError):
        union.mount(["nope"], "top", "c3")
    union.create_layer("rw2")
    for stack in (["base", "rw2"], ["base", "base"]):  # "conflicting lowerdir path"
        with pytest.raises(OSError) as e:
            union.mount(stack, "rw2", "c4")
        assert e.value.errno == errno.ELOOP


def test_kernel_operations_are_traced_with_the_linux_names(union):
    mark = union.tracer.mark()
    union.import_layer("wh", [LayerEntry("d", D, opaque=True), LayerEntry("x", W)])
    union.create_layer("rw")
    mount = union.mount(["wh", "base"], "rw", "c1")
    union.unmount(mount)
    union.remove_layer("rw")
    calls = [op.call for op in union.tracer.since(mark)]
    assert calls == ["import_layer", "setxattr", "mknod", "mkdir", "mount", "umount2", "remove_layer"]
    mount_op = union.tracer.since(mark)[4]
    assert mount_op.detail.startswith(
        '"overlay", "/var/lib/stepbox/overlay/mounts/c1/merged", "overlay", 0, "lowerdir='
    )


def test_many_lifecycles_leave_nothing_behind():
    union = SimUnionFS(Tracer(enabled=False))
    union.import_layer("base", BASE)
    for i in range(2000):
        union.create_layer(f"{i}-init")
        union.create_layer(f"{i}")
        mount = union.mount([f"{i}-init", "base"], f"{i}", f"c{i}")
        union.unmount(mount)
        union.remove_layer(f"{i}")
        union.remove_layer(f"{i}-init")
    assert union.layers() == ["base"] and union.mounted() == []


# -- persistence --------------------------------------------------------------------------------------------


def test_layers_persist_for_the_next_program(tmp_path):
    state = str(tmp_path)
    first = SimUnionFS(state_dir=state)
    first.import_layer("sha256:abc", BASE)
    first.create_layer("rw")
    fs = first.merged(mount := first.mount(["sha256:abc"], "rw", "c1"))
    fs.write("/etc/motd", b"changed")
    fs.unlink("/bin/sh")
    first.unmount(mount)  # writes the upper back

    second = SimUnionFS(state_dir=state)
    assert second.layers() == ["rw", "sha256:abc"]
    assert second._layers == {}  # nothing read yet: lazy
    assert strip(second.changes("sha256:abc")) == strip(first.changes("sha256:abc"))
    assert [(e.path, e.kind.value) for e in second.changes("rw")] == [
        ("bin", "dir"),
        ("bin/sh", "whiteout"),
        ("etc", "dir"),
        ("etc/motd", "file"),
    ]
    second.remove_layer("rw")
    assert SimUnionFS(state_dir=state).layers() == ["sha256:abc"]


def test_sync_writes_writable_layers_back(tmp_path):
    first = SimUnionFS(state_dir=str(tmp_path))
    first.create_layer("init")
    first.layer_files("init").write("/hostname", b"box")
    first.sync()
    assert SimUnionFS(state_dir=str(tmp_path)).layer_files("init").read("/hostname") == b"box"


def test_hard_links_and_opaque_dirs_survive_persistence(tmp_path):
    SimUnionFS(state_dir=str(tmp_path)).import_layer(
        "top", TOP + [LayerEntry("f", F), LayerEntry("g", H, link="f")]
    )
    again = SimUnionFS(state_dir=str(tmp_path))
    entries = {e.path: e for e in again.changes("top")}
    assert entries["g"].kind is H and entries["usr/lib"].opaque and entries["etc/motd"].kind is W


def test_odd_layer_ids_are_safe_file_names(tmp_path):
    union = SimUnionFS(state_dir=str(tmp_path))
    for odd in ["..", ".", ".tmp-x", "a/b", "sha256:00"]:
        union.create_layer(odd)
    assert all("/" not in n and not n.startswith(".") for n in os.listdir(tmp_path / "layers"))
    assert SimUnionFS(state_dir=str(tmp_path)).layers() == sorted(["..", ".", ".tmp-x", "a/b", "sha256:00"])


def test_an_unreadable_layer_file_is_a_clear_error(tmp_path):
    union = SimUnionFS(state_dir=str(tmp_path))
    union.create_layer("rw")
    (tmp_path / "layers" / "rw").write_bytes(b"garbage")
    with pytest.raises(KernelError, match="unreadable"):
        SimUnionFS(state_dir=str(tmp_path)).changes("rw")


def test_a_failed_import_leaves_no_file(tmp_path):
    union = SimUnionFS(state_dir=str(tmp_path))
    with pytest.raises(KernelError):
        union.import_layer("bad", [LayerEntry("x", H, link="nope")])
    assert not (tmp_path / "layers" / "bad").exists()
    assert SimUnionFS(state_dir=str(tmp_path)).layers() == []


def test_without_a_state_dir_nothing_touches_the_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    union = SimUnionFS()
    union.import_layer("base", BASE)
    union.create_layer("rw")
    union.unmount(union.mount(["base"], "rw", "c1"))
    union.sync()
    union.remove_layer("rw")
    assert list(tmp_path.iterdir()) == []


# -- round trip property ----------------------------------------------------------------------------------

names = hs.lists(hs.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map("/".join)
entries = hs.lists(
    hs.one_of(
        hs.builds(
            LayerEntry,
            names,
            hs.just(F),
            mode=hs.sampled_from([0o644, 0o4755, 0o600]),
            uid=hs.integers(0, 3),
            data=hs.binary(max_size=4),
        ),
        hs.builds(LayerEntry, names, hs.just(D), mode=hs.sampled_from([0o755, 0o1777]), opaque=hs.booleans()),
        hs.builds(LayerEntry, names, hs.just(L), link=names),
        hs.builds(LayerEntry, names, hs.just(W), mode=hs.just(0)),
    ),
    max_size=12,
)


@given(entries)
def test_changes_of_an_imported_layer_reimport_to_the_same_changes(layer):
    union = SimUnionFS()
    try:
        union.import_layer("a", layer)
    except KernelError:
        return  # e.g. an entry below a file: refused whole
    once = list(union.changes("a"))
    union.import_layer("b", once)
    assert list(union.changes("b")) == once


def test_writable_layers_are_written_back_when_the_program_exits(tmp_path):
    import subprocess
    import sys

    program = (
        "from stepbox.backends.sim.unionfs import SimUnionFS\n"
        f"u = SimUnionFS(state_dir={str(tmp_path)!r})\n"
        "u.create_layer('init')\n"
        "u.layer_files('init').write('/hostname', b'box')\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)
    assert SimUnionFS(state_dir=str(tmp_path)).layer_files("init").read("/hostname") == b"box"
