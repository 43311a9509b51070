"""stepbox-runc against runc, in the same run, interleaved.

* the bundle: create + start + wait until stopped + delete of a busybox
  bundle running ``true`` (the config ``runc spec`` writes), each runtime
  on its own copy;
* ``ctr run --rm --runc-binary R busybox true`` through one
  private containerd, R = stepbox-runc or runc;
* ``docker run --rm --runtime R busybox true`` through one private dockerd
  (Docker's default seccomp profile and device rules, for both).

Each round times A then B (or B then A, alternately), so load on the
machine falls on both alike; medians and the spread (min-max) are reported.

    python benchmarks/oci_runtime.py [--runs 10]      (as root on Linux)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "runtime")
)
from bundles import make_bundle, stepbox_runc  # noqa: E402

from tests.support.containerd import Containerd  # noqa: E402
from tests.support.containerd import unavailable_reason as containerd_unavailable  # noqa: E402
from tests.support.dockerd import DockerDaemon  # noqa: E402
from tests.support.dockerd import unavailable_reason as dockerd_unavailable  # noqa: E402


def interleaved(a, b, runs: int) -> dict:
    """Seconds per call of ``a`` and ``b``: one warm-up each, then ``runs``
    rounds, alternating which goes first."""
    a(), b()
    times: dict[str, list[float]] = {"stepbox": [], "runc": []}
    cpu: dict[str, list[float]] = {"stepbox": [], "runc": []}
    for i in range(runs):
        order = [("stepbox", a), ("runc", b)] if i % 2 == 0 else [("runc", b), ("stepbox", a)]
        for name, fn in order:
            before = _children_cpu()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - before)
    result: dict = {"load_average": os.getloadavg()[0]}
    for name, samples in times.items():
        result[name] = {
            "median_s": round(statistics.median(samples), 4),
            "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4),
            # CPU of the processes this benchmark started and waited for (the
            # runtime's own commands; not what a daemon runs): less at the
            # mercy of a busy machine than the wall clock.
            "cpu_median_s": round(statistics.median(cpu[name]), 4),
        }
    result["ratio"] = round(result["stepbox"]["median_s"] / result["runc"]["median_s"], 2)
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bundle_lifecycle(runtime: list[str], root: str, bundle: str):
    counter = iter(range(10**9))

    def once() -> None:
        cid = f"b{next(counter)}"
        base = [*runtime, "--root", root]
        with open(os.devnull, "wb") as null:
            subprocess.run([*base, "create", "--bundle", bundle, cid], stdout=null, stderr=null, check=True)
        subprocess.run([*base, "start", cid], check=True)
        while (
            json.loads(subprocess.run([*base, "state", cid], capture_output=True, check=True).stdout)[
                "status"
            ]
            != "stopped"
        ):
            time.sleep(0.005)
        subprocess.run([*base, "delete", cid], check=True)

    return once


def busybox_tar() -> bytes:
    from stepbox.core.image.archive import save
    from stepbox.core.image.bootstrap import ensure_busybox

    from tests.core.engines import runtime_on

    runtime, cleanup = runtime_on("sim")
    try:
        image = ensure_busybox(runtime.images, runtime.kernel)
        buf = io.BytesIO()
        save(runtime.images, [(image, ["busybox:latest"])], buf)
        return buf.getvalue()
    finally:
        cleanup()


def measure(runs: int, daemons: bool = True) -> dict:
    ours = stepbox_runc()[0]
    runc = shutil.which("runc")
    assert runc, "runc is not installed"
    results: dict = {"benchmark": "oci_runtime", "runs": runs}
    tmp = tempfile.mkdtemp(prefix="sbr-bench-")
    try:
        a = make_bundle(os.path.join(tmp, "a"), ["true"])
        b = make_bundle(os.path.join(tmp, "b"), ["true"])
        results["bundle"] = interleaved(
            bundle_lifecycle([ours], os.path.join(tmp, "ra"), a),
            bundle_lifecycle([runc], os.path.join(tmp, "rb"), b),
            runs,
        )
        tar = busybox_tar()
        if daemons and containerd_unavailable() is None:
            daemon = Containerd()
            try:
                path = os.path.join(daemon.dir, "busybox.tar")
                with open(path, "wb") as f:
                    f.write(tar)
                daemon.ctr("images", "import", path)
                counter = iter(range(10**9))

                def ctr_run(binary: str):
                    def once() -> None:
                        daemon.ctr(
                            "run", "--rm", "--runc-binary", binary,
                            "docker.io/library/busybox:latest", f"c{next(counter)}", "true",
                        )  # fmt: skip

                    return once

                results["ctr_run"] = interleaved(ctr_run(ours), ctr_run(runc), runs)
            finally:
                daemon.stop()
        if daemons and dockerd_unavailable() is None:
            with DockerDaemon("--add-runtime", f"stepbox={ours}") as docker:
                docker.load(tar)

                def docker_run(runtime: str):
                    return lambda: docker.docker("run", "--rm", "--runtime", runtime, "busybox", "true")

                results["docker_run"] = interleaved(docker_run("stepbox"), docker_run("runc"), runs)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # Python's bytecode kept, as in an installation: with PYTHONDONTWRITEBYTECODE
    # (some shells set it) every stepbox-runc command -- and the daemons
    # started below inherit the environment -- compiles stepbox again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only-bundle", action="store_true", help="skip containerd and dockerd")
    options = parser.parse_args()
    print(json.dumps(measure(options.runs, daemons=not options.only_bundle)))
