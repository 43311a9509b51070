"""cgroups of the simulated kernel: memory + OOM killer, pids, cpu quota, freezer."""

from __future__ import annotations

import errno
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_kernel_helpers import Box, boot
from stepbox.backends.sim.cgroups import CgroupBusy
from stepbox.core.kernel.cgroups import CgroupLimits
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.processes import ExitStatus

MB = 1 << 20


@pytest.fixture
def k():
    return boot()


def test_create_is_mkdir_p_and_list_shows_what_is_below_the_prefix(k):
    k.cgroups.create("stepbox/a")
    k.cgroups.create("stepbox/b/c")
    assert k.cgroups.exists("stepbox") and k.cgroups.exists("stepbox/b/c")
    assert k.cgroups.list() == ["stepbox/a", "stepbox/b", "stepbox/b/c"]
    k.cgroups.remove("stepbox/b")
    assert k.cgroups.list() == ["stepbox/a"]


def test_remove_is_idempotent_and_ebusy_while_tasks_remain(k, tmp_path):
    k.cgroups.remove("stepbox/never")  # not an error
    box = Box(k, tmp_path, setup=False)
    with pytest.raises(CgroupBusy) as err:
        k.cgroups.remove(box.cgroup)
    assert err.value.errno == errno.EBUSY and isinstance(err.value, KernelError)
    box.handle.signal(signal.SIGKILL)
    box.handle.wait()
    k.cgroups.remove(box.cgroup)
    k.cgroups.remove(box.cgroup)
    assert not k.cgroups.exists(box.cgroup)


def test_limits_are_written_like_cgroupfs_and_reported_in_stats(k):
    k.cgroups.create("stepbox/x")
    k.cgroups.set_limits("stepbox/x", CgroupLimits.from_cpus(0.5, memory_bytes=64 * MB, pids_max=10))
    calls = [op.call for op in k.tracer.ops]
    assert "write /sys/fs/cgroup/stepbox/x/memory.max" in calls
    assert "write /sys/fs/cgroup/stepbox/x/cpu.max" in calls
    s = k.cgroups.stats("stepbox/x")
    assert (s.memory_max, s.pids_max, s.memory_current, s.pids_current) == (64 * MB, 10, 0, 0)


def test_add_process_moves_it(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    k.cgroups.create("stepbox/other")
    k.cgroups.add_process("stepbox/other", box.pid)
    assert k.cgroups.procs("stepbox/other") == [box.pid]
    assert k.cgroups.procs(box.cgroup) == []
    assert k.cgroups.stats("stepbox/other").pids_current == 1


def test_going_over_memory_max_is_an_oom_kill_137(k, tmp_path):
    box = Box(k, tmp_path, limits=CgroupLimits(memory_bytes=8 * MB))

    def hog(sys):
        while True:
            yield from sys.alloc(MB)

    assert box.run(hog) == ExitStatus(137, signal.SIGKILL)
    s = k.cgroups.stats(box.cgroup)
    assert s.memory_events == {"oom": 1, "oom_kill": 1}
    assert s.memory_current == 0
    assert box.proc.oom_killed


def test_the_oom_killer_picks_the_biggest_task_of_the_cgroup(k, tmp_path):
    box = Box(k, tmp_path, limits=CgroupLimits(memory_bytes=10 * MB))
    log = []

    def big(sys):
        yield from sys.alloc(6 * MB)
        yield from sys.sleep(100)
        return 0

    def init(sys):
        pid = sys.fork(big)
        yield from sys.sleep(1)
        yield from sys.alloc(5 * MB)  # over the limit: the child is bigger
        res = yield from sys.waitpid(pid)
        log.append(res.status)
        return 0

    assert box.run(init) == ExitStatus(0)
    assert log == [signal.SIGKILL]
    assert k.cgroups.stats(box.cgroup).memory_events["oom_kill"] == 1


def test_an_oom_in_one_container_leaves_the_other_alone(k, tmp_path):
    a = Box(k, tmp_path, limits=CgroupLimits(memory_bytes=4 * MB))
    b = Box(k, tmp_path)

    def hold(sys):
        yield from sys.alloc(64 * MB)
        yield from sys.sleep(10)
        return 0

    def hog(sys):
        while True:
            yield from sys.alloc(MB)

    b.exec(hold)
    assert a.run(hog).code == 137
    assert b.handle.wait() == ExitStatus(0)


def test_lowering_memory_max_below_usage_kills(k, tmp_path):
    box = Box(k, tmp_path)

    def hold(sys):
        yield from sys.alloc(32 * MB)
        yield from sys.sleep(100)
        return 0

    h = box.exec(hold)
    h.wait(timeout=1)
    k.cgroups.set_limits(box.cgroup, CgroupLimits(memory_bytes=16 * MB))
    assert h.wait() == ExitStatus(137, signal.SIGKILL)


def test_pids_max_makes_fork_fail_with_eagain(k, tmp_path):
    box = Box(k, tmp_path, limits=CgroupLimits(pids_max=4))
    out = []

    def sleeper(sys):
        yield from sys.sleep(10)
        return 0

    def bomb(sys):
        for _ in range(10):
            try:
                sys.fork(sleeper)
            except BlockingIOError as e:
                out.append(e.errno)
        return 0
        yield

    assert box.run(bomb).code == 0
    assert out == [errno.EAGAIN] * 7  # init + 3 children fit
    assert k.cgroups.stats(box.cgroup).pids_events_max == 7


def test_zombies_still_count_in_pids_current(k, tmp_path):
    box = Box(k, tmp_path)
    seen = []

    def child(sys):
        return 0
        yield

    def init(sys):
        pid = sys.fork(child)
        yield from sys.sleep(1)
        seen.append(k.cgroups.stats(box.cgroup).pids_current)
        yield from sys.waitpid(pid)
        seen.append(k.cgroups.stats(box.cgroup).pids_current)
        return 0

    box.run(init)
    assert seen == [2, 1]


def test_a_zombie_in_a_removed_cgroup_is_uncharged_from_its_ancestors(k, tmp_path):
    """A cgroup whose only task is a zombie can be removed (no live task);
    when the zombie is reaped later its ancestors still count it down."""
    box = Box(k, tmp_path)
    k.cgroups.create(f"{box.cgroup}/sub")
    seen = []

    def child(sys):
        yield from sys.sleep(1)
        return 0

    def init(sys):
        pid = sys.fork(child)
        k.cgroups.add_process(f"{box.cgroup}/sub", next(iter(box.proc.children)).pid)
        yield from sys.sleep(2)  # the child is a zombie now, in sub
        seen.append(k.cgroups.procs(f"{box.cgroup}/sub"))
        k.cgroups.remove(f"{box.cgroup}/sub")
        seen.append((k.cgroups.exists(f"{box.cgroup}/sub"), k.cgroups.stats(box.cgroup).pids_current))
        yield from sys.waitpid(pid)
        seen.append(k.cgroups.stats(box.cgroup).pids_current)
        return 0

    assert box.run(init).code == 0
    assert seen == [[], (False, 2), 1]


def _burner(total_usec):
    def burn(sys):
        start = sys.time()
        yield from sys.burn(total_usec)
        return min(255, int((sys.time() - start) * 10))  # tenths of virtual seconds

    return burn


def test_cpu_quota_throttles_on_the_virtual_clock(k, tmp_path):
    box = Box(k, tmp_path, limits=CgroupLimits.from_cpus(0.5))
    status = box.run(_burner(1_000_000))  # 1 s of CPU at half a CPU
    assert status.code >= 19  # ~2 virtual seconds
    s = k.cgroups.stats(box.cgroup)
    assert s.cpu_nr_throttled >= 9 and s.cpu_throttled_usec >= 900_000
    assert s.cpu_nr_periods >= 19
    assert s.cpu_usage_usec >= 1_000_000


def test_no_quota_no_throttling(k, tmp_path):
    box = Box(k, tmp_path)
    status = box.run(_burner(1_000_000))
    assert status.code in (10, 11)
    s = k.cgroups.stats(box.cgroup)
    assert s.cpu_nr_throttled == 0 and s.cpu_throttled_usec == 0


@settings()
@given(cpus=st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0, 2.0]))
def test_throttling_counters_move_with_the_quota(cpus, tmp_path_factory):
    k = boot()
    box = Box(k, tmp_path_factory.mktemp("c"), limits=CgroupLimits.from_cpus(cpus))
    box.run(_burner(300_000))
    s = k.cgroups.stats(box.cgroup)
    if cpus >= 1.0:
        assert s.cpu_nr_throttled == 0
    else:
        assert s.cpu_nr_throttled > 0
        # throttled time is the rest of each period: the smaller the quota, the more
        assert s.cpu_throttled_usec >= 300_000 * (1 - cpus) / cpus * 0.8


def test_freezer_stops_progress_until_thawed(k, tmp_path):
    box = Box(k, tmp_path)
    ticks = []

    def ticker(sys):
        for i in range(5):
            ticks.append(i)
            yield from sys.sleep(1)
        return 0

    h = box.exec(ticker)
    h.wait(timeout=1.5)
    k.cgroups.freeze(box.cgroup)
    assert k.cgroups.stats(box.cgroup).frozen
    before = len(ticks)
    assert h.wait(timeout=100) is None
    assert len(ticks) == before
    info = {i.pid: i for i in k.processes.list()}[box.pid]
    assert info.state == "T"
    k.cgroups.thaw(box.cgroup)
    assert h.wait() == ExitStatus(0)
    assert ticks == list(range(5))


def test_sigkill_works_on_a_frozen_container(k, tmp_path):
    box = Box(k, tmp_path)

    def idle(sys):
        yield from sys.sleep(float("inf"))

    h = box.exec(idle)
    k.cgroups.freeze(box.cgroup)
    h.signal(signal.SIGKILL)
    assert h.wait() == ExitStatus(137, signal.SIGKILL)


@settings()
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(1, 3 * MB)), max_size=25))
def test_memory_accounting_matches_what_is_held(ops, tmp_path_factory):
    k = boot()
    box = Box(k, tmp_path_factory.mktemp("m"), limits=CgroupLimits(memory_bytes=8 * MB))
    held = []

    def prog(sys):
        total = 0
        for is_alloc, n in ops:
            if is_alloc:
                yield from sys.alloc(n)
                total += n
            else:
                n = min(n, total)
                sys.free(n)
                total -= n
            held.append(k.cgroups.stats(box.cgroup).memory_current == total <= 8 * MB)
        return 0

    status = box.run(prog)
    assert all(held)
    assert status.code in (0, 137)
    assert k.cgroups.stats(box.cgroup).memory_current == 0
