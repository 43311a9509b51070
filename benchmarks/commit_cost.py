"""Commit cost follows the change, not the image: one changed file committed
on a 10,000-file image costs at most 1.5x the same on a 10-file image.

The seed: "只针对变化的部分进行创建，然后继续引用父镜像" -- a commit makes a layer of
what changed and refers to its parent's layers.  So ``commit`` must read the
container's read-write layer only, never the image below it.

Two images are put in the store directly (busybox's layer plus one layer of
N small files, N = 10 and 10,000).  For each, a container changes one file
and exits; then ``Runtime.commit`` is timed -- in-process, so the figure is
the commit and not the interpreter's start-up -- and the image it made is
deleted again, so every round starts from the same store.  The two sizes
take turns, round after round; each figure is the median of ``--repeat``.

    python benchmarks/commit_cost.py [--backend linux|sim] [--repeat 9]

Prints JSON: both medians, all samples and the ratio big/small.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stepbox.core.container.config import ContainerConfig  # noqa: E402
from stepbox.core.container.runtime import Runtime  # noqa: E402
from stepbox.core.image.bootstrap import ensure_busybox  # noqa: E402
from stepbox.core.image.layer_tar import write_layer  # noqa: E402
from stepbox.core.kernel import EntryKind, LayerEntry  # noqa: E402
from stepbox.core.session import open_session  # noqa: E402

TARGET = 1.5
SMALL, BIG = 10, 10_000
FILES_PER_DIR = 100  # a real tree: no directory of 10,000 names


def files_layer(count: int) -> bytes:
    """A layer of ``count`` small files under /data, 100 to a directory."""
    entries = [LayerEntry("data", EntryKind.DIR, mode=0o755)]
    for d in range((count + FILES_PER_DIR - 1) // FILES_PER_DIR):
        entries.append(LayerEntry(f"data/d{d}", EntryKind.DIR, mode=0o755))
    for i in range(count):
        entries.append(
            LayerEntry(f"data/d{i // FILES_PER_DIR}/f{i}", EntryKind.FILE, data=f"file {i}\n".encode() * 8)
        )
    buf = io.BytesIO()
    write_layer(entries, buf)
    return buf.getvalue()


def image_of(runtime: Runtime, count: int) -> str:
    busybox = ensure_busybox(runtime.images, runtime.kernel)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": dict(busybox.config["config"]),
        "history": [
            *busybox.config["history"],
            {"created": "2024-01-01T00:00:00Z", "created_by": f"{count} files"},
        ],
    }
    ref = f"files:{count}"
    runtime.images.add_image([*busybox.layers, files_layer(count)], config, tag=ref)
    return ref


def one_commit(runtime: Runtime, ref: str) -> float:
    """Change one file in a container of ``ref``; the seconds its commit took."""
    record = runtime.run(
        ContainerConfig(image=ref, network="none", cmd=("sh", "-c", "echo changed > /data/d0/f1"))
    )
    try:
        if record.exit_code != 0:
            raise SystemExit(f"the container failed: {runtime.logs(record)}")
        start = time.perf_counter()
        image = runtime.commit(record)
        elapsed = time.perf_counter() - start
        if len(image.layers) != 3:
            raise SystemExit(f"the commit made {len(image.layers)} layers, expected 3")
        runtime.images.delete(image)
        return elapsed
    finally:
        runtime.remove(record, force=True)


def measure(backend: str, repeat: int) -> dict:
    root = tempfile.mkdtemp(prefix="stepbox-bench-commit-")
    session = open_session(backend, root, trace=False, records_in_memory=True)
    try:
        runtime = session.runtime
        refs = {SMALL: image_of(runtime, SMALL), BIG: image_of(runtime, BIG)}
        for ref in refs.values():
            one_commit(runtime, ref)  # warm up: the layers get unpacked once
        samples: dict[int, list[float]] = {SMALL: [], BIG: []}
        for _ in range(repeat):
            for count, ref in refs.items():
                samples[count].append(one_commit(runtime, ref))
        small, big = statistics.median(samples[SMALL]), statistics.median(samples[BIG])
        return {
            "benchmark": "commit_cost",
            "backend": backend,
            "repeat": repeat,
            "small_files": SMALL,
            "big_files": BIG,
            "small_seconds": round(small, 5),
            "big_seconds": round(big, 5),
            "ratio": round(big / small, 2),
            "target": TARGET,
            "within_target": big / small <= TARGET,
            "samples_seconds": {str(k): [round(s, 5) for s in v] for k, v in samples.items()},
        }
    finally:
        session.close()
        shutil.rmtree(root, ignore_errors=True)


def default_backend() -> str:
    return "linux" if sys.platform == "linux" and os.geteuid() == 0 else "sim"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["linux", "sim"], default=default_backend())
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(json.dumps(measure(args.backend, args.repeat), indent=2))
