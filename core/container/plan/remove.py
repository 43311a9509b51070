"""remove: the container's own layers, its cgroup and its record go (``docker rm``)."""

from __future__ import annotations

from .. import mounting
from ..context import LifecycleContext
from ..steps import Phase, Step
from .start import remove_cgroup, unmount_rootfs


def remove_container(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unmount_rootfs(ctx)
    remove_cgroup(ctx)
    unionfs.remove_layer(record.rw_layer)
    unionfs.remove_layer(record.init_layer)
    if ctx.remove_volumes and record.mounts and ctx.volumes is not None:
        # The record goes first, under the volumes' lock: two containers
        # sharing an anonymous volume (--volumes-from), removed at once
        # (docker rm -v a b sends both at once), each see the other gone or
        # still there -- never both still there, which would leave it.
        with ctx.locks.volumes:
            ctx.forget()
            mounting.remove_anonymous_volumes(ctx, ctx.volumes)
    else:
        ctx.forget()


REMOVE: Phase[LifecycleContext] = Phase(
    "remove",
    (
        Step(
            "remove",
            "Remove the container",
            "Unmount (if still mounted), delete the cgroup, and delete the container's own "
            "layers -- the init layer and the read-write layer -- and its record and logs. The "
            "image's layers stay: other containers share them. So do volumes: only `rm -v` (and "
            "`run --rm`) delete the container's anonymous volumes; a named one stays until "
            "`volume rm`.",
            "Docker容器",
            remove_container,
        ),
    ),
)
