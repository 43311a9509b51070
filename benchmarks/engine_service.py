"""The daemon as a service, against dockerd in the same run.

Three measurements, each on both daemons (started here with temporary state,
driven the same way), interleaved round by round so that a busy moment of
the machine hits both; medians and spread are reported:

* **requests per second** of ``GET /containers/json?all=1`` with 20
  containers present, from 1 and from 8 clients, each on its own keep-alive
  connection to the UNIX socket;
* **concurrent ``docker run --rm busybox true``**: 8 at a time through the
  docker CLI, runs completed per second;
* **peak daemon memory while loading a 1 GiB image** (``docker load`` of a
  ``docker save`` archive of four 256 MiB layers of random bytes): the
  growth of the daemon's peak resident memory (VmHWM; for Docker, dockerd's
  plus containerd's).  Bounded, not proportional to the image, is the aim.

    python benchmarks/engine_service.py [--rounds 3] [--backend linux|sim] [--image-mib 1024]

Needs root for dockerd (and the linux backend), the docker CLI, ~4 GiB of
free disk in /tmp.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import bench_support as bench  # noqa: E402
from benchmarks.engine_run import _docker, _stop, _wait_for_socket  # noqa: E402
from tests.support.dockerd import DockerDaemon  # noqa: E402

CONTAINERS = 20
LIST_SECONDS = 3.0
RUN_CONCURRENCY = 8
RUNS_PER_ROUND = 24


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def requests_per_second(socket_path: str, clients: int, seconds: float) -> float:
    """Keep-alive GET /containers/json from ``clients`` threads for ``seconds``."""
    counts = [0] * clients
    stop = threading.Event()

    def client(i: int) -> None:
        conn = UnixHTTPConnection(socket_path)
        while not stop.is_set():
            conn.request(
                "GET", "/containers/json?all=1"
            )  # unversioned: the daemon's own (dockerd here: 1.41)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200 and body.startswith(b"["), (response.status, body[:100])
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def concurrent_runs_per_second(host: str, config: str) -> float:
    def one(_):
        _docker(host, "run", "--rm", "busybox", "true", config=config)

    started = time.perf_counter()
    with ThreadPoolExecutor(RUN_CONCURRENCY) as pool:
        list(pool.map(one, range(RUNS_PER_ROUND)))
    return RUNS_PER_ROUND / (time.perf_counter() - started)


def peak_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total


def containerd_pids(dockerd_pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if int(fields[1]) == dockerd_pid and comm == "containerd":
            found.append(int(entry))
    return found


def make_big_image(path: str, mib: int, layers: int = 4) -> None:
    """A docker-save archive of ``layers`` layers of random bytes, ``mib`` MiB
    in all, written to ``path`` piece by piece (this script's memory too
    stays small)."""
    per_layer = mib * (1 << 20) // layers
    work = os.path.dirname(path)
    diff_ids, names = [], []
    for n in range(layers):
        layer_path = os.path.join(work, f"layer{n}.tar")
        blob = os.path.join(work, f"blob{n}")
        with open(blob, "wb") as f:
            left = per_layer
            while left:
                piece = os.urandom(min(left, 1 << 20))
                f.write(piece)
                left -= len(piece)
        with tarfile.open(layer_path, "w") as tar:
            tar.add(blob, f"data{n}.bin")
        os.unlink(blob)
        h = hashlib.sha256()
        with open(layer_path, "rb") as f:
            while piece := f.read(1 << 20):
                h.update(piece)
        diff_ids.append("sha256:" + h.hexdigest())
        names.append(layer_path)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"layer {n}"} for n in range(layers)],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [
        {
            "Config": config_name,
            "RepoTags": ["big:1"],
            "Layers": [f"layer{n}/layer.tar" for n in range(layers)],
        }
    ]
    with tarfile.open(path, "w") as tar:
        for n, layer_path in enumerate(names):
            tar.add(layer_path, f"layer{n}/layer.tar")
            os.unlink(layer_path)
        for name, data in ((config_name, config), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def measure(rounds: int, backend: str, image_mib: int) -> dict:
    work = tempfile.mkdtemp(prefix="sbx-bench-svc-", dir="/tmp")
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
            daemons = {
                "stepbox": (f"unix://{stepbox_sock}", stepbox_sock),
                "dockerd": (f"unix://{docker.socket}", docker.socket),
            }
            _docker(daemons["stepbox"][0], "pull", "busybox", config=config)
            image = _docker(daemons["stepbox"][0], "save", "busybox", config=config).stdout
            _docker(daemons["dockerd"][0], "load", input=image, config=config)
            for host, _ in daemons.values():
                for i in range(CONTAINERS):
                    _docker(host, "create", "--name", f"listed{i}", "busybox", "true", config=config)

            lists: dict[tuple[str, int], list[float]] = {
                (name, clients): [] for name in daemons for clients in (1, 8)
            }
            runs: dict[str, list[float]] = {name: [] for name in daemons}
            for _ in range(rounds):
                for name, (host, path) in daemons.items():  # interleaved: stepbox, dockerd, stepbox ...
                    for clients in (1, 8):
                        lists[(name, clients)].append(requests_per_second(path, clients, LIST_SECONDS))
                    runs[name].append(concurrent_runs_per_second(host, config))

            big = os.path.join(work, "big.tar")
            make_big_image(big, image_mib)
            memory = {}
            for name, (host, _) in daemons.items():
                pids = [stepbox.pid] if name == "stepbox" else [docker.pid, *containerd_pids(docker.pid)]
                before = peak_kib(pids)
                started = time.perf_counter()
                with open(big, "rb") as f:
                    subprocess.run(
                        ["docker", "load"],
                        stdin=f,
                        capture_output=True,
                        check=True,
                        env={**os.environ, "DOCKER_HOST": host, "DOCKER_CONFIG": config},
                        timeout=1800,
                    )
                memory[name] = {
                    "peak_before_kib": before,
                    "peak_after_kib": peak_kib(pids),
                    "growth_kib": peak_kib(pids) - before,
                    "load_seconds": round(time.perf_counter() - started, 2),
                }
        requests = {f"{name} x{clients}": spread(v) for (name, clients), v in lists.items()}
        return {
            "benchmark": "the daemon as a service",
            "stepbox_backend": backend,
            "rounds": rounds,
            "containers_listed": CONTAINERS,
            "list_requests_per_second": requests,
            "list_ratio_stepbox_over_dockerd": {
                f"x{c}": round(
                    statistics.median(lists[("stepbox", c)]) / statistics.median(lists[("dockerd", c)]), 3
                )
                for c in (1, 8)
            },
            "concurrent_runs": {"concurrency": RUN_CONCURRENCY, "runs_per_round": RUNS_PER_ROUND},
            "runs_per_second": {name: spread(v) for name, v in runs.items()},
            "runs_ratio_stepbox_over_dockerd": round(
                statistics.median(runs["stepbox"]) / statistics.median(runs["dockerd"]), 3
            ),
            "load_image_mib": image_mib,
            "load_memory": memory,
        }
    finally:
        if stepbox is not None:
            _stop(stepbox)
        shutil.rmtree(work, ignore_errors=True)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--backend", default="linux" if os.geteuid() == 0 else "sim", choices=["linux", "sim"]
    )
    parser.add_argument("--image-mib", type=int, default=1024)


if __name__ == "__main__":
    bench.main(
        __doc__, lambda args: measure(args.rounds, args.backend, args.image_mib), options, needs_docker=True
    )
