"""``stepbox registry serve``: an OCI distribution registry over HTTP/1.1.

One thread per connection (:class:`http.server.ThreadingHTTPServer`); each
request is routed (:mod:`.routes`) to a handler method below that reads the
body, calls :mod:`.storage` / :mod:`.uploads`, and answers with the status
codes and headers the spec names.  Every response carries
``Docker-Distribution-API-Version: registry/2.0`` (clients use it to
recognise a v2 registry) and every failure the spec's error JSON.

Every request is also appended to :attr:`RegistryApp.log` (method, path,
status, bytes received) so tests and benchmarks can *count* what a push
really sent instead of assuming it.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from .errors import RegistryError
from .htpasswd import Htpasswd
from .http_range import RangeNotSatisfiable, parse_chunk_range, parse_range, upload_range
from .mediatypes import MANIFEST_MAX_BYTES
from .names import is_sha256_digest, is_valid_name
from .routes import Route, paginate, route
from .storage import RegistryStorage
from .uploads import Uploads
from .wire import BodyError, iter_body, read_all

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
REALM = "stepbox-registry"
SEND_SIZE = 1 << 20


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # with the query string
    status: int
    bytes_received: int
    bytes_sent: int


@dataclass
class RegistryApp:
    """The registry's state, shared by every connection's handler."""

    storage: RegistryStorage
    htpasswd: Htpasswd | None = None
    access_log: bool = False  # print one line per request to stderr
    log: list[RequestRecord] = field(default_factory=list)
    uploads: Uploads = field(init=False)
    _log_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.uploads = Uploads(self.storage)

    def record(self, entry: RequestRecord) -> None:
        with self._log_lock:
            self.log.append(entry)
        if self.access_log:
            print(
                f"{entry.method} {entry.path} {entry.status} in={entry.bytes_received} "
                f"out={entry.bytes_sent}",
                file=sys.stderr,
                flush=True,
            )


class RegistryHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: docker reuses connections
    server_version = "stepbox-registry"
    app: RegistryApp  # set on the subclass by make_server

    # -- plumbing -----------------------------------------------------------
    def do_GET(self):
        self._dispatch()  # noqa: E704

    def do_HEAD(self):
        self._dispatch()  # noqa: E704

    def do_PUT(self):
        self._dispatch()  # noqa: E704

    def do_POST(self):
        self._dispatch()  # noqa: E704

    def do_PATCH(self):
        self._dispatch()  # noqa: E704

    def do_DELETE(self):
        self._dispatch()  # noqa: E704

    def log_message(self, format, *args):  # the app keeps its own log
        pass

    def _dispatch(self) -> None:
        self._received = 0
        self._sent = 0
        self._status = 0
        self._recorded = False
        self._body_read = not self._has_body()
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if (
                self.app.htpasswd is not None
                and self.app.htpasswd.check_basic(self.headers.get("Authorization")) is None
            ):
                raise RegistryError(
                    "UNAUTHORIZED", headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
                )
            where = route(url.path)
            if where is None:
                raise RegistryError("UNSUPPORTED", f"no endpoint at {url.path}", status=404)
            handler = getattr(self, f"_{where.kind}_{self.command.lower()}", None)
            if handler is None:
                raise RegistryError("UNSUPPORTED", f"{self.command} is not allowed on {url.path}", status=405)
            handler(where)
        except RegistryError as e:
            self._send(e.status, e.body(), {"Content-Type": "application/json", **e.headers})
        except BodyError as e:
            self.close_connection = True
            self._send(
                400, RegistryError("BLOB_UPLOAD_INVALID", str(e)).body(), {"Content-Type": "application/json"}
            )
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug: say so, keep serving
            traceback.print_exc()
            self.close_connection = True
            body = json.dumps({"errors": [{"code": "UNKNOWN", "message": f"internal error: {e}"}]}).encode()
            try:
                self._send(500, body, {"Content-Type": "application/json"})
            except OSError:
                pass
        finally:
            if not self._recorded:
                self._record()

    def _record(self) -> None:
        self._recorded = True
        self.app.record(RequestRecord(self.command, self.path, self._status, self._received, self._sent))

    def _has_body(self) -> bool:
        return (
            "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            or int(self.headers.get("Content-Length") or 0) > 0
        )

    def _body(self) -> Iterator[bytes]:
        """The request body, counted (for the log)."""
        self._body_read = True
        for piece in iter_body(self.rfile, self.headers):
            self._received += len(piece)
            yield piece

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
        stream: Iterator[bytes] | None = None,
    ) -> None:
        """Status, headers, then the body (or nothing for HEAD).  A body we did
        not read (say, a 401 to a 100 MB PATCH) would be parsed as the next
        request, so such connections are closed instead."""
        self._status = status
        if not self._body_read:
            self.close_connection = True
        # Logged *before* the answer goes out: a client that has its answer
        # (a test counting requests) must find the request in the log.
        if self.command != "HEAD":
            self._sent = length if length is not None else len(body)
        self._record()
        self.send_response(status)
        self.send_header(*API_VERSION_HEADER)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(length if length is not None else len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if stream is not None:
            for piece in stream:
                self.wfile.write(piece)
        elif body:
            self.wfile.write(body)

    def _json(self, status: int, value, headers: dict[str, str] | None = None) -> None:
        self._send(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})}
        )

    # -- base and listings ---------------------------------------------------
    def _base_get(self, where: Route) -> None:
        self._json(200, {})

    _base_head = _base_get

    def _catalog_get(self, where: Route) -> None:
        page, next_last = paginate(
            self.app.storage.repositories(), self.query.get("n"), self.query.get("last")
        )
        self._json(200, {"repositories": page}, self._link("/v2/_catalog", next_last))

    def _tags_get(self, where: Route) -> None:
        page, next_last = paginate(
            self.app.storage.tags(where.name), self.query.get("n"), self.query.get("last")
        )
        self._json(
            200, {"name": where.name, "tags": page}, self._link(f"/v2/{where.name}/tags/list", next_last)
        )

    def _link(self, path: str, next_last: str | None) -> dict[str, str]:
        """RFC 5988 ``Link`` to the next page, as the spec's pagination uses."""
        if next_last is None:
            return {}
        return {"Link": f'<{path}?n={self.query["n"]}&last={quote(next_last)}>; rel="next"'}

    # -- manifests ----------------------------------------------------------
    def _manifest_get(self, where: Route) -> None:
        stored = self.app.storage.get_manifest(where.name, where.arg)
        self._send(
            200,
            stored.body,
            {
                "Content-Type": stored.media_type,
                "Docker-Content-Digest": stored.digest,
                "ETag": f'"{stored.digest}"',
            },
        )

    _manifest_head = _manifest_get

    def _manifest_put(self, where: Route) -> None:
        try:
            body = read_all(self.rfile, self.headers, MANIFEST_MAX_BYTES)
        except BodyError as e:
            self.close_connection = True  # the rest of an oversized body is unread
            raise RegistryError(
                "MANIFEST_INVALID", str(e), status=413 if "larger" in str(e) else 400
            ) from None
        self._body_read = True
        self._received += len(body)
        digest = self.app.storage.put_manifest(where.name, where.arg, body, self.headers.get("Content-Type"))
        self._send(
            201, b"", {"Location": f"/v2/{where.name}/manifests/{digest}", "Docker-Content-Digest": digest}
        )

    def _manifest_delete(self, where: Route) -> None:
        self.app.storage.delete_manifest(where.name, where.arg)
        self._send(202)

    # -- blobs --------------------------------------------------------------
    def _blob_get(self, where: Route) -> None:
        digest = where.arg
        if not is_sha256_digest(digest):
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        size = self.app.storage.blob_size(where.name, digest)
        headers = {
            "Content-Type": "application/octet-stream",
            "Docker-Content-Digest": digest,
            "Accept-Ranges": "bytes",
            "ETag": f'"{digest}"',
            "Cache-Control": "max-age=31536000",
        }  # content-addressed: never changes
        wanted = None
        if self.command == "GET":
            try:
                wanted = parse_range(self.headers.get("Range"), size)
            except RangeNotSatisfiable:
                raise RegistryError(
                    "BLOB_UNKNOWN",
                    "requested range not satisfiable",
                    status=416,
                    headers={"Content-Range": f"bytes */{size}"},
                ) from None
        start, length, status = 0, size, 200
        if wanted is not None:
            start, length, status = wanted.start, wanted.length, 206
            headers["Content-Range"] = wanted.content_range(size)
        self._send(
            status,
            headers=headers,
            length=length,
            stream=_file_pieces(self.app.storage.blob_path(digest), start, length),
        )

    _blob_head = _blob_get

    def _blob_delete(self, where: Route) -> None:
        if not is_sha256_digest(where.arg) or not self.app.storage.unlink_blob(where.name, where.arg):
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": where.arg})
        self._send(202)

    # -- uploads ------------------------------------------------------------
    def _upload_post(self, where: Route) -> None:
        storage, uploads = self.app.storage, self.app.uploads
        mount, source = self.query.get("mount"), self.query.get("from")
        if where.arg:
            raise RegistryError("UNSUPPORTED", "POST starts an upload: /v2/<name>/blobs/uploads/", status=405)
        if (
            mount
            and source
            and is_valid_name(source)
            and is_sha256_digest(mount)
            and storage.is_linked(source, mount)
        ):
            # Cross-repository mount: the blob is already here (in `source`),
            # so the push of this layer costs one request and no bytes.
            storage.link_blob(where.name, mount)
            self._send(
                201, b"", {"Location": f"/v2/{where.name}/blobs/{mount}", "Docker-Content-Digest": mount}
            )
            return
        session = uploads.start(where.name)
        digest = self.query.get("digest")
        if digest and not mount:
            # Monolithic upload in one POST: the body is the whole blob.
            with session.lock:
                uploads.append(session, self._body(), None, None)
                uploads.finish(session, digest)
            self._send(
                201, b"", {"Location": f"/v2/{where.name}/blobs/{digest}", "Docker-Content-Digest": digest}
            )
            return
        self._send(202, b"", self._upload_headers(session))

    def _upload_headers(self, session) -> dict[str, str]:
        return {
            "Location": session.location,
            "Docker-Upload-UUID": session.uuid,
            "Range": upload_range(session.offset),
        }

    def _chunk_range(self):
        header = self.headers.get("Content-Range")
        if header is None:
            return None
        parsed = parse_chunk_range(header)
        if parsed is None:
            raise RegistryError("BLOB_UPLOAD_INVALID", f"malformed Content-Range {header!r}", status=416)
        return parsed

    def _upload_patch(self, where: Route) -> None:
        session = self.app.uploads.get(where.name, where.arg)
        with session.lock:
            self.app.uploads.append(session, self._body(), self._chunk_range(), None)
        self._send(202, b"", self._upload_headers(session))

    def _upload_put(self, where: Route) -> None:
        session = self.app.uploads.get(where.name, where.arg)
        with session.lock:
            self.app.uploads.append(session, self._body(), self._chunk_range(), None)
            digest = self.app.uploads.finish(session, self.query.get("digest"))
        self._send(
            201, b"", {"Location": f"/v2/{where.name}/blobs/{digest}", "Docker-Content-Digest": digest}
        )

    def _upload_get(self, where: Route) -> None:
        session = self.app.uploads.get(where.name, where.arg)
        self._send(204, b"", self._upload_headers(session))

    def _upload_delete(self, where: Route) -> None:
        self.app.uploads.cancel(self.app.uploads.get(where.name, where.arg))
        self._send(204)


def _file_pieces(path: str, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        while length:
            piece = f.read(min(length, SEND_SIZE))
            if not piece:
                return
            length -= len(piece)
            yield piece


class RegistryServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: RegistryApp

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    @property
    def netloc(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # a TCP server's address
        return f"{host}:{port}"


def make_server(
    addr: str, root: str, htpasswd_path: str | None = None, access_log: bool = False
) -> RegistryServer:
    """A ready-to-serve registry on ``addr`` (``host:port``; port 0 = any free one)."""
    host, _, port = addr.rpartition(":")
    app = RegistryApp(
        RegistryStorage(root), Htpasswd.load(htpasswd_path) if htpasswd_path else None, access_log=access_log
    )
    handler = type("BoundRegistryHandler", (RegistryHandler,), {"app": app})
    server = RegistryServer((host.strip("[]") or "127.0.0.1", int(port)), handler)
    server.app = app
    return server


def serve_in_thread(server: RegistryServer) -> threading.Thread:
    # A short poll interval makes shutdown() quick (tests start many servers).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="stepbox-registry", daemon=True
    )
    thread.start()
    return thread
