"""Hostile input to the daemon: bombs, wrong types, bad parameters.

Each gets a 4xx with a message that says what was wrong, never a 500, and
the daemon's peak memory (VmHWM) grows by less than 64 MiB across the whole
module -- the done-when of the issue.  The daemon runs with small size
limits (STEPBOX_MAX_LAYER_BYTES=32 MiB) so the bombs stay cheap to make.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest
from stepbox.core.engine.client import EngineClient, EngineError

from .daemon_process import TestDaemon

LAYER_LIMIT = 32 << 20
MEMORY_GROWTH_LIMIT = 64 << 20


@pytest.fixture(scope="module")
def hostile_daemon():
    d = TestDaemon("sim", env={"STEPBOX_MAX_LAYER_BYTES": str(LAYER_LIMIT)})
    try:
        d.start()
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        before = d.peak_memory()
        yield d
        growth = d.peak_memory() - before
        assert growth < MEMORY_GROWTH_LIMIT, f"the daemon's peak memory grew by {growth >> 20} MiB"
    finally:
        d.cleanup()


@pytest.fixture
def client(hostile_daemon) -> EngineClient:
    return hostile_daemon.client()


def refused(client: EngineClient, method: str, path: str, **kw) -> EngineError:
    with pytest.raises(EngineError) as info:
        client.request(method, path, **kw)
    assert 400 <= info.value.status < 500, info.value.message
    return info.value


# ------------------------------------------------------------------ bombs


class Zeros(io.RawIOBase):
    """``size`` zero bytes, made as they are read."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def gzip_bomb_layer(path: str, inflated: int) -> None:
    """A layer tar.gz of one file of ``inflated`` zero bytes (a few hundred KiB)."""
    with gzip.open(path, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = inflated
        tar.addfile(info, io.BufferedReader(Zeros(inflated), 1 << 20))


def sparse_layer(path: str, workdir: str, claimed: int) -> None:
    """A GNU tar whose one entry is a sparse file claiming ``claimed`` bytes:
    the tar itself is a few KiB (made by GNU tar from a truncate'd file)."""
    big = os.path.join(workdir, "big")
    with open(big, "wb") as f:
        f.truncate(claimed)
    subprocess.run(["tar", "--sparse", "-cf", path, "-C", workdir, "big"], check=True)
    os.unlink(big)


def docker_archive(layer_path: str) -> bytes:
    """A `docker save` archive around one layer file (its diff_id made up:
    the layer is refused before anyone compares)."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]},
        }
    ).encode()
    manifest = json.dumps(
        [{"Config": "image/config.json", "RepoTags": ["bomb:1"], "Layers": ["layer.tar"]}]
    ).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(layer_path, "layer.tar")
        for name, data in (("image/config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_gzip_bomb_is_refused_by_load_and_import(client, tmp_path):
    path = str(tmp_path / "bomb.tar.gz")
    gzip_bomb_layer(path, 8 * LAYER_LIMIT)  # 256 MiB of zeros, a few hundred KiB of gzip
    assert os.path.getsize(path) < 1 << 20
    error = refused(client, "POST", "/images/load", raw_body=docker_archive(path))
    assert error.status == 413 and "STEPBOX_MAX_LAYER_BYTES" in error.message
    with open(path, "rb") as f:
        error = refused(
            client, "POST", "/images/create", query={"fromSrc": "-", "repo": "bomb"}, raw_body=f.read()
        )
    assert error.status == 413 and "inflates past" in error.message
    assert not [i for i in client.images() if "bomb:1" in (i["RepoTags"] or [])]


def test_a_sparse_file_bomb_is_refused(client, tmp_path):
    path = str(tmp_path / "sparse.tar")
    sparse_layer(path, str(tmp_path), 8 << 30)  # 8 GiB claimed
    assert os.path.getsize(path) < 64 << 10
    for body, query in (
        (docker_archive(path), None),
        (open(path, "rb").read(), {"fromSrc": "-", "repo": "sparse"}),
    ):
        path_ = "/images/load" if query is None else "/images/create"
        error = refused(client, "POST", path_, raw_body=body, query=query)
        assert "sparse" in error.message


def test_a_huge_declared_body_is_refused_before_it_is_read(hostile_daemon):
    client = hostile_daemon.client()
    error = refused(client, "POST", "/images/load", raw_body=None, headers={"Content-Length": str(1 << 40)})
    assert error.status == 413


# ----------------------------------------------------------- bad parameters


def test_kill_with_a_bad_signal_is_400(client):
    cid = client.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    client.start(cid)
    try:
        for signal in ("99", "0", "-1", "SIGFOO", "1e9", "65"):
            error = refused(client, "POST", f"/containers/{cid}/kill", query={"signal": signal})
            assert error.status == 400 and "Invalid signal" in error.message
        assert client.inspect(cid)["State"]["Running"]
    finally:
        client.remove(cid, force=True)


@pytest.mark.parametrize(
    "path, filters",
    [
        ("/containers/json", {"label": [1, 2]}),
        ("/containers/json", {"name": [{"a": 1}]}),
        ("/containers/json", {"status": 5}),
        ("/containers/json", {"nosuchfilter": ["x"]}),
        ("/containers/json", {"exited": ["zero"]}),
        ("/images/json", {"reference": [None]}),
        ("/images/json", {"dangling": ["maybe"]}),
        ("/images/json", {"label": ["x"]}),
        ("/events", {"type": {"container": "yes"}}),
    ],
)
def test_filters_of_the_wrong_shape_are_400(client, path, filters):
    error = refused(client, "GET", path, query={"filters": json.dumps(filters)})
    assert error.status == 400 and "filter" in error.message


def test_filters_docker_sends_still_work(client):
    cid = client.create({"Image": "busybox", "Cmd": ["true"]}, name="filtered")
    try:
        for filters in ({"name": ["filtered"]}, {"name": {"filtered": True}}, {"status": ["created"]}):
            rows = client.request(
                "GET", "/containers/json", query={"all": 1, "filters": json.dumps(filters)}
            ).json()
            assert [r["Id"] for r in rows] == [cid], filters
        images = client.request(
            "GET", "/images/json", query={"filters": json.dumps({"dangling": ["false"]})}
        ).json()
        assert any("busybox:latest" in i["RepoTags"] for i in images)
    finally:
        client.remove(cid)


@pytest.mark.parametrize(
    "query", [{"since": "yesterday"}, {"until": "nan"}, {"since": "-5"}, {"until": "1e300"}]
)
def test_bad_event_times_are_400(client, query):
    assert refused(client, "GET", "/events", query=query).status == 400


@pytest.mark.parametrize(
    "manifest",
    [
        [{"Config": 5, "RepoTags": ["a:b"], "Layers": []}],
        [{"Config": "c.json", "RepoTags": "x", "Layers": []}],
        [{"Config": "c.json", "RepoTags": None, "Layers": [1, 2]}],
        [{"Config": "c.json", "RepoTags": ["Bad Tag!!"], "Layers": []}],
        [{"Config": ["c.json"], "Layers": []}],
        {"Config": "c.json"},
        ["x"],
    ],
)
def test_load_of_a_manifest_with_wrong_types_is_400(client, manifest):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("c.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert refused(client, "POST", "/images/load", raw_body=out.getvalue()).status == 400


def test_a_config_that_is_not_json_is_400(client):
    out = io.BytesIO()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["notjson:1"], "Layers": []}]).encode()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("manifest.json", manifest), ("c.json", b"[1, 2")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert refused(client, "POST", "/images/load", raw_body=out.getvalue()).status == 400


def test_refused_features_are_400_not_501(client):
    assert refused(client, "GET", "/images/search", query={"term": "x"}).status == 400
    assert refused(client, "POST", "/images/create", query={"fromSrc": "http://x/y.tar"}).status == 400
