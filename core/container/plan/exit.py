"""exit: PID 1 has ended -- record how, and release what only a running container needs.

Run once per start, by whoever watches the process: the daemon's exit
monitor, or -- in one program (``stepbox step``, a notebook) -- ``run``
itself, and ``stop`` and ``kill -9`` after they ended the process.
"""

from __future__ import annotations

from stepbox.core.kernel import ExitStatus

from .. import mounting
from ..context import LifecycleContext
from ..record import EXITED, now
from ..steps import Phase, Step
from .network import release_network
from .start import unmount_rootfs

GONE = "the container's process is gone (it ended while stepbox was not watching)"


def wait_for_exit(ctx: LifecycleContext) -> None:
    if ctx.handle is None:  # no process to wait for: a later program found it gone
        ctx.record.error = ctx.record.error or GONE
        record_exit(ctx, None)
    else:
        record_exit(ctx, ctx.handle.wait())


def record_exit(ctx: LifecycleContext, status: ExitStatus | None) -> None:
    """Record how PID 1 ended, take down its network (proxies, DNS server,
    veths, addresses, rules), read the OOM counter before the cgroup goes,
    unmount the rootfs.  The read-write layer stays for ``diff``,
    ``commit`` and ``start``."""
    record, kernel = ctx.record, ctx.kernel
    release_network(ctx)
    if record.cgroup and kernel.cgroups.exists(record.cgroup):
        events = kernel.cgroups.stats(record.cgroup).memory_events
        record.oom_killed = events.get("oom_kill", 0) > 0
        kernel.cgroups.remove(record.cgroup)
    record.cgroup = ""
    unmount_rootfs(ctx)
    record.state = EXITED
    if record.mounts and ctx.volumes is not None:
        mounting.release_volumes(ctx, ctx.volumes)
    record.exit_code = status.code if status is not None else record.exit_code
    record.finished_at = now()
    record.pid = 0
    record.process = None
    ctx.handles.pop(record.id, None)
    ctx.handle = None
    ctx.exit_status = status


EXIT: Phase[LifecycleContext] = Phase(
    "exit",
    (
        Step(
            "wait",
            "Wait for the container to exit",
            "The container lives as long as its first process. When PID 1 exits, the kernel "
            "kills everything else in its PID namespace; stepbox records the exit status "
            "(128+N for a signal: 137 = SIGKILL, e.g. by the OOM killer), then unmounts the "
            "rootfs and removes the cgroup; a volume mounted for it alone (type=tmpfs) is "
            "unmounted. The read-write layer stays, and so do the volumes.",
            "Docker容器",
            wait_for_exit,
        ),
    ),
)
