"""Watching a running container's cgroup counters over time.

The same loop on both kernels: wait for the container's first process with a
short timeout (real seconds on Linux; virtual seconds on the simulator, whose
clock moves only while something waits), then read the cgroup's counters.
When the process has ended, the runtime records how (``refresh``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stepbox.core.container.record import ContainerRecord
from stepbox.core.kernel import CgroupStats


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since sampling began (sample number x interval)
    stats: CgroupStats


def sample_cgroup(
    lab,
    record: ContainerRecord,
    every: float = 0.05,
    at_most: int = 200,
    until: Callable[[CgroupStats], bool] | None = None,
) -> list[Sample]:
    """Counters of ``record``'s cgroup every ``every`` seconds, until the
    container exits, ``until(stats)`` holds, or ``at_most`` samples were
    taken (it is then still running)."""
    runtime = lab.runtime
    handle = runtime.context(record).handle
    samples: list[Sample] = []
    for number in range(at_most):
        if handle is None or handle.wait(timeout=every) is not None:
            break
        try:
            stats = lab.kernel.cgroups.stats(record.cgroup)
        except (FileNotFoundError, OSError):
            break  # it exited between the wait and the read
        samples.append(Sample(round((number + 1) * every, 6), stats))
        if until is not None and until(stats):
            break
    runtime.refresh(record)  # an exit is recorded now: state, exit code, OOMKilled
    return samples


__all__ = ["Sample", "sample_cgroup"]
