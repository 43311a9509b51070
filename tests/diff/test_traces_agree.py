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
  (``HOST_DEPENDENT`` in test_containers_agree);
* the device cgroup: v1 writes devices.deny/devices.allow, v2 (the
  simulator's layout) loads and attaches a BPF program -- the v1 writes are
  shown as the two bpf(2) calls v2 makes for the same rules.
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


def _v1_devices_as_v2(ops: list[str]) -> list[str]:
    from stepbox.backends.linux.cgroups.devicefilter import device_program
    from stepbox.core.kernel.devices import DeviceRule, parse_rule_line

    out: list[str] = []
    rules: list[DeviceRule] = []
    where = ""
    for op in ops + [""]:
        written = re.match(r'write (/sys/fs/cgroup/stepbox/[^/]+)/devices\.(allow|deny)\("([^"]*)"\)', op)
        if written:
            where = written.group(1)
            rules.append(parse_rule_line(written.group(3), written.group(2) == "allow"))
            continue
        if rules:
            count = len(device_program(rules)) // 8
            out.append(
                f'bpf(BPF_PROG_LOAD, {{prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt={count}, license="Apache"}})'
            )
            out.append(
                f'bpf(BPF_PROG_ATTACH, {{target_fd=open("{where}"), attach_type=BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI}})'
            )
            rules = []
        if op:
            out.append(op)
    return out


def _v1_files_as_v2(ops: list[str]) -> list[str]:
    """cgroup v1 limit files written as the v2 file the simulator writes."""
    ops = _v1_devices_as_v2(ops)
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
