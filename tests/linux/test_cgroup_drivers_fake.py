"""cgroupfs drivers against fake trees (pyfakefs), for the three layouts.

The real kernel creates a cgroup's control files on mkdir; a fake tree
does not, so these tests create the files a step needs (`touch`) and check
what the driver wrote into them, or write counters and check how the driver
reads them.  This is how the pure v2 layout is tested on this (hybrid) CI
host, and how everything here runs on any OS.
"""

from __future__ import annotations

import pytest
from stepbox.backends.linux.cgroups import LinuxCgroups, detect_layout
from stepbox.core.kernel import CgroupLimits, NotSupported, Tracer

V1_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
33 31 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
34 31 0:31 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
36 31 0:33 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer
"""
V2_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
"""
HYBRID_MOUNTINFO = (
    V1_MOUNTINFO
    + """\
37 31 0:34 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
"""
)
V1_DIRS = ["systemd", "memory", "pids", "cpu,cpuacct", "freezer"]


def touch(fs, path, contents=""):
    if fs.exists(path):
        fs.remove_object(path)
    fs.create_file(path, contents=contents)


def read(path):
    with open(path) as f:
        return f.read()


def make_v1(fs):
    fs.create_file("/proc/self/mountinfo", contents=V1_MOUNTINFO)
    for d in V1_DIRS:
        fs.create_dir(f"/sys/fs/cgroup/{d}")


def make_v2(fs, controllers="cpuset cpu io memory hugetlb pids rdma misc"):
    fs.create_file("/proc/self/mountinfo", contents=V2_MOUNTINFO)
    fs.create_file("/sys/fs/cgroup/cgroup.controllers", contents=controllers + "\n")
    fs.create_file("/sys/fs/cgroup/cgroup.subtree_control", contents="")


def make_hybrid(fs):
    fs.create_file("/proc/self/mountinfo", contents=HYBRID_MOUNTINFO)
    for d in V1_DIRS:
        fs.create_dir(f"/sys/fs/cgroup/{d}")
    fs.create_file("/sys/fs/cgroup/unified/cgroup.controllers", contents="\n")


# -- layout detection -------------------------------------------------------------------


def test_detect_v1_with_comounted_cpu_cpuacct(fs):
    make_v1(fs)
    layout = detect_layout()
    assert layout.mode == "v1" and layout.unified is None
    assert layout.v1_mount_for("cpuacct").mountpoint == "/sys/fs/cgroup/cpu,cpuacct"
    assert layout.v1_mount_for("cpu").controllers == ("cpu", "cpuacct")
    assert {
        c: layout.version_for(c) for c in ("memory", "pids", "cpu", "cpuacct", "freezer")
    } == dict.fromkeys(("memory", "pids", "cpu", "cpuacct", "freezer"), 1)


def test_detect_v2(fs):
    make_v2(fs)
    layout = detect_layout()
    assert layout.mode == "v2" and layout.unified == "/sys/fs/cgroup" and layout.v1 == ()
    assert "memory" in layout.unified_controllers
    # The v2 freezer is the core file cgroup.freeze; cpuacct is cpu.stat's usage_usec.
    assert layout.version_for("freezer") == 2 and layout.version_for("cpuacct") == 2


def test_detect_hybrid_controllers_stay_in_v1(fs):
    make_hybrid(fs)
    layout = detect_layout()
    assert layout.mode == "hybrid" and layout.unified == "/sys/fs/cgroup/unified"
    assert layout.unified_controllers == frozenset()
    assert layout.version_for("memory") == 1 and layout.version_for("freezer") == 1


def test_detect_hybrid_with_a_controller_moved_to_v2(fs):
    fs.create_file(
        "/proc/self/mountinfo",
        contents=(
            "33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
            "37 31 0:34 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
        ),
    )
    fs.create_file("/sys/fs/cgroup/unified/cgroup.controllers", contents="pids\n")
    layout = detect_layout()
    assert layout.version_for("memory") == 1 and layout.version_for("pids") == 2
    assert layout.version_for("cpu") is None


def test_detect_no_cgroups(fs):
    fs.create_file("/proc/self/mountinfo", contents="22 1 0:21 / / rw - ext4 /dev/sda1 rw\n")
    assert detect_layout().mode == "none"


# -- v1 -----------------------------------------------------------------------------------------


def test_v1_create_limits_and_trace(fs):
    make_v1(fs)
    tracer = Tracer()
    cg = LinuxCgroups(tracer=tracer)
    cg.create("stepbox/c1")
    for d in ["memory", "pids", "cpu,cpuacct", "freezer"]:
        assert fs.exists(f"/sys/fs/cgroup/{d}/stepbox/c1")
    assert not fs.exists("/sys/fs/cgroup/systemd/stepbox")  # not a controller we use
    base = "/sys/fs/cgroup"
    for f in [
        "memory/stepbox/c1/memory.limit_in_bytes",
        "pids/stepbox/c1/pids.max",
        "cpu,cpuacct/stepbox/c1/cpu.cfs_quota_us",
        "cpu,cpuacct/stepbox/c1/cpu.cfs_period_us",
    ]:
        touch(fs, f"{base}/{f}")
    cg.set_limits("stepbox/c1", CgroupLimits(memory_bytes=8 << 20, pids_max=5, cpu_quota_us=50_000))
    assert read(f"{base}/memory/stepbox/c1/memory.limit_in_bytes") == "8388608"
    assert read(f"{base}/pids/stepbox/c1/pids.max") == "5"
    assert read(f"{base}/cpu,cpuacct/stepbox/c1/cpu.cfs_quota_us") == "50000"
    assert read(f"{base}/cpu,cpuacct/stepbox/c1/cpu.cfs_period_us") == "100000"
    calls = [op.call for op in tracer.ops]
    assert "write /sys/fs/cgroup/memory/stepbox/c1/memory.limit_in_bytes" in calls
    assert ("mkdir", '"/sys/fs/cgroup/memory/stepbox/c1", 0755') in [
        (op.call, op.detail) for op in tracer.ops
    ]


def test_v1_stats_in_v2_vocabulary(fs):
    make_v1(fs)
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    m, p, c, f = ("/sys/fs/cgroup/" + d + "/stepbox/c1" for d in ("memory", "pids", "cpu,cpuacct", "freezer"))
    touch(fs, f"{m}/memory.usage_in_bytes", "4096\n")
    touch(fs, f"{m}/memory.limit_in_bytes", "9223372036854771712\n")  # v1's "unlimited"
    touch(fs, f"{m}/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    touch(fs, f"{p}/pids.current", "3\n")
    touch(fs, f"{p}/pids.max", "5\n")
    touch(fs, f"{p}/pids.events", "max 7\n")
    touch(fs, f"{c}/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000000\n")
    touch(fs, f"{c}/cpuacct.usage", "2000000\n")
    touch(fs, f"{f}/freezer.state", "THAWED\n")
    s = cg.stats("stepbox/c1")
    assert (s.memory_current, s.memory_max) == (4096, None)
    assert s.memory_events == {"oom": 2, "oom_kill": 2}
    assert (s.pids_current, s.pids_max, s.pids_events_max) == (3, 5, 7)
    assert (s.cpu_nr_periods, s.cpu_nr_throttled) == (10, 4)
    assert s.cpu_throttled_usec == 5000 and s.cpu_usage_usec == 2000  # ns -> usec
    assert s.frozen is False


def test_v1_freezer_and_procs(fs):
    make_v1(fs)
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    d = "/sys/fs/cgroup/freezer/stepbox/c1"
    touch(fs, f"{d}/freezer.state", "THAWED\n")
    cg.freeze("stepbox/c1")  # a fake file reads back what was written: FROZEN
    assert read(f"{d}/freezer.state").strip() == "FROZEN" and cg.stats("stepbox/c1").frozen
    cg.thaw("stepbox/c1")
    assert read(f"{d}/freezer.state").strip() == "THAWED"
    for h in ("memory", "pids", "cpu,cpuacct", "freezer"):
        touch(fs, f"/sys/fs/cgroup/{h}/stepbox/c1/cgroup.procs", "12\n9\n")
    assert cg.procs("stepbox/c1") == [9, 12]
    assert cg.procs_files("stepbox/c1") == [
        f"/sys/fs/cgroup/{h}/stepbox/c1/cgroup.procs" for h in ("memory", "pids", "cpu,cpuacct", "freezer")
    ]


def test_v1_list_remove_idempotent_and_base(fs):
    make_v1(fs)
    cg = LinuxCgroups(base="mybase")
    cg.create("stepbox/a")
    cg.create("stepbox/b")
    assert fs.exists("/sys/fs/cgroup/memory/mybase/stepbox/a")
    assert cg.list() == ["stepbox/a", "stepbox/b"] and cg.exists("stepbox/a")
    cg.remove("stepbox/a")
    cg.remove("stepbox/a")  # idempotent undo
    cg.remove("stepbox/never-made")
    assert cg.list() == ["stepbox/b"] and not cg.exists("stepbox/a")
    cg.remove("stepbox/b")
    cg.remove_base()
    assert not fs.exists("/sys/fs/cgroup/memory/mybase")


# -- v2 --------------------------------------------------------------------------------------------


def test_v2_create_enables_controllers_top_down(fs):
    make_v2(fs)
    # An existing middle level, as the kernel would show it.
    fs.create_file("/sys/fs/cgroup/stepbox/cgroup.controllers", contents="cpu memory pids\n")
    fs.create_file("/sys/fs/cgroup/stepbox/cgroup.subtree_control", contents="")
    tracer = Tracer()
    LinuxCgroups(tracer=tracer).create("stepbox/c1")
    assert fs.exists("/sys/fs/cgroup/stepbox/c1")
    assert read("/sys/fs/cgroup/stepbox/cgroup.subtree_control") == "+cpu +memory +pids"
    writes = [(op.call, op.detail) for op in tracer.ops if op.call.startswith("write")]
    assert writes == [("write /sys/fs/cgroup/stepbox/cgroup.subtree_control", '"+cpu +memory +pids"')]


def test_v2_limits(fs):
    make_v2(fs)
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    d = "/sys/fs/cgroup/stepbox/c1"
    for f in ("memory.max", "pids.max", "cpu.max"):
        touch(fs, f"{d}/{f}")
    cg.set_limits("stepbox/c1", CgroupLimits.from_cpus(0.5, memory_bytes=8 << 20, pids_max=5))
    assert read(f"{d}/memory.max") == "8388608"
    assert read(f"{d}/pids.max") == "5"
    assert read(f"{d}/cpu.max") == "50000 100000"


def test_v2_stats(fs):
    make_v2(fs)
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    d = "/sys/fs/cgroup/stepbox/c1"
    touch(fs, f"{d}/memory.current", "8192\n")
    touch(fs, f"{d}/memory.max", "max\n")
    touch(fs, f"{d}/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n")
    touch(fs, f"{d}/pids.current", "2\n")
    touch(fs, f"{d}/pids.max", "max\n")
    touch(fs, f"{d}/pids.events", "max 0\n")
    touch(
        fs,
        f"{d}/cpu.stat",
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
        "nr_periods 8\nnr_throttled 3\nthrottled_usec 700\n",
    )
    touch(fs, f"{d}/cgroup.events", "populated 1\nfrozen 0\n")
    s = cg.stats("stepbox/c1")
    assert (s.memory_current, s.memory_max, s.memory_events) == (8192, None, {"oom": 1, "oom_kill": 1})
    assert (s.pids_current, s.pids_max) == (2, None)
    assert (s.cpu_usage_usec, s.cpu_nr_periods, s.cpu_nr_throttled, s.cpu_throttled_usec) == (1500, 8, 3, 700)
    assert s.frozen is False


def test_v2_freeze_waits_for_cgroup_events(fs):
    make_v2(fs)
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    d = "/sys/fs/cgroup/stepbox/c1"
    touch(fs, f"{d}/cgroup.freeze", "0\n")
    touch(fs, f"{d}/cgroup.events", "populated 1\nfrozen 1\n")  # what the kernel would report
    cg.freeze("stepbox/c1")
    assert read(f"{d}/cgroup.freeze").strip() == "1"
    assert cg.stats("stepbox/c1").frozen
    touch(fs, f"{d}/cgroup.events", "populated 1\nfrozen 0\n")
    cg.thaw("stepbox/c1")
    assert read(f"{d}/cgroup.freeze").startswith("0")


def test_v2_missing_controller_is_not_supported(fs):
    make_v2(fs, controllers="cpu pids")
    cg = LinuxCgroups()
    cg.create("stepbox/c1")
    with pytest.raises(NotSupported, match="memory"):
        cg.set_limits("stepbox/c1", CgroupLimits(memory_bytes=1 << 20))


# -- hybrid ------------------------------------------------------------------------------------------


def test_hybrid_tracks_processes_in_the_unified_tree_too(fs):
    make_hybrid(fs)
    tracer = Tracer()
    cg = LinuxCgroups(tracer=tracer)
    cg.create("stepbox/c1")
    assert fs.exists("/sys/fs/cgroup/unified/stepbox/c1")
    files = cg.procs_files("stepbox/c1")
    assert "/sys/fs/cgroup/unified/stepbox/c1/cgroup.procs" in files
    assert "/sys/fs/cgroup/memory/stepbox/c1/cgroup.procs" in files
    for f in files:
        touch(fs, f)
    cg.add_process("stepbox/c1", 4242)
    assert all(read(f) == "4242" for f in files)
    # No controller is enabled in the unified tree: nothing written to subtree_control.
    assert not any("subtree_control" in op.call for op in tracer.ops)
    # Limits still go to v1.
    touch(fs, "/sys/fs/cgroup/memory/stepbox/c1/memory.limit_in_bytes")
    cg.set_limits("stepbox/c1", CgroupLimits(memory_bytes=1 << 20))
    assert read("/sys/fs/cgroup/memory/stepbox/c1/memory.limit_in_bytes") == "1048576"
