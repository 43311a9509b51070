"""dockerd runs containers through stepbox-runc (``--add-runtime stepbox=...``).

A private dockerd (its own data root, exec root, socket; ``--bridge=none``,
no iptables: the host's network is never touched), with stepbox-runc added
as a runtime.  Docker's default confinement -- its seccomp profile, its
device cgroup rules -- is what the containers get, through issue 14's
machinery: no ``--security-opt`` needed."""

from __future__ import annotations

import io
import json
import os

import pytest
from bundles import linux_root, stepbox_runc
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import ensure_busybox

from tests.core.engines import runtime_on
from tests.support.dockerd import DockerDaemon, unavailable_reason

pytestmark = linux_root

RUN = ["run", "--runtime", "stepbox"]


@pytest.fixture(scope="module")
def dockerd():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    script = stepbox_runc()
    if len(script) != 1:
        pytest.skip("stepbox-runc is not installed as a console script (pip install -e .)")
    daemon = DockerDaemon("--add-runtime", f"stepbox={script[0]}")
    try:
        daemon.start()
        runtime, cleanup = runtime_on("sim")
        try:
            image = ensure_busybox(runtime.images, runtime.kernel)
            buf = io.BytesIO()
            save(runtime.images, [(image, ["busybox:latest"])], buf)
        finally:
            cleanup()
        daemon.load(buf.getvalue())
        yield daemon
    finally:
        daemon.stop()


def out(done) -> str:
    return done.stdout.decode()


def test_docker_run_prints_hi(dockerd):
    done = dockerd.docker(*RUN, "--rm", "busybox", "echo", "hi")
    assert out(done) == "hi\n"


def test_the_container_is_dockers_own(dockerd):
    """What runs is Docker's config: its hostname, groups, capabilities, cgroup."""
    done = dockerd.docker(
        *RUN,
        "--rm",
        "--hostname",
        "box",
        "busybox",
        "sh",
        "-c",
        "hostname; id; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; grep memory /proc/self/cgroup",
    )
    lines = out(done).splitlines()
    assert lines[0] == "box"
    assert lines[1] == "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
    assert lines[2] == "CapEff:\t00000000a80425fb"  # Docker's default capabilities
    assert lines[3] == "NoNewPrivs:\t0"
    assert lines[4].startswith("4:memory:/docker/") or ":memory:/docker/" in lines[4]


def test_dockers_seccomp_profile_and_device_rules_hold(dockerd):
    """Docker's config carries its seccomp profile and device rules: the
    process runs under a filter, and may mknod a disk's node (runc's "b *:*
    m" rule) but not open it."""
    done = dockerd.docker(
        *RUN,
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; mknod /dev/x b 8 0 && (head -c1 /dev/x; echo rc=$?)",
        check=False,
    )
    text = out(done)
    assert "Seccomp:\t2" in text  # a filter is loaded (mode 2)
    assert "rc=1" in text  # mknod is allowed (runc's rule), opening the disk is not


def test_exec_top_stop(dockerd):
    cid = out(dockerd.docker(*RUN, "-d", "busybox", "sleep", "1000")).strip()
    try:
        assert out(dockerd.docker("exec", cid, "sh", "-c", "echo in; id -u")) == "in\n0\n"
        failed = dockerd.docker("exec", cid, "sh", "-c", "exit 5", check=False)
        assert failed.returncode == 5
        top = out(dockerd.docker("top", cid))
        assert "sleep 1000" in top
        dockerd.docker("pause", cid)
        assert out(dockerd.docker("inspect", "-f", "{{.State.Status}}", cid)).strip() == "paused"
        dockerd.docker("unpause", cid)
        dockerd.docker("stop", "-t", "1", cid)  # sleep as PID 1 ignores SIGTERM: SIGKILL after 1 s
        state = out(dockerd.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", cid)).split()
        assert state == ["exited", "137"]
    finally:
        dockerd.docker("rm", "-f", cid, check=False)
    assert not os.path.exists(f"/sys/fs/cgroup/memory/docker/{cid}")


def test_run_and_exec_with_a_terminal(dockerd):
    """docker run -t / exec -t: containerd's shim gives stepbox-runc a console
    socket; the process's terminal is a pty of the container's /dev/pts."""
    done = dockerd.docker(*RUN, "--rm", "-t", "busybox", "sh", "-c", "tty; exit 4", check=False, timeout=60)
    assert (done.returncode, out(done)) == (4, "/dev/pts/0\r\n")
    cid = out(dockerd.docker(*RUN, "-d", "-t", "busybox", "sleep", "1000", timeout=60)).strip()
    try:
        assert out(dockerd.docker("exec", "-t", cid, "tty", timeout=60)) == "/dev/pts/1\r\n"
    finally:
        dockerd.docker("rm", "-f", cid, check=False)


def test_oom_kill(dockerd):
    # The allocation waits a second: containerd's shim starts watching the
    # cgroup for OOM events only once `stepbox-runc start` has returned,
    # which takes a Python start-up (see benchmarks/oci_runtime.py).
    done = dockerd.docker(
        *RUN,
        "--name",
        "oom",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "sleep 1; x=a; while true; do x=$x$x; done",
        check=False,
    )
    try:
        assert done.returncode == 137
        state = out(
            dockerd.docker("inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", "oom")
        ).split()
        assert state == ["137", "true"]
    finally:
        dockerd.docker("rm", "-f", "oom", check=False)


def test_docker_info_lists_the_runtime(dockerd):
    runtimes = json.loads(out(dockerd.docker("info", "-f", "{{json .Runtimes}}")))
    assert runtimes["stepbox"]["path"] == stepbox_runc()[0]
