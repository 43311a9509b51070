"""``docker stop`` stepped through in the step engine makes the daemon's calls.

``stepbox step`` and the notebooks show a lifecycle one step at a time, in
one program; the daemon runs the same plans under its lock, and its exit
monitor -- a thread of its own -- records the exit.  Stepping through
``stop`` must show what the daemon does: the same steps, each asking the
kernel for the same operations, on either backend.
"""

from __future__ import annotations

import re
import signal

import pytest
from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig
from stepbox.core.engine.engine import ContainerNotes, Engine

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.core.engines import runtime_on
from tests.support.step_watch import StepWatch

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]
# sleep as PID 1 has no SIGTERM handler: the kernel protects a namespace's
# init, so the grace period runs out and SIGKILL follows -- every step has work.
SLEEPER = ContainerConfig(image="busybox", cmd=("sleep", "1000"), hostname="box")
GRACE = 0.3


def normalise(
    steps: list[tuple[str, list[str]]], pid: int, cid: str, root: str
) -> list[tuple[str, list[str]]]:
    def tidy(op: str) -> str:
        op = op.replace(cid, "ID").replace(root, "STATE")
        return re.sub(rf"\b{pid}\b", "PID", op)

    return [(key, [tidy(op) for op in ops]) for key, ops in steps]


def stepped_through(backend: str) -> list[tuple[str, list[str]]]:
    """``stop`` in the step engine: one program, one step at a time."""
    runtime, cleanup = runtime_on(backend)
    try:
        record = runtime.run(SLEEPER, detach=True)
        pid = record.pid
        stepper = runtime.stepper(
            record, plan.stop_plan(record, signal.SIGTERM, GRACE, records_exit=True), watch=True
        )
        walked = []
        while not stepper.done:
            result = stepper.step()
            walked.append((result.step.key, [str(op) for op in result.ops]))
        assert (record.state, record.exit_code) == ("exited", 137)
        runtime.remove(record)
        return normalise(walked, pid, record.id, _root(runtime))
    finally:
        cleanup()


def in_the_daemon(backend: str) -> list[tuple[str, list[str]]]:
    """``POST /containers/{id}/stop`` to an engine (in this process, to see its trace)."""
    runtime, cleanup = runtime_on(backend, persistent=True)
    watch = StepWatch(runtime.kernel)
    engine = Engine(runtime, backend, _root(runtime))
    try:
        record = engine.create(SLEEPER, "sleeper", ContainerNotes(stop_timeout=1))
        engine.start("sleeper")
        pid = engine.get("sleeper").pid
        watch.take_ops()
        assert engine.stop("sleeper", timeout=GRACE)
        steps = watch.take_ops()
        assert watch.outside == []
        assert engine.get("sleeper").exit_code == 137
        engine.remove("sleeper")
        return normalise(steps, pid, record.id, _root(runtime))
    finally:
        watch.close()
        cleanup()


def _root(runtime) -> str:
    """The temporary state directory the test engine keeps its files in."""
    return runtime.images.root.rsplit("/images", 1)[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_stepped_through_makes_the_daemons_calls(backend):
    stepped, daemon = stepped_through(backend), in_the_daemon(backend)
    assert [key for key, _ in stepped] == ["stop_signal", "grace_period", "wait"]
    assert daemon == stepped
    signals = [op for _, ops in stepped for op in ops if op.startswith("kill(")]
    assert signals == ["kill(PID, SIGTERM)", "kill(PID, SIGKILL)"]
