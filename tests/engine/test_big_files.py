"""A container with a big file: importing it, unpacking it for a container
and exporting the container cost memory by the piece, not by the file.

A 200 MiB file (incompressible, no holes) goes in by ``docker import``,
becomes a container's layer at ``create`` and comes back out of ``docker
export``, which is checked byte for byte (hashed while it streams).  The
daemon's peak resident memory (VmHWM, reset before each step through
/proc/PID/clear_refs) may grow by less than 64 MiB in each step -- except
where the simulator must hold the file (its files live in the daemon's
memory: unpacking costs one copy of the file there, never two).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .daemon_process import TestDaemon

BIG = 200 << 20
PIECE = 1 << 20
GROWTH_LIMIT = 64 << 20


def _pieces(seed: bytes):
    """BIG bytes that do not compress and repeat no 1 MiB piece."""
    for i in range(BIG // PIECE):
        yield bytes(b ^ (i & 0xFF) for b in seed[:64]) + seed[64:]


class _Reader:
    def __init__(self, pieces):
        self.pieces, self.rest = pieces, b""

    def read(self, n: int = -1) -> bytes:
        while len(self.rest) < n:
            more = next(self.pieces, b"")
            if not more:
                break
            self.rest += more
        out, self.rest = self.rest[:n], self.rest[n:]
        return out


def _big_tar(path: str) -> str:
    """A tar holding ``big`` (BIG bytes); the file's sha256."""
    seed = os.urandom(PIECE)
    digest = hashlib.sha256()
    for piece in _pieces(seed):
        digest.update(piece)
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("big")
        info.size, info.mode = BIG, 0o644
        tar.addfile(info, _Reader(_pieces(seed)))
    return digest.hexdigest()


def _reset_peak(d: TestDaemon) -> int:
    """Reset the daemon's VmHWM to its current resident size; that size."""
    with open(f"/proc/{d.pid}/clear_refs", "w") as f:
        f.write("5")
    with open(f"/proc/{d.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/PID/status")


@pytest.fixture(scope="module")
def big_tar(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("big") / "big.tar")
    digest = _big_tar(path)
    yield path, digest
    os.unlink(path)


@pytest.mark.parametrize("backend", ["sim", pytest.param("linux", marks=pytest.mark.linux)])
def test_a_big_file_goes_through_import_create_and_export_by_the_piece(backend, big_tar):
    if backend == "linux" and not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    path, digest = big_tar
    d = TestDaemon(backend)
    try:
        d.start()
        client = d.client()
        growth = {}

        base = _reset_peak(d)
        with (
            open(path, "rb") as f,
            client.stream(
                "POST", "/images/create", query={"fromSrc": "-", "repo": "big", "tag": "1"}, upload=f
            ) as reply,
        ):
            reply.body.read()
        growth["import"] = d.peak_memory() - base

        base = _reset_peak(d)
        cid = client.create({"Image": "big:1", "Cmd": ["/big"]})
        growth["create"] = d.peak_memory() - base

        base = _reset_peak(d)
        exported = hashlib.sha256()
        with client.stream("GET", f"/containers/{cid}/export") as reply:
            with tarfile.open(fileobj=reply.body, mode="r|") as tar:
                for member in tar:
                    if member.name == "big":
                        size, contents = member.size, tar.extractfile(member)
                        assert contents is not None
                        while piece := contents.read(PIECE):
                            exported.update(piece)
        growth["export"] = d.peak_memory() - base

        assert size == BIG and exported.hexdigest() == digest
        # the simulator keeps its files in memory: unpacking holds the file once
        allowed = {"import": GROWTH_LIMIT, "create": GROWTH_LIMIT, "export": GROWTH_LIMIT}
        if backend == "sim":
            allowed["create"] += BIG
        too_much = {step: grew >> 20 for step, grew in growth.items() if grew >= allowed[step]}
        assert not too_much, f"peak memory grew by (MiB) {too_much} for a {BIG >> 20} MiB file"
        client.request("DELETE", f"/containers/{cid}")
    finally:
        d.cleanup()


DOCKERFILE = b"""FROM scratch AS unpacked
ADD big.tar /x/
FROM scratch
COPY --from=unpacked /x/big /big
COPY big.tar /
"""


@pytest.mark.parametrize("backend", ["sim", pytest.param("linux", marks=pytest.mark.linux)])
def test_a_build_from_a_big_context_costs_memory_by_the_piece(backend, big_tar, tmp_path):
    """The build context goes to disk as it arrives and stays there: ``ADD``
    of an archive in it, ``COPY --from`` a stage holding the big file and
    ``COPY`` of the archive itself read the files piece by piece while the
    layers are written.  The build's scratch space goes with the build."""
    if backend == "linux" and not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    path, _digest = big_tar
    context = str(tmp_path / "context.tar")
    with tarfile.open(context, "w") as tar:
        tar.add(path, "big.tar")
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(DOCKERFILE)
        tar.addfile(info, io.BytesIO(DOCKERFILE))
    d = TestDaemon(backend)
    try:
        d.start()
        client = d.client()
        base = _reset_peak(d)
        with (
            open(context, "rb") as f,
            client.stream("POST", "/build", query={"t": "big:built"}, upload=f) as reply,
        ):
            said = [json.loads(line) for line in reply.body.read().splitlines() if line.strip()]
        growth = d.peak_memory() - base
        assert not [m for m in said if "error" in m], said
        history = client.request("GET", "/images/big:built/history").json()
        sizes = sorted(h["Size"] for h in history if h["Size"])
        assert sizes[0] == BIG and BIG < sizes[1] < BIG + PIECE  # /big, then big.tar
        assert growth < GROWTH_LIMIT, f"peak memory grew by {growth >> 20} MiB for a {BIG >> 20} MiB context"
        images_dir = os.path.join(d.root, "images")
        assert [n for n in os.listdir(images_dir) if n.startswith(".tmp-")] == []
    finally:
        d.cleanup()
