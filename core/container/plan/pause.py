"""pause and unpause: the cgroup freezer (``docker pause``, ``docker unpause``)."""

from __future__ import annotations

from ..context import LifecycleContext
from ..record import PAUSED, RUNNING
from ..steps import Phase, Step


def freeze(ctx: LifecycleContext) -> None:
    ctx.kernel.cgroups.freeze(ctx.record.cgroup)
    ctx.record.state = PAUSED


def thaw(ctx: LifecycleContext) -> None:
    ctx.kernel.cgroups.thaw(ctx.record.cgroup)
    ctx.record.state = RUNNING


PAUSE: Phase[LifecycleContext] = Phase(
    "pause",
    (
        Step(
            "freeze",
            "Freeze the cgroup",
            "The freezer stops every process of the cgroup where it stands -- no signal, "
            "nothing the processes could notice or refuse -- until the cgroup is thawed.",
            "Docker CGroups",
            freeze,
        ),
    ),
)

UNPAUSE: Phase[LifecycleContext] = Phase(
    "unpause",
    (
        Step(
            "thaw",
            "Thaw the cgroup",
            "The frozen processes carry on where they stopped. A frozen process cannot act "
            "on a signal either, so stop and kill thaw a paused container first.",
            "Docker CGroups",
            thaw,
        ),
    ),
)
