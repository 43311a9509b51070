"""The kernel operations each step shows, on the simulator and on Linux.

``stepbox step`` and the notebooks print, for every step of ``docker run``,
the syscalls it made.  A learner must see the same story whichever kernel
runs it, so the traces are compared step by step, after normalising the
differences documented in ``backends/sim/SIMPLIFICATIONS.md`` -- and only
those:

* paths: each backend keeps its state somewhere else (the state dir prefix);
* cgroups: the simulator has the v2 layout only (one directory); this host's
  hybrid layout has one directory per v1 controller, so the same mkdir, write
  or rmdir appears once per controller, and v1 names its limit files
  differently (``memory.limit_in_bytes``; ``cpu.cfs_period_us`` +
  ``cpu.cfs_quota_us`` for v2's ``cpu.max``);
* masked paths: Docker masks only paths the kernel has
  (``HOST_DEPENDENT`` in test_containers_agree).
"""

from __future__ import annotations

import os
import re

import pytest
from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.core.engines import runtime_on
from tests.diff.test_containers_agree import HOST_DEPENDENT

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

CONFIGS = {
    "plain": ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, hostname="box"),
    "limits": ContainerConfig(
        image="busybox",
        cmd=("true",),
        auto_remove=True,
        hostname="box",
        memory=64 * 1024 * 1024,
        pids_limit=20,
        cpus=0.5,
    ),
    "network-none": ContainerConfig(
        image="busybox", cmd=("true",), auto_remove=True, hostname="box", network="none", workdir="/tmp"
    ),
}


def traced_walk(backend: str, config: ContainerConfig) -> tuple[list[tuple[str, list[str]]], str]:
    """(step key, its kernel operations as text) for one ``run --rm``, and the container's ID."""
    runtime, cleanup = runtime_on(backend)
    try:
        runtime.run(config)  # warm-up: the image's layers get imported
        record = runtime.new_record(config)
        stepper = runtime.stepper(record, plan.run_plan(config, remove=True))
        steps = []
        while not stepper.done:
            result = stepper.step()
            steps.append((result.step.key, [str(op) for op in result.ops]))
        runtime.forget(record)
        return steps, record.id
    finally:
        cleanup()


def normalise(ops: list[str], container_id: str) -> list[str]:
    out: list[str] = []
    for op in ops:
        op = op.replace(container_id, "ID")
        # The state dir: "/var/lib/stepbox/overlay/..." or "/tmp/stepbox-test-linux-x/kernel/overlay/...".
        op = re.sub(r'(?<=["=:,])/[^"=:,]*?/overlay/', "STATE/overlay/", op)
        # cgroup v1 controllers and v2 collapse to one place.
        op = re.sub(r"/sys/fs/cgroup/(?:[a-z_,]+/)?stepbox/", "/sys/fs/cgroup/stepbox/", op)
        masked = re.match(r'mount\("(?:tmpfs|/dev/null|/proc/[^"]*)", "([^"]+)"', op)
        if masked and masked.group(1) in HOST_DEPENDENT and not os.path.exists(masked.group(1)):
            continue
        if out and out[-1] == op and "/sys/fs/cgroup/" in op:
            continue  # the same cgroup op, for the next controller
        out.append(op)
    return _v1_files_as_v2(out)


def _v1_files_as_v2(ops: list[str]) -> list[str]:
    """cgroup v1 limit files written as the v2 file the simulator writes."""
    out: list[str] = []
    for op in ops:
        op = op.replace("/memory.limit_in_bytes(", "/memory.max(")
        quota = re.match(r'(write .*/)cpu\.cfs_quota_us\("(-?\d+)"\)', op)
        period = re.match(r'write .*/cpu\.cfs_period_us\("(\d+)"\)', out[-1]) if out else None
        if quota and period:
            out[-1] = f'{quota.group(1)}cpu.max("{quota.group(2)} {period.group(1)}")'
            continue
        out.append(op)
    return out


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_step_shows_the_same_syscalls(name):
    (sim, sim_id), (real, real_id) = (traced_walk(b, CONFIGS[name]) for b in ("sim", "linux"))
    assert [key for key, _ in sim] == [key for key, _ in real]
    for (key, sim_ops), (_, real_ops) in zip(sim, real, strict=True):
        assert normalise(sim_ops, sim_id) == normalise(real_ops, real_id), f"step {key}"
