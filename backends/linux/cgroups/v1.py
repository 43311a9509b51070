"""cgroup v1 controller files (``Documentation/admin-guide/cgroup-v1``).

In v1 every controller is its own hierarchy with its own file names; the
numbers are translated to the v2 vocabulary of :class:`CgroupStats` here
(e.g. ``throttled_time`` in nanoseconds becomes ``cpu_throttled_usec``).
"""

from __future__ import annotations

from stepbox.core.kernel.cgroups import CgroupStats

from .fsio import wait_until
from .hierarchy import Hierarchy

# v1 shows "no limit" as the largest page-aligned signed 64-bit number.
V1_UNLIMITED_THRESHOLD = 1 << 62


class V1Hierarchy(Hierarchy):
    version = 1


# -- memory ---------------------------------------------------------------------


def set_memory(h: Hierarchy, path: str, limit: int | None) -> None:
    # No memsw (memory+swap) limit: Docker sets it to twice the memory limit
    # when swap accounting is on; hosts without swap do not need it.
    h.io.write(f"{h.dir(path)}/memory.limit_in_bytes", str(limit if limit is not None else -1))


def read_memory(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    d = h.dir(path)
    stats.memory_current = h.io.read_int(f"{d}/memory.usage_in_bytes")
    limit = h.io.read_int(f"{d}/memory.limit_in_bytes", default=-1)
    stats.memory_max = None if limit < 0 or limit >= V1_UNLIMITED_THRESHOLD else limit
    oom = h.io.read_keyed(f"{d}/memory.oom_control")
    # v1 counts kills (oom_kill, Linux 4.13+) but has no separate count of
    # OOM events, so both v2 counters take the kill count.
    kills = oom.get("oom_kill", 0)
    stats.memory_events = {"oom": kills, "oom_kill": kills}


# -- pids (same file names in v1 and v2) --------------------------------------------------


def set_pids(h: Hierarchy, path: str, limit: int | None) -> None:
    h.io.write(f"{h.dir(path)}/pids.max", "max" if limit is None else str(limit))


def read_pids(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    d = h.dir(path)
    stats.pids_current = h.io.read_int(f"{d}/pids.current")
    try:
        raw = h.io.read(f"{d}/pids.max").strip()
    except OSError:
        raw = "max"
    stats.pids_max = None if raw == "max" else int(raw)
    stats.pids_events_max = h.io.read_keyed(f"{d}/pids.events").get("max", 0)


# -- cpu ----------------------------------------------------------------------------------


def set_cpu(h: Hierarchy, path: str, quota_us: int | None, period_us: int) -> None:
    d = h.dir(path)
    h.io.write(f"{d}/cpu.cfs_period_us", str(period_us))
    h.io.write(f"{d}/cpu.cfs_quota_us", str(quota_us if quota_us is not None else -1))


def read_cpu(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    stat = h.io.read_keyed(f"{h.dir(path)}/cpu.stat")
    stats.cpu_nr_periods = stat.get("nr_periods", 0)
    stats.cpu_nr_throttled = stat.get("nr_throttled", 0)
    stats.cpu_throttled_usec = stat.get("throttled_time", 0) // 1000  # ns -> usec


def read_cpuacct(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    stats.cpu_usage_usec = h.io.read_int(f"{h.dir(path)}/cpuacct.usage") // 1000  # ns -> usec


# -- freezer ------------------------------------------------------------------------------


def freeze(h: Hierarchy, path: str) -> None:
    """Write FROZEN; the state reads FREEZING until every task has stopped."""
    state = f"{h.dir(path)}/freezer.state"
    h.io.write(state, "FROZEN")
    wait_until(lambda: h.io.read(state).strip() == "FROZEN", f"{state} to become FROZEN")


def thaw(h: Hierarchy, path: str) -> None:
    state = f"{h.dir(path)}/freezer.state"
    h.io.write(state, "THAWED")
    wait_until(lambda: h.io.read(state).strip() == "THAWED", f"{state} to become THAWED")


def is_frozen(h: Hierarchy, path: str) -> bool:
    try:
        return h.io.read(f"{h.dir(path)}/freezer.state").strip() == "FROZEN"
    except OSError:
        return False
