"""A tiny registry that lies: serves canned answers, some of them wrong.

It speaks just enough of the protocol for a pull (manifest and blob GETs)
and can cut a body short, which no honest server does.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stepbox.core.registry.mediatypes import DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST

from .helpers import digest_of


@dataclass
class Canned:
    body: bytes
    content_type: str = "application/octet-stream"
    truncate_to: int | None = None  # send only this many bytes of a full Content-Length


@dataclass
class HostileRegistry:
    answers: dict[str, Canned] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.requests.append(self.path)
                path = self.path.split("?")[0]
                if path == "/v2/":
                    return self._answer(Canned(b"{}", "application/json"))
                canned = owner.answers.get(path)
                if canned is None:
                    body = json.dumps({"errors": [{"code": "BLOB_UNKNOWN", "message": "no"}]}).encode()
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self._answer(canned)

            def _answer(self, canned: Canned):
                self.send_response(200)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                if canned.truncate_to is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(
                    canned.body if canned.truncate_to is None else canned.body[: canned.truncate_to]
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    @property
    def netloc(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # -- a correct image to start from -------------------------------------
    def serve_image(self, repo: str, tag: str, tars: list[bytes]) -> dict:
        """Serve a valid image; returns the pieces so a test can spoil one."""
        compressed = [gzip.compress(t, mtime=0) for t in tars]
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["sh"]},
                "rootfs": {"type": "layers", "diff_ids": [digest_of(t) for t in tars]},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [
                {"mediaType": DOCKER_LAYER_GZIP, "digest": digest_of(c), "size": len(c)} for c in compressed
            ],
        }
        self.answers[f"/v2/{repo}/blobs/{digest_of(config)}"] = Canned(config)
        for c in compressed:
            self.answers[f"/v2/{repo}/blobs/{digest_of(c)}"] = Canned(c)
        self.set_manifest(repo, tag, manifest)
        return {"config": config, "compressed": compressed, "manifest": manifest}

    def set_manifest(self, repo: str, tag: str, manifest: dict | bytes, content_type: str = DOCKER_MANIFEST):
        body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        self.answers[f"/v2/{repo}/manifests/{tag}"] = Canned(body, content_type)
        return body
