"""``docker run --rm busybox true`` through the stepbox daemon vs through dockerd.

Both daemons are started by this script with temporary state and sockets;
the same ``docker`` CLI drives each (``DOCKER_HOST``).  busybox is loaded into
dockerd from ``docker save`` of stepbox's image, so both run the same bytes.
Reported, as JSON:

* median wall time of ``docker run --rm busybox true`` on each, and the ratio;
* each daemon's idle resident memory (RSS of the daemon and its children --
  dockerd's containerd counts), and the ratio.

    python benchmarks/engine_run.py [--runs 20] [--backend linux|sim]

Needs root for dockerd and the linux backend; Debian: ``apt-get install -y
docker.io`` (dockerd, containerd, runc) and the docker CLI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from stepbox.core.engine.locations import someone_listening  # noqa: E402

from benchmarks import bench_support as bench  # noqa: E402
from tests.support.dockerd import DockerDaemon  # noqa: E402


def _wait_for_socket(path: str, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if someone_listening(path):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {path} within {timeout}s")


def _tree_rss_kib(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, in KiB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def _docker(host: str, *args: str, input: bytes | None = None, config: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_CONFIG": config, "DOCKER_CLI_HINTS": "false"}
    return subprocess.run(
        ["docker", *args], input=input, capture_output=True, env=env, check=True, timeout=300
    )


def _time_runs(host: str, runs: int, config: str) -> list[float]:
    _docker(host, "run", "--rm", "busybox", "true", config=config)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _docker(host, "run", "--rm", "busybox", "true", config=config)
        times.append(time.perf_counter() - start)
    return times


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(runs: int, backend: str, idle_seconds: float) -> dict:
    work = tempfile.mkdtemp(prefix="sbx-bench-")
    config = os.path.join(work, "docker-config")
    os.makedirs(config)
    stepbox_sock = os.path.join(work, "stepbox.sock")
    stepbox = None
    try:
        with open(os.path.join(work, "stepbox.log"), "wb") as log, DockerDaemon() as docker:
            stepbox = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stepbox.core.engine",
                    "-H",
                    f"unix://{stepbox_sock}",
                    "--backend",
                    backend,
                    "--root",
                    os.path.join(work, "stepbox"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                # no bridge on the host, as the private dockerd (--bridge=none)
                env={**os.environ, "STEPBOX_BRIDGE": "none"},
            )
            _wait_for_socket(stepbox_sock, stepbox, "the stepbox daemon")
            stepbox_host, docker_host = f"unix://{stepbox_sock}", f"unix://{docker.socket}"

            _docker(stepbox_host, "pull", "busybox", config=config)  # built from the host's binary
            image = _docker(stepbox_host, "save", "busybox", config=config).stdout
            _docker(docker_host, "load", input=image, config=config)

            # Idle memory first: after start-up and one image load, nothing running.
            time.sleep(idle_seconds)
            assert docker.process is not None  # started
            rss = {"stepbox": _tree_rss_kib(stepbox.pid), "dockerd": _tree_rss_kib(docker.process.pid)}
            times = {
                "stepbox": _time_runs(stepbox_host, runs, config),
                "dockerd": _time_runs(docker_host, runs, config),
            }
        median = {k: statistics.median(v) for k, v in times.items()}
        return {
            "benchmark": "docker run --rm busybox true",
            "runs": runs,
            "stepbox_backend": backend,
            "median_seconds": {k: round(v, 4) for k, v in median.items()},
            "run_time_ratio_stepbox_over_dockerd": round(median["stepbox"] / median["dockerd"], 3),
            "idle_rss_kib": rss,
            "idle_rss_ratio_stepbox_over_dockerd": round(rss["stepbox"] / rss["dockerd"], 3),
        }
    finally:
        if stepbox is not None:
            _stop(stepbox)
        shutil.rmtree(work, ignore_errors=True)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--backend", default="linux" if os.geteuid() == 0 else "sim", choices=["linux", "sim"]
    )
    parser.add_argument("--idle-seconds", type=float, default=3.0)


if __name__ == "__main__":
    bench.main(
        __doc__, lambda args: measure(args.runs, args.backend, args.idle_seconds), options, needs_docker=True
    )
