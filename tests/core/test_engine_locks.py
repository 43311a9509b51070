"""The daemon's locks: one per container and per image, none around the engine.

* Two containers are inside their start plans at the same moment: a barrier
  in both plans, which a lock held across a start would never let both reach.
* While one container's lock is held (its start stopped half-way), ``ps``,
  ``inspect`` and another container's whole lifecycle go on.
* A storm of runs, rms, commits, rmis, prunes, stops, kills, pauses, ``ps``
  and ``inspect`` from several threads ends -- no deadlock -- within a
  timeout, and every container left has its layers.
* Recovery after a crash kills an init the backend spawned that no record
  names, and leaves alone one that a program is still stepping.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
import traceback

import pytest
from stepbox.core.container import plan, steps
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.record import CREATED, EXITED, PAUSED, RUNNING
from stepbox.core.engine.engine import ContainerNotes, Engine
from stepbox.core.image.store import ImageNotFound
from stepbox.core.session import open_session

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .engines import runtime_on

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]
NOTES = ContainerNotes()


def config(*cmd: str) -> ContainerConfig:
    return ContainerConfig(image="busybox", cmd=cmd)


def _root(runtime) -> str:
    return runtime.images.root.rsplit("/images", 1)[0]


@pytest.fixture(params=BACKENDS)
def engine(request):
    runtime, cleanup = runtime_on(request.param, persistent=True)
    engine = Engine(runtime, request.param, _root(runtime))
    try:
        yield engine
    finally:
        try:
            for record in runtime.containers.all():
                try:
                    engine.remove(record.id, force=True)
                except NoSuchContainer:
                    pass
        finally:
            cleanup()


class StopAt:
    """Holds the plans of chosen containers before one of their steps."""

    def __init__(self, step_key: str, wait):
        self.step_key, self.wait = step_key, wait
        self.ids: set[str] = set()
        self._stop = steps.listen(self._heard)

    def _heard(self, ctx, step) -> None:
        record = getattr(ctx, "record", None)
        if step is not None and step.key == self.step_key and record is not None and record.id in self.ids:
            self.wait(record.id)

    def close(self) -> None:
        self._stop()


def in_threads(*calls) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(call):
        try:
            call()
        except BaseException as e:  # handed to the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a thread is still running after 120 s"
    return errors


def test_two_containers_start_in_parallel(engine):
    """Both starts reach pivot_root -- the container's process spawned, its
    mounts made -- before either goes on: they run side by side."""
    both_inside = threading.Barrier(2, timeout=30)
    stop = StopAt("pivot_root", lambda cid: both_inside.wait())
    try:
        a = engine.create(config("sleep", "1000"), "a", NOTES)
        b = engine.create(config("sleep", "1000"), "b", NOTES)
        stop.ids |= {a.id, b.id}
        errors = in_threads(lambda: engine.start("a"), lambda: engine.start("b"))
    finally:
        stop.close()
    assert not errors, f"the starts did not overlap (a lock held across a start?): {errors!r}"
    assert {engine.get("a").state, engine.get("b").state} == {RUNNING}


def test_a_container_held_half_way_blocks_no_one_else(engine):
    """Container a's start stops before its exec (its lock held); meanwhile
    ps, inspect of a and of others, and b's create, start, stop and rm answer."""
    release = threading.Event()
    stop = StopAt("exec", lambda cid: release.wait(60))
    try:
        a = engine.create(config("sleep", "1000"), "a", NOTES)
        stop.ids.add(a.id)
        starting = threading.Thread(target=engine.start, args=("a",))
        starting.start()
        deadline = time.monotonic() + 30
        while engine.get("a").process is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until a's process is spawned and recorded
        began = time.monotonic()
        assert engine.get("a").state == CREATED  # as its holder last saved it
        assert "a" in {r.name for r in engine.ps(all_=True)}
        engine.create(config("sleep", "1000"), "b", NOTES)
        engine.start("b")
        assert engine.get("b").state == RUNNING
        engine.stop("b", timeout=0.2)
        engine.remove("b")
        took = time.monotonic() - began
        assert starting.is_alive(), "a's start went on: the test held nothing"
    finally:
        release.set()
        stop.close()
    starting.join(60)
    assert engine.get("a").state == RUNNING
    assert took < 30  # (it waited for nothing: a lock held by a's start would stop it until released)


# ------------------------------------------------------------------ the storm

EXPECTED = (Conflict, NoSuchContainer, ImageNotFound)


def storm(engine: Engine, seed: int, ops: int, problems: list[str]) -> None:
    rng = random.Random(seed)
    mine: list[str] = []

    def someone() -> str:
        names = [r.name for r in engine.runtime.containers.all()]
        return rng.choice(names) if names else "nobody"

    for n in range(ops):
        action = rng.choice(
            [
                "run",
                "run",
                "run",
                "rm",
                "commit",
                "rmi",
                "prune",
                "cprune",
                "ps",
                "inspect",
                "stop",
                "kill",
                "pause",
            ]
        )
        try:
            if action == "run":
                name = f"s{seed}-{n}"
                engine.create(config("sh", "-c", f"sleep 0.{rng.randint(0, 3)}"), name, NOTES)
                engine.start(name)
                mine.append(name)
            elif action == "rm":
                engine.remove(someone(), force=True)
            elif action == "commit":
                with engine.changing(someone()) as record:
                    engine.runtime.commit(record, f"storm:{seed}-{n}")
            elif action == "rmi":
                tags = [t for image in engine.images.list() for t in image.tags if t.startswith("storm:")]
                if tags:
                    engine.runtime.remove_image(rng.choice(tags), force=rng.random() < 0.5)
            elif action == "prune":
                engine.runtime.collect_garbage()
            elif action == "cprune":
                for record in engine.ps(all_=True):
                    if record.state == EXITED:
                        engine.remove(record.id)
            elif action == "ps":
                engine.ps(all_=True)
            elif action == "inspect":
                engine.runtime.inspect(engine.get(someone()))
            elif action == "stop":
                engine.stop(someone(), timeout=0.2)
            elif action == "kill":
                engine.kill(someone())
            elif action == "pause":
                who = someone()
                engine.pause(who)
                engine.unpause(who)
        except EXPECTED:
            pass  # it changed or went meanwhile: the client's answer, 404 or 409
        except Exception as e:
            problems.append(
                f"{action} (seed {seed}, op {n}): {type(e).__name__}: {e}\n{traceback.format_exc()}"
            )


def thread_stacks() -> str:
    frames = sys._current_frames()
    return "\n".join(
        f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident]))
        for t in threading.enumerate()
        if t.ident in frames
    )


def test_a_storm_of_lifecycles_ends_without_deadlock(engine):
    linux = engine.backend == "linux"
    threads, ops = (4, 12) if linux else (6, 25)
    engine.create(config("true"), "warm-up", NOTES)  # busybox built and its layer unpacked, once
    problems: list[str] = []
    workers = [
        threading.Thread(target=storm, args=(engine, seed, ops, problems), name=f"storm-{seed}")
        for seed in range(threads)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 240
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    stuck = [w.name for w in workers if w.is_alive()]
    assert not stuck, f"deadlock: {stuck} still running after 240 s\n{thread_stacks()}"
    assert not problems, "\n".join(problems)
    unionfs = engine.kernel.unionfs
    for record in engine.runtime.containers.all():
        missing = [
            lid for lid in (*record.lowers, record.init_layer, record.rw_layer) if not unionfs.has_layer(lid)
        ]
        assert not missing, f"container {record.name} lost its layers {missing} to a prune"
    for record in engine.ps(all_=True):
        if record.state not in (RUNNING, PAUSED):
            engine.start(record.id)  # every one left can still start (its layers are whole)
        engine.remove(record.id, force=True)
    assert unionfs.mounted() == []


# ---------------------------------------------------------------- recovery


def _next_engine(runtime, backend: str):
    """The engine of the daemon after a crash: on the real kernel a new one
    on the same state dir (containers outlive their program); on the
    simulator, whose processes live in this program, one on the same kernel."""
    if runtime.kernel.containers_outlive_program:
        session = open_session(backend, _root(runtime))
        return Engine(session.runtime, backend, session.root), session.close
    return Engine(runtime, backend, _root(runtime)), lambda: None


@pytest.mark.parametrize("backend", BACKENDS)
def test_recovery_kills_an_init_that_no_record_names(backend):
    """A start killed after the exec and before the record said Running: the
    record says Created, the process runs.  The next daemon kills it, and
    the container starts again."""
    runtime, cleanup = runtime_on(backend, persistent=True)
    try:
        record = runtime.create(config("sleep", "1000"))
        runtime.start(record)
        pid = record.pid
        record.state = CREATED  # the save the crash prevented
        runtime.containers.save(record)
        engine, close = _next_engine(runtime, backend)
        try:
            report = engine.recover()
            assert any(f"killed process {pid} of container {record.short_id}" in line for line in report), (
                report
            )
            assert pid not in [h.pid for h in engine.kernel.processes.live_inits()]
            assert not engine.kernel.cgroups.exists(record.cgroup), report
            assert engine.kernel.unionfs.mounted() == [], report
            engine.start(record.id)
            assert engine.get(record.id).state == RUNNING
            engine.remove(record.id, force=True)
        finally:
            close()
    finally:
        cleanup()


@pytest.mark.parametrize("backend", BACKENDS)
def test_recovery_leaves_an_init_that_is_being_stepped(backend):
    """An init not yet exec'd belongs to a program stepping it (``stepbox
    step``): a daemon starting meanwhile leaves it, and the steps go on."""
    runtime, cleanup = runtime_on(backend, persistent=True)
    try:
        record = runtime.create(config("sleep", "1000"))
        stepper = runtime.stepper(record, plan.start_plan(record))
        while stepper.step().step.key != "hostname":
            pass
        engine, close = _next_engine(runtime, backend)
        try:
            engine.recover()
            stepper.run()  # the rest of the start
            assert record.state == RUNNING
            runtime.kill(record, signal.SIGKILL, record_exit=True)
        finally:
            close()
    finally:
        cleanup()
