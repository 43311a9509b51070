"""Small tools the registry tests share: images to push, raw HTTP to poke with."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
from dataclasses import dataclass

from stepbox.core.image.layer_tar import write_layer
from stepbox.core.image.store import Image, ImageStore
from stepbox.core.kernel import EntryKind, LayerEntry


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    write_layer([LayerEntry(path, EntryKind.FILE, data=data) for path, data in files.items()], buf)
    return buf.getvalue()


def make_image(store: ImageStore, tag: str, layers: list[bytes], cmd=("sh",)) -> Image:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"]},
    }
    return store.add_image(layers, config, tag=tag)


def blob_files(root: str) -> set[str]:
    """Every blob file under a store or registry root."""
    directory = os.path.join(root, "blobs", "sha256")
    return {n for n in os.listdir(directory) if not n.startswith(".")} if os.path.isdir(directory) else set()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def error_codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


class Http:
    """Raw requests to a server, one fresh connection each (so a test can
    also see what a server does to a connection it closes)."""

    def __init__(self, netloc: str):
        self.netloc = netloc

    def __call__(self, method: str, path: str, body=None, headers=None, chunked=False) -> Reply:
        conn = http.client.HTTPConnection(self.netloc, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def upload(self, name: str, data: bytes) -> str:
        digest = digest_of(data)
        reply = self("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", body=data)
        assert reply.status == 201, reply.body
        return digest

    def put_manifest(self, name: str, reference: str, document: dict, media_type: str) -> Reply:
        return self(
            "PUT",
            f"/v2/{name}/manifests/{reference}",
            body=json.dumps(document).encode(),
            headers={"Content-Type": media_type},
        )
