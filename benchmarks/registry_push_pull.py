"""Push and pull a ~200 MB multi-layer image through two registries.

The same stepbox client pushes, then pulls into an empty store, an image of
``--layers`` layers totalling ``--size-mb`` MB, first through the stepbox
registry (``stepbox registry serve`` in its own process) and then through the
CNCF registry (Debian's ``docker-registry``), on loopback, in the same run.
It reports each time and the ratio stepbox/CNCF, then changes only the top
layer, pushes again, and reports the bytes sent -- counted by the client and,
for the stepbox registry, from the server's own access log.

Layer contents are half random (incompressible) and half text, from a fixed
seed, so gzip has real work and every run pushes the same bytes.

    python benchmarks/registry_push_pull.py [--size-mb 200] [--layers 4]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any

from stepbox.core.image.layer_tar import write_layer
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import EntryKind, LayerEntry
from stepbox.core.registry.client import RegistryClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.registry.helpers import Http  # noqa: E402
from tests.registry.interop import cncf_registry, free_port, wait_until  # noqa: E402


def make_layer(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    half = size // 2
    text = (
        " ".join(
            rng.choice(["layer", "image", "registry", "blob", "digest", "manifest"]) for _ in range(2000)
        )
        + "\n"
    ).encode()
    data = rng.randbytes(half) + (text * (half // len(text) + 1))[: size - half]
    buf = io.BytesIO()
    write_layer([LayerEntry(f"data/layer{seed}.bin", EntryKind.FILE, data=data)], buf)
    return buf.getvalue()


@contextmanager
def stepbox_registry(workdir: str):
    port = free_port()
    log_path = os.path.join(workdir, "access.log")
    log = open(log_path, "w")
    code = "import stepbox.core.cli.registry; from stepbox.core.cli.main import cli; cli(prog_name='stepbox')"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "registry",
            "serve",
            "--addr",
            f"127.0.0.1:{port}",
            "--root",
            os.path.join(workdir, "registry"),
        ],
        stderr=log,
    )
    try:
        wait_until(lambda: Http(f"127.0.0.1:{port}")("GET", "/v2/").status == 200, "the stepbox registry")
        yield f"127.0.0.1:{port}", log_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def bytes_logged(log_path: str, since_line: int) -> tuple[int, int]:
    """(bytes received in upload requests, line count) from the access log."""
    with open(log_path) as f:
        lines = f.readlines()
    received = sum(
        int(m.group(1))
        for line in lines[since_line:]
        if (m := re.search(r" in=(\d+) ", line)) and line.startswith(("PATCH", "PUT", "POST"))
    )
    return received, len(lines)


def run_through(
    netloc: str, layers: list[bytes], changed_top: bytes, workdir: str, label: str, log_path: str | None
) -> dict:
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]}}
    source = ImageStore(os.path.join(workdir, label, "source", "images"))
    name = f"{netloc}/bench/app:v1"
    source.add_image(layers, config, tag=name)
    client = RegistryClient(source, progress=False, metadata_path=os.path.join(workdir, label, "meta.json"))

    start = time.perf_counter()
    first = client.push(name)
    push_seconds = time.perf_counter() - start

    target = ImageStore(os.path.join(workdir, label, "target", "images"))
    start = time.perf_counter()
    RegistryClient(target, progress=False, metadata_path=os.path.join(workdir, label, "meta2.json")).pull(
        name
    )
    pull_seconds = time.perf_counter() - start

    source.add_image(layers[:-1] + [changed_top], config, tag=name)
    mark = bytes_logged(log_path, 0)[1] if log_path else 0
    start = time.perf_counter()
    second = client.push(name)
    repush_seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "push_seconds": round(push_seconds, 3),
        "pull_seconds": round(pull_seconds, 3),
        "first_push_bytes_sent": first.bytes_sent,
        "one_layer_change": {
            "push_seconds": round(repush_seconds, 3),
            "blobs_uploaded": len(second.uploaded),
            "blobs_skipped": len(second.existing) + len(second.mounted),
            "bytes_sent_client_count": second.bytes_sent,
        },
    }
    if log_path:
        result["one_layer_change"]["bytes_received_server_log"] = bytes_logged(log_path, mark)[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()
    layer_size = args.size_mb * 1_000_000 // args.layers
    layers = [make_layer(seed, layer_size) for seed in range(args.layers)]
    changed_top = make_layer(1000, 1_000_000)  # the top layer becomes a 1 MB change
    workdir = tempfile.mkdtemp(prefix="stepbox-bench-registry-")
    try:
        with stepbox_registry(workdir) as (netloc, log_path):
            stepbox = run_through(netloc, layers, changed_top, workdir, "stepbox", log_path)
        with cncf_registry() as netloc:
            cncf = run_through(netloc, layers, changed_top, workdir, "cncf", None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        json.dumps(
            {
                "image": {"layers": args.layers, "uncompressed_bytes": sum(len(layer) for layer in layers)},
                "stepbox_registry": stepbox,
                "cncf_registry": cncf,
                "ratio_stepbox_over_cncf": {
                    "push": round(stepbox["push_seconds"] / cncf["push_seconds"], 2),
                    "pull": round(stepbox["pull_seconds"] / cncf["pull_seconds"], 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
