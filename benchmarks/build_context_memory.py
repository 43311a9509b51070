"""Build benchmark: the daemon's peak memory while it builds from a big context.

The context holds ``big.tar``, a tar of one incompressible file of ``--size-mib``
MiB (512 by default), and three Dockerfiles, built one after the other with
``POST /build`` (the classic builder's API, what ``docker build`` sends):

* ``copy``: ``FROM scratch`` / ``COPY big.tar /`` -- a context file into a layer;
* ``add``: ``FROM scratch`` / ``ADD big.tar /x/`` -- an archive unpacked into a layer;
* ``from``: the ``add`` stage, then ``COPY --from=it /x/big /big`` -- a stage's file.

Before each build the daemon's peak resident memory (VmHWM) is reset to its
current size through ``/proc/PID/clear_refs``; the figure is how much it grew
during the build (upload, unpacking, layer writing), in MiB.  The same builds
go to a private dockerd (20.10, ``DOCKER_BUILDKIT=0`` semantics: the API's
classic builder) in the same run, when it is installed.  Linux only (VmHWM);
the stepbox daemon runs on ``--backend`` (default: linux as root, else sim).

    python benchmarks/build_context_memory.py [--size-mib 512] [--backend linux|sim] [--no-docker]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stepbox.core.engine.client import EngineClient  # noqa: E402
from stepbox.core.engine.daemon_process import DaemonProcess  # noqa: E402

PIECE = 1 << 20
DOCKERFILES = {
    "copy": "FROM scratch\nCOPY big.tar /\n",
    "add": "FROM scratch\nADD big.tar /x/\n",
    "from": "FROM scratch AS unpacked\nADD big.tar /x/\nFROM scratch\nCOPY --from=unpacked /x/big /big\n",
}


class _Pieces:
    """``size`` bytes that do not compress and repeat no 1 MiB piece, read as a file."""

    def __init__(self, size: int):
        self.seed, self.left, self.i, self.rest = os.urandom(PIECE), size, 0, b""

    def read(self, n: int = -1) -> bytes:
        while len(self.rest) < n and self.left > 0:
            piece = bytes(b ^ (self.i & 0xFF) for b in self.seed[:64]) + self.seed[64:]
            piece = piece[: self.left]
            self.i, self.left = self.i + 1, self.left - len(piece)
            self.rest += piece
        out, self.rest = self.rest[:n], self.rest[n:]
        return out


def make_context(directory: str, size: int) -> str:
    """The context tar (big.tar inside it, and the Dockerfiles); its path."""
    inner = os.path.join(directory, "big.tar")
    with tarfile.open(inner, "w") as tar:
        info = tarfile.TarInfo("big")
        info.size, info.mode = size, 0o644
        tar.addfile(info, _Pieces(size))
    outer = os.path.join(directory, "context.tar")
    with tarfile.open(outer, "w") as tar:
        tar.add(inner, "big.tar")
        for name, text in DOCKERFILES.items():
            info = tarfile.TarInfo(f"Dockerfile.{name}")
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    os.unlink(inner)
    return outer


def _reset_peak(pid: int) -> int:
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    return _status(pid, "VmRSS")


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def build(socket: str, pid: int, context: str, name: str) -> dict:
    """One build; its peak memory growth (MiB) and time (s)."""
    client = EngineClient(socket, version="1.41")  # what dockerd 20.10 speaks
    base = _reset_peak(pid)
    started = time.monotonic()
    query = {"dockerfile": f"Dockerfile.{name}", "t": f"bigcontext-{name}", "nocache": "1", "rm": "1"}
    with open(context, "rb") as f, client.stream("POST", "/build", query=query, upload=f) as reply:
        lines = [json.loads(line) for line in reply.body.read().splitlines() if line.strip()]
    errors = [line["error"] for line in lines if "error" in line]
    if errors:
        raise RuntimeError(f"build {name} failed: {errors}")
    return {
        "peak_growth_mib": round((_status(pid, "VmHWM") - base) / (1 << 20), 1),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--backend", default="linux" if os.geteuid() == 0 else "sim")
    parser.add_argument("--no-docker", action="store_true", help="leave dockerd out")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sbx-bigctx-", dir="/var/tmp")
    results: dict = {"size_mib": args.size_mib, "backend": args.backend}
    load_before = os.getloadavg()
    try:
        context = make_context(work, args.size_mib << 20)
        daemon = DaemonProcess(
            args.backend,
            os.path.join(work, "root"),
            os.path.join(work, "s.sock"),
            os.path.join(work, "daemon.log"),
            env={"STEPBOX_BRIDGE": "none"},
        )
        daemon.start()
        try:
            results["stepbox"] = {n: build(daemon.socket_path, daemon.pid, context, n) for n in DOCKERFILES}
        finally:
            daemon.close()
        if not args.no_docker:
            from tests.support.dockerd import DockerDaemon, unavailable_reason

            reason = unavailable_reason()
            if reason:
                results["docker"] = f"left out: {reason}"
            else:
                with DockerDaemon() as dockerd:
                    results["docker"] = {
                        n: build(dockerd.socket, dockerd.pid, context, n) for n in DOCKERFILES
                    }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_average"] = {"before": list(load_before), "after": list(os.getloadavg())}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
