"""containerd runs containers through stepbox-runc (``ctr run --runc-binary``).

A private containerd -- its own config, root, state and sockets, the CRI
plugin off -- with stepbox's busybox imported from a saved tar (no registry
is reachable here).  ctr's default spec -- every device denied but the
defaults, a seccomp profile -- runs through issue 14's machinery."""

from __future__ import annotations

import os
import time

import pytest
from bundles import linux_root, stepbox_runc
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import ensure_busybox

from tests.core.engines import runtime_on
from tests.support.containerd import Containerd, unavailable_reason

pytestmark = linux_root

IMAGE = "docker.io/library/busybox:latest"


@pytest.fixture(scope="module")
def containerd():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    if len(stepbox_runc()) != 1:
        pytest.skip("stepbox-runc is not installed as a console script (pip install -e .)")
    daemon = Containerd()
    try:
        runtime, cleanup = runtime_on("sim")
        try:
            image = ensure_busybox(runtime.images, runtime.kernel)
            tar = os.path.join(daemon.dir, "busybox.tar")
            with open(tar, "wb") as f:
                save(runtime.images, [(image, ["busybox:latest"])], f)
        finally:
            cleanup()
        daemon.ctr("images", "import", tar)
        yield daemon
    finally:
        daemon.stop()


def run_args() -> list[str]:
    return ["run", "--rm", "--runc-binary", stepbox_runc()[0], IMAGE]


def test_ctr_run_prints_hi(containerd):
    done = containerd.ctr(*run_args(), "t1", "echo", "hi")
    assert done.stdout == b"hi\n"


def test_exit_code_and_cgroup(containerd):
    done = containerd.ctr(*run_args(), "t2", "sh", "-c", "grep memory /proc/self/cgroup; exit 3", check=False)
    assert done.returncode == 3
    assert done.stdout.decode().strip().endswith(":memory:/default/t2")
    assert not os.path.exists("/sys/fs/cgroup/memory/default/t2")


def test_ctr_default_spec_confines(containerd):
    """ctr's default spec denies the devices but its defaults; ``--seccomp``
    adds containerd's default profile."""
    done = containerd.ctr(
        "run", "--rm", "--seccomp", "--runc-binary", stepbox_runc()[0], IMAGE, "t3",
        "sh", "-c", "grep Seccomp: /proc/self/status; mknod /dev/x b 8 0; head -c1 /dev/x",
        check=False,
    )  # fmt: skip
    assert done.returncode != 0  # the disk cannot be opened: ctr's device rules
    assert "Operation not permitted" in done.stderr.decode()
    assert "Seccomp:\t2" in done.stdout.decode()


def test_task_exec_kill_delete(containerd):
    containerd.ctr("run", "-d", "--runc-binary", stepbox_runc()[0], IMAGE, "t4", "sleep", "1000")
    try:
        done = containerd.ctr("task", "exec", "--exec-id", "e1", "t4", "sh", "-c", "echo from-exec")
        assert done.stdout == b"from-exec\n"
        tasks = containerd.ctr("task", "ls").stdout.decode()
        assert "t4" in tasks and "RUNNING" in tasks
        containerd.ctr("task", "kill", "--signal", "SIGKILL", "t4")
        deadline = time.monotonic() + 20
        while "STOPPED" not in containerd.ctr("task", "ls").stdout.decode():
            assert time.monotonic() < deadline, "the task did not stop"
            time.sleep(0.1)
        containerd.ctr("task", "delete", "t4")
    finally:
        containerd.ctr("task", "delete", "--force", "t4", check=False)
        containerd.ctr("containers", "rm", "t4", check=False)
