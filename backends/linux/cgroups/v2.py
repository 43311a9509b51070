"""cgroup v2 controller files (``Documentation/admin-guide/cgroup-v2.rst``).

In v2 there is one tree.  A controller is available in a group only if its
parent lists it in ``cgroup.subtree_control``, so creating a group means
first enabling the controllers, level by level, from the root down.  And
because of the *no internal processes* rule, controllers can only be
enabled in a group that has no processes of its own -- which is why stepbox
keeps processes only in the leaves.
"""

from __future__ import annotations

from stepbox.core.kernel.cgroups import CgroupStats

from . import v1
from .fsio import CgroupIO, wait_until
from .hierarchy import Hierarchy


class V2Hierarchy(Hierarchy):
    version = 2

    def __init__(
        self,
        mountpoint: str,
        base: str,
        io: CgroupIO,
        controllers: frozenset[str] = frozenset(),
        name: str = "unified",
    ):
        super().__init__(mountpoint, base, io, name)
        self.controllers = controllers  # the ones stepbox wants enabled

    def before_mkdir(self, parent: str) -> None:
        if not self.controllers:
            return
        try:
            available = set(self.io.read(f"{parent}/cgroup.controllers").split())
            enabled = set(self.io.read(f"{parent}/cgroup.subtree_control").split())
        except OSError:
            return
        wanted = sorted((self.controllers & available) - enabled)
        if wanted:
            self.io.write(f"{parent}/cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))


# -- memory ----------------------------------------------------------------------


def set_memory(h: Hierarchy, path: str, limit: int | None) -> None:
    h.io.write(f"{h.dir(path)}/memory.max", "max" if limit is None else str(limit))


def read_memory(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    d = h.dir(path)
    stats.memory_current = h.io.read_int(f"{d}/memory.current")
    try:
        raw = h.io.read(f"{d}/memory.max").strip()
    except OSError:
        raw = "max"
    stats.memory_max = None if raw == "max" else int(raw)
    events = h.io.read_keyed(f"{d}/memory.events")
    stats.memory_events = {"oom": events.get("oom", 0), "oom_kill": events.get("oom_kill", 0)}


# -- pids: identical files in v1 and v2 ---------------------------------------------
# The manager calls a controller's functions by name on the hierarchy's module
# (``v1`` or ``v2``), so v2 names v1's pids functions as its own.

set_pids = v1.set_pids
read_pids = v1.read_pids

# -- cpu --------------------------------------------------------------------------------


def set_cpu(h: Hierarchy, path: str, quota_us: int | None, period_us: int) -> None:
    quota = "max" if quota_us is None else str(quota_us)
    h.io.write(f"{h.dir(path)}/cpu.max", f"{quota} {period_us}")


def read_cpu(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    stat = h.io.read_keyed(f"{h.dir(path)}/cpu.stat")
    stats.cpu_usage_usec = stat.get("usage_usec", 0)
    stats.cpu_nr_periods = stat.get("nr_periods", 0)
    stats.cpu_nr_throttled = stat.get("nr_throttled", 0)
    stats.cpu_throttled_usec = stat.get("throttled_usec", 0)


def read_cpuacct(h: Hierarchy, path: str, stats: CgroupStats) -> None:
    """v2 has no cpuacct: usage_usec is in cpu.stat (present even without
    the cpu controller enabled)."""
    stats.cpu_usage_usec = h.io.read_keyed(f"{h.dir(path)}/cpu.stat").get("usage_usec", 0)


# -- freezer: cgroup.freeze, a core file since Linux 5.2 -----------------------------------


def _frozen_flag(h: Hierarchy, path: str) -> int | None:
    return h.io.read_keyed(f"{h.dir(path)}/cgroup.events").get("frozen")


def freeze(h: Hierarchy, path: str) -> None:
    h.io.write(f"{h.dir(path)}/cgroup.freeze", "1")
    wait_until(lambda: _frozen_flag(h, path) == 1, f"{h.dir(path)} to report frozen 1")


def thaw(h: Hierarchy, path: str) -> None:
    h.io.write(f"{h.dir(path)}/cgroup.freeze", "0")
    wait_until(lambda: _frozen_flag(h, path) in (0, None), f"{h.dir(path)} to report frozen 0")


def is_frozen(h: Hierarchy, path: str) -> bool:
    return _frozen_flag(h, path) == 1
