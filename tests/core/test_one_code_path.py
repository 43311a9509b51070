"""One code path: every lifecycle change is steps of the plan, run by the Stepper.

A listener on the Stepper sees which steps run, and a watch on the kernel's
tracer sees every kernel operation.  For every verb -- in one program (the
Runtime, as ``stepbox step`` and the notebooks use it) and in the daemon
(the Engine: a lock, exit monitors in threads) -- the steps that ran are the
verb's plan, and no kernel operation happens outside a step.
"""

from __future__ import annotations

import signal

import pytest
from stepbox.core.container import plan, steps
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.record import CREATED, EXITED, PAUSED, RUNNING
from stepbox.core.engine.engine import ContainerNotes, Engine
from stepbox.core.kernel import ExecFailed

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.support.step_watch import StepWatch

from .engines import runtime_on

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]

CREATE = [s.key for s in plan.CREATE.steps]
# These engines wire no bridge (no network manager; the daemon's has
# STEPBOX_BRIDGE=none): a container's start brings up lo, without the network
# steps a bridge network would add (tests/network runs those), nor the terminal
# step of -t (checked below); no_new_privs only with --security-opt no-new-privileges.
START = [s.key for s in plan.START.for_config(ContainerConfig(image="busybox", network="none")).steps]
STOP = ["stop_signal", "grace_period"]
EXIT = ["wait"]


@pytest.fixture(params=BACKENDS)
def runtime(request):
    runtime, cleanup = runtime_on(request.param, persistent=True)
    watch = StepWatch(runtime.kernel)
    runtime.watch = watch
    try:
        yield runtime
    finally:
        watch.close()
        cleanup()
    assert watch.outside == [], "kernel operations outside any step"


def config(*cmd: str, **options) -> ContainerConfig:
    return ContainerConfig(image="busybox", cmd=cmd, **options)


def test_every_verb_of_the_runtime_runs_its_plan(runtime):
    watch = runtime.watch
    runtime.remove(runtime.run(config("true")))  # the image's layers get imported, outside the count
    watch.take()

    record = runtime.create(config("sleep", "1000"))
    assert watch.take() == CREATE
    runtime.start(record)
    assert watch.take() == START and record.state == RUNNING
    runtime.pause(record)
    assert watch.take() == ["freeze"] and record.state == PAUSED
    runtime.unpause(record)
    assert watch.take() == ["thaw"]
    runtime.stop(record, timeout=0.2)  # sleep as PID 1 ignores SIGTERM: SIGKILL after the grace period
    assert watch.take() == STOP + EXIT
    assert (record.state, record.exit_code) == (EXITED, 137)
    runtime.restart(record, timeout=0.2)
    assert watch.take() == START and record.state == RUNNING
    runtime.restart(record, timeout=0.2)
    assert watch.take() == STOP + EXIT + START
    runtime.kill(record, signal.SIGKILL)
    assert watch.take() == ["kill"] + EXIT and record.exit_code == 137
    runtime.remove(record)
    assert watch.take() == ["remove"]

    record = runtime.run(config("sh", "-c", "exit 3"))
    assert watch.take() == CREATE + START + EXIT and record.exit_code == 3
    runtime.remove(record)
    watch.take()
    record = runtime.run(config("sh", "-c", "exit 3", network="host", auto_remove=True))
    network = START.index("network")  # a step for some containers only: not with --network host
    assert watch.take() == CREATE + START[:network] + START[network + 1 :] + EXIT + ["remove"]

    record = runtime.run(config("sleep", "1000"), detach=True)
    assert watch.take() == CREATE + START
    runtime.pause(record)
    watch.take()
    runtime.remove(record, force=True)  # rm -f: thaw, kill, record the exit, remove
    assert watch.take() == ["thaw", "kill"] + EXIT + ["remove"]
    assert runtime.containers.all() == []


def test_an_exit_nobody_waited_for_is_recorded_by_the_exit_phase(runtime):
    watch = runtime.watch
    record = runtime.run(config("sh", "-c", "exit 5"), detach=True)
    watch.take()
    runtime.context(record).handle.wait()  # it has ended; nobody has recorded it yet
    assert runtime.containers.find(record.id).state == RUNNING
    assert runtime.get(record.id).exit_code == 5  # a later look (ps, inspect) runs the exit phase
    assert watch.take() == EXIT


def test_a_failed_exec_leaves_the_container_created_with_its_exit_code(runtime):
    """Docker's outcome (moby containerStart): the start is undone, the
    container stays Created with the error and 127; `--rm` removes it."""
    watch = runtime.watch
    with pytest.raises(ExecFailed) as failed:
        runtime.run(config("nosuch"), name="failed")
    assert watch.take() == CREATE + START + ["start_failed"]
    record = runtime.containers.find("failed")
    assert (record.state, record.exit_code, record.error) == (CREATED, 127, str(failed.value))
    assert (record.pid, record.mount, record.cgroup) == (0, None, "")
    kernel = runtime.kernel
    assert kernel.unionfs.has_layer(record.rw_layer) and kernel.unionfs.mounted() == []
    assert not kernel.cgroups.exists(f"stepbox/{record.id}")

    with pytest.raises(ExecFailed):
        runtime.run(config("nosuch", auto_remove=True))
    assert watch.take() == CREATE + START + ["start_failed", "remove"]
    assert [r.name for r in runtime.containers.all()] == ["failed"]


def test_the_step_engine_and_run_agree_after_a_failed_exec(runtime):
    """What `stepbox step --keep` leaves is what `run` leaves."""
    record = runtime.new_record(config("nosuch"), name="stepped")
    stepper = runtime.stepper(record, plan.run_plan(record.config))
    with pytest.raises(ExecFailed):
        while not stepper.done:
            stepper.step()
    stepped = runtime.containers.find("stepped")
    with pytest.raises(ExecFailed):
        runtime.run(config("nosuch"), name="ran")
    ran = runtime.containers.find("ran")
    for record in (stepped, ran):
        assert (record.state, record.exit_code, record.pid, record.mount) == (CREATED, 127, 0, None)


def test_a_failed_create_leaves_nothing(runtime):
    watch = runtime.watch
    record = runtime.new_record(config("true"))
    broken = plan.CREATE.steps[:2] + (
        steps.Step("broken", "Fail", "", "", lambda ctx: (_ for _ in ()).throw(OSError("disk full"))),
    )
    with pytest.raises(OSError, match="disk full"):
        runtime.execute(record, steps.Plan.of(broken))
    assert watch.take() == ["resolve_image", "init_layer", "broken"]
    assert runtime.containers.all() == []
    assert not runtime.kernel.unionfs.has_layer(record.init_layer)


@pytest.fixture(params=BACKENDS)
def engine(request):
    runtime, cleanup = runtime_on(request.param, persistent=True)
    watch = StepWatch(runtime.kernel)
    engine = Engine(runtime, request.param, "/nonexistent")
    engine.watch_steps = watch
    try:
        yield engine
    finally:
        try:
            for record in runtime.containers.all():
                engine.remove(record.id, force=True)
        finally:
            watch.close()
            cleanup()
    assert watch.outside == [], "kernel operations outside any step"


def test_every_verb_of_the_daemon_runs_its_plan(engine):
    """The daemon's verbs and its exit monitors run the same phases: only who
    runs the exit phase differs (the monitor, in a thread of its own)."""
    watch = engine.watch_steps
    notes = ContainerNotes()
    engine.create(config("sleep", "1000"), "s", notes)
    assert watch.take() == CREATE
    engine.start("s")
    assert watch.take() == START
    engine.pause("s")
    engine.unpause("s")
    assert watch.take() == ["freeze", "thaw"]
    engine.stop("s", timeout=0.2)  # the stop plan, then the exit monitor's exit phase
    assert watch.take() == STOP + EXIT
    assert engine.get("s").exit_code == 137
    engine.restart("s", timeout=0.2)
    assert watch.take() == START
    engine.kill("s", signal.SIGKILL)
    assert watch.take() == ["kill"] + EXIT
    engine.start("s")
    watch.take()
    engine.remove("s", force=True)
    assert watch.take() == ["kill"] + EXIT + ["remove"]

    record = engine.create(config("sh", "-c", "exit 3", auto_remove=True), "r", notes)
    watch.take()
    engine.start("r")  # the monitor records the exit, then --rm removes the container
    assert engine.wait_until(lambda: engine.watch(record.id).removed, timeout=60)
    assert watch.take() == START + EXIT + ["remove"]

    engine.create(config("nosuch"), "f", notes)
    watch.take()
    with pytest.raises(ExecFailed):
        engine.start("f")
    assert watch.take() == START + ["start_failed"]
    assert (engine.get("f").state, engine.get("f").exit_code) == (CREATED, 127)


def test_a_terminal_is_a_step_of_the_start(runtime):
    """run -t: the terminal step runs between pivot_root and the network, in
    one program as in the daemon; its kernel operations are inside it."""
    watch = runtime.watch
    runtime.remove(runtime.run(config("true")))
    watch.take()
    record = runtime.run(config("sh", "-c", "exit 0", tty=True, open_stdin=True))
    ran = watch.take()
    pivot = ran.index("pivot_root")
    assert ran[pivot + 1] == "terminal"
    assert (
        ran
        == CREATE + START[: pivot + 1 - len(CREATE)] + ["terminal"] + START[pivot + 1 - len(CREATE) :] + EXIT
    )
    runtime.remove(record)


def test_ulimits_are_a_step_before_capabilities_go(runtime):
    """run --ulimit: setrlimit is a step of the start, before the seccomp
    filter and the capabilities go (raising a hard limit needs CAP_SYS_RESOURCE)."""
    watch = runtime.watch
    runtime.remove(runtime.run(config("true")))
    watch.take()
    record = runtime.run(config("sh", "-c", "exit 0", ulimits=(("nofile", 64, 8192),)))
    ran = watch.take()
    at = START.index("seccomp")
    assert ran == CREATE + START[:at] + ["ulimits"] + START[at:] + EXIT
    assert record.exit_code == 0
    runtime.remove(record)
