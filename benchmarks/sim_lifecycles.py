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
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stepbox.core.container.config import ContainerConfig
from stepbox.core.session import open_session

from benchmarks import bench_support as bench  # noqa: E402


def measure(args: argparse.Namespace) -> dict:
    seconds = args.seconds
    root = tempfile.mkdtemp(prefix="stepbox-bench-")
    try:
        session = open_session("sim", root, trace=False, records_in_memory=True, kernel_in_memory=True)
        runtime = session.runtime
        # Fixed: no mounts, no network -- what later features add to a
        # default run must not slow this figure unnoticed.
        config = ContainerConfig(image="busybox", cmd=("true",), auto_remove=True, network="none")
        runtime.run(config)  # warm up: bootstraps the image, imports the layer
        load_before = bench.load_average()
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            record = runtime.run(config)
            assert record.exit_code == 0
            count += 1
        elapsed = time.perf_counter() - start
        # CPU time too: on a shared machine the wall clock counts the time
        # other programs had the core, the CPU time only this one's work.
        cpu = time.process_time() - cpu
        return {
            "benchmark": "sim_lifecycles",
            "lifecycles": count,
            "seconds": round(elapsed, 3),
            "per_second": round(count / elapsed, 1),
            "cpu_seconds": round(cpu, 3),
            "per_cpu_second": round(count / cpu, 1),
            "load_average": {"before": load_before, "after": bench.load_average()},
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=5.0)


if __name__ == "__main__":
    bench.main(__doc__, measure, options)
