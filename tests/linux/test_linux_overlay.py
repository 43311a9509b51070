"""overlayfs on the real kernel: layers on disk, whiteouts, opaque dirs,
copy-up, reading an upper dir back as a changeset, deep stacks, and file
operations that cannot be tricked out of their root."""

from __future__ import annotations

import errno
import os
import stat

import pytest
from linux_support import NO_LEAKS, leaks, linux_root
from stepbox.backends.linux.procfs import start_time
from stepbox.core.kernel import EntryKind, KernelError, LayerEntry

pytestmark = [linux_root, pytest.mark.linux]

E, K = LayerEntry, EntryKind

BASE = [
    E("bin", K.DIR, 0o755),
    E("bin/busybox", K.FILE, 0o755, data=b"\x7fELF fake"),
    E("bin/sh", K.HARDLINK, 0o755, link="bin/busybox"),
    E("etc", K.DIR, 0o755),
    E("etc/passwd", K.FILE, 0o644, data=b"root:x:0:0\n"),
    E("etc/motd", K.FILE, 0o644, data=b"hello\n"),
    E("etc/link-to-passwd", K.SYMLINK, 0o777, link="/etc/passwd"),
    E("data", K.DIR, 0o755),
    E("data/old1", K.FILE, 0o600, uid=1000, gid=1000, data=b"1"),
    E("data/old2", K.FILE, 0o600, data=b"2"),
    E("suid", K.FILE, 0o4755, data=b"s"),
]
TOP = [
    E("etc", K.DIR, 0o755),
    E("etc/motd", K.WHITEOUT),  # deleted in this layer
    E("data", K.DIR, 0o755, opaque=True),  # replaced: lower contents hidden
    E("data/new", K.FILE, 0o644, data=b"new"),
]


def stack(k, name="c1"):
    k.unionfs.import_layer("base", BASE)
    k.unionfs.import_layer("sha256:top", TOP)
    k.unionfs.create_layer(f"{name}-rw")
    return k.unionfs.mount(["sha256:top", "base"], f"{name}-rw", name)


def test_import_writes_overlayfs_whiteouts_and_opaque_xattrs(linux_kernel):
    k = linux_kernel
    k.unionfs.import_layer("sha256:top", TOP)
    diff = k.unionfs.diff_dir("sha256:top")
    st = os.lstat(f"{diff}/etc/motd")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert os.getxattr(f"{diff}/data", "trusted.overlay.opaque") == b"y"
    assert k.unionfs.layers() == ["sha256:top"] and k.unionfs.has_layer("sha256:top")


def test_changes_round_trip_of_an_imported_layer(linux_kernel):
    k = linux_kernel
    k.unionfs.import_layer("base", BASE)
    back = {e.path: e for e in k.unionfs.changes("base")}
    assert list(back) == sorted(back, key=lambda p: p.split("/"))  # parents first, sorted
    for e in BASE:
        got = back[e.path]
        assert got.kind == e.kind, e.path
        if e.kind != K.SYMLINK:
            assert got.mode == e.mode, e.path
        assert (got.data, got.link, got.uid, got.gid) == (e.data, e.link, e.uid, e.gid), e.path
    k.unionfs.import_layer("top", TOP)
    top = {e.path: e for e in k.unionfs.changes("top")}
    assert top["etc/motd"].kind == K.WHITEOUT and top["data"].opaque


def test_merged_view_hides_whiteouts_and_opaque_lowers(linux_kernel):
    k = linux_kernel
    m = stack(k)
    try:
        f = k.unionfs.merged(m)
        assert not f.exists("/etc/motd")
        assert f.listdir("/data") == ["new"]
        assert f.read("/etc/passwd") == b"root:x:0:0\n"
        assert f.stat("/bin/sh").nlink == 2
        assert f.lstat("/etc/link-to-passwd").kind == K.SYMLINK
        assert f.stat("/etc/link-to-passwd").kind == K.FILE
        assert f.lstat("/suid").mode == 0o4755
        assert "lowerdir=" in m.options and m.options == k.unionfs.mounted()[0].options
        assert k.unionfs.mounted()[0].lowers == ("sha256:top", "base")
    finally:
        k.unionfs.unmount(m)
    k.unionfs.unmount(m)  # idempotent
    assert leaks(k) == NO_LEAKS


def test_writes_land_in_the_upper_layer_as_a_changeset(linux_kernel):
    k = linux_kernel
    m = stack(k)
    try:
        f = k.unionfs.merged(m)
        f.write("/etc/passwd", b"changed\n")  # copy-up
        f.unlink("/bin/busybox")  # lower file deleted -> whiteout
        f.mkdir("/newdir")
        f.write("/newdir/a", b"a")
        f.link("/newdir/a", "/newdir/b")  # hard link inside the layer
        f.symlink("/newdir/a", "/newdir/s")
        with pytest.raises(OSError) as e:
            f.rmdir("/etc")
        assert e.value.errno == errno.ENOTEMPTY
        with pytest.raises(OSError) as e:
            f.rename("/bin", "/bin2")  # a lower dir: no redirect_dir
        assert e.value.errno == errno.EXDEV
        changes = list(k.unionfs.changes("c1-rw"))
        by_path = {c.path: c for c in changes}
        assert by_path["etc/passwd"].data == b"changed\n"
        assert by_path["bin/busybox"].kind == K.WHITEOUT
        assert by_path["newdir"].kind == K.DIR and not by_path["newdir"].opaque
        assert by_path["newdir/a"].kind == K.FILE
        assert by_path["newdir/b"].kind == K.HARDLINK and by_path["newdir/b"].link == "newdir/a"
        assert by_path["newdir/s"].link == "/newdir/a"
        assert [c.path for c in changes] == sorted(by_path, key=lambda p: p.split("/"))
        # A lower directory removed and made again comes back opaque.
        for name in f.listdir("/etc"):
            f.unlink(f"/etc/{name}")
        f.rmdir("/etc")
        f.mkdir("/etc")
        etc = {c.path: c for c in k.unionfs.changes("c1-rw")}["etc"]
        assert etc.kind == K.DIR and etc.opaque
    finally:
        k.unionfs.unmount(m)
    assert leaks(k) == NO_LEAKS


def test_fileops_never_leave_their_root(linux_kernel, tmp_path):
    k = linux_kernel
    outside = tmp_path / "outside"
    outside.write_bytes(b"host secret")
    k.unionfs.import_layer(
        "evil",
        [
            E("abs", K.SYMLINK, link=str(outside)),  # absolute: restarts at the root
            E("up", K.SYMLINK, link="../../../../../../../../" + str(outside)),
            E("dir", K.SYMLINK, link=str(tmp_path)),
        ],
    )
    k.unionfs.create_layer("evil-rw")
    m = k.unionfs.mount(["evil"], "evil-rw", "evil")
    try:
        f = k.unionfs.merged(m)
        for path in ("/abs", "/up", "/dir/outside", "/../../../" + str(outside)):
            with pytest.raises(FileNotFoundError):
                f.read(path)
        with pytest.raises(FileNotFoundError):  # /tmp/... does not exist in the root
            f.write("/abs", b"written")
        assert outside.read_bytes() == b"host secret"
        f.symlink("/created-inside", "/abs2")
        f.write("/abs2", b"written")  # O_CREAT follows the link, inside
        assert f.read("/created-inside") == b"written"
        f.chmod("/abs2", 0o600)
        assert f.lstat("/created-inside").mode == 0o600
        f.mkdir("/dir2")
        with pytest.raises(FileNotFoundError):
            f.mkdir("/dir/escape")  # parent resolves inside: no such dir
        assert not (tmp_path / "escape").exists()
    finally:
        k.unionfs.unmount(m)


@pytest.mark.parametrize("bad", ["../escape", "/abs", "a/../../b", ""])
def test_import_refuses_escaping_paths_and_leaves_nothing(linux_kernel, bad):
    k = linux_kernel
    with pytest.raises(KernelError):
        k.unionfs.import_layer("bad", [E("ok", K.FILE, data=b"x"), E(bad, K.FILE, data=b"x")])
    assert not k.unionfs.has_layer("bad") and k.unionfs.layers() == []
    assert [d for d in os.listdir(os.path.join(k.unionfs.top, "layers"))] == []


def test_import_never_follows_a_symlink_it_planted(linux_kernel, tmp_path):
    k = linux_kernel
    with pytest.raises(KernelError, match="symlink"):
        k.unionfs.import_layer(
            "plant", [E("etc", K.SYMLINK, link=str(tmp_path)), E("etc/passwd", K.FILE, data=b"pwned")]
        )
    assert not (tmp_path / "passwd").exists()
    assert not k.unionfs.has_layer("plant")


def test_deep_stack_uses_short_relative_paths(linux_kernel):
    """More layers than fit in one page of mount options with full paths."""
    k = linux_kernel
    ids = [f"{i:03d}" + "x" * 61 for i in range(70)]  # 64-char ids, like sha256 hex
    for i, lid in enumerate(ids):
        k.unionfs.import_layer(lid, [E(f"f{i}", K.FILE, data=str(i).encode())])
    k.unionfs.create_layer("deep-rw")
    full = sum(len(k.unionfs.diff_dir(l)) + 1 for l in ids)
    assert full > 4096
    mark = k.tracer.mark()
    m = k.unionfs.mount(list(reversed(ids)), "deep-rw", "deep")
    try:
        assert ("chdir", f'"{k.unionfs.top}"') in [(o.call, o.detail) for o in k.tracer.since(mark)]
        f = k.unionfs.merged(m)
        assert f.read("/f0") == b"0" and f.read("/f69") == b"69"
        assert len(f.listdir("/")) == 70
        assert [mm.target for mm in k.unionfs.mounted()] == [m.target]
    finally:
        k.unionfs.unmount(m)
    assert leaks(k) == NO_LEAKS


def test_remove_layer_and_sweep(linux_kernel):
    k = linux_kernel
    k.unionfs.import_layer("gone", [E("x", K.FILE)])
    k.unionfs.remove_layer("gone")
    k.unionfs.remove_layer("gone")  # idempotent
    assert k.unionfs.layers() == [] and os.listdir(os.path.join(k.unionfs.top, "l")) == []
    # What a crash mid-import leaves: a temp dir; the startup sweep removes it.
    # Its name says which process owns it; a live owner's is left alone.
    layers = os.path.join(k.unionfs.top, "layers")
    dead = ".tmp-999999999-1-dead"
    live = f".tmp-{os.getpid()}-{start_time(os.getpid())}-live"
    for d in (dead, live):
        os.makedirs(os.path.join(layers, d, "diff"))
    crashed = os.path.join(k.unionfs.top, "mounts", "crashed")
    os.makedirs(os.path.join(crashed, "merged"))
    with open(os.path.join(crashed, "mount.json"), "w") as f:
        f.write("{}")
    removed = k.sweep()["overlay"]
    assert sorted(removed) == sorted([os.path.join(layers, dead), crashed])
    assert os.listdir(layers) == [live]
    assert os.listdir(os.path.join(k.unionfs.top, "mounts")) == []


def test_mount_refuses_a_missing_layer_and_a_busy_name(linux_kernel):
    k = linux_kernel
    k.unionfs.create_layer("rw")
    with pytest.raises(FileNotFoundError):
        k.unionfs.mount(["nope"], "rw", "x")
    k.unionfs.import_layer("lower", [E("a", K.FILE)])
    m = k.unionfs.mount(["lower"], "rw", "x")
    try:
        with pytest.raises(OSError) as e:
            k.unionfs.mount(["lower"], "rw", "x")
        assert e.value.errno == errno.EBUSY
    finally:
        k.unionfs.unmount(m)


def test_a_stack_without_lower_layers(linux_kernel):
    """overlayfs needs at least one lowerdir: an empty shared one stands in."""
    k = linux_kernel
    k.unionfs.create_layer("only-rw")
    m = k.unionfs.mount([], "only-rw", "bare")
    try:
        f = k.unionfs.merged(m)
        assert f.listdir("/") == []
        f.write("/hello", b"hi")
        assert [e.path for e in k.unionfs.changes("only-rw")] == ["hello"]
    finally:
        k.unionfs.unmount(m)
    assert leaks(k) == NO_LEAKS


def test_a_layer_file_is_read_when_written_out_and_only_if_it_is_still_the_file_listed(linux_kernel):
    """changes() lists a file's contents without reading them; what a running
    container puts at its path meanwhile -- a FIFO (an open would block), a
    symlink to the host's files -- is never read: the file counts as gone, and
    a tar of the changes pads it with zeros to the size it had."""
    import io
    import tarfile

    from stepbox.core.image.layer_tar import write_layer

    k = linux_kernel
    k.unionfs.import_layer(
        "files",
        [
            LayerEntry("a", EntryKind.FILE, data=b"AAAA"),
            LayerEntry("b", EntryKind.FILE, data=b"BBBB"),
            LayerEntry("c", EntryKind.FILE, data=b"CCCC"),
        ],
    )
    entries = {e.path: e for e in k.unionfs.changes("files")}
    diff = k.unionfs.diff_dir("files")
    with open(os.path.join(diff, "a"), "wb") as f:
        f.write(b"aa")  # shrank (same inode)
    os.unlink(os.path.join(diff, "b"))
    os.mkfifo(os.path.join(diff, "b"))
    os.unlink(os.path.join(diff, "c"))
    os.symlink("/etc/hostname", os.path.join(diff, "c"))
    out = io.BytesIO()
    write_layer(entries.values(), out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}
    assert got == {"a": b"aa\0\0", "b": b"\0" * 4, "c": b"\0" * 4}
    with pytest.raises(FileNotFoundError):
        entries["c"].contents.open()
