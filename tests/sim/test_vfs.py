"""The simulated VFS: mounts, path resolution, pivot_root, devices, pipes, fds."""

from __future__ import annotations

import errno
import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_kernel_helpers import Box, boot, program, read_all
from stepbox.core.kernel.processes import ExitStatus, MountSpec


@pytest.fixture
def k():
    return boot()


def run_checks(box, body, **kw):
    """Run ``body(sys, out)`` as the container's program; return ``out``."""
    out = []

    def prog(sys):
        result = body(sys, out)
        if hasattr(result, "send"):
            yield from result
        return 0
        yield

    status = box.run(prog, **kw)
    assert status == ExitStatus(0), box.stderr()
    return out


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return errno.errorcode[e.errno]
    return None


def test_after_pivot_root_no_path_leads_back_to_the_host(k, tmp_path):
    box = Box(k, tmp_path)
    k.rootfs.write("/etc/host-secret", b"s3cret")

    def body(sys, out):
        out.append(sorted(sys.listdir("/..")) == sorted(sys.listdir("/")))
        out.append(errno_of(sys.stat, "/../../../etc/host-secret"))
        out.append(errno_of(sys.stat, "/var/lib/stepbox"))
        sys.symlink("/../../..", "/tmp/up")
        out.append(errno_of(sys.stat, "/tmp/up/etc/host-secret"))
        sys.chdir("/proc/..")
        out.append(sys.getcwd())

    targets = [m.target for m in k.mounts(box.pid)]
    assert targets[0] == "/" and not any("stepbox" in t for t in targets)
    assert run_checks(box, body) == [True, "ENOENT", "ENOENT", "ENOENT", "/"]


def test_pivot_root_needs_a_mount_point_and_private_mounts(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    with pytest.raises(OSError) as err:
        box.handle.pivot_root(box.rootfs)  # mounts are still shared
    assert err.value.errno == errno.EINVAL
    box.handle.make_mounts_private()
    with pytest.raises(OSError) as err:  # the syscall: not a mount point
        k.vfs.pivot_root(box.proc, box.rootfs + "/bin")
    assert err.value.errno == errno.EINVAL
    box.handle.pivot_root(box.rootfs)
    assert [m.target for m in k.mounts(box.pid)] == ["/"]


def test_pivot_root_keeps_every_mount_below_the_new_root_and_no_other(k, tmp_path):
    # Mounts.pivot_root decides in id order (a parent before its children):
    # a mount on a mount below the rootfs stays, and so does one made on an
    # older mount of the container; one made outside the rootfs afterwards
    # (a newer id than the rootfs's) goes.
    box = Box(k, tmp_path, setup=False)
    h, vfs = box.handle, k.vfs
    h.make_mounts_private()
    h.mount(MountSpec("tmpfs", "/tmp", "tmpfs", ()), box.rootfs)
    h.mount(MountSpec("tmpfs", "/tmp/inner", "tmpfs", ()), box.rootfs)
    outside = vfs.walk(box.proc, "/tmp", True)  # the host's /tmp
    vfs.attach(box.proc, outside, k.empty_ro_fs, "/", "tmpfs", "tmpfs", frozenset(), "")
    h.mount(MountSpec("tmpfs", "/run", "tmpfs", ()), box.rootfs)
    h.pivot_root(box.rootfs)
    assert [m.target for m in k.mounts(box.pid)] == ["/", "/tmp", "/tmp/inner", "/run"]
    assert len(box.proc.ns.mnt.table.mounts) == 4  # nothing left that no path reaches


def test_the_handle_makes_a_plain_directory_a_mount_point_first(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    box.fs.mkdir("/inner")
    box.fs.write("/inner/marker", b"m")
    box.handle.make_mounts_private()
    box.handle.pivot_root(box.rootfs + "/inner")  # a bind on itself, as runc does
    entries = k.mounts(box.pid)
    assert [m.target for m in entries] == ["/"] and entries[0].fstype == "overlay"

    out = []

    def prog(sys):
        out.append(sys.listdir("/"))
        out.append(sys.listdir("/.."))
        return 0
        yield

    box.fs.write("/inner/prog", program(k, prog), mode=0o755)
    box.handle.exec(["/prog"], {})
    assert box.handle.wait().code == 0
    assert sorted(out[0]) == ["marker", "prog"] and sorted(out[1]) == ["marker", "prog"]


def test_read_only_mounts_give_erofs(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        out.append(errno_of(sys.open, "/sys/newfile", os.O_WRONLY | os.O_CREAT))
        out.append(errno_of(sys.open, "/proc/sys/kernel/hostname", os.O_WRONLY))
        out.append(errno_of(sys.mkdir, "/proc/acpi/x"))
        fd = sys.open("/tmp/ok", os.O_WRONLY | os.O_CREAT)
        out.append(sys.write(fd, b"fine"))

    assert run_checks(box, body) == ["EROFS", "EROFS", "EROFS", 4]


def test_masked_paths_read_empty(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        data = yield from read_all(sys, "/proc/kcore")
        out.append(data)
        out.append(sys.listdir("/proc/acpi"))
        out.append(sys.stat("/proc/kcore").is_device)

    assert run_checks(box, body) == [b"", [], True]


def test_devices(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        fd = sys.open("/dev/zero")
        out.append((yield from sys.read(fd, 4)))
        fd = sys.open("/dev/null", os.O_RDWR)
        out.append(sys.write(fd, b"gone"))
        out.append((yield from sys.read(fd)))
        fd = sys.open("/dev/full", os.O_WRONLY)
        out.append(errno_of(sys.write, fd, b"x"))
        fd = sys.open("/dev/urandom")
        out.append(len((yield from sys.read(fd, 16))))
        out.append(errno_of(sys.open, "/dev/tty"))

    assert run_checks(box, body) == [b"\0\0\0\0", 4, b"", "ENOSPC", 16, "ENXIO"]


def test_pipe_between_parent_and_child(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        r, w = sys.pipe()

        def child(csys):
            csys.close(r)
            yield from csys.sleep(1)  # the reader blocks meanwhile
            csys.write(w, b"hello ")
            csys.write(w, b"world")
            return 0

        pid = sys.fork(child)
        sys.close(w)
        data = b""
        while True:
            chunk = yield from sys.read(r)
            if not chunk:
                break  # EOF: the last writer exited
            data += chunk
        yield from sys.waitpid(pid)
        out.append(data)

    assert run_checks(box, body) == [b"hello world"]


def test_writing_to_a_pipe_without_reader_is_sigpipe(k, tmp_path):
    box = Box(k, tmp_path)
    codes = []

    def writer(sys):
        r, w = sys.pipe()
        sys.close(r)
        sys.write(w, b"x")
        return 0
        yield

    def handled(sys):
        sys.signal(signal.SIGPIPE, signal.SIG_IGN)
        r, w = sys.pipe()
        sys.close(r)
        codes.append(errno_of(sys.write, w, b"x"))
        return 0
        yield

    def init(sys):
        res = yield from sys.waitpid(sys.fork(writer))
        codes.append(os.waitstatus_to_exitcode(res.status))
        yield from sys.waitpid(sys.fork(handled))
        return 0

    assert box.run(init).code == 0
    assert codes == [-signal.SIGPIPE, "EPIPE"]


def test_file_ops_umask_dup2_and_shared_offsets(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        sys.umask(0o077)
        sys.mkdir("/tmp/d")
        out.append(oct(sys.stat("/tmp/d").mode))
        fd = sys.open("/tmp/d/f", os.O_WRONLY | os.O_CREAT, 0o666)
        out.append(oct(sys.stat("/tmp/d/f").mode))
        sys.dup2(fd, 5)
        sys.write(fd, b"ab")
        sys.write(5, b"cd")  # one open file: one offset
        sys.close(fd)
        sys.close(5)
        out.append((yield from read_all(sys, "/tmp/d/f")))
        sys.rename("/tmp/d/f", "/tmp/d/g")
        out.append(sys.listdir("/tmp/d"))
        out.append(errno_of(sys.rename, "/tmp/d/g", "/dev/shm/g"))  # another mount
        out.append(errno_of(sys.rmdir, "/dev/shm"))  # a mount point
        out.append(errno_of(sys.close, 42))

    assert run_checks(box, body) == ["0o700", "0o600", b"abcd", ["g"], "EXDEV", "EBUSY", "EBADF"]


def test_symlinks_resolve_inside_the_container_and_loop_is_eloop(k, tmp_path):
    box = Box(k, tmp_path)
    box.fs.write("/etc/motd", b"inside\n")

    def body(sys, out):
        sys.symlink("/etc/motd", "/tmp/abs")
        sys.symlink("../etc/motd", "/tmp/rel")
        sys.symlink("/tmp/loop", "/tmp/loop")
        out.append((yield from read_all(sys, "/tmp/abs")))
        out.append((yield from read_all(sys, "/tmp/rel")))
        out.append(sys.readlink("/tmp/abs"))
        out.append(errno_of(sys.stat, "/tmp/loop"))
        out.append(sys.lstat("/tmp/loop").kind.value)

    assert run_checks(box, body) == [b"inside\n", b"inside\n", "/etc/motd", "ELOOP", "symlink"]


def test_mount_and_umount_inside_a_mount_namespace(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    box.enter_rootfs()

    def body(sys, out):
        sys.mount("tmpfs", "/tmp", "tmpfs", "nosuid,size=1m")
        fd = sys.open("/tmp/x", os.O_WRONLY | os.O_CREAT)
        sys.close(fd)
        out.append(sys.listdir("/tmp"))
        out.append(errno_of(sys.umount, "/etc"))  # not a mount point
        sys.umount("/tmp")
        out.append(sys.listdir("/tmp"))
        out.append(errno_of(sys.mount, "x", "/tmp", "nosuchfs"))

    assert run_checks(box, body) == [["x"], "EINVAL", [], "ENODEV"]
    assert all("tmp" not in m.target for m in k.mounts(1))


def test_bind_mount_shows_the_same_files(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    box.fs.mkdir("/data")
    box.fs.write("/data/a", b"A")
    box.handle.make_mounts_private()
    box.handle.mount(
        MountSpec(f"/var/lib/stepbox/test/{box.name}/merged/data", "/mnt", "bind", ("rbind", "ro")),
        box.rootfs,
    )
    box.handle.pivot_root(box.rootfs)

    def body(sys, out):
        out.append((yield from read_all(sys, "/mnt/a")))
        out.append(errno_of(sys.unlink, "/mnt/a"))
        sys.unlink("/data/a")
        out.append(sys.listdir("/mnt"))

    assert run_checks(box, body) == [b"A", "EROFS", []]


def test_non_root_permissions(k, tmp_path):
    box = Box(k, tmp_path)
    box.fs.write("/etc/shadow", b"x", mode=0o600)

    def body(sys, out):
        out.append(errno_of(sys.open, "/etc/shadow"))
        out.append(errno_of(sys.mkdir, "/etc/new"))
        out.append(sys.access("/etc/shadow", os.R_OK))
        sys.mkdir("/tmp/mine")
        out.append(sys.stat("/tmp/mine").mode & 0o777)

    assert run_checks(box, body, user=(1000, 1000)) == ["EACCES", "EACCES", False, 0o755]


@settings()
@given(
    path=st.lists(st.sampled_from(["..", ".", "tmp", "up", "proc", "etc", "", "x"]), max_size=12).map(
        "/".join
    )
)
def test_no_path_escapes_the_container(path, tmp_path_factory):
    k = boot()
    box = Box(k, tmp_path_factory.mktemp("v"))
    box.fs.symlink("/../..", "/tmp/up")
    allowed = set(box.proc.ns.mnt.table.mounts)
    seen = []

    def body(sys, out):
        for p in (path, "/" + path):
            try:
                loc = k.vfs.walk(box.proc, p or ".")
            except OSError:
                continue
            seen.append(loc[0])

    run_checks(box, body)
    assert set(seen) <= allowed
    host_root = k.procs.get(1).root[0]
    assert host_root not in seen


def test_a_full_pipe_takes_what_fits_then_says_eagain(k, tmp_path):
    box = Box(k, tmp_path)

    def body(sys, out):
        r, w = sys.pipe()
        out.append(sys.write(w, b"x" * 70000))  # 64 KiB fit
        out.append(errno_of(sys.write, w, b"y"))
        data = yield from sys.read(r, 100000)
        out.append(len(data))
        out.append(sys.write(w, b"z"))

    assert run_checks(box, body) == [65536, "EAGAIN", 65536, 1]


@pytest.mark.parametrize("on", ["the rootfs", "its mount point"])
def test_pivot_root_after_a_mount_stacked_where_the_rootfs_was(k, tmp_path, on):
    """pivot_root goes where the rootfs path leads now, not where the mount
    steps found it (the handle keeps that Loc): a mount stacked on the
    rootfs, or on the spot its mount sits on, is the new root."""
    from stepbox.backends.sim.memfs import MemFS

    box = Box(k, tmp_path, setup=False)
    h = box.handle
    h.make_mounts_private()
    h.mount(MountSpec("tmpfs", "/tmp", "tmpfs", ()), box.rootfs)  # the handle keeps the rootfs's Loc
    table = box.proc.ns.mnt.table
    loc = k.vfs.walk(box.proc, box.rootfs)
    if on == "its mount point":
        m = table.mounts[loc[0]]
        loc = (m.parent, m.mountpoint)
    top = k.vfs.attach(box.proc, loc, MemFS(), "/", "over", "tmpfs", frozenset(), "")
    h.pivot_root(box.rootfs)
    assert box.proc.ns.mnt.table.root_id == top.id
    assert [m.source for m in box.proc.ns.mnt.table.mounts.values()] == ["over"]
