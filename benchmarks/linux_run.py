"""`run --rm busybox true` on the real kernel: stepbox vs runc vs docker.

Measured in the same run, on the same machine, as ratios:

* ``stepbox run --rm --network none busybox true`` -- the CLI, a fresh Python process each time,
                                              asking the (already running) daemon
* in-process ``Runtime.run`` of the same     -- the engine without interpreter start-up
* ``runc run`` of a busybox bundle           -- the OCI runtime Docker itself uses
* ``docker run --rm busybox true``           -- through dockerd (Debian docker.io), if present

    python benchmarks/linux_run.py [--runs 20]      (as root on Linux)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from stepbox.core.container.config import ContainerConfig
from stepbox.core.session import open_session

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.support.dockerd import DockerDaemon  # noqa: E402


def timed(fn, runs: int) -> float:
    """Median seconds of ``runs`` calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_ok(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def runc_bundle(root: str) -> str:
    bundle = os.path.join(root, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    busybox = shutil.which("busybox")
    assert busybox is not None, "runc's bundle needs the host's busybox (apt-get install busybox-static)"
    shutil.copy2(busybox, os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "true"):
        os.link(os.path.join(rootfs, "bin", "busybox"), os.path.join(rootfs, "bin", applet))
    run_ok(["runc", "spec"], cwd=bundle)
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    config["root"]["readonly"] = False
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    return bundle


def measure(runs: int) -> dict:
    root = tempfile.mkdtemp(prefix="stepbox-bench-linux-")
    results: dict = {"benchmark": "linux_run", "runs": runs}
    try:
        state = os.path.join(root, "stepbox")
        cli = [
            sys.executable,
            "-m",
            "stepbox",
            "--backend",
            "linux",
            "--root",
            state,
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "true",
        ]
        # The CLI is a client of the state directory's daemon: the warm-up
        # call starts it (as a user's first command would), the timed calls
        # find it running.  Bytecode is kept, as in a normal installation.
        # No bridge on the host (STEPBOX_BRIDGE=none, --network none), as the private
        # dockerd runs with --bridge=none: both sides start a container without a network.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["STEPBOX_BRIDGE"] = "none"
        try:
            results["stepbox_cli_s"] = timed(lambda: run_ok(cli, env=env), runs)
            # The same busybox for dockerd, while this daemon still runs.
            busybox_tar = subprocess.run(
                [sys.executable, "-m", "stepbox", "--root", state, "save", "busybox"],
                check=True,
                capture_output=True,
            ).stdout
        finally:
            subprocess.run(
                [sys.executable, "-m", "stepbox", "--root", state, "daemon", "stop"],
                capture_output=True,
                timeout=120,
            )

        session = open_session("linux", os.path.join(root, "inproc"), trace=False, records_in_memory=True)
        config = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, network="none")
        try:
            results["stepbox_inprocess_s"] = timed(lambda: session.runtime.run(config), runs)
        finally:
            session.close()

        bundle = runc_bundle(root)
        counter = iter(range(10**9))
        results["runc_s"] = timed(
            lambda: run_ok(["runc", "run", "-b", bundle, f"bench{next(counter)}"]), runs
        )

        if shutil.which("dockerd"):
            with DockerDaemon() as docker:
                docker.load(busybox_tar)
                results["docker_s"] = timed(
                    lambda: run_ok([*docker.cli, "run", "--rm", "busybox", "true"]), runs
                )
            results["cli_vs_docker"] = round(results["stepbox_cli_s"] / results["docker_s"], 2)
        results["inprocess_vs_runc"] = round(results["stepbox_inprocess_s"] / results["runc_s"], 2)
        for key in [k for k in results if k.endswith("_s")]:
            results[key] = round(results[key], 4)
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    print(json.dumps(measure(parser.parse_args().runs)))
