"""Control groups: what a group of processes may use.

The seed: namespaces isolate, but "进程是可以不受限制的使用系统资源" -- without
limits the processes could still use the whole machine.  cgroups limit them,
and when a memory limit is hit the kernel's OOM killer kills a process *inside*
the group instead of an innocent one elsewhere.

Paths are relative to the stepbox part of the hierarchy, e.g.
``"stepbox/3f2a…"``; the backend decides where that lives (cgroup v1
controllers, a v2 unified tree, or the hybrid of both) and reports stats in the
cgroup-v2 vocabulary whichever it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from .devices import DeviceRule


@dataclass(frozen=True)
class CgroupLimits:
    memory_bytes: int | None = None  # memory.max / memory.limit_in_bytes
    pids_max: int | None = None  # pids.max
    cpu_quota_us: int | None = None  # cpu.max "QUOTA PERIOD" / cpu.cfs_quota_us
    cpu_period_us: int = 100_000  # cpu.cfs_period_us (Docker's default)

    @classmethod
    def from_cpus(
        cls,
        cpus: float,
        memory_bytes: int | None = None,
        pids_max: int | None = None,
        cpu_period_us: int = 100_000,
    ) -> CgroupLimits:
        """Docker's ``--cpus N``: quota = N * period."""
        return cls(
            memory_bytes=memory_bytes,
            pids_max=pids_max,
            cpu_quota_us=int(cpus * cpu_period_us),
            cpu_period_us=cpu_period_us,
        )


@dataclass
class CgroupStats:
    memory_current: int = 0
    memory_max: int | None = None
    memory_events: dict[str, int] = field(default_factory=lambda: {"oom": 0, "oom_kill": 0})
    pids_current: int = 0
    pids_max: int | None = None
    pids_events_max: int = 0  # forks refused because of pids.max
    cpu_usage_usec: int = 0
    cpu_nr_periods: int = 0
    cpu_nr_throttled: int = 0
    cpu_throttled_usec: int = 0
    frozen: bool = False


class Cgroups(ABC):
    @abstractmethod
    def create(self, path: str) -> None:
        """mkdir the cgroup (in every controller hierarchy the backend uses)."""

    @abstractmethod
    def set_limits(self, path: str, limits: CgroupLimits) -> None: ...

    @abstractmethod
    def set_devices(self, path: str, rules: list[DeviceRule]) -> None:
        """Which device files the group may open and create: ``rules``
        applied in order, as writes to v1's devices.allow/deny would be
        (:class:`~.devices.DeviceAllowlist`).  Before any process joins."""

    @abstractmethod
    def device_rules(self, path: str) -> list[str]:
        """The rules in force, as v1's ``devices.list`` shows them (``c 1:3 rwm``)."""

    @abstractmethod
    def add_process(self, path: str, pid: int) -> None:
        """Move host PID ``pid`` into the cgroup (write to cgroup.procs)."""

    @abstractmethod
    def procs(self, path: str) -> list[int]:
        """Host PIDs in the cgroup (cgroup.procs)."""

    @abstractmethod
    def stats(self, path: str) -> CgroupStats: ...

    @abstractmethod
    def freeze(self, path: str) -> None: ...

    @abstractmethod
    def thaw(self, path: str) -> None: ...

    @abstractmethod
    def remove(self, path: str) -> None:
        """rmdir the cgroup; retries while exiting tasks drain (EBUSY).
        Removing a cgroup that does not exist is not an error (idempotent undo)."""

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def list(self) -> list[str]:
        """Every cgroup path under the stepbox part of the tree (for leak checks)."""
