"""``RUN``: a command in a container, whose changes become a layer.

This is the seed's ``commit`` used as a building block: the builder creates a
container from the image built so far, runs the command in it, waits, and
reads the container's read-write layer -- everything the command changed --
as the changeset of the new layer.  The container is removed afterwards,
whether the command succeeded or not, so a build leaves no containers.

It goes through the :class:`~stepbox.core.container.runtime.Runtime`, i.e.
the very lifecycle ``stepbox run`` uses, on whichever kernel backend the
runtime has (real or simulated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stepbox.core.container.config import ContainerConfig
from stepbox.core.kernel import ExecFailed, LayerEntry


@dataclass
class RunOutcome:
    container_id: str
    exit_code: int
    output: str
    changes: list[LayerEntry]


def run_step(
    runtime,
    image_id: str,
    argv: list[str],
    env: dict[str, str],
    workdir: str,
    user: str,
    on_start=lambda container_id: None,
    defer_removal: Callable[[Callable[[], None]], None] | None = None,
) -> RunOutcome:
    """Run ``argv`` (no entrypoint: RUN ignores the image's) on ``image_id``.
    The changes' contents are read from the container's layer when they are
    written out, so after a success its removal may be handed to
    ``defer_removal``, to be called once the layer is committed."""
    config = ContainerConfig(
        image=image_id, cmd=tuple(argv), entrypoint=(), env=dict(env), workdir=workdir or "", user=user or ""
    )
    record = runtime.create(config)
    succeeded = False
    try:
        on_start(record.id)
        try:
            runtime.start(record)
            exit_code = runtime.wait(record)
        except ExecFailed as e:  # the command could not even start (not found ...)
            stdout, stderr = runtime.logs(record)
            output = (stdout + stderr).decode(errors="replace") + f"{e}\n"
            return RunOutcome(record.id, e.exit_code, output, [])
        stdout, stderr = runtime.logs(record)
        output = (stdout + stderr).decode(errors="replace")
        changes = list(runtime.kernel.unionfs.changes(record.rw_layer)) if exit_code == 0 else []
        succeeded = exit_code == 0
        return RunOutcome(record.id, exit_code, output, changes)
    finally:

        def remove() -> None:
            runtime.remove(runtime.refresh(record), force=True)

        if succeeded and defer_removal is not None:
            defer_removal(remove)
        else:
            remove()
