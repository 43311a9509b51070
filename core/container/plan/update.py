"""update: new limits for a container, running or not (``docker update``).

The config is the container's own record of what it asked for; a running
container's cgroup gets the new limits at once (memory.max, cpu.max,
pids.max -- the kernel applies them to processes already inside).
"""

from __future__ import annotations

from ..config import ContainerConfig
from ..context import LifecycleContext
from ..record import PAUSED, RUNNING
from ..steps import Phase, Step


def update_phase(new_config: ContainerConfig) -> Phase[LifecycleContext]:
    """``docker update`` to ``new_config`` (only its limits and restart policy differ)."""

    def record_config(ctx: LifecycleContext) -> None:
        ctx.record.config = new_config

    def set_limits(ctx: LifecycleContext) -> None:
        record = ctx.record
        if record.state in (RUNNING, PAUSED) and record.cgroup:
            ctx.kernel.cgroups.set_limits(record.cgroup, new_config.limits)

    return Phase(
        "update",
        (
            Step(
                "config",
                "Record the new settings",
                "docker update changes what the container asked for: memory, CPUs, the number "
                "of processes, the restart policy. A later start uses the new values.",
                "Docker CGroups",
                record_config,
            ),
            Step(
                "limits",
                "Write the new limits to the cgroup",
                "A running container's cgroup takes new limits at once: the kernel applies "
                "memory.max, cpu.max and pids.max to the processes already inside -- no restart.",
                "Docker CGroups",
                set_limits,
            ),
        ),
    )
