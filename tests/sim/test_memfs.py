"""MemFS, the simulator's tmpfs: one rule per test, then a property test that
runs random operation sequences on MemFS and on the real kernel (a chroot
into a fresh temp dir, as root on Linux) and demands the same errno for every
call and the same tree at the end.  The errnos below were all checked
against Linux 6.x first -- the kernel is the oracle, not the man page."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import stat as st
import sys
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from stepbox.backends.sim.memfs import (
    O_CREAT,
    O_EXCL,
    O_RDONLY,
    O_TRUNC,
    O_WRONLY,
    Inode,
    InodeKind,
    MemFS,
    makedev,
)
from stepbox.core.kernel import EntryKind


def errno_of(call, *args, **kwargs) -> int | None:
    try:
        call(*args, **kwargs)
    except OSError as e:
        return e.errno
    return None


@pytest.fixture
def fs() -> MemFS:
    return MemFS()


# -- lookups and path resolution -------------------------------------------------------


def test_root_is_an_empty_directory(fs):
    s = fs.stat("/")
    assert s.kind is EntryKind.DIR and s.nlink == 2
    assert fs.listdir("/") == []


def test_missing_middle_component_is_enoent_and_a_file_in_the_middle_is_enotdir(fs):
    fs.write("/f", b"x")
    assert errno_of(fs.stat, "/nope/x") == errno.ENOENT
    assert errno_of(fs.stat, "/f/x") == errno.ENOTDIR
    assert errno_of(fs.stat, "/f/") == errno.ENOTDIR


def test_symlinks_are_followed_in_the_middle_and_dotdot_is_physical(fs):
    fs.mkdir("/a")
    fs.mkdir("/a/b")
    fs.write("/a/x", b"in a")
    fs.symlink("a/b", "/l")
    # /l/.. is the parent of the *target* (/a), not of the link (/)
    assert fs.read("/l/../x") == b"in a"


def test_absolute_symlink_restarts_at_this_filesystems_root(fs):
    fs.mkdir("/etc")
    fs.write("/etc/hostname", b"box\n")
    fs.symlink("/etc", "/e")
    assert fs.read("/e/hostname") == b"box\n"


def test_symlink_loop_is_eloop(fs):
    fs.symlink("b", "/a")
    fs.symlink("a", "/b")
    assert errno_of(fs.stat, "/a") == errno.ELOOP
    assert fs.lstat("/a").kind is EntryKind.SYMLINK  # lstat does not follow


def test_forty_symlinks_resolve_and_forty_one_do_not(fs):
    fs.write("/f0", b"end")
    for i in range(1, 42):
        fs.symlink(f"f{i - 1}", f"/f{i}")
    assert fs.read("/f40") == b"end"
    assert errno_of(fs.read, "/f41") == errno.ELOOP


def test_name_too_long(fs):
    assert errno_of(fs.mkdir, "/" + "x" * 256) == errno.ENAMETOOLONG
    fs.mkdir("/" + "x" * 255)


def test_listdir_is_not_sorted_it_is_newest_first_like_tmpfs(fs):
    for name in ["b", "a", "c"]:
        fs.write("/" + name, b"")
    assert fs.listdir("/") == ["c", "a", "b"]


# -- creating and writing ---------------------------------------------------------------


def test_write_truncates_and_append_appends(fs):
    fs.write("/f", b"hello")
    fs.write("/f", b"hi")
    assert fs.read("/f") == b"hi"
    fs.write("/f", b"!", append=True)
    assert fs.read("/f") == b"hi!"


def test_write_mode_applies_only_on_create(fs):
    fs.write("/f", b"", mode=0o600)
    fs.write("/f", b"x", mode=0o777)
    assert fs.stat("/f").mode == 0o600


def test_write_through_a_dangling_symlink_creates_its_target(fs):
    fs.symlink("target", "/l")
    fs.write("/l", b"x")
    assert fs.read("/target") == b"x"


def test_write_errnos(fs):
    fs.mkdir("/d")
    fs.write("/f", b"")
    assert errno_of(fs.write, "/d", b"x") == errno.EISDIR
    assert errno_of(fs.write, "/new/", b"x") == errno.EISDIR  # O_CREAT + trailing slash
    assert errno_of(fs.write, "/f/", b"x") == errno.EISDIR
    assert errno_of(fs.write, "/d/.", b"x") == errno.EISDIR
    assert errno_of(fs.write, "/nope/f", b"x") == errno.ENOENT


def test_truncate_extends_with_zeros_and_refuses_directories(fs):
    fs.write("/f", b"abc")
    fs.truncate("/f", 5)
    assert fs.read("/f") == b"abc\0\0"
    fs.truncate("/f", 1)
    assert fs.read("/f") == b"a"
    fs.mkdir("/d")
    assert errno_of(fs.truncate, "/d", 0) == errno.EISDIR
    assert errno_of(fs.truncate, "/f", -1) == errno.EINVAL


def test_mkdir_errnos_and_parent_link_count(fs):
    fs.mkdir("/d")
    assert fs.stat("/").nlink == 3
    assert errno_of(fs.mkdir, "/d") == errno.EEXIST
    assert errno_of(fs.mkdir, "/") == errno.EEXIST
    assert errno_of(fs.mkdir, "/x/y") == errno.ENOENT
    fs.symlink("nowhere", "/dangling")
    assert errno_of(fs.mkdir, "/dangling") == errno.EEXIST
    assert errno_of(fs.mkdir, "/dangling/") == errno.EEXIST


def test_symlink_errnos(fs):
    fs.write("/f", b"")
    assert errno_of(fs.symlink, "x", "/f") == errno.EEXIST
    assert errno_of(fs.symlink, "", "/e") == errno.ENOENT
    fs.symlink("f", "/l")
    assert fs.readlink("/l") == "f"
    assert fs.lstat("/l").mode == 0o777 and fs.lstat("/l").size == 1
    assert errno_of(fs.readlink, "/f") == errno.EINVAL


# -- removing -----------------------------------------------------------------------------


def test_unlink_and_rmdir_errnos(fs):
    fs.mkdir("/d")
    fs.write("/d/f", b"")
    assert errno_of(fs.unlink, "/d") == errno.EISDIR
    assert errno_of(fs.rmdir, "/d") == errno.ENOTEMPTY
    assert errno_of(fs.rmdir, "/d/f") == errno.ENOTDIR
    assert errno_of(fs.unlink, "/d/f/") == errno.ENOTDIR
    assert errno_of(fs.rmdir, "/d/.") == errno.EINVAL
    assert errno_of(fs.rmdir, "/") == errno.EBUSY
    assert errno_of(fs.unlink, "/nope") == errno.ENOENT
    fs.unlink("/d/f")
    fs.rmdir("/d")
    assert fs.listdir("/") == []


def test_rmdir_of_a_symlink_to_a_directory_is_enotdir(fs):
    fs.mkdir("/d")
    fs.symlink("d", "/l")
    assert errno_of(fs.rmdir, "/l") == errno.ENOTDIR
    assert errno_of(fs.rmdir, "/l/") == errno.ENOTDIR


# -- hard links ---------------------------------------------------------------------------


def test_hard_links_share_one_inode(fs):
    fs.write("/a", b"one")
    fs.link("/a", "/b")
    assert fs.stat("/a").nlink == 2
    fs.write("/b", b"two")
    assert fs.read("/a") == b"two"
    fs.unlink("/a")
    assert fs.stat("/b").nlink == 1


def test_link_errnos(fs):
    fs.mkdir("/d")
    fs.write("/f", b"")
    assert errno_of(fs.link, "/d", "/d2") == errno.EPERM
    assert errno_of(fs.link, "/d", "/f") == errno.EEXIST  # EEXIST comes before EPERM
    assert errno_of(fs.link, "/f", "/f") == errno.EEXIST
    assert errno_of(fs.link, "/nope", "/x") == errno.ENOENT


def test_link_does_not_follow_a_symlink(fs):
    fs.symlink("nowhere", "/l")
    fs.link("/l", "/l2")
    assert fs.readlink("/l2") == "nowhere"
    assert fs.lstat("/l").nlink == 2


# -- rename -----------------------------------------------------------------------------------


def test_rename_replaces_a_file_and_moves_directories(fs):
    fs.write("/a", b"a")
    fs.write("/b", b"b")
    fs.rename("/a", "/b")
    assert fs.read("/b") == b"a" and not fs.exists("/a")
    fs.mkdir("/d")
    fs.mkdir("/e")
    fs.rename("/d", "/e/d")
    assert fs.stat("/e").nlink == 3 and fs.stat("/").nlink == 3


def test_rename_errnos(fs):
    fs.mkdir("/d")
    fs.mkdir("/d/sub")
    fs.mkdir("/full")
    fs.write("/full/x", b"")
    fs.write("/f", b"")
    assert errno_of(fs.rename, "/d", "/d/sub/x") == errno.EINVAL  # into itself
    assert errno_of(fs.rename, "/d/sub", "/d") == errno.ENOTEMPTY  # onto its ancestor
    assert errno_of(fs.rename, "/d", "/full") == errno.ENOTEMPTY
    assert errno_of(fs.rename, "/d", "/f") == errno.ENOTDIR
    assert errno_of(fs.rename, "/f", "/d") == errno.EISDIR
    assert errno_of(fs.rename, "/nope", "/x") == errno.ENOENT
    assert errno_of(fs.rename, "/f", "/nope/x") == errno.ENOENT
    assert errno_of(fs.rename, "/f/", "/g") == errno.ENOTDIR


def test_rename_onto_a_hard_link_of_itself_does_nothing(fs):
    fs.write("/a", b"")
    fs.link("/a", "/b")
    fs.rename("/a", "/b")
    assert fs.exists("/a") and fs.exists("/b")


# -- attributes -----------------------------------------------------------------------------------


def test_chmod_follows_and_chown_does_not(fs):
    fs.write("/f", b"")
    fs.symlink("f", "/l")
    fs.chmod("/l", 0o600)
    assert fs.stat("/f").mode == 0o600
    fs.chown("/l", 5, 6)
    assert (fs.lstat("/l").uid, fs.stat("/f").uid) == (5, 0)


def test_chown_drops_setuid_even_for_root(fs):
    fs.write("/f", b"")
    fs.chmod("/f", 0o6755)
    fs.chown("/f", 1, 1)
    assert fs.stat("/f").mode == 0o755
    fs.mkdir("/d")
    fs.chmod("/d", 0o2755)
    fs.chown("/d", 1, 1)
    assert fs.stat("/d").mode == 0o2755  # directories keep set-group-ID


def test_a_setgid_directory_passes_its_group_on(fs):
    fs.mkdir("/shared")
    fs.chown("/shared", 0, 50)
    fs.chmod("/shared", 0o2775)
    fs.mkdir("/shared/sub")
    fs.write("/shared/f", b"")
    assert (fs.stat("/shared/sub").gid, fs.stat("/shared/sub").mode) == (50, 0o2755)
    assert (fs.stat("/shared/f").gid, fs.stat("/shared/f").mode) == (50, 0o644)


def test_xattrs(fs):
    fs.mkdir("/d")
    assert errno_of(fs.getxattr, "/d", "trusted.overlay.opaque") == errno.ENODATA
    fs.setxattr("/d", "trusted.overlay.opaque", b"y")
    assert fs.getxattr("/d", "trusted.overlay.opaque") == b"y"
    assert fs.listxattr("/d") == ["trusted.overlay.opaque"]
    fs.removexattr("/d", "trusted.overlay.opaque")
    assert fs.listxattr("/d") == []


def test_char_devices(fs):
    fs.mkdir("/dev")
    fs.mknod("/dev/null", 0o666, makedev(1, 3))
    s = fs.lstat("/dev/null")
    assert s.is_device and s.size == 0 and s.mode == 0o666
    assert fs.rdev("/dev/null") == makedev(1, 3)


# -- the VFS's extras: open files -------------------------------------------------------------------


def test_open_flags(fs):
    assert errno_of(fs.open, "/f", O_RDONLY) == errno.ENOENT
    fd = fs.open("/f", O_WRONLY | O_CREAT, 0o640)
    assert isinstance(fd, Inode) and fd.kind is InodeKind.FILE
    assert errno_of(fs.open, "/f", O_WRONLY | O_CREAT | O_EXCL) == errno.EEXIST
    fd.write_at(0, b"hello")
    fs.open("/f", O_WRONLY | O_TRUNC)
    assert fs.read("/f") == b""
    fs.mkdir("/d")
    assert errno_of(fs.open, "/d", O_WRONLY) == errno.EISDIR
    fs.open("/d", O_RDONLY)
    fs.write("/f", b"x")
    fs.open("/f", O_RDONLY | O_TRUNC)  # Linux truncates even then
    assert fs.read("/f") == b""


def test_an_open_file_outlives_its_name(fs):
    fs.write("/f", b"data")
    fd = fs.open("/f")
    fs.unlink("/f")
    assert fd.read_at(0, 100) == b"data" and fd.nlink == 0
    fd.write_at(6, b"!")
    assert fd.read_at(0, 100) == b"data\0\0!"


def test_read_at_write_at_by_path(fs):
    fs.write("/f", b"0123456789")
    assert fs.read_at("/f", 2, 3) == b"234"
    assert fs.read_at("/f", 20, 3) == b""
    fs.write_at("/f", 8, b"XYZ")
    assert fs.read("/f") == b"01234567XYZ"
    assert errno_of(fs.write_at, "/g", 0, b"") == errno.ENOENT


def test_clone_is_independent_and_keeps_hard_links(fs):
    fs.write("/a", b"1")
    fs.link("/a", "/b")
    twin = fs.clone()
    twin.write("/a", b"2")
    assert fs.read("/a") == b"1" and twin.read("/b") == b"2"


def test_walk_is_sorted_parents_first(fs):
    for d in ["/b", "/a", "/a/z", "/a/c"]:
        fs.mkdir(d)
    assert [p for p, _ in fs.walk()] == ["/a", "/a/c", "/a/z", "/b"]


def test_pickles(fs):
    fs.write("/a", b"1")
    fs.link("/a", "/b")
    back = pickle.loads(pickle.dumps(fs.root))
    assert back.data["a"] is back.data["b"]


# -- the kernel as the oracle -------------------------------------------------------------------------

NAMES = ["a", "b", "c"]
component = hs.sampled_from(NAMES) | hs.sampled_from([".", ".."])
paths = hs.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash else ""),
    hs.lists(hs.sampled_from(NAMES) | component, min_size=1, max_size=3),
    hs.booleans(),
)
targets = hs.builds(
    lambda absolute, parts, slash: ("/" if absolute else "") + "/".join(parts) + ("/" if slash else ""),
    hs.booleans(),
    hs.lists(component, min_size=1, max_size=3),
    hs.booleans(),
)
ops = hs.one_of(
    hs.tuples(hs.just("write"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("append"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("truncate"), paths, hs.integers(0, 4)),
    hs.tuples(hs.just("mkdir"), paths),
    hs.tuples(hs.just("rmdir"), paths),
    hs.tuples(hs.just("unlink"), paths),
    hs.tuples(hs.just("rename"), paths, paths),
    hs.tuples(hs.just("link"), paths, paths),
    hs.tuples(hs.just("symlink"), targets, paths),
    hs.tuples(hs.just("chmod"), paths, hs.sampled_from([0o755, 0o600, 0o4755, 0o2775])),
    hs.tuples(hs.just("chown"), paths, hs.integers(0, 2), hs.integers(0, 2)),
    hs.tuples(hs.just("read"), paths),
    hs.tuples(hs.just("readlink"), paths),
    hs.tuples(hs.just("listdir"), paths),
    hs.tuples(hs.just("stat"), paths),
)


def run_op(fs, op):
    """One call on MemFS; the result (or the errno name) in a comparable shape."""
    name, *args = op
    try:
        if name == "append":
            fs.write(args[0], args[1], append=True)
            return "ok"
        if name == "listdir":
            return sorted(fs.listdir(args[0]))
        if name == "stat":
            s = fs.lstat(args[0])
            return (s.kind.value, s.mode, s.size if s.kind is not EntryKind.DIR else 0, s.nlink, s.uid)
        result = getattr(fs, name)(*args)
        return "ok" if result is None else result
    except OSError as e:
        return errno.errorcode[e.errno]


def run_host_op(op):
    """The same call with ``os`` -- inside a chroot, so "/" is the temp dir."""
    name, *args = op
    try:
        if name in ("write", "append"):
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if name == "append" else os.O_TRUNC)
            fd = os.open(args[0], flags, 0o644)
            try:
                os.write(fd, args[1])
            finally:
                os.close(fd)
            return "ok"
        if name == "read":
            with open(args[0], "rb") as f:
                return f.read()
        if name == "listdir":
            return sorted(os.listdir(args[0]))
        if name == "stat":
            s = os.lstat(args[0])
            kind = {st.S_IFREG: "file", st.S_IFDIR: "dir", st.S_IFLNK: "symlink"}[st.S_IFMT(s.st_mode)]
            return (kind, st.S_IMODE(s.st_mode), s.st_size if kind != "dir" else 0, s.st_nlink, s.st_uid)
        if name == "mkdir":
            os.mkdir(args[0], 0o755)  # MemFS.mkdir's default mode
            return "ok"
        if name == "link":
            os.link(args[0], args[1], follow_symlinks=False)
            return "ok"
        if name == "symlink":
            os.symlink(args[0], args[1])
            return "ok"
        if name == "chown":
            os.lchown(*args)
            return "ok"
        result = getattr(os, name)(*args)
        return "ok" if result is None else result
    except OSError as e:
        return errno.errorcode[e.errno]


def memfs_tree(fs: MemFS) -> dict:
    tree: dict[str, tuple] = {}
    for path, node in fs.walk():
        if node.kind is InodeKind.SYMLINK:
            tree[path] = ("symlink", node.data)
        elif node.kind is InodeKind.DIR:
            tree[path] = ("dir", node.mode, node.uid, node.gid, node.nlink)
        else:
            tree[path] = ("file", node.mode, node.uid, node.gid, node.nlink, bytes(node.data))
    return tree


def host_tree(root: str) -> dict:
    tree: dict[str, tuple] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            s = os.lstat(path)
            rel = "/" + os.path.relpath(path, root)
            if st.S_ISLNK(s.st_mode):
                tree[rel] = ("symlink", os.readlink(path))
            elif st.S_ISDIR(s.st_mode):
                tree[rel] = ("dir", st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, s.st_nlink)
            else:
                with open(path, "rb") as f:
                    tree[rel] = ("file", st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, s.st_nlink, f.read())
    return tree


def run_in_chroot(root: str, sequence) -> list:
    """Fork, chroot into ``root`` and run the sequence there: absolute symlink
    targets and ".." then stay inside the temp dir, as they do in MemFS."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_end)
            os.chroot(root)
            os.chdir("/")
            os.umask(0)
            os.write(write_end, pickle.dumps([run_host_op(op) for op in sequence]))
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return pickle.loads(b"".join(chunks))


@pytest.mark.linux
@pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0,
    reason="compares with the real kernel: needs Linux and root (for chroot)",
)
@given(hs.lists(ops, max_size=30))
def test_memfs_agrees_with_the_kernel(sequence):
    root = tempfile.mkdtemp(prefix="memfs-oracle-")
    try:
        os.chmod(root, 0o755)
        expected = run_in_chroot(root, sequence)
        fs = MemFS()
        for op, want in zip(sequence, expected, strict=True):
            assert run_op(fs, op) == want, op
        assert memfs_tree(fs) == host_tree(root)
    finally:
        shutil.rmtree(root)
