"""``stepbox run --rm busybox true`` through the CLI vs ``docker run --rm``, phase by phase.

Measured in one run, interleaved (one of each per round, the order rotating),
against a private dockerd and the state directory's stepbox daemon (started
by the warm-up call, as a user's first command would), both with
``--network none`` so that no bridge is made on the host:

* ``python -c pass``                 -- the bare interpreter (same venv, same site)
* ``stepbox --version``              -- the entry point alone (target ≤ 1.5x the interpreter)
* ``import`` of what ``run`` needs (its lean path: no click) -- what it imports before its first request
* ``stepbox run --rm busybox true``  -- the whole command
* ``docker run --rm busybox true``   -- through dockerd

The breakdown: interpreter start, imports (imports − interpreter), the
requests and the daemon's run (run − imports), and the daemon's run step by
step -- the same plan timed in-process here (``Stepper.step`` one at a time,
on the same backend), since the daemon keeps no timings.  Then ten of each
at once (wall time of the batch) and the sum check.

    python benchmarks/cli_run.py [--rounds 15] [--parallel 10]     (as root, with docker.io)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stepbox.core.container import plan, steps
from stepbox.core.container.config import ContainerConfig
from stepbox.core.engine.engine import ContainerNotes, Engine
from stepbox.core.session import open_session

from benchmarks import bench_support as bench  # noqa: E402
from tests.support.dockerd import DockerDaemon, unavailable_reason

RUN = ["run", "--rm", "--network", "none", "busybox", "true"]
# What that command imports before its first request: run's lean path (no click).
RUN_IMPORTS = (
    "stepbox.core.cli.entry",
    "stepbox.core.cli.lean_run",
    "stepbox.core.cli.run_verb",
    "stepbox.core.cli.connection",
)


def step_times(backend: str, root: str, rounds: int) -> dict:
    """Each step of ``run --rm --network none busybox true``, in-process:
    median (and spread) of ``rounds`` runs, in the plan's order."""
    session = open_session(backend, root, trace=False, records_in_memory=True)
    config = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, network="none")
    samples: dict[str, list[float]] = {}
    try:
        session.runtime.run(config)  # warm-up: bootstraps busybox, unpacks its layer
        for _ in range(rounds):
            runtime = session.runtime
            record = runtime.new_record(config)
            stepper = runtime.stepper(record, plan.run_plan(config))
            while not stepper.done:
                phase, step = stepper.phase, stepper.next_step
                assert phase is not None and step is not None
                start = time.perf_counter()
                stepper.step()
                samples.setdefault(f"{phase.name}/{step.key}", []).append(time.perf_counter() - start)
    finally:
        session.close()
    return {key: bench.spread(s) for key, s in samples.items()}


def starts_in_flight(backend: str, root: str, count: int) -> dict:
    """``count`` runs at once through one in-process Engine -- the daemon's,
    with its locks -- each step's begin and end recorded (steps.listen):
    how many containers were inside their start phase at the same moment,
    at most.  A lock held across starts would make that 1.  Also each
    container's phases as (begin, end) in ms from the batch's start."""
    session = open_session(backend, root, trace=False)
    engine = Engine(session.runtime, backend, session.root)
    config = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, network="none")
    phase_of = {step.key: phase.name for phase in plan.run_plan(config).phases for step in phase.steps}
    running: dict[int, tuple[str, str, float]] = {}  # thread -> (container, step, begin)
    spans: dict[tuple[str, str], list[float]] = {}  # (container, phase) -> [begin, end]
    guard = threading.Lock()

    def listener(ctx, step) -> None:
        now, thread = time.perf_counter(), threading.get_ident()
        record = getattr(ctx, "record", None)
        if record is None:
            return
        with guard:
            if step is not None:
                running[thread] = (record.id, step.key, now)
                return
            cid, key, begin = running.pop(thread, ("", "", now))
            span = spans.setdefault((cid, phase_of.get(key, key)), [begin, now])
            span[0], span[1] = min(span[0], begin), max(span[1], now)

    def lifecycle() -> None:
        record = engine.create(config, None, ContainerNotes())
        engine.start(record.id)
        watch = engine.watch(record.id)
        engine.wait_until(lambda: watch.removed, timeout=120)

    try:
        lifecycle()  # warm-up: bootstraps busybox, unpacks its layer
        stop_listening = steps.listen(listener)
        began = time.perf_counter()
        try:
            with ThreadPoolExecutor(count) as pool:
                for future in [pool.submit(lifecycle) for _ in range(count)]:
                    future.result()
        finally:
            stop_listening()
        wall = time.perf_counter() - began
    finally:
        engine.close()
        session.close()
    starts = sorted((b, e) for (_, phase), (b, e) in spans.items() if phase == "start")
    edges = sorted([(b, 1) for b, _ in starts] + [(e, -1) for _, e in starts])
    depth = most = 0
    for _, change in edges:
        depth += change
        most = max(most, depth)
    by_container: dict[str, dict[str, list[float]]] = {}
    for (cid, phase), (b, e) in spans.items():
        by_container.setdefault(cid[:12], {})[phase] = [
            round((b - began) * 1000, 1),
            round((e - began) * 1000, 1),
        ]
    return {
        "count": count,
        "wall_seconds": round(wall, 3),
        "starts_in_flight_at_most": most,
        "start_phase_ms": bench.spread([(e - b) * 1000 for b, e in starts]) if starts else {},
        "phases_ms_from_batch_start": dict(sorted(by_container.items(), key=lambda kv: kv[1]["create"][0])),
    }


def parallel(command: list[str], count: int, env: dict[str, str]) -> None:
    """``count`` copies of ``command`` at once; returns when all have ended."""
    with ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(bench.quiet, command, env=env) for _ in range(count)]:
            future.result()


def measure(args: argparse.Namespace) -> dict:
    work = tempfile.mkdtemp(prefix="sbx-bench-cli-")
    state = os.path.join(work, "stepbox")
    stepbox = [*bench.stepbox_command(), "--backend", args.backend, "--root", state]
    # No bridge on the host: the daemon's default network is off, as the private
    # dockerd's (--bridge=none); the runs use --network none anyway.
    env = {**bench.bytecode_env(), "STEPBOX_BRIDGE": "none"}
    try:
        with DockerDaemon() as docker:
            bench.quiet([*stepbox, *RUN], env=env)  # starts the daemon, bootstraps busybox
            busybox = subprocess.run([*stepbox, "save", "busybox"], check=True, capture_output=True).stdout
            docker.load(busybox)
            docker_env = bench.bytecode_env(docker.env)
            python = [sys.executable, "-c"]
            single = bench.interleaved(
                {
                    "interpreter": lambda: bench.quiet([*python, "pass"], env=env),
                    "version": lambda: bench.quiet([*bench.stepbox_command(), "--version"], env=env),
                    "imports": lambda: bench.quiet([*python, f"import {', '.join(RUN_IMPORTS)}"], env=env),
                    "stepbox_run": lambda: bench.quiet([*stepbox, *RUN], env=env),
                    "docker_run": lambda: bench.quiet([docker.client, *RUN], env=docker_env),
                },
                args.rounds,
            )
            many = bench.interleaved(
                {
                    "stepbox_run": lambda: parallel([*stepbox, *RUN], args.parallel, env),
                    "docker_run": lambda: parallel([docker.client, *RUN], args.parallel, docker_env),
                },
                max(3, args.rounds // 3),
            )
            subprocess.run([*stepbox, "daemon", "stop"], capture_output=True, timeout=120)
        steps_load_before = bench.load_average()
        steps = step_times(args.backend, os.path.join(work, "inproc"), args.rounds)
        steps_load = {"before": steps_load_before, "after": bench.load_average()}
        overlap = starts_in_flight(args.backend, os.path.join(work, "overlap"), args.parallel)
    finally:
        subprocess.run([*stepbox, "daemon", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)

    m = {name: s["median"] for name, s in single["seconds"].items()}
    steps_total = sum(s["median"] for s in steps.values())
    return {
        "benchmark": "cli_run",
        "backend": args.backend,
        "rounds": args.rounds,
        "single": single,
        "breakdown_ms": {
            "interpreter": round(m["interpreter"] * 1000, 1),
            "imports": round((m["imports"] - m["interpreter"]) * 1000, 1),
            "requests_and_client_work": round((m["stepbox_run"] - m["imports"] - steps_total) * 1000, 1),
            "daemon_run_steps_in_process": round(steps_total * 1000, 1),
        },
        "steps_ms": {key: round(s["median"] * 1000, 2) for key, s in steps.items()},
        "steps": {"seconds": steps, "load_average": steps_load},
        "version_vs_interpreter": bench.ratio(m["version"], m["interpreter"]),
        "cli_vs_docker": bench.ratio(m["stepbox_run"], m["docker_run"]),
        "parallel": {
            "count": args.parallel,
            **many,
            "stepbox_vs_docker": bench.ratio(
                many["seconds"]["stepbox_run"]["median"], many["seconds"]["docker_run"]["median"]
            ),
            "in_process_overlap": overlap,
        },
        "note": "the daemon's steps are the same plan timed in-process (the daemon keeps no timings); "
        "requests_and_client_work is what is left of the command's time",
    }


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--parallel", type=int, default=10)
    parser.add_argument("--backend", default="linux", choices=["linux", "sim"])


if __name__ == "__main__":
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"cannot compare with Docker here: {reason}")
    bench.main(__doc__, measure, options)
