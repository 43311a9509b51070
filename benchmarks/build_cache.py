"""Build benchmark: a 10-step Dockerfile, cold and fully cached, stepbox vs Docker.

Both builders are timed the way a user runs them -- as commands
(``stepbox build`` and ``DOCKER_BUILDKIT=0 docker build``) on the same
context, in the same run, against a private dockerd started here:

* **cold**: ``--no-cache`` (every RUN runs a container, every COPY copies);
* **cached**: the same build again, every step ``---> Using cache``;
  also measured in-process (``stepbox_cached_in_process``), which leaves out
  the Python interpreter's start-up and imports that dominate the command.

Each figure is the median of ``--repeat`` runs.  Prints JSON with the times
and the ratios stepbox/docker (below 1: stepbox is faster).  Needs root on
Linux with ``docker.io`` installed; ``--backend sim`` runs stepbox's RUN on
the simulator instead of the real kernel.

``cached_breakdown_ms`` says where the CLI's cached rebuild goes (issue 18):
the bare interpreter and the client's imports (both timed as commands, in the
same rounds), then each part of the work timed in-process -- the client
tarring the context, the daemon unpacking it, the cached build itself, the
removal of the unpacked context -- and what is left: the requests (ping,
``POST /build``), the JSON stream and the processes' start and end.

    python benchmarks/build_cache.py [--backend linux|sim] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stepbox.core.image.archive import save  # noqa: E402
from stepbox.core.image.bootstrap import ensure_busybox  # noqa: E402
from stepbox.core.session import open_session  # noqa: E402

from benchmarks import bench_support as bench  # noqa: E402
from tests.support.dockerd import DockerDaemon, unavailable_reason  # noqa: E402

DOCKERFILE = """\
FROM busybox
ENV APP=/srv/app
RUN echo building > /build.log
COPY src/ /srv/app/
RUN echo step two >> /build.log
WORKDIR /srv/app
RUN echo "$APP" > where.txt
LABEL bench=build-cache
EXPOSE 8080
CMD ["cat", "/build.log"]
"""


def make_context(root: str) -> str:
    ctx = os.path.join(root, "ctx")
    os.makedirs(os.path.join(ctx, "src", "lib"))
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    for i in range(20):
        with open(os.path.join(ctx, "src", "lib", f"module{i}.txt"), "w") as f:
            f.write(f"module {i}\n" * 50)
    return ctx


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout.decode()}{result.stderr.decode()}")
    return elapsed


# What the lean client path of `stepbox build -q -t bench CTX` imports
# (core/cli/lean_build.py, then build_verb.build_image).
BUILD_IMPORTS = (
    "stepbox.core.cli.entry",
    "stepbox.core.cli.lean_build",
    "stepbox.core.cli.build_verb",
    "stepbox.core.cli.build_context",
    "stepbox.core.cli.connection",
    "stepbox.core.cli.errors",
    "stepbox.core.engine.client",
    "stepbox.core.image.reference",
)


def in_process_cached(backend: str, state: str, ctx: str, repeat: int) -> dict[str, list[float]]:
    """The parts of a cached rebuild, each timed alone in this process: the
    client's context tar, the daemon's unpacking of it (as ``POST /build``
    does, into the image store's scratch space), the cached build from the
    unpacked copy, and the scratch space's removal."""
    from stepbox.core.cli.build_context import context_tar
    from stepbox.core.dockerfile.builder import Builder, BuildOptions
    from stepbox.core.dockerfile.cache import BuildCache
    from stepbox.core.engine.build import unpack_context
    from stepbox.core.image.incoming import Incoming
    from stepbox.core.session import open_session

    session = open_session(backend, state)
    try:
        builder = Builder(
            session.runtime.images,
            session.runtime,
            BuildCache(os.path.join(state, "build-cache")),
            lambda line: None,
        )
        out: dict[str, list[float]] = {k: [] for k in ("context_tar", "unpack", "build", "cleanup")}
        for _ in range(repeat):
            start = time.perf_counter()
            tar, _ = context_tar(ctx, None)
            out["context_tar"].append(time.perf_counter() - start)
            scratch = Incoming(session.runtime.images.root)
            unpacked = os.path.join(scratch.directory, "context")
            os.mkdir(unpacked, 0o700)
            with tar:
                start = time.perf_counter()
                unpack_context(tar, unpacked)
                out["unpack"].append(time.perf_counter() - start)
            start = time.perf_counter()
            result = builder.build(
                BuildOptions(unpacked, dockerfile=os.path.join(unpacked, "Dockerfile"), tags=("bench",))
            )
            out["build"].append(time.perf_counter() - start)
            assert result.cached == 9, "the rebuild was not fully cached"
            start = time.perf_counter()
            scratch.close()
            out["cleanup"].append(time.perf_counter() - start)
        return out
    finally:
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="linux", choices=["linux", "sim"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"cannot compare with Docker here: {reason}")

    work = tempfile.mkdtemp(prefix="stepbox-bench-build-")
    daemon = DockerDaemon()
    try:
        daemon.start()
        ctx = make_context(work)
        state = os.path.join(work, "state")
        # One busybox for both: bootstrapped by stepbox, loaded into docker.
        session = open_session(args.backend, state)
        try:
            images = session.runtime.images
            buf = io.BytesIO()
            save(images, [(ensure_busybox(images, session.kernel), ["busybox:latest"])], buf)
        finally:
            session.close()
        daemon.load(buf.getvalue())

        # The CLI sends the context to the state directory's daemon (started
        # by the warm-up build, stopped before the in-process measurement).
        # The console script, as a user types it (python -m stepbox pays for runpy too).
        stepbox = [
            *bench.stepbox_command(),
            "--backend",
            args.backend,
            "--root",
            state,
            "build",
            "-q",
            "-t",
            "bench",
        ]
        docker = [daemon.client, "build", "-q", "-t", "bench"]
        # Let Python keep its bytecode (some shells set PYTHONDONTWRITEBYTECODE,
        # which makes every stepbox command recompile itself), and warm both up.
        # No bridge on the host: the daemon the CLI starts gets loopback only,
        # as the private dockerd (--bridge=none); the build's RUNs need no network.
        env = {**bench.bytecode_env(daemon.env), "STEPBOX_BRIDGE": "none"}
        python = [sys.executable, "-c"]
        timed(stepbox + [ctx], env)
        timed(docker + [ctx], env)
        times: dict[str, list[float]] = {
            k: []
            for k in (
                "stepbox_cold",
                "stepbox_cached",
                "docker_cold",
                "docker_cached",
                "interpreter",
                "imports",
            )
        }
        load_before = bench.load_average()
        for _ in range(args.repeat):
            times["stepbox_cold"].append(timed(stepbox + ["--no-cache", ctx], env))
            times["stepbox_cached"].append(timed(stepbox + [ctx], env))
            times["docker_cold"].append(timed(docker + ["--no-cache", ctx], env))
            times["docker_cached"].append(timed(docker + [ctx], env))
            times["interpreter"].append(timed([*python, "pass"], env))
            times["imports"].append(timed([*python, f"import {', '.join(BUILD_IMPORTS)}"], env))
        load = {"before": load_before, "after": bench.load_average()}
        stop_stepbox_daemon(state)
        # The builder's own cost, without interpreter start-up and imports, and the other parts.
        parts = in_process_cached(args.backend, state, ctx, max(args.repeat, 5))
        times["stepbox_cached_in_process"] = parts["build"]
        median = {k: round(statistics.median(v), 3) for k, v in times.items()}
        ms = {k: statistics.median(v) * 1000 for k, v in {**times, **parts}.items()}
        in_process = ms["context_tar"] + ms["unpack"] + ms["build"] + ms["cleanup"]
        breakdown = {
            "interpreter": ms["interpreter"],
            "imports": ms["imports"] - ms["interpreter"],
            "client_context_tar": ms["context_tar"],
            "daemon_unpack_context": ms["unpack"],
            "daemon_cached_build": ms["build"],
            "daemon_remove_context": ms["cleanup"],
            "requests_stream_and_processes": ms["stepbox_cached"] - ms["imports"] - in_process,
        }
        print(
            json.dumps(
                {
                    "dockerfile_steps": 10,
                    "backend": args.backend,
                    "repeat": args.repeat,
                    "seconds": median,
                    "spread": {k: bench.spread(v) for k, v in times.items()},
                    "load_average": load,
                    "ratio_cold_stepbox_over_docker": round(
                        median["stepbox_cold"] / median["docker_cold"], 2
                    ),
                    "ratio_cached_stepbox_over_docker": round(
                        median["stepbox_cached"] / median["docker_cached"], 2
                    ),
                    "cached_speedup_stepbox": round(median["stepbox_cold"] / median["stepbox_cached"], 1),
                    "cached_speedup_docker": round(median["docker_cold"] / median["docker_cached"], 1),
                    "cached_breakdown_ms": {k: round(v, 1) for k, v in breakdown.items()},
                    "cached_parts_in_process": {k: bench.spread(v) for k, v in parts.items()},
                },
                indent=2,
            )
        )
    finally:
        stop_stepbox_daemon(os.path.join(work, "state"))
        daemon.stop()
        shutil.rmtree(work, ignore_errors=True)


def stop_stepbox_daemon(state: str) -> None:
    """The daemon the CLI calls started for ``state`` (a no-op if none runs)."""
    subprocess.run(
        [sys.executable, "-m", "stepbox", "--root", state, "daemon", "stop"], capture_output=True, timeout=120
    )


if __name__ == "__main__":
    main()
