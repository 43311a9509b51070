"""The Linux backend's confinement pieces on their own: the libseccomp binding
(errnoRet, architectures, argument conditions), a container whose device
rules are a BPF program on the cgroup2 tree, and what a process entering a
container looks like from inside."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import tempfile

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.runtime import Runtime
from stepbox.core.container.store import ContainerStore
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import Tracer
from stepbox.core.kernel.seccomp import ArgCondition, SeccompFilter, SyscallRule

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]


def in_child(fn) -> object:
    """Run ``fn`` in a forked child (a filter cannot be taken off again) and
    return what it returned (its repr evaluated)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, repr(fn()).encode())
        except BaseException as e:  # report, never fall back into pytest
            os.write(w, repr(f"{type(e).__name__}: {e}").encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return eval(data.decode())  # noqa: S307 - our own child's repr


def _errno_of(call) -> int:
    try:
        call()
    except OSError as e:
        return e.errno or 0
    return 0


def test_errno_ret_kill_and_argument_conditions():
    from stepbox.backends.linux import seccomp

    spec = SeccompFilter(
        "SCMP_ACT_ALLOW",
        rules=(
            SyscallRule(("mkdir", "mkdirat"), "SCMP_ACT_ERRNO", 13),
            SyscallRule(("rmdir",), "SCMP_ACT_ERRNO"),  # no errnoRet: EPERM
            SyscallRule(("lseek",), "SCMP_ACT_ERRNO", 22, (ArgCondition(2, "SCMP_CMP_MASKED_EQ", 0x3, 0x2),)),
            # the same argument twice: an OR of the two (runc's rule)
            SyscallRule(
                ("fchmodat", "chmod"),
                "SCMP_ACT_ERRNO",
                1,
                (ArgCondition(1, "SCMP_CMP_EQ", 0o600), ArgCondition(1, "SCMP_CMP_EQ", 0o640)),
            ),
            SyscallRule(("definitely_not_a_syscall",), "SCMP_ACT_ERRNO"),  # skipped, as runc does
        ),
    )
    program = seccomp.compile_filter(spec)
    assert len(program) % 8 == 0
    target = tempfile.mkdtemp()
    open(os.path.join(target, "f"), "w").close()

    def probe():
        f = os.path.join(target, "f")
        fd = os.open(f, os.O_RDONLY)
        seccomp.load_program(program)
        return [
            seccomp.mode(),
            _errno_of(lambda: os.mkdir(os.path.join(target, "d"))),
            _errno_of(lambda: os.rmdir(target)),
            _errno_of(lambda: os.lseek(fd, 0, os.SEEK_END)),  # whence & 3 == 2: refused
            _errno_of(lambda: os.lseek(fd, 0, os.SEEK_SET)),
            _errno_of(lambda: os.chmod(f, 0o600)),
            _errno_of(lambda: os.chmod(f, 0o640)),
            _errno_of(lambda: os.chmod(f, 0o644)),
        ]

    try:
        assert in_child(probe) == [2, errno.EACCES, errno.EPERM, errno.EINVAL, 0, errno.EPERM, errno.EPERM, 0]
    finally:
        shutil.rmtree(target)


def test_dockers_default_profile_in_a_process():
    from stepbox.backends.linux import libc, seccomp
    from stepbox.core.confinement.docker_default_profile import DOCKER_DEFAULT_PROFILE
    from stepbox.core.confinement.seccomp_profile import Host, resolve
    from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES

    spec = resolve(
        DOCKER_DEFAULT_PROFILE,
        Host.from_uname(os.uname().machine, os.uname().release),
        DOCKER_DEFAULT_CAPABILITIES,
    )
    program = seccomp.compile_filter(spec)

    def probe():
        seccomp.load_program(program)
        clone3 = libc._libc.syscall(435, 0, 0)  # clone3 without CAP_SYS_ADMIN: ENOSYS, glibc falls back
        clone3_errno = libc.ctypes.get_errno() if clone3 == -1 else 0
        pid = os.fork()  # clone(SIGCHLD...) stays allowed
        if pid == 0:
            os._exit(7)
        _, status = os.waitpid(pid, 0)
        return [
            _errno_of(lambda: libc.unshare(libc.CLONE_NEWUSER)),
            _errno_of(lambda: libc.mount("tmpfs", "/mnt", "tmpfs")),
            clone3_errno,
            os.waitstatus_to_exitcode(status),
        ]

    assert in_child(probe) == [errno.EPERM, errno.EPERM, errno.ENOSYS, 7]


def test_a_container_whose_devices_are_a_bpf_program(tmp_path):
    """On a cgroup-v2 host there are no devices.allow files: the container's
    allowlist is a program attached to its group.  On a hybrid host the v1
    devices hierarchy is left out of the layout, so the container gets the
    program on the cgroup2 mount (/sys/fs/cgroup/unified) -- as a v2-only
    host gives it on /sys/fs/cgroup, which scripts/cgroup2_vm.py runs it on."""
    from stepbox.backends.linux.cgroups import detect_layout
    from stepbox.backends.linux.kernel import LinuxKernel

    layout = detect_layout()
    if layout.unified is None:
        pytest.skip("no cgroup2 mount on this host")
    layout = dataclasses.replace(layout, v1=tuple(m for m in layout.v1 if "devices" not in m.controllers))
    kernel = LinuxKernel(str(tmp_path / "kernel"), Tracer(), layout=layout)
    runtime = Runtime(kernel, ImageStore(str(tmp_path / "images")), ContainerStore(None))
    try:
        ensure_busybox(runtime.images, kernel)
        script = "mknod /tmp/mem c 1 1; echo mknod=$?; head -c1 /tmp/mem; echo open=$?; echo x > /dev/null; echo null=$?"
        record = runtime.run(ContainerConfig("busybox", cmd=("sh", "-c", f"{script}; sleep 30")), detach=True)
        try:
            assert kernel.cgroups.device_rules(record.cgroup) == [
                "b *:* m",
                "c *:* m",
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:1 rwm",
                "c 5:2 rwm",
                "c 10:200 rwm",
                "c 136:* rwm",
            ]
            ops = [op for op in kernel.tracer.ops if op.call == "bpf"]
            # Attached to the container's own group on the cgroup2 mount,
            # wherever the layout found that mount.
            group = f'open("{layout.unified}/'
            assert any(
                "BPF_PROG_ATTACH" in op.detail
                and group in op.detail
                and op.detail.endswith(
                    f'{record.cgroup}"), attach_type=BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI}}'
                )
                for op in ops
            ), ops
        finally:
            runtime.remove(record, force=True)
        record = runtime.run(ContainerConfig("busybox", cmd=("sh", "-c", script)))
        out, err = runtime.logs(record)
        assert out.decode().split() == ["mknod=0", "open=1", "null=0"]
        assert "Operation not permitted" in err.decode()
        runtime.remove(record)
    finally:
        # Not kernel.cleanup(): with the shared cgroup base it would reach
        # for every stepbox cgroup of the host, other test runs' included.
        for leftover in runtime.containers.all():
            runtime.remove(runtime.refresh(leftover), force=True)
        kernel.close()


def test_an_exec_is_not_dumpable_until_it_runs(tmp_path):
    """The process entering a container is non-dumpable from before its first
    setns until its execve; what runs after execve is an ordinary process."""
    from tests.core.engines import runtime_on

    runtime, cleanup = runtime_on("linux")
    try:
        ensure_busybox(runtime.images, runtime.kernel)
        record = runtime.run(ContainerConfig("busybox", cmd=("sleep", "30")), detach=True)
        code, out, _ = runtime.exec(record, ["sh", "-c", "cat /proc/self/status | grep -c ."])
        assert code == 0 and int(out) > 10
        ops = [(op.call, op.detail) for op in runtime.kernel.tracer.ops]
        dumpable = ops.index(("prctl", "PR_SET_DUMPABLE, 0"))
        first_setns = next(i for i, (call, _) in enumerate(ops) if call == "setns")
        assert dumpable < first_setns
        runtime.remove(record, force=True)
    finally:
        cleanup()


def test_a_missing_working_dir_is_made_before_start_and_logs_go_through_pipes():
    """run -w makes the directory (root's, 0755) before the container runs;
    the container's stdout is a pipe to the shim, not the host's log file."""
    from tests.core.engines import runtime_on

    runtime, cleanup = runtime_on("linux", persistent=True)
    try:
        ensure_busybox(runtime.images, runtime.kernel)
        script = (
            "pwd; stat -c '%a %U' .; readlink /proc/self/fd/1 | cut -c1-5; chmod 666 /proc/self/fd/1; echo $?"
        )
        record = runtime.run(
            ContainerConfig("busybox", cmd=("sh", "-c", script), workdir="/made/here", user="mail")
        )
        out, _err = runtime.logs(record)
        assert out.decode().split("\n")[:3] == ["/made/here", "755 root", "pipe:"]
        log = os.path.join(record.log_dir, "stdout.log")
        assert oct(os.stat(log).st_mode & 0o777) == "0o640"  # what the shim made it, whatever the chmod did
        assert oct(os.stat(record.log_dir).st_mode & 0o777) == "0o700"
        runtime.remove(record)
    finally:
        cleanup()


def test_state_dirs_are_private(tmp_path):
    from stepbox.backends.linux.kernel import LinuxKernel

    kernel = LinuxKernel(str(tmp_path / "kernel"), Tracer())
    try:
        modes = {
            rel: oct(os.stat(os.path.join(kernel.state_dir, rel)).st_mode & 0o777)
            for rel in ("", "linux", "linux/runs", "overlay", "overlay/mounts", "overlay/layers")
        }
        assert modes == {
            "": "0o710",
            "linux": "0o700",
            "linux/runs": "0o700",
            "overlay": "0o710",
            "overlay/mounts": "0o710",
            "overlay/layers": "0o700",
        }
    finally:
        kernel.close()


def test_the_helpers_run_from_a_sealed_copy_of_the_interpreter(tmp_path):
    """What /proc/PID/exe of a shim (and so of any helper entering a
    container) leads to: a sealed memfd, not the host's interpreter file --
    opening it for writing fails, whoever tries."""
    import sys

    from stepbox.backends.linux.kernel import LinuxKernel

    kernel = LinuxKernel(str(tmp_path / "kernel"), Tracer())
    try:
        kernel.processes.launcher._connected()
        launcher = kernel.processes.launcher._proc.pid
        exe = os.readlink(f"/proc/{launcher}/exe")
        assert exe.startswith("/memfd:stepbox-python")
        with pytest.raises(OSError) as busy:
            open(f"/proc/{launcher}/exe", "r+b").close()
        assert busy.value.errno == errno.ETXTBSY  # while it runs; and sealed for after:
        import fcntl

        from stepbox.backends.linux.launcher import sealed_interpreter

        seals = fcntl.fcntl(sealed_interpreter(), fcntl.F_GET_SEALS)
        for seal in (fcntl.F_SEAL_WRITE, fcntl.F_SEAL_SHRINK, fcntl.F_SEAL_GROW, fcntl.F_SEAL_SEAL):
            assert seals & seal
        with (
            open(f"/proc/{launcher}/exe", "rb") as copy,
            open(os.path.realpath(sys.executable), "rb") as real,
        ):
            assert copy.read(4096) == real.read(4096)
    finally:
        kernel.close()
