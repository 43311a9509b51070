"""stepbox push/pull through the stepbox registry, counted from its request log."""

from __future__ import annotations

import json
import os

import pytest
from stepbox.core.image.store import ImageNotFound
from stepbox.core.registry.errors import AuthenticationRequired
from stepbox.core.registry.htpasswd import hash_password
from stepbox.core.registry.layer_metadata import compress_layer
from stepbox.core.registry.mediatypes import (
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)

from .helpers import Http, blob_files, digest_of, layer, make_image

BASE = layer({"bin/base": b"base layer " * 5000})
MIDDLE = layer({"etc/config": b"middle layer"})
TOP_V1 = layer({"app/main": b"version 1"})
TOP_V2 = layer({"app/main": b"version 2"})


def uploads(log, since=0):
    """Blobs the registry received, from its log: each closing PUT of an upload session."""
    return [r for r in log[since:] if r.method == "PUT" and "/blobs/uploads/" in r.path and r.status == 201]


def manifest_puts(log, since=0):
    return [r for r in log[since:] if r.method == "PUT" and "/manifests/" in r.path and r.status == 201]


def patch_bytes(log, since=0):
    return sum(r.bytes_received for r in log[since:] if r.method == "PATCH")


def test_push_pull_round_trip(registry, new_store, client_for):
    source, target = new_store(), new_store()
    name = f"{registry.netloc}/team/app:v1"
    image = make_image(source, name, [BASE, MIDDLE, TOP_V1])
    client_for(source).push(name)
    result = client_for(target).pull(name)
    assert result.image.id == image.id
    assert result.image.diff_ids == image.diff_ids
    assert target.get_blob(image.id) == source.get_blob(image.id)  # config byte for byte
    for diff_id in image.diff_ids:
        assert target.get_blob(diff_id) == source.get_blob(diff_id)
    assert target.resolve(name).id == image.id
    # The registry serves what docker pulls: a schema 2 manifest of gzip layers.
    manifest = Http(registry.netloc)("GET", "/v2/team/app/manifests/v1")
    assert manifest.headers["Content-Type"] == DOCKER_MANIFEST
    assert {entry["mediaType"] for entry in manifest.json()["layers"]} == {DOCKER_LAYER_GZIP}


def test_gzip_is_deterministic():
    assert compress_layer(BASE) == compress_layer(BASE)
    assert compress_layer(BASE)[4:8] == b"\0\0\0\0"  # mtime 0 in the gzip header


def test_repush_of_unchanged_image_uploads_nothing(registry, new_store, client_for):
    store = new_store()
    name = f"{registry.netloc}/app:v1"
    make_image(store, name, [BASE, TOP_V1])
    client_for(store).push(name)
    mark = len(registry.app.log)
    result = client_for(store).push(name)
    assert uploads(registry.app.log, mark) == [] and patch_bytes(registry.app.log, mark) == 0
    assert result.uploaded == []
    # A fresh client with no local metadata still compresses to the same digests.
    other = new_store()
    make_image(other, name, [BASE, TOP_V1])
    mark = len(registry.app.log)
    client_for(other).push(name)
    assert uploads(registry.app.log, mark) == []


def test_repush_after_top_layer_change_sends_one_layer_config_and_manifest(registry, new_store, client_for):
    store = new_store()
    name = f"{registry.netloc}/team/app:latest"
    make_image(store, name, [BASE, MIDDLE, TOP_V1])
    client_for(store).push(name)
    changed = make_image(store, name, [BASE, MIDDLE, TOP_V2])
    mark = len(registry.app.log)
    client_for(store).push(name)
    new_layer = digest_of(compress_layer(TOP_V2))
    sent = uploads(registry.app.log, mark)
    # Counted from the server's log: exactly two blob uploads -- the new top
    # layer and the new config -- and one manifest.
    assert sorted(r.path.split("digest=")[1].replace("%3A", ":") for r in sent) == sorted(
        [new_layer, changed.id]
    )
    assert len(manifest_puts(registry.app.log, mark)) == 1
    config_size = len(store.get_blob(changed.id))
    assert patch_bytes(registry.app.log, mark) == len(compress_layer(TOP_V2)) + config_size
    # ... and the unchanged layers were only asked about.
    heads = [r for r in registry.app.log[mark:] if r.method == "HEAD" and r.status == 200]
    assert {r.path.rsplit("/", 1)[1] for r in heads} >= {
        digest_of(compress_layer(BASE)),
        digest_of(compress_layer(MIDDLE)),
    }


def test_pull_downloads_only_missing_layers(registry, new_store, client_for):
    source, target = new_store(), new_store()
    make_image(source, f"{registry.netloc}/app:v1", [BASE, MIDDLE, TOP_V1])
    make_image(source, f"{registry.netloc}/app:v2", [BASE, MIDDLE, TOP_V2])
    client_for(source).push(f"{registry.netloc}/app:v1")
    client_for(source).push(f"{registry.netloc}/app:v2")
    client_for(target).pull(f"{registry.netloc}/app:v1")
    mark = len(registry.app.log)
    result = client_for(target).pull(f"{registry.netloc}/app:v2")
    blob_gets = [r for r in registry.app.log[mark:] if r.method == "GET" and "/blobs/" in r.path]
    # The config and the one changed layer.
    assert len(blob_gets) == 2
    assert result.downloaded == [digest_of(compress_layer(TOP_V2))]
    assert len(result.existing) == 2


def test_cross_repository_mount(registry, new_store, client_for):
    source, middle = new_store(), new_store()
    make_image(source, f"{registry.netloc}/base/os:1", [BASE])
    client_for(source).push(f"{registry.netloc}/base/os:1")
    client_for(middle).pull(f"{registry.netloc}/base/os:1")
    image = middle.resolve(f"{registry.netloc}/base/os:1")
    middle.add_image([image.layers[0], TOP_V1], {"config": {}}, tag=f"{registry.netloc}/team/app:1")
    mark = len(registry.app.log)
    result = client_for(middle).push(f"{registry.netloc}/team/app:1")
    mounts = [r for r in registry.app.log[mark:] if "mount=" in r.path]
    assert len(mounts) == 1 and mounts[0].status == 201 and "from=base/os" in mounts[0].path
    assert result.mounted == [digest_of(compress_layer(BASE))]
    assert len(uploads(registry.app.log, mark)) == 2  # top layer + config only
    # base and top layers, two configs, two manifests: the base is stored once
    assert len(blob_files(registry.app.storage.root)) == 6
    fresh = new_store()
    assert client_for(fresh).pull(f"{registry.netloc}/team/app:1").image.layers[0] == image.layers[0]


def test_blobs_stored_once_across_repositories(registry, new_store, client_for):
    store = new_store()
    for repo in ("one", "two", "three"):
        make_image(store, f"{registry.netloc}/{repo}:x", [BASE])
    for repo in ("one", "two", "three"):
        store_fresh = new_store()  # no metadata: no mount, real uploads
        make_image(store_fresh, f"{registry.netloc}/{repo}:x", [BASE])
        client_for(store_fresh).push(f"{registry.netloc}/{repo}:x")
    manifests = {
        Http(registry.netloc)("GET", f"/v2/{r}/manifests/x").headers["Docker-Content-Digest"]
        for r in ("one", "two", "three")
    }
    # one layer + one config + one manifest, however many repositories link them
    assert len(blob_files(registry.app.storage.root)) == 2 + len(manifests)
    assert len(manifests) == 1


def test_pull_of_oci_index_picks_linux_amd64(registry, new_store, client_for):
    http = Http(registry.netloc)
    store = new_store()

    def push_variant(tar, arch):
        config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [digest_of(tar)]},
                "config": {"Cmd": [arch]},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": http.upload("multi", config),
                "size": len(config),
            },
            "layers": [{"mediaType": OCI_LAYER, "digest": http.upload("multi", tar), "size": len(tar)}],
        }
        body = json.dumps(manifest).encode()
        assert (
            http(
                "PUT",
                f"/v2/multi/manifests/{digest_of(body)}",
                body=body,
                headers={"Content-Type": OCI_MANIFEST},
            ).status
            == 201
        )
        return {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(body),
            "size": len(body),
            "platform": {"os": "linux", "architecture": arch},
        }, digest_of(config)

    arm, _ = push_variant(TOP_V1, "arm64")
    amd, amd_config = push_variant(TOP_V2, "amd64")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [arm, amd]}
    assert http.put_manifest("multi", "latest", index, OCI_INDEX).status == 201
    result = client_for(store).pull(f"{registry.netloc}/multi")
    assert result.image.id == amd_config
    assert result.image.config["config"]["Cmd"] == ["amd64"]


def test_pull_unknown_image_is_a_clear_error(registry, new_store, client_for):
    store = new_store()
    with pytest.raises(Exception, match="NAME_UNKNOWN|MANIFEST_UNKNOWN"):
        client_for(store).pull(f"{registry.netloc}/nothing:here")
    assert store.list() == []


def test_push_of_missing_local_image(registry, new_store, client_for):
    with pytest.raises(ImageNotFound):
        client_for(new_store()).push(f"{registry.netloc}/nope:1")


# -- authentication --------------------------------------------------------------


@pytest.fixture
def locked_registry(start_registry, tmp_path):
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland')}\n")
    return start_registry(htpasswd=str(path))


def test_basic_auth_challenge(locked_registry):
    http = Http(locked_registry.netloc)
    reply = http("GET", "/v2/")
    assert reply.status == 401 and reply.error_codes == ["UNAUTHORIZED"]
    assert reply.headers["WWW-Authenticate"].startswith('Basic realm="')
    import base64

    good = "Basic " + base64.b64encode(b"alice:wonderland").decode()
    bad = "Basic " + base64.b64encode(b"alice:looking-glass").decode()
    assert http("GET", "/v2/", headers={"Authorization": good}).status == 200
    assert http("GET", "/v2/", headers={"Authorization": bad}).status == 401
    # An upload refused before its body was read closes the connection rather
    # than parsing the body as the next request.
    refused = http("POST", "/v2/a/blobs/uploads/?digest=" + digest_of(b"x" * 100), body=b"x" * 100)
    assert refused.status == 401 and refused.headers["Connection"] == "close"


def test_login_then_push_and_pull(locked_registry, new_store, client_for, tmp_path):
    from stepbox.core.registry.client import login

    store = new_store()
    name = f"{locked_registry.netloc}/private/app:1"
    make_image(store, name, [BASE])
    with pytest.raises(AuthenticationRequired, match="stepbox login"):
        client_for(store).push(name)
    with pytest.raises(AuthenticationRequired, match="refused"):
        login(locked_registry.netloc, "alice", "wrong")
    assert not (tmp_path / "stepbox-config" / "config.json").exists()
    login(locked_registry.netloc, "alice", "wonderland")
    config = json.loads((tmp_path / "stepbox-config" / "config.json").read_text())
    assert locked_registry.netloc in config["auths"]
    assert oct(os.stat(tmp_path / "stepbox-config" / "config.json").st_mode & 0o777) == "0o600"
    client_for(store).push(name)
    assert client_for(new_store()).pull(name).image.id == store.resolve(name).id


def test_docker_config_credentials_are_used(locked_registry, new_store, client_for, tmp_path):
    import base64

    (tmp_path / "docker-config").mkdir()
    (tmp_path / "docker-config" / "config.json").write_text(
        json.dumps(
            {"auths": {locked_registry.netloc: {"auth": base64.b64encode(b"alice:wonderland").decode()}}}
        )
    )
    store = new_store()
    make_image(store, f"{locked_registry.netloc}/a:1", [BASE])
    client_for(store).push(f"{locked_registry.netloc}/a:1")
