"""cgroups on this host's real cgroupfs (whatever layout it has)."""

from __future__ import annotations

import signal
import subprocess

import pytest
from linux_support import NO_LEAKS, leaks, linux_root
from stepbox.core.kernel import CgroupLimits

pytestmark = [linux_root, pytest.mark.linux]


def test_limits_read_back_in_v2_vocabulary(linux_kernel):
    k = linux_kernel
    k.cgroups.create("stepbox/lim")
    try:
        assert k.cgroups.exists("stepbox/lim") and k.cgroups.list() == ["stepbox/lim"]
        k.cgroups.set_limits("stepbox/lim", CgroupLimits.from_cpus(0.5, memory_bytes=8 << 20, pids_max=7))
        s = k.cgroups.stats("stepbox/lim")
        assert (s.memory_max, s.pids_max) == (8 << 20, 7)
        assert s.memory_events == {"oom": 0, "oom_kill": 0}
        assert (s.pids_current, s.frozen) == (0, False)
        cpu_dir = k.cgroups.controller_dir("cpu", "stepbox/lim")
        if k.cgroups.controller["cpu"].version == 1:
            assert open(f"{cpu_dir}/cpu.cfs_quota_us").read().strip() == "50000"
        else:
            assert open(f"{cpu_dir}/cpu.max").read().split() == ["50000", "100000"]
        writes = [op.call for op in k.tracer.ops if op.call.startswith("write ")]
        assert any(w.endswith(("memory.limit_in_bytes", "memory.max")) for w in writes)
    finally:
        k.cgroups.remove("stepbox/lim")
    k.cgroups.remove("stepbox/lim")  # idempotent
    assert leaks(k) == NO_LEAKS


def test_add_process_and_remove_while_it_is_still_exiting(linux_kernel):
    """rmdir says EBUSY while a killed task is still exiting; remove() retries."""
    k = linux_kernel
    k.cgroups.create("stepbox/busy")
    proc = subprocess.Popen(["sleep", "1000"])
    try:
        k.cgroups.add_process("stepbox/busy", proc.pid)
        assert k.cgroups.procs("stepbox/busy") == [proc.pid]
        with open(f"/proc/{proc.pid}/cgroup") as f:
            assert any(line.rstrip().endswith("/stepbox/busy") for line in f)
        assert k.cgroups.stats("stepbox/busy").pids_current == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        k.cgroups.remove("stepbox/busy")
        assert not k.cgroups.exists("stepbox/busy")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        k.cgroups.remove("stepbox/busy")
    assert leaks(k) == NO_LEAKS


def test_freeze_a_plain_process(linux_kernel):
    k = linux_kernel
    k.cgroups.create("stepbox/ice")
    proc = subprocess.Popen(["sleep", "1000"])
    try:
        k.cgroups.add_process("stepbox/ice", proc.pid)
        k.cgroups.freeze("stepbox/ice")
        assert k.cgroups.stats("stepbox/ice").frozen
        assert {p.pid: p.state for p in k.processes.list()}[proc.pid] == "T"
        k.cgroups.thaw("stepbox/ice")
        assert not k.cgroups.stats("stepbox/ice").frozen
    finally:
        proc.kill()
        proc.wait()
        k.cgroups.remove("stepbox/ice")


def test_layout_is_detected_from_mountinfo(linux_kernel):
    k = linux_kernel
    layout = k.cgroups.layout
    assert layout.mode in ("v1", "v2", "hybrid")
    with open("/proc/self/mountinfo") as f:
        text = f.read()
    if " - cgroup2 " in text:
        assert layout.unified is not None
    if " - cgroup " in text:
        assert layout.v1


def test_v2_driver_on_the_real_cgroup2_mount(linux_kernel):
    """On a hybrid host the cgroup2 mount has no controllers, but its core
    files work: cgroup.procs and the v2 freezer (cgroup.freeze).  Driving it
    alone exercises the v2 driver on the real kernel."""
    from stepbox.backends.linux.cgroups import CgroupLayout, LinuxCgroups

    layout = linux_kernel.cgroups.layout
    if layout.unified is None:
        pytest.skip("no cgroup2 mount on this host")
    only_v2 = CgroupLayout(mode="v2", unified=layout.unified, unified_controllers=layout.unified_controllers)
    cg = LinuxCgroups(only_v2, base=linux_kernel.cgroups.base)
    assert cg.controller["freezer"].version == 2
    cg.create("stepbox/v2")
    proc = subprocess.Popen(["sleep", "1000"])
    try:
        cg.add_process("stepbox/v2", proc.pid)
        with open(f"/proc/{proc.pid}/cgroup") as f:
            assert f"0::/{cg.base}/stepbox/v2\n" in f.read()
        cg.freeze("stepbox/v2")
        assert cg.stats("stepbox/v2").frozen
        with open(f"{cg.controller['freezer'].dir('stepbox/v2')}/cgroup.events") as f:
            assert "frozen 1" in f.read()
        cg.thaw("stepbox/v2")
        assert not cg.stats("stepbox/v2").frozen
    finally:
        proc.kill()
        proc.wait()
        cg.remove("stepbox/v2")
    assert not cg.exists("stepbox/v2")


def test_nested_groups_the_parents_limit_holds_for_its_child(linux_kernel):
    """Limits are hierarchical: a group below ``outer`` is charged to it as
    well, and ``outer``'s memory limit kills a process in ``inner``, which
    has no limit of its own.  On v2 that needs the controllers enabled in
    ``cgroup.subtree_control`` at every level on the way down."""
    k = linux_kernel
    k.cgroups.create("stepbox/outer/inner")
    k.cgroups.set_limits("stepbox/outer", CgroupLimits(memory_bytes=16 << 20, pids_max=4))
    proc = subprocess.Popen(["sh", "-c", "read go; exec tail /dev/zero"], stdin=subprocess.PIPE)
    try:
        k.cgroups.add_process("stepbox/outer/inner", proc.pid)
        inner, outer = k.cgroups.stats("stepbox/outer/inner"), k.cgroups.stats("stepbox/outer")
        assert (inner.pids_current, outer.pids_current) == (1, 1)  # charged at both levels
        assert inner.pids_max is None and inner.memory_max is None and outer.memory_max == 16 << 20
        if k.cgroups.controller["memory"].version == 2:
            for level in ("", "stepbox", "stepbox/outer"):
                with open(f"{k.cgroups.controller_dir('memory', level)}/cgroup.subtree_control") as f:
                    assert {"memory", "pids"} <= set(f.read().split()), level
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=120) == -signal.SIGKILL  # the outer limit's OOM kill
        # The kill is counted where the victim lived; v2's memory.events are
        # hierarchical (cgroup-v2.rst), so there the parent counts it too.
        assert k.cgroups.stats("stepbox/outer/inner").memory_events["oom_kill"] >= 1
        if k.cgroups.controller["memory"].version == 2:
            assert k.cgroups.stats("stepbox/outer").memory_events["oom_kill"] >= 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        k.cgroups.remove("stepbox/outer")
    assert leaks(k) == NO_LEAKS
