"""``stepbox registry serve``: an OCI distribution registry over HTTP/1.1.

The HTTP layer is the one the daemon uses too (core/http_server: h11,
limits, timeouts, TLS).  Each request is routed (:mod:`.routes`) to a method
of an :class:`_Exchange` below that reads the body, calls :mod:`.storage` /
:mod:`.uploads`, and answers with the status codes and headers the spec
names.  Every response carries ``Docker-Distribution-API-Version:
registry/2.0`` (clients use it to recognise a v2 registry) and every failure
the spec's error JSON.

What a registry open to a network needs, and this one does:

* **TLS** (``--tls-cert``/``--tls-key``); and Basic auth (``--htpasswd``)
  only over TLS or on loopback: a password in a Basic header crosses the
  network in clear otherwise, so the server refuses to start like that.
* **The same answer time for unknown and known users**: a wrong user name
  costs a password hash too, so timing does not tell which names exist.
* **DELETE only when enabled** (``--enable-delete``, the CNCF registry's
  ``storage.delete.enabled``): otherwise 405 UNSUPPORTED.
* **Upload sessions that expire** (``--upload-ttl``): an abandoned upload's
  bytes are deleted once it has been idle that long.
* **A bounded request log**: :attr:`RegistryApp.log` keeps the last
  ``LOG_CAPACITY`` requests (method, path, status, bytes received and sent),
  so tests and benchmarks can *count* what a push really sent.
"""

from __future__ import annotations

import collections
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from stepbox.core.http_server.limits import Limits
from stepbox.core.http_server.listeners import Address, parse_address
from stepbox.core.http_server.messages import HTTPError, Reply, Request, Response, StreamResponse
from stepbox.core.http_server.server import HTTPServer

from .errors import RegistryError
from .htpasswd import Htpasswd
from .http_range import RangeNotSatisfiable, parse_chunk_range, parse_range, upload_range
from .mediatypes import MANIFEST_MAX_BYTES
from .names import is_sha256_digest, is_valid_name
from .routes import Route, paginate, route
from .storage import RegistryStorage
from .uploads import DEFAULT_UPLOAD_TTL, Uploads

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
REALM = "stepbox-registry"
SEND_SIZE = 1 << 20
READ_SIZE = 1 << 20
LOG_CAPACITY = 10_000
REGISTRY_LIMITS = Limits()  # blobs are big: the default body limit (64 GiB)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # with the query string
    status: int
    bytes_received: int
    bytes_sent: int


class RequestLog:
    """The last ``capacity`` requests.  ``len()`` counts every request ever
    logged and slices use those counts, so ``log[mark:]`` after ``mark =
    len(log)`` is "what came since", even after old entries were dropped."""

    def __init__(self, capacity: int = LOG_CAPACITY):
        self._entries: collections.deque[RequestRecord] = collections.deque(maxlen=capacity)
        self._total = 0
        self._lock = threading.Lock()

    def append(self, entry: RequestRecord) -> None:
        with self._lock:
            self._entries.append(entry)
            self._total += 1

    def __len__(self) -> int:
        return self._total

    def __iter__(self):
        with self._lock:
            return iter(list(self._entries))

    def __getitem__(self, index):
        with self._lock:
            entries, first = list(self._entries), self._total - len(self._entries)
        if isinstance(index, slice):
            start, stop, step = index.indices(self._total)
            return entries[max(start - first, 0) : max(stop - first, 0) : step]
        if index < 0:
            return entries[index]
        if index < first:
            raise IndexError(f"request {index} was dropped from the log (it keeps {len(entries)})")
        return entries[index - first]


@dataclass
class RegistryApp:
    """The registry's state, shared by every connection: the HTTP server
    calls it with each request."""

    storage: RegistryStorage
    htpasswd: Htpasswd | None = None
    access_log: bool = False  # print one line per request to stderr
    allow_delete: bool = False
    upload_ttl: float = DEFAULT_UPLOAD_TTL
    log: RequestLog = field(default_factory=RequestLog)
    uploads: Uploads = field(init=False)

    def __post_init__(self) -> None:
        self.uploads = Uploads(self.storage, ttl=self.upload_ttl)

    def __call__(self, request: Request) -> Reply:
        return _Exchange(self, request).handle()

    def record(self, entry: RequestRecord) -> None:
        self.log.append(entry)
        if self.access_log:
            print(
                f"{entry.method} {entry.path} {entry.status} in={entry.bytes_received} "
                f"out={entry.bytes_sent}",
                file=sys.stderr,
                flush=True,
            )


def render_error(status: int, message: str) -> Response:
    """An error of the HTTP layer (malformed request, too large, too slow,
    a fault of ours) in the registry's error JSON."""
    code = {401: "UNAUTHORIZED", 403: "DENIED", 405: "UNSUPPORTED", 429: "TOOMANYREQUESTS"}.get(
        status, "UNKNOWN"
    )
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return Response(status, body, "application/json")


class _Exchange:
    """One request and the reply being built for it."""

    def __init__(self, app: RegistryApp, request: Request):
        self.app = app
        self.request = request
        self.command = request.method
        self.path = request.target
        self.headers = request.headers
        self.query = {k: v[-1] for k, v in request.query.items()}
        self._received = 0
        self.reply: Reply | None = None

    def handle(self) -> Reply:
        try:
            if (
                self.app.htpasswd is not None
                and self.app.htpasswd.check_basic(self.headers.get("Authorization")) is None
            ):
                raise RegistryError(
                    "UNAUTHORIZED", headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
                )
            path = urlsplit(self.path).path
            where = route(path)
            if where is None:
                raise RegistryError("UNSUPPORTED", f"no endpoint at {path}", status=404)
            handler = getattr(self, f"_{where.kind}_{self.command.lower()}", None)
            if handler is None:
                raise RegistryError("UNSUPPORTED", f"{self.command} is not allowed on {path}", status=405)
            handler(where)
        except RegistryError as e:
            self._send(e.status, e.body(), {"Content-Type": "application/json", **e.headers})
        except HTTPError as e:  # the body: malformed, too large, too slow
            error = RegistryError("BLOB_UPLOAD_INVALID", str(e), status=e.status)
            self._send(e.status, error.body(), {"Content-Type": "application/json"}, close=True)
        assert self.reply is not None
        return self.reply

    def _body(self) -> Iterator[bytes]:
        """The request body, counted (for the log)."""
        while piece := self.request.body.read(READ_SIZE):
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
        close: bool = False,
    ) -> None:
        """Status, headers, then the body (or nothing for HEAD).  Logged
        *before* the answer goes out: a client that has its answer (a test
        counting requests) must find the request in the log.  A body we did
        not read (a 401 to a 100 MB PATCH) is not read for the next request
        either: such connections are closed."""
        close = close or not self.request.body.exhausted
        headers = {API_VERSION_HEADER[0]: API_VERSION_HEADER[1], **(headers or {})}
        content_type = headers.pop("Content-Type", "")
        size = length if length is not None else len(body)
        self.app.record(
            RequestRecord(
                self.command, self.path, status, self._received, 0 if self.command == "HEAD" else size
            )
        )
        if close:
            headers["Connection"] = "close"
        if stream is not None:
            self.reply = StreamResponse(stream, status, content_type, headers, length=size)
        elif self.command == "HEAD" and length is not None:
            self.reply = StreamResponse(iter(()), status, content_type, headers, length=size)
        else:
            self.reply = Response(status, body, content_type, headers, close=close)

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
            body = self.request.read_body(MANIFEST_MAX_BYTES)
        except HTTPError as e:
            raise RegistryError("MANIFEST_INVALID", str(e), status=e.status) from None
        self._received += len(body)
        digest = self.app.storage.put_manifest(where.name, where.arg, body, self.headers.get("Content-Type"))
        self._send(
            201, b"", {"Location": f"/v2/{where.name}/manifests/{digest}", "Docker-Content-Digest": digest}
        )

    def _check_delete_allowed(self) -> None:
        if not self.app.allow_delete:
            raise RegistryError(
                "UNSUPPORTED", "deleting is disabled: start the registry with --enable-delete", status=405
            )

    def _manifest_delete(self, where: Route) -> None:
        self._check_delete_allowed()
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
        self._check_delete_allowed()
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


class RegistryServer(HTTPServer):
    app: RegistryApp

    @property
    def address(self) -> Address:
        return self.addresses[0]

    @property
    def server_address(self) -> tuple[str, int]:
        return (self.address.host, self.address.port)

    @property
    def tls(self) -> bool:
        return self._sockets[0][2] is not None if self._sockets else False

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.netloc}"

    @property
    def netloc(self) -> str:
        host, port = self.server_address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class RegistryConfigError(ValueError):
    pass


def make_server(
    addr: str,
    root: str,
    htpasswd_path: str | None = None,
    access_log: bool = False,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    allow_delete: bool = False,
    upload_ttl: float = DEFAULT_UPLOAD_TTL,
    limits: Limits = REGISTRY_LIMITS,
) -> RegistryServer:
    """A ready-to-serve registry on ``addr`` (``host:port``; port 0 = any free one)."""
    host, _, port = addr.rpartition(":")
    try:
        address = parse_address(f"tcp://{host or '127.0.0.1'}:{port}")
    except ValueError as e:
        raise RegistryConfigError(f"bad address {addr!r}: {e}") from None
    if bool(tls_cert) != bool(tls_key):
        raise RegistryConfigError("TLS needs both --tls-cert and --tls-key")
    context = None
    if tls_cert:
        from stepbox.core.http_server.tls import TLSConfigError, TLSFiles, server_context

        try:
            context = server_context(TLSFiles("", tls_cert, tls_key or ""), verify_clients=False)
        except TLSConfigError as e:
            raise RegistryConfigError(str(e)) from None
    if htpasswd_path and context is None and not address.is_loopback:
        raise RegistryConfigError(
            f"refusing Basic auth over plain HTTP on {address.host}: passwords would cross the network "
            "in clear.  Give --tls-cert and --tls-key, or listen on 127.0.0.1"
        )
    app = RegistryApp(
        RegistryStorage(root),
        Htpasswd.load(htpasswd_path) if htpasswd_path else None,
        access_log=access_log,
        allow_delete=allow_delete,
        upload_ttl=upload_ttl,
    )
    server = RegistryServer(
        app,
        [(address, context)],
        limits=limits,
        render_error=render_error,
        default_headers=[API_VERSION_HEADER],
        name="stepbox registry",
    )
    return server


def serve_in_thread(server: RegistryServer) -> threading.Thread:
    return server.serve_in_thread()
