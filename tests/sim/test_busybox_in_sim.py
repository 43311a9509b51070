"""The simulated kernel running the userland's busybox applets, through the
whole lifecycle (union FS root, namespaces, cgroup, /proc)."""

from __future__ import annotations

import signal

import pytest
from sim_kernel_helpers import Box, boot
from stepbox.core.kernel.cgroups import CgroupLimits
from stepbox.core.kernel.processes import ExitStatus


@pytest.fixture
def k():
    kernel = boot()
    assert kernel.busybox() is not None, "the simulator always has a busybox (the host's or its stand-in)"
    return kernel


def test_sh_is_pid_1_with_its_own_hostname(k, tmp_path):
    box = Box(k, tmp_path, busybox=True, hostname="web1")
    assert box.sh("echo $$; hostname; cat /proc/sys/kernel/hostname; exit 3") == ExitStatus(3)
    assert box.stdout() == "1\nweb1\nweb1\n"


def test_ps_sees_only_the_container(k, tmp_path):
    Box(k, tmp_path, busybox=True)  # another container, not visible
    box = Box(k, tmp_path, busybox=True)
    assert box.sh("sleep 100 & ps; kill $!").code == 0
    lines = box.stdout().splitlines()
    pids = sorted(int(line.split()[0]) for line in lines[1:])
    assert pids == [1, 2, 3]  # sh, sleep, ps


def test_docker_stop_on_a_pid1_that_ignores_sigterm(k, tmp_path):
    box = Box(k, tmp_path, busybox=True)
    box.handle.exec(["sleep", "1000"], {"PATH": "/bin"})
    box.handle.wait(timeout=1)
    box.handle.signal(signal.SIGTERM)
    assert box.handle.wait(timeout=10) is None
    box.handle.signal(signal.SIGKILL)
    assert box.handle.wait() == ExitStatus(137, signal.SIGKILL)


def test_mount_shows_the_containers_table(k, tmp_path):
    box = Box(k, tmp_path, busybox=True)
    assert box.sh("mount").code == 0
    first = box.stdout().splitlines()[0]
    assert first.startswith("overlay on / type overlay (rw,relatime,lowerdir=")


def test_a_fork_bomb_stops_at_pids_max(k, tmp_path):
    box = Box(k, tmp_path, busybox=True, limits=CgroupLimits(pids_max=5))
    box.sh("for i in 1 2 3 4 5 6 7 8; do sleep 50 & done; sleep 1; exit 0")
    assert k.cgroups.stats(box.cgroup).pids_events_max >= 1


def test_not_found_command_in_the_image(k, tmp_path):
    box = Box(k, tmp_path, busybox=True)
    from stepbox.core.kernel.errors import ExecFailed

    with pytest.raises(ExecFailed) as err:
        box.handle.exec(["nosuch"], {"PATH": "/bin"})
    assert err.value.exit_code == 127
