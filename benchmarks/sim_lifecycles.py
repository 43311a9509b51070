"""Simulated container lifecycles per second, in-process, on one core.

One lifecycle = create (resolve image, init + rw layers), start (mount,
cgroup, namespaces + first process, hostname, /proc /dev /sys, pivot_root,
lo, capabilities, exec `true`), wait, remove -- the full plan `stepbox run
--rm busybox true` executes, through the same Runtime and Stepper, on the
simulated kernel with records kept in memory and kernel-op tracing off.

    python benchmarks/sim_lifecycles.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time

from stepbox.core.container.config import ContainerConfig
from stepbox.core.session import open_session


def measure(seconds: float) -> dict:
    root = tempfile.mkdtemp(prefix="stepbox-bench-")
    try:
        session = open_session("sim", root, trace=False, records_in_memory=True, kernel_in_memory=True)
        runtime = session.runtime
        config = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True)
        runtime.run(config)  # warm up: bootstraps the image, imports the layer
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            record = runtime.run(config)
            assert record.exit_code == 0
            count += 1
        elapsed = time.perf_counter() - start
        return {
            "benchmark": "sim_lifecycles",
            "lifecycles": count,
            "seconds": round(elapsed, 3),
            "per_second": round(count / elapsed, 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    print(json.dumps(measure(parser.parse_args().seconds)))
