"""Spawning through the shim launcher: with and without stdio, in any set of
namespaces, and the launcher gone when the kernel is closed."""

from __future__ import annotations

import signal

import pytest
from stepbox.core.kernel import ExitStatus
from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES
from stepbox.core.kernel.processes import SpawnSpec


@pytest.mark.parametrize(
    "namespaces",
    [frozenset(), frozenset({"pid"}), frozenset(DEFAULT_CONTAINER_NAMESPACES)],
    ids=["none", "pid", "docker-default"],
)
def test_spawn_without_stdio_then_kill(linux_kernel, namespaces):
    handle = linux_kernel.processes.spawn(SpawnSpec(namespaces=namespaces))
    assert linux_kernel.processes.exists(handle.pid)
    handle.signal(signal.SIGKILL)
    assert handle.wait(timeout=30) == ExitStatus.killed(signal.SIGKILL)


def test_the_launcher_goes_with_the_kernel(linux_kernel):
    handle = linux_kernel.processes.spawn(SpawnSpec(namespaces=frozenset({"pid"})))
    handle.signal(signal.SIGKILL)
    handle.wait(timeout=30)
    launcher = linux_kernel.processes.launcher._proc
    assert launcher is not None and launcher.poll() is None
    linux_kernel.close()
    assert launcher.poll() is not None  # it saw end-of-file and exited
