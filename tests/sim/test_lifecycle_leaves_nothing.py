"""A simulated `run --rm` leaves nothing behind in the simulated kernel.

Once a container is removed, nothing of it stays reachable: not its init
process (with it, its namespaces, mount table, overlay and /proc), and not
its union mount's directory on the simulated host -- as on Linux, where
removing the container removes ``overlay/mounts/ID``.  Both used to pile up
with every lifecycle (and slowed the simulator down as they did).
"""

from __future__ import annotations

import gc
import weakref

from stepbox.backends.sim.unionfs import OVERLAY_ROOT
from stepbox.core.container import steps
from stepbox.core.container.config import ContainerConfig
from stepbox.core.session import open_session

CONFIG = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, network="none")


def _session(tmp_path):
    return open_session("sim", str(tmp_path), trace=False, records_in_memory=True, kernel_in_memory=True)


def _remembering_inits(inits: list[weakref.ref]):
    """A step listener that keeps a weak reference to each container's init."""

    def remember_init(ctx, step) -> None:
        proc = getattr(ctx.handle, "proc", None)
        if proc is not None and not any(ref() is proc for ref in inits):
            inits.append(weakref.ref(proc))

    return remember_init


def test_removed_containers_leave_no_process_and_no_mount_dir(tmp_path):
    session = _session(tmp_path)
    runtime = session.runtime
    kernel = runtime.kernel
    inits: list[weakref.ref] = []
    stop = steps.listen(_remembering_inits(inits))
    try:
        for _ in range(3):
            assert runtime.run(CONFIG).exit_code == 0
    finally:
        stop()
    gc.collect()

    assert len(inits) == 3
    assert [ref() for ref in inits if ref() is not None] == []
    assert kernel.vfs.listdir(kernel.engine, f"{OVERLAY_ROOT}/mounts") == []
    assert kernel.processes.live_inits() == []


def test_an_ended_containers_init_is_freed_without_the_garbage_collector(tmp_path):
    """No reference cycle holds an ended container's init (its PID
    namespace forgets it once the namespace is empty and dead): it goes
    with its last reference, and its namespaces, mount table and
    filesystems with it -- not at the collector's next pass, which then
    walked every ended container's state (~10% of a lifecycle's time)."""
    session = _session(tmp_path)
    runtime = session.runtime
    inits: list[weakref.ref] = []
    runtime.run(CONFIG)  # the image and the engine's own state, made once
    gc.collect()
    stop = steps.listen(_remembering_inits(inits))
    gc.disable()
    try:
        for _ in range(3):
            assert runtime.run(CONFIG).exit_code == 0
        assert len(inits) == 3
        assert [ref() for ref in inits if ref() is not None] == []
    finally:
        gc.enable()
        stop()
