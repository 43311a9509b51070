"""A registry that lies: every lie is caught, named, and nothing is stored.

Before each pull the store holds one image; afterwards ``list()`` must be the
same, no blob file may have appeared, and ``gc`` must find nothing to collect.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest
from stepbox.core.registry.errors import RegistryClientError, VerificationFailed
from stepbox.core.registry.mediatypes import OCI_INDEX

from .helpers import blob_files, digest_of, layer, make_image
from .hostile import Canned, HostileRegistry

GOOD = [
    layer({"bin/tool": b"tool " * 3000}),
    layer({"etc/app.conf": b"setting=1\n" * 50}),
    layer({"app/data": b"data " * 2000}),
]


@pytest.fixture
def hostile():
    server = HostileRegistry().start()
    yield server
    server.stop()


@pytest.fixture
def store(new_store):
    store = new_store()
    make_image(store, "already/here:1", [layer({"x": b"existing"})])
    return store


def assert_nothing_stored(store, before_ids, before_blobs):
    assert sorted(i.id for i in store.list()) == before_ids
    assert blob_files(store.root) == before_blobs
    assert store.gc() == []


def pull_fails(store, client_for, name, match):
    before_ids, before_blobs = sorted(i.id for i in store.list()), blob_files(store.root)
    with pytest.raises(RegistryClientError, match=match) as caught:
        client_for(store).pull(name)
    assert_nothing_stored(store, before_ids, before_blobs)
    return caught.value


def test_the_honest_version_pulls(hostile, store, client_for):
    hostile.serve_image("app", "v1", GOOD)
    assert client_for(store).pull(f"{hostile.netloc}/app:v1").image.diff_ids == tuple(
        digest_of(t) for t in GOOD
    )


def test_blob_with_wrong_digest(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    evil = gzip.compress(layer({"bin/tool": b"malware"}), mtime=0)
    hostile.answers[f"/v2/app/blobs/{digest_of(pieces['compressed'][2])}"] = Canned(
        evil + b"\0" * (len(pieces["compressed"][2]) - len(evil))
    )
    error = pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "does not match its digest")
    assert isinstance(error, VerificationFailed)
    assert digest_of(pieces["compressed"][2]) in str(error)


def test_truncated_blob(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    path = f"/v2/app/blobs/{digest_of(pieces['compressed'][1])}"
    hostile.answers[path].truncate_to = len(pieces["compressed"][1]) // 2
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "truncated|cut short")


def test_longer_blob_than_the_manifest_says(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    path = f"/v2/app/blobs/{digest_of(pieces['compressed'][0])}"
    hostile.answers[path] = Canned(pieces["compressed"][0] + b"extra")
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "larger than")


def test_truncated_manifest(hostile, store, client_for):
    hostile.serve_image("app", "v1", GOOD)
    hostile.answers["/v2/app/manifests/v1"].truncate_to = 40
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "cut short")


@pytest.mark.parametrize(
    "spoil,match",
    [
        (lambda m: b"<html>not json</html>", "not JSON"),
        (lambda m: json.dumps([m]).encode(), "not a JSON object"),
        (lambda m: json.dumps({**m, "schemaVersion": 1}).encode(), "schemaVersion"),
        (lambda m: json.dumps({**m, "layers": "all of them"}).encode(), "'layers' is not a list"),
        (lambda m: json.dumps({**m, "config": None}).encode(), "config is not an object"),
        (
            lambda m: json.dumps(
                {**m, "layers": [{**m["layers"][0], "digest": "sha256:../../etc"}]}
            ).encode(),
            "no valid sha256 digest",
        ),
        (
            lambda m: json.dumps(
                {**m, "layers": [{**m["layers"][0], "size": -1}] + m["layers"][1:]}
            ).encode(),
            "no valid size",
        ),
        (
            lambda m: json.dumps({**m, "layers": m["layers"][:2]}).encode(),
            "lists 2 layers but the image config names 3",
        ),
    ],
)
def test_malformed_manifest(hostile, store, client_for, spoil, match):
    pieces = hostile.serve_image("app", "v1", GOOD)
    hostile.set_manifest("app", "v1", spoil(pieces["manifest"]))
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", match)


def test_config_with_wrong_digest(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    hostile.answers[f"/v2/app/blobs/{digest_of(pieces['config'])}"] = Canned(
        pieces["config"].replace(b"sh", b"rm")
    )
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "does not match its digest")


def test_malformed_config(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    config = b'{"rootfs": {"diff_ids": "nope"}}'
    manifest = dict(
        pieces["manifest"], config={"mediaType": "x", "digest": digest_of(config), "size": len(config)}
    )
    hostile.answers[f"/v2/app/blobs/{digest_of(config)}"] = Canned(config)
    hostile.set_manifest("app", "v1", manifest)
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "malformed image config")


def test_layer_that_is_not_the_config_diff_id(hostile, store, client_for):
    # A consistent manifest (digests match) whose layer is not the one the config names.
    pieces = hostile.serve_image("app", "v1", GOOD)
    other = gzip.compress(layer({"bin/tool": b"swapped"}), mtime=0)
    manifest = json.loads(json.dumps(pieces["manifest"]))
    manifest["layers"][0].update(digest=digest_of(other), size=len(other))
    hostile.answers[f"/v2/app/blobs/{digest_of(other)}"] = Canned(other)
    hostile.set_manifest("app", "v1", manifest)
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "diff_id")


def test_layer_that_escapes_its_directory(hostile, store, client_for):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        data = b"* * * * * root rm -rf /\n"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    hostile.serve_image("app", "v1", [GOOD[0], buf.getvalue()])
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "unsafe")


def test_corrupt_gzip(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    broken = b"\x1f\x8b" + b"\x08" + b"garbage" * 20
    manifest = json.loads(json.dumps(pieces["manifest"]))
    manifest["layers"][1].update(digest=digest_of(broken), size=len(broken))
    hostile.answers[f"/v2/app/blobs/{digest_of(broken)}"] = Canned(broken)
    hostile.set_manifest("app", "v1", manifest)
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "gzip")


def test_manifest_by_digest_must_hash_to_it(hostile, store, client_for):
    pieces = hostile.serve_image("app", "v1", GOOD)
    wanted = digest_of(b"the manifest I asked for")
    hostile.set_manifest("app", wanted, pieces["manifest"])
    pull_fails(store, client_for, f"{hostile.netloc}/app@{wanted}", "does not match its digest")


def test_index_without_linux_amd64(hostile, store, client_for):
    hostile.set_manifest(
        "app",
        "v1",
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest_of(b"m"),
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "arm64"},
                }
            ],
        },
        OCI_INDEX,
    )
    pull_fails(store, client_for, f"{hostile.netloc}/app:v1", "no linux/amd64 variant .*linux/arm64")


def test_registry_that_is_not_there(store, client_for):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pull_fails(store, client_for, f"127.0.0.1:{port}/app:v1", "cannot reach the registry")
