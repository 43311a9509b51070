"""The stepbox registry, endpoint by endpoint, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket

import pytest
from stepbox.core.registry.mediatypes import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)

from .helpers import blob_files, digest_of

API_HEADER = "Docker-Distribution-API-Version"


def image_manifest(
    http, name, media_type=OCI_MANIFEST, layer_type=OCI_LAYER, config_type=OCI_CONFIG, payload=b"layer bytes"
):
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest, layer_digest = http.upload(name, config), http.upload(name, payload)
    return {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": len(payload)}],
    }


# -- base, errors --------------------------------------------------------------


def test_base_endpoint_says_v2(http):
    reply = http("GET", "/v2/")
    assert reply.status == 200 and reply.headers[API_HEADER] == "registry/2.0"
    assert reply.json() == {}


def test_unknown_endpoint_is_404_with_error_json(http):
    reply = http("GET", "/v2/library/x/nothing-here/abc")
    assert reply.status == 404 and reply.error_codes == ["UNSUPPORTED"]
    assert http("GET", "/v1/_ping").status == 404


def test_method_not_allowed(http):
    assert http("PATCH", "/v2/a/manifests/latest", body=b"x").status == 405


# -- blobs ---------------------------------------------------------------------


def test_monolithic_single_post_then_get_and_head(http):
    data = os.urandom(5000)
    digest = digest_of(data)
    reply = http("POST", f"/v2/a/b/blobs/uploads/?digest={digest}", body=data)
    assert reply.status == 201
    assert reply.headers["Location"] == f"/v2/a/b/blobs/{digest}"
    assert reply.headers["Docker-Content-Digest"] == digest
    got = http("GET", f"/v2/a/b/blobs/{digest}")
    assert got.status == 200 and got.body == data and got.headers["Docker-Content-Digest"] == digest
    head = http("HEAD", f"/v2/a/b/blobs/{digest}")
    assert head.status == 200 and head.body == b"" and head.headers["Content-Length"] == "5000"


def test_post_then_put_monolithic(http):
    data = b"x" * 1000
    start = http("POST", "/v2/repo/blobs/uploads/")
    assert start.status == 202
    location = start.headers["Location"]
    assert location.startswith("/v2/repo/blobs/uploads/")
    assert start.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
    assert start.headers["Range"] == "0-0"
    done = http("PUT", f"{location}?digest={digest_of(data)}", body=data)
    assert done.status == 201 and done.headers["Location"] == f"/v2/repo/blobs/{digest_of(data)}"
    assert http("GET", f"/v2/repo/blobs/{digest_of(data)}").body == data


def test_chunked_upload_with_status_and_out_of_order_chunk(http, registry):
    data = os.urandom(3000)
    location = http("POST", "/v2/repo/blobs/uploads/", headers={"Content-Length": "0"}).headers["Location"]
    first = http(
        "PATCH",
        location,
        body=data[:1000],
        headers={"Content-Range": "0-999", "Content-Type": "application/octet-stream"},
    )
    assert first.status == 202 and first.headers["Range"] == "0-999"
    status = http("GET", first.headers["Location"])
    assert status.status == 204 and status.headers["Range"] == "0-999"
    # A chunk that does not start where the upload is: 416, and nothing changes.
    wrong = http("PATCH", location, body=data[1500:2000], headers={"Content-Range": "1500-1999"})
    assert wrong.status == 416
    assert http("GET", location).headers["Range"] == "0-999"
    second = http("PATCH", location, body=data[1000:2000], headers={"Content-Range": "1000-1999"})
    assert second.headers["Range"] == "0-1999"
    # The last chunk rides on the closing PUT.
    done = http(
        "PUT",
        f"{location}?digest={digest_of(data)}",
        body=data[2000:],
        headers={"Content-Range": "2000-2999"},
    )
    assert done.status == 201
    assert http("GET", f"/v2/repo/blobs/{digest_of(data)}").body == data
    assert os.listdir(os.path.join(registry.app.storage.root, "uploads")) == []


def test_patch_with_chunked_transfer_encoding_like_docker(http):
    data = os.urandom(200_000)
    location = http("POST", "/v2/repo/blobs/uploads/").headers["Location"]
    pieces = (data[i : i + 7000] for i in range(0, len(data), 7000))
    reply = http("PATCH", location, body=pieces, chunked=True)
    assert reply.status == 202 and reply.headers["Range"] == f"0-{len(data) - 1}"
    assert http("PUT", f"{location}?digest={digest_of(data)}").status == 201
    assert http("GET", f"/v2/repo/blobs/{digest_of(data)}").body == data


def test_digest_mismatch_is_rejected_and_nothing_stored(http, registry):
    data = b"the real content"
    claimed = digest_of(b"something else")
    reply = http("POST", f"/v2/repo/blobs/uploads/?digest={claimed}", body=data)
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]
    location = http("POST", "/v2/repo/blobs/uploads/").headers["Location"]
    http("PATCH", location, body=data)
    reply = http("PUT", f"{location}?digest={claimed}")
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]
    assert blob_files(registry.app.storage.root) == set()
    assert http("HEAD", f"/v2/repo/blobs/{claimed}").status == 404
    assert http("HEAD", f"/v2/repo/blobs/{digest_of(data)}").status == 404
    # The failed session is gone.
    assert http("GET", location).status == 404
    assert os.listdir(os.path.join(registry.app.storage.root, "uploads")) == []


def test_truncated_upload_body_stores_nothing(registry):
    data = b"y" * 10_000
    sock = socket.create_connection((registry.server_address[0], registry.server_address[1]))
    sock.sendall(
        f"POST /v2/repo/blobs/uploads/?digest={digest_of(data)} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data[:4000]
    )
    sock.shutdown(socket.SHUT_WR)
    answer = sock.recv(65536)
    sock.close()
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert blob_files(registry.app.storage.root) == set()


def test_missing_digest_on_close_is_digest_invalid(http):
    location = http("POST", "/v2/repo/blobs/uploads/").headers["Location"]
    reply = http("PUT", location, body=b"abc")
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]


def test_unknown_upload_and_foreign_repository_upload(http):
    assert http("GET", "/v2/repo/blobs/uploads/00000000-0000-0000-0000-000000000000").error_codes == [
        "BLOB_UPLOAD_UNKNOWN"
    ]
    location = http("POST", "/v2/mine/blobs/uploads/").headers["Location"]
    stolen = location.replace("/v2/mine/", "/v2/theirs/")
    assert http("PATCH", stolen, body=b"x").status == 404


def test_cancel_upload(http):
    location = http("POST", "/v2/repo/blobs/uploads/").headers["Location"]
    assert http("DELETE", location).status == 204
    assert http("PATCH", location, body=b"x").error_codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_range_requests(http):
    data = bytes(range(256)) * 4
    digest = http.upload("repo", data)
    part = http("GET", f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert http("GET", f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=1000-"}).body == data[1000:]
    assert http("GET", f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=-5"}).body == data[-5:]
    beyond = http("GET", f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=5000-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    assert http("GET", f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=0-1,5-6"}).status == 200


def test_blob_of_another_repository_is_not_readable_until_mounted(http, registry):
    data = b"shared base layer"
    digest = http.upload("team/base", data)
    assert http("GET", f"/v2/team/app/blobs/{digest}").error_codes == ["BLOB_UNKNOWN"]
    mount = http("POST", f"/v2/team/app/blobs/uploads/?mount={digest}&from=team/base")
    assert mount.status == 201 and mount.headers["Location"] == f"/v2/team/app/blobs/{digest}"
    assert http("GET", f"/v2/team/app/blobs/{digest}").body == data
    # Stored once, linked twice.
    assert blob_files(registry.app.storage.root) == {digest.split(":")[1]}
    # A mount from a repository that lacks the blob starts an ordinary upload.
    missing = digest_of(b"nope")
    fallback = http("POST", f"/v2/team/app/blobs/uploads/?mount={missing}&from=team/base")
    assert fallback.status == 202 and "/blobs/uploads/" in fallback.headers["Location"]


def test_delete_is_refused_unless_enabled(http):
    digest = http.upload("repo", b"abc")
    reply = http("DELETE", f"/v2/repo/blobs/{digest}")
    assert reply.status == 405 and reply.error_codes == ["UNSUPPORTED"]
    assert "--enable-delete" in reply.json()["errors"][0]["message"]
    assert http("HEAD", f"/v2/repo/blobs/{digest}").status == 200
    body = json.dumps(image_manifest(http, "app")).encode()
    http("PUT", "/v2/app/manifests/a", body=body, headers={"Content-Type": OCI_MANIFEST})
    assert http("DELETE", "/v2/app/manifests/a").status == 405
    assert http("GET", "/v2/app/manifests/a").status == 200


def test_delete_blob(deletable):
    _, http = deletable
    digest = http.upload("repo", b"abc")
    assert http("DELETE", f"/v2/repo/blobs/{digest}").status == 202
    assert http("HEAD", f"/v2/repo/blobs/{digest}").status == 404
    assert http("DELETE", f"/v2/repo/blobs/{digest}").error_codes == ["BLOB_UNKNOWN"]


def test_bad_digest_in_path(http):
    assert http("GET", "/v2/repo/blobs/sha256:nothex").error_codes == ["DIGEST_INVALID"]


# -- manifests -----------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type,layer_type,config_type",
    [
        (OCI_MANIFEST, OCI_LAYER, OCI_CONFIG),
        (DOCKER_MANIFEST, DOCKER_LAYER_GZIP, DOCKER_CONFIG),
    ],
)
def test_manifest_put_get_head_by_tag_and_digest(http, media_type, layer_type, config_type):
    document = image_manifest(http, "app", media_type, layer_type, config_type)
    body = json.dumps(document).encode()
    put = http("PUT", "/v2/app/manifests/v1", body=body, headers={"Content-Type": media_type})
    assert put.status == 201
    digest = digest_of(body)
    assert put.headers["Docker-Content-Digest"] == digest
    assert put.headers["Location"] == f"/v2/app/manifests/{digest}"
    for reference in ("v1", digest):
        got = http("GET", f"/v2/app/manifests/{reference}")
        assert got.status == 200 and got.body == body
        assert got.headers["Content-Type"] == media_type
        assert got.headers["Docker-Content-Digest"] == digest
        head = http("HEAD", f"/v2/app/manifests/{reference}")
        assert head.status == 200 and head.body == b"" and int(head.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_MANIFEST_LIST])
def test_index_round_trips(http, index_type):
    child = json.dumps(image_manifest(http, "multi")).encode()
    child_digest = digest_of(child)
    assert (
        http(
            "PUT", f"/v2/multi/manifests/{child_digest}", body=child, headers={"Content-Type": OCI_MANIFEST}
        ).status
        == 201
    )
    index = {
        "schemaVersion": 2,
        "mediaType": index_type,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": child_digest,
                "size": len(child),
                "platform": {"os": "linux", "architecture": "amd64"},
            }
        ],
    }
    assert http.put_manifest("multi", "latest", index, index_type).status == 201
    got = http("GET", "/v2/multi/manifests/latest")
    assert got.headers["Content-Type"] == index_type and got.json() == index


def test_index_naming_unknown_manifest_is_refused(http):
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest_of(b"x"), "size": 1}],
    }
    assert http.put_manifest("multi", "latest", index, OCI_INDEX).error_codes == ["MANIFEST_BLOB_UNKNOWN"]


def test_manifest_naming_missing_blob_is_refused(http):
    document = image_manifest(http, "app")
    document["layers"][0]["digest"] = digest_of(b"never uploaded")
    reply = http.put_manifest("app", "v1", document, OCI_MANIFEST)
    assert reply.status == 400 and reply.error_codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert http("GET", "/v2/app/manifests/v1").status == 404


def test_manifest_blob_must_be_in_this_repository(http):
    document = image_manifest(http, "elsewhere")
    assert http.put_manifest("app", "v1", document, OCI_MANIFEST).error_codes == ["MANIFEST_BLOB_UNKNOWN"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"schemaVersion": 1}',
        b'{"schemaVersion": 2, "mediaType": "text/plain"}',
        b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'"}',
    ],
)
def test_malformed_manifest_is_manifest_invalid(http, body):
    reply = http("PUT", "/v2/app/manifests/v1", body=body, headers={"Content-Type": "application/json"})
    assert reply.status == 400 and reply.error_codes == ["MANIFEST_INVALID"]


def test_manifest_put_by_wrong_digest(http):
    body = json.dumps(image_manifest(http, "app")).encode()
    reply = http(
        "PUT", f"/v2/app/manifests/{digest_of(b'other')}", body=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]


def test_unknown_manifest_and_repository(http):
    assert http("GET", "/v2/nobody/manifests/latest").error_codes == ["NAME_UNKNOWN"]
    http.put_manifest("app", "v1", image_manifest(http, "app"), OCI_MANIFEST)
    assert http("GET", "/v2/app/manifests/v2").error_codes == ["MANIFEST_UNKNOWN"]
    assert http("GET", f"/v2/app/manifests/{digest_of(b'x')}").error_codes == ["MANIFEST_UNKNOWN"]


def test_delete_by_tag_and_by_digest(deletable):
    _, http = deletable
    body = json.dumps(image_manifest(http, "app")).encode()
    digest = digest_of(body)
    for tag in ("a", "b", "c"):
        http("PUT", f"/v2/app/manifests/{tag}", body=body, headers={"Content-Type": OCI_MANIFEST})
    assert http("DELETE", "/v2/app/manifests/a").status == 202
    assert http("GET", "/v2/app/manifests/a").status == 404
    assert http("GET", "/v2/app/tags/list").json()["tags"] == ["b", "c"]
    assert http("DELETE", f"/v2/app/manifests/{digest}").status == 202
    assert http("GET", f"/v2/app/manifests/{digest}").status == 404
    assert http("GET", "/v2/app/tags/list").json()["tags"] == []
    assert http("DELETE", "/v2/app/manifests/zzz").status == 404


# -- listing -------------------------------------------------------------------


def test_tags_list_with_pagination(http):
    body = json.dumps(image_manifest(http, "app")).encode()
    tags = ["v1", "v10", "v2", "latest", "beta"]
    for tag in tags:
        http("PUT", f"/v2/app/manifests/{tag}", body=body, headers={"Content-Type": OCI_MANIFEST})
    full = http("GET", "/v2/app/tags/list")
    assert full.json() == {"name": "app", "tags": sorted(tags)} and "Link" not in full.headers
    seen, path = [], "/v2/app/tags/list?n=2"
    while path:
        page = http("GET", path)
        assert len(page.json()["tags"]) <= 2
        seen += page.json()["tags"]
        link = page.headers.get("Link")
        path = link[1 : link.index(">")] if link else None
        assert link is None or link.endswith('rel="next"')
    assert seen == sorted(tags)
    assert http("GET", "/v2/app/tags/list?n=2&last=latest").json()["tags"] == ["v1", "v10"]
    zero = http("GET", "/v2/app/tags/list?n=0")
    assert zero.json()["tags"] == [] and "Link" not in zero.headers
    assert http("GET", "/v2/app/tags/list?n=-1").status == 400
    assert http("GET", "/v2/nothing/tags/list").error_codes == ["NAME_UNKNOWN"]


def test_catalog_with_pagination(http):
    for name in ("b/two", "a/one", "c", "a/one/nested"):
        http.upload(name, b"x")
    assert http("GET", "/v2/_catalog").json() == {"repositories": ["a/one", "a/one/nested", "b/two", "c"]}
    first = http("GET", "/v2/_catalog?n=3")
    assert first.json()["repositories"] == ["a/one", "a/one/nested", "b/two"]
    assert first.headers["Link"] == '</v2/_catalog?n=3&last=b/two>; rel="next"'
    assert http("GET", "/v2/_catalog?n=3&last=b/two").json()["repositories"] == ["c"]


# -- names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v2/../../etc/blobs/sha256:" + "0" * 64,
        "/v2/a/../../../etc/tags/list",
        "/v2/%2e%2e/%2e%2e/etc/tags/list",
        "/v2/a/%2E%2E/b/manifests/latest",
        "/v2/Upper/tags/list",
        "/v2/a//b/tags/list",
        "/v2/_layers/tags/list",
        "/v2/a/_manifests/tags/list",
        "/v2/-a/tags/list",
        "/v2/" + "a" * 256 + "/tags/list",
    ],
)
def test_path_tricks_are_name_invalid(http, registry, path):
    reply = http("GET", path)
    assert reply.status == 400 and reply.error_codes == ["NAME_INVALID"]
    assert not os.path.exists(os.path.join(registry.app.storage.root, "..", "etc"))


def test_upload_to_invalid_name_writes_nothing(http, registry):
    reply = http("POST", "/v2/a/%2e%2e/%2e%2e/x/blobs/uploads/?digest=" + digest_of(b"x"), body=b"x")
    assert reply.error_codes == ["NAME_INVALID"]
    assert blob_files(registry.app.storage.root) == set()
    assert os.listdir(os.path.join(registry.app.storage.root, "uploads")) == []


def test_connection_is_kept_alive_across_requests(registry):
    import http.client

    conn = http.client.HTTPConnection(registry.netloc)
    for _ in range(3):
        conn.request("GET", "/v2/")
        assert conn.getresponse().read() == b"{}"
    conn.close()


def test_oversized_manifest_is_413(http):
    from stepbox.core.registry.mediatypes import MANIFEST_MAX_BYTES

    body = b'{"schemaVersion": 2, "pad": "' + b"x" * MANIFEST_MAX_BYTES + b'"}'
    reply = http("PUT", "/v2/app/manifests/v1", body=body, headers={"Content-Type": OCI_MANIFEST})
    assert reply.status == 413 and reply.error_codes == ["MANIFEST_INVALID"]


def test_garbage_collection_removes_only_unlinked_blobs(deletable):
    registry, http = deletable
    document = image_manifest(http, "app")
    body = json.dumps(document).encode()
    http("PUT", "/v2/app/manifests/v1", body=body, headers={"Content-Type": OCI_MANIFEST})
    shared = http.upload("other", b"layer bytes")  # same bytes as app's layer
    orphan = http.upload("scratch", b"orphan")
    http("DELETE", f"/v2/scratch/blobs/{orphan}")
    storage = registry.app.storage
    assert storage.garbage_collect() == [orphan]
    assert http("GET", f"/v2/other/blobs/{shared}").status == 200
    assert http("GET", "/v2/app/manifests/v1").body == body
    # Deleting the manifest and app's links leaves "other" holding the shared layer.
    http("DELETE", f"/v2/app/manifests/{digest_of(body)}")
    for entry in document["layers"] + [document["config"]]:
        http("DELETE", f"/v2/app/blobs/{entry['digest']}")
    removed = set(storage.garbage_collect())
    assert removed == {digest_of(body), document["config"]["digest"]}
    assert http("GET", f"/v2/other/blobs/{shared}").status == 200


def test_abandoned_uploads_are_collected(http, registry):
    location = http("POST", "/v2/repo/blobs/uploads/").headers["Location"]
    http("PATCH", location, body=b"partial")
    registry.app.storage.garbage_collect(upload_age_seconds=3600)
    assert http("GET", location).status == 204  # recent: kept
    registry.app.storage.garbage_collect(upload_age_seconds=-1)
    assert os.listdir(os.path.join(registry.app.storage.root, "uploads")) == []
