"""What the steps of one container's plan share: :class:`LifecycleContext`.

A step gets the kernel, the stores, the container's record and what earlier
steps left for it (the process handle, the union mount).  Two things in it
depend on who runs the plan, and only they:

* ``waiter`` -- how a step that ends the process (``stop``'s grace period)
  waits for the exit.  In one program it waits on the process itself; in
  the daemon, whose exit monitor owns that wait, it waits for the monitor's
  news (see :class:`ExitWatch`).
* ``say`` -- where a step's remarks go (the terminal, the daemon's log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stepbox.core.kernel import ExitStatus, Kernel, ProcessHandle, Tracer, UnionMount

from .errors import NoSuchContainer
from .etc_files import ETC_FILES
from .locks import StoreLocks
from .steps import StepContext, UndoChain
from .store import remove_container_dir

if TYPE_CHECKING:
    from stepbox.core.confinement.policy import Confinement
    from stepbox.core.image.store import ImageStore
    from stepbox.core.network.manager import NetworkManager
    from stepbox.core.volumes.store import VolumeStore

    from .record import ContainerRecord
    from .store import ContainerStore
    from .users import ExecUser

# How a step waits for PID 1 to end: the ExitStatus, or None if ``timeout``
# (seconds; None: no limit) ran out first.
Waiter = Callable[["LifecycleContext", "float | None"], "ExitStatus | None"]


def wait_on_the_process(ctx: LifecycleContext, timeout: float | None) -> ExitStatus | None:
    if ctx.handle is None:
        return None
    return ctx.handle.wait(timeout)


class ExitWatch:
    """Who sees a container's PID 1 end and records the exit (the ``exit`` phase).

    In one program -- ``stepbox step``, a notebook, a test -- nobody else
    watches: the program that ends a process records its exit itself, so the
    plans of ``stop`` and ``kill -9`` end with the exit phase, and their
    waits wait on the process.  The daemon watches every running container
    with an exit monitor of its own (``core/engine/engine.py``), which runs
    the exit phase; there, those plans end when the signal is sent, and
    their waits wait for the monitor."""

    records_exits = True

    def waiter(self, record: ContainerRecord) -> Waiter:
        return wait_on_the_process


# What the engine writes in a container's directory: its /etc files and
# its logs (what forget() unlinks by name before anything else is looked
# for there).
CONTAINER_DIR_FILES = (*ETC_FILES, "stdout.log", "stderr.log")


@dataclass
class LifecycleContext(StepContext):
    """What the steps of one container's lifecycle share."""

    kernel: Kernel
    images: ImageStore
    containers: ContainerStore
    record: ContainerRecord
    # Processes this program started, by container ID: shared by every plan
    # of the runtime (a later program re-finds them from the record).
    handles: dict[str, ProcessHandle] = field(default_factory=dict)
    handle: ProcessHandle | None = None
    mount: UnionMount | None = None
    exit_status: ExitStatus | None = None
    confinement: Confinement | None = None  # decided by the start phase's first step
    user: ExecUser | None = None  # resolved where the process switches to it
    waiter: Waiter = wait_on_the_process
    say: Callable[[str], None] = lambda message: None
    volumes: VolumeStore | None = None  # the volume store (mounting.py)
    remove_volumes: bool = False  # remove: the anonymous volumes too (rm -v, run --rm)
    # Shared by every plan of the runtime: images and layers in use (see locks.py).
    locks: StoreLocks = field(default_factory=StoreLocks)
    forgotten: bool = False  # the record and logs are deleted: nothing left to save
    networks: NetworkManager | None = None  # the engine's networks; None: loopback only
    connect_to: str | None = None  # the network `network connect` wires (else all of them)
    disconnect_from: str | None = None  # the network `network disconnect` unwires
    joined_pid: int = 0  # --network container:X: X's PID 1, whose network namespace is joined
    undo: UndoChain = field(default_factory=UndoChain)

    @property
    def tracer(self) -> Tracer:
        return self.kernel.tracer

    def save(self) -> None:
        if not self.forgotten:
            self.containers.save(self.record)

    def wait_for_exit(self, timeout: float | None) -> ExitStatus | None:
        """PID 1's exit status once it has ended; None if ``timeout`` ran out."""
        return self.waiter(self, timeout)

    def forget(self) -> None:
        """Delete the container's record and logs: it no longer exists."""
        self.handles.pop(self.record.id, None)
        self.containers.delete(self.record)
        # An in-memory store keeps the logs in a scratch directory of their own.
        remove_container_dir(self.record.log_dir, CONTAINER_DIR_FILES)
        self.forgotten = True

    def reload(self) -> None:
        """Read the record again: another thread changed it while a step
        waited (the daemon's exit monitor recorded the exit)."""
        try:
            self.record = self.containers.find(self.record.id)
        except NoSuchContainer:  # removed meanwhile (--rm)
            self.forgotten = True


__all__ = ["ExitWatch", "LifecycleContext", "Waiter", "wait_on_the_process"]
