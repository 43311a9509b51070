"""The short ways the simulator takes for every container start give what the
general ways give (session 6, issue 18):

* MemFS._walk of one plain name in the root ("/null") without the split --
  compared with the general loop, which "/./NAME" takes;
* a mount target made with mkdir -p after one walk (path_walk's
  ``missing_dirs``) -- compared with the way that walked the path again for
  each missing directory (lookup_or_parent, then _create_path), kept here as
  the reference;
* make_device_nodes and make_symlinks asking mknod/symlink first in a MemFS
  instead of exists() -- compared with exists() first, on a /dev that
  already holds some of the names;
* (session 7) MemFS.mkdir_in / mknod_in / symlink_in, which make a name in a
  directory the caller holds (what the mount target and /dev steps do) --
  compared with mkdir / mknod / symlink by path;
* (session 7) MemFS.rmdir_in, and VFS.rmdir removing the name in the
  directory inode its walk held (the rootfs's mount point and its
  directory at every container's exit) -- compared with rmdir by path.
"""

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from sim_kernel_helpers import boot
from stepbox.backends.sim.memfs import MemFS

NAMES = hs.sampled_from(["a", "b", "dev", "null", "x" * 255, "x" * 256, "..a", "a.b"])


def _where(fs: MemFS, path: str, follow: bool, slash_follows: bool, creat: bool):
    try:
        w = fs._walk(path, follow, slash_follows, creat)
    except OSError as e:
        return ("error", e.errno)
    return ([id(n) for n in w.stack], w.name, id(w.node) if w.node is not None else None, w.must_be_dir)


def _tree(fs: MemFS) -> MemFS:
    fs.mkdir("/dev")
    fs.write("/file", b"x")
    fs.symlink("/dev", "/todir")
    fs.symlink("nowhere", "/dangling")
    fs.symlink("/file", "/tofile")
    fs.symlink("/loop", "/loop")
    return fs


@given(
    hs.one_of(NAMES, hs.sampled_from(["file", "todir", "dangling", "tofile", "loop", "missing"])),
    hs.booleans(),
    hs.booleans(),
    hs.booleans(),
)
def test_one_name_in_the_root_walks_as_the_general_loop(name, follow, slash_follows, creat):
    fs = _tree(MemFS())
    short = _where(fs, "/" + name, follow, slash_follows, creat)
    general = _where(fs, "/./" + name, follow, slash_follows, creat)
    assert short == general


def _old_mount_target(k, proc, target: str, start, is_dir: bool):
    """_mount_target as it was: one lookup, then mkdir -p name by name with
    a walk of the path for each missing directory."""
    try:
        loc, missing = k.vfs.lookup_or_parent(proc, target, root=start)
    except FileNotFoundError:
        return k._create_path(proc, target, start, is_dir)
    if loc is not None:
        return loc
    return k._create_in(proc, missing[0], missing[1], is_dir)


def _outcome(make, k, target: str, is_dir: bool):
    try:
        loc = make(k, k.engine, target, None, is_dir)
    except OSError as e:
        return ("error", e.errno, sorted(_names(k.rootfs)))
    st = k.vfs.fs_of(k.engine, loc)[0].lstat(loc[1])
    return (loc[1], st.kind, sorted(_names(k.rootfs)))


def _names(fs: MemFS, path: str = "/") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in fs.listdir(path):
        full = f"{path.rstrip('/')}/{name}"
        st = fs.lstat(full)
        out.append((full, st.kind.value))
        if st.kind.value == "dir":
            out.extend(_names(fs, full))
    return out


SEGMENTS = hs.lists(
    hs.sampled_from(["t", "new", "deeper", "", ".", "..", "file", "link", "dangling", "etc"]),
    min_size=1,
    max_size=6,
)


@given(SEGMENTS, hs.booleans(), hs.booleans())
def test_a_mount_target_is_made_as_mkdir_p_made_it(segments, is_dir, trailing_slash):
    target = "/t/" + "/".join(segments) + ("/" if trailing_slash else "")
    outcomes = []
    for make in (lambda k, *a: k._mount_target(a[0], a[1], a[2], True, a[3]), _old_mount_target):
        k = boot()
        k.rootfs.mkdir("/t")
        k.rootfs.write("/t/file", b"")
        k.rootfs.symlink("/etc", "/t/link")
        k.rootfs.symlink("/t/nowhere/x", "/t/dangling")
        outcomes.append(_outcome(make, k, target, is_dir))
    assert outcomes[0] == outcomes[1]


def _dev_with_taken_names(k, tmp):
    from sim_kernel_helpers import Box

    box = Box(k, tmp, setup=False)
    fs = box.fs
    fs.write("/dev/null", b"x")
    fs.symlink("/nowhere", "/dev/zero")
    fs.symlink("/elsewhere", "/dev/fd")
    fs.write("/dev/stdin", b"")
    return box


def test_device_nodes_and_symlinks_replace_and_keep_as_before(tmp_path):
    from stepbox.core.confinement.devices import DEFAULT_DEVICE_NODES

    k = boot()
    box = _dev_with_taken_names(k, tmp_path)
    box.handle.make_mounts_private()
    mark = k.tracer.mark()
    box.handle.make_device_nodes(list(DEFAULT_DEVICE_NODES), box.rootfs)
    links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("pts/ptmx", "/dev/ptmx")]
    box.handle.make_symlinks(links, box.rootfs)
    fs = box.fs
    for node in DEFAULT_DEVICE_NODES:  # an image's file of a node's name goes
        st = fs.lstat(node.path)
        assert st.is_device and st.mode & 0o777 == node.mode, node.path
    assert fs.readlink("/dev/fd") == "/elsewhere"  # the image's symlink stays
    assert fs.lstat("/dev/stdin").kind.value == "file"
    assert fs.readlink("/dev/ptmx") == "pts/ptmx"
    calls = [op.call for op in k.tracer.since(mark)]
    assert calls == ["mknod"] * len(DEFAULT_DEVICE_NODES) + ["symlink"] * len(links)


def test_a_node_that_cannot_replace_a_directory_is_traced_only_after_the_unlink(tmp_path):
    from stepbox.core.confinement.devices import DEFAULT_DEVICE_NODES

    k = boot()
    box = _dev_with_taken_names(k, tmp_path)
    nodes = list(DEFAULT_DEVICE_NODES)
    box.fs.mkdir(nodes[1].path)  # unlink of a directory: EISDIR, before mknod is said
    box.handle.make_mounts_private()
    mark = k.tracer.mark()
    try:
        box.handle.make_device_nodes(nodes, box.rootfs)
    except OSError as e:
        assert e.errno == errno.EISDIR
    else:
        raise AssertionError("a directory in a device node's place was replaced")
    assert [op.detail.split('"')[1].rsplit("/", 1)[1] for op in k.tracer.since(mark)] == [
        nodes[0].path.rsplit("/", 1)[1]
    ]


def test_a_device_nodes_missing_directories_are_made_first(tmp_path):
    """runc's createDeviceNode: MkdirAll(dir, 0755), then mknod -- the trace
    says mknod only, as the Linux backend's does; a file on the way is
    ENOTDIR, as MkdirAll says."""
    from stepbox.core.kernel.devices import DeviceNode

    k = boot()
    box = _dev_with_taken_names(k, tmp_path)
    box.handle.make_mounts_private()
    mark = k.tracer.mark()
    nodes = [
        DeviceNode("/dev/snd/x", "c", 1, 3),
        DeviceNode("/dev/a/b/c", "c", 1, 5),
        DeviceNode("/dev/a/z", "c", 1, 7),
    ]
    box.handle.make_device_nodes(nodes, box.rootfs)
    fs = box.fs
    for made in ("/dev/snd", "/dev/a", "/dev/a/b"):
        st = fs.lstat(made)
        assert st.kind.value == "dir" and st.mode & 0o7777 == 0o755 and (st.uid, st.gid) == (0, 0), made
    for node in nodes:
        assert fs.lstat(node.path).is_device, node.path
        assert fs.lookup(node.path).rdev == os.makedev(node.major, node.minor), node.path
    assert sorted(fs.listdir("/dev/a")) == ["b", "z"]
    assert [op.call for op in k.tracer.since(mark)] == ["mknod"] * len(nodes)
    # A file where a directory should be: at the node's parent, and further
    # up, on the way MkdirAll makes.
    for below_a_file in ("/dev/null/x", "/dev/null/a/b"):
        with pytest.raises(OSError) as refused:
            box.handle.make_device_nodes([DeviceNode(below_a_file, "c", 1, 3)], box.rootfs)
        assert refused.value.errno == errno.ENOTDIR, below_a_file


# -- session 7: names made in a directory the caller holds -----------------------------

IN_NAMES = hs.sampled_from(["new", "", ".", "..", "x" * 255, "x" * 256, "file", "sub", "link", "dangling"])


def _made_by(call: str, in_dir: bool, parent_path: str, name: str, setgid: bool):
    """What mkdir/mknod/symlink of ``name`` in ``parent_path`` leaves: the
    error, or the parent's and the new entry's observable state."""
    fs = MemFS(clock=lambda: 1.0)
    fs.mkdir("/d")
    fs.chown("/d", 0, 42)
    if setgid:
        fs.chmod("/d", 0o2775)
    for parent in ("/", "/d"):
        base = parent.rstrip("/")
        fs.write(f"{base}/file", b"")
        fs.mkdir(f"{base}/sub")
        fs.symlink("/d", f"{base}/link")
        fs.symlink("/nowhere", f"{base}/dangling")
    path = f"{parent_path.rstrip('/')}/{name}"
    directory = fs.lookup(parent_path)
    try:
        if call == "mkdir":
            fs.mkdir_in(directory, name, path, 0o750) if in_dir else fs.mkdir(path, 0o750)
        elif call == "mknod":
            fs.mknod_in(directory, name, path, 0o620, 0x103) if in_dir else fs.mknod(path, 0o620, 0x103)
        else:
            fs.symlink_in(directory, name, "tgt", path) if in_dir else fs.symlink("tgt", path)
    except OSError as e:
        return ("error", e.errno, e.filename)
    st = fs.lstat(path)
    pst = fs.lstat(parent_path)
    return (
        st.kind,
        st.mode,
        st.gid,
        st.nlink,
        st.is_device,
        pst.nlink,
        pst.mtime,
        sorted(fs.listdir(parent_path)),
    )


@given(hs.sampled_from(["mkdir", "mknod", "symlink"]), hs.sampled_from(["/", "/d"]), IN_NAMES, hs.booleans())
def test_a_name_made_in_a_held_directory_is_made_as_by_its_path(call, parent_path, name, setgid):
    assert _made_by(call, True, parent_path, name, setgid) == _made_by(call, False, parent_path, name, setgid)


RMDIR_NAMES = hs.sampled_from(
    ["empty", "full", "file", "link", "dangling", "missing", "", ".", "..", "x" * 256]
)


def _removed_by(in_dir: bool, parent_path: str, name: str):
    """What rmdir of ``name`` in ``parent_path`` leaves: the error, or the
    parent's state and the removed directory's nlink (an open fd's view)."""
    fs = MemFS(clock=iter(range(1, 100)).__next__)
    fs.mkdir("/d")
    for parent in ("/", "/d"):
        base = parent.rstrip("/")
        _make_rmdir_names(fs, base, base)
    path = f"{parent_path.rstrip('/')}/{name}"
    directory = fs.lookup(parent_path)
    held = directory.data.get(name)
    try:
        fs.rmdir_in(directory, name, path) if in_dir else fs.rmdir(path)
    except OSError as e:
        return ("error", e.errno, e.filename)
    pst = fs.lstat(parent_path)
    return (pst.nlink, pst.mtime, sorted(fs.listdir(parent_path)), held.nlink if held is not None else None)


@given(hs.sampled_from(["/", "/d"]), RMDIR_NAMES)
def test_a_name_removed_in_a_held_directory_is_removed_as_by_its_path(parent_path, name):
    assert _removed_by(True, parent_path, name) == _removed_by(False, parent_path, name)


def _make_rmdir_names(fs, base: str, seen_as: str) -> None:
    """The names RMDIR_NAMES try, in ``fs``'s directory ``base`` (which a
    process sees at ``seen_as``: where the symlink ``link`` points)."""
    fs.mkdir(f"{base}/empty")
    fs.mkdir(f"{base}/full")
    fs.mkdir(f"{base}/full/x")
    fs.write(f"{base}/file", b"")
    fs.symlink(f"{seen_as}/empty", f"{base}/link")
    fs.symlink("/nowhere", f"{base}/dangling")


def _old_vfs_rmdir(vfs, proc, path: str) -> None:
    """VFS.rmdir as it was: the MemFS walks the whole path again."""
    dloc, full, _, _ = vfs._existing_name(proc, path, removing_dir=True)
    vfs._check_dir_write(proc, dloc, path).rmdir(full)


def _kernel_for_rmdir():
    """A host tree with a MemFS mounted read-write at /m and one read-only
    at /r, each with the names RMDIR_NAMES try; one clock for all."""
    k = boot()
    ticks = iter(range(1, 1000)).__next__
    k.rootfs.clock = ticks
    k.rootfs.mkdir("/t")
    filesystems = {"/t": k.rootfs}
    for point, flags in (("/m", frozenset()), ("/r", frozenset({"ro"}))):
        fs = MemFS(clock=ticks)
        k.rootfs.mkdir(point)
        k.vfs.attach(k.engine, k.vfs.walk(k.engine, point), fs, "/", "tmpfs", "tmpfs", flags, "")
        filesystems[point] = fs
    for point, fs in filesystems.items():
        base = "" if fs is not k.rootfs else point
        fs.mkdir(f"{base}/sub")
        for d in ("", "/sub"):
            _make_rmdir_names(fs, base + d, point + d)
    k.rootfs.symlink("/t/sub", "/t/via")
    return k, filesystems


def _vfs_removed(rmdir, path: str):
    k, filesystems = _kernel_for_rmdir()
    try:
        rmdir(k.vfs, k.engine, path)
    except OSError as e:
        return ("error", e.errno, e.filename)
    # (The boot's own names carry the real time; those made here, ticks.)
    return [
        [(p, n.kind, n.nlink, n.mtime if n.mtime < 1000 else None) for p, n in fs.walk()]
        for fs in filesystems.values()
    ]


@given(
    hs.sampled_from(["/t", "/t/sub", "/t/via", "/t/..", "/", "t", "/m", "/m/sub", "/m/..", "/r", "/r/sub"]),
    hs.sampled_from(
        ["empty", "full", "file", "link", "dangling", "missing", "", ".", "..", "x" * 256, "m", "r"]
    ),
    hs.booleans(),
)
def test_vfs_rmdir_removes_as_by_the_whole_path(parent, name, trailing_slash):
    path = f"{parent.rstrip('/')}/{name}" + ("/" if trailing_slash else "")
    new = _vfs_removed(lambda vfs, proc, p: vfs.rmdir(proc, p), path)
    assert new == _vfs_removed(_old_vfs_rmdir, path)


def test_vfs_rmdir_in_a_memfs_directory_does_not_walk_the_memfs_again(monkeypatch):
    k, _ = _kernel_for_rmdir()

    def no_walk(self, path):
        raise AssertionError(f"rmdir by path: {path}")

    monkeypatch.setattr(MemFS, "rmdir", no_walk)
    k.vfs.rmdir(k.engine, "/t/sub/empty")
    k.vfs.rmdir(k.engine, "/m/sub/empty")
    assert not k.rootfs.exists("/t/sub/empty")
