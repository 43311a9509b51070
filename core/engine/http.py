"""A small threaded HTTP/1.1 server on a UNIX socket.

Why write one?  Because this is the part of Docker that people use without
seeing it: ``docker ps`` opens ``/var/run/docker.sock``, writes
``GET /v1.44/containers/json HTTP/1.1`` and reads JSON back.  Everything the
daemon does starts with a request parsed here.

What it supports, because the docker CLI needs it:

* **keep-alive**: one connection carries many requests (Go's client reuses
  connections);
* request bodies with ``Content-Length`` or **chunked** framing, under a
  size limit (a client must not be able to fill the daemon's memory);
* responses that are a whole body, a **stream** (chunked, sent as it is
  produced: ``wait``, ``logs -f``, ``pull`` progress), or
* a **connection upgrade** (``101 UPGRADED``): after the head, the socket
  stops being HTTP and carries a raw stream -- what ``attach`` and ``exec``
  use to move a process's output (and input) both ways.

Each connection is served by its own thread; the application behind it (the
router) must be safe to call from many threads at once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from .wire import BodyReader, BodyTooLarge, ChunkedWriter, Headers, ProtocolError, read_head

log = logging.getLogger("stepbox.engine")

JSON_LIMIT = 4 << 20  # a create/exec/commit body: a few kilobytes in practice
STREAM_LIMIT = 16 << 30  # a tar sent to /images/load, /build, import
IDLE_TIMEOUT = 600.0  # seconds an idle keep-alive connection may stay open


# ---------------------------------------------------------------- requests


@dataclass
class Request:
    method: str
    target: str  # as sent: "/v1.44/containers/json?all=1"
    path: str  # decoded, without the query: "/v1.44/containers/json"
    query: dict[str, list[str]]
    headers: Headers
    body: BodyReader
    params: dict[str, str] = field(default_factory=dict)  # filled by the router: {"id": …}
    api_version: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def flag(self, name: str, default: bool = False) -> bool:
        """Docker's query booleans: ``1``/``true``/``True`` are true, and so
        is a bare ``?stream``; ``0``/``false``/empty are false."""
        if name not in self.query:
            return default
        value = self.query[name][-1].strip().lower()
        return value not in ("0", "false", "no", "off") if value else True

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        from .errors import BadParameter

        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise BadParameter(f"invalid value for {name}: {value!r} is not an integer") from None

    def json(self, required: bool = False):
        """The body as JSON (``None`` if empty and not required)."""
        from .errors import BadParameter

        data = self.body.read(JSON_LIMIT + 1)
        while len(data) <= JSON_LIMIT and (more := self.body.read(JSON_LIMIT + 1 - len(data))):
            data += more
        if len(data) > JSON_LIMIT:
            raise BodyTooLarge(JSON_LIMIT)
        if not data.strip():
            if required:
                raise BadParameter("a JSON request body is required")
            return None
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadParameter(f"malformed JSON in the request body: {e}") from None

    @property
    def wants_upgrade(self) -> bool:
        return self.headers.has_token("Connection", "upgrade")


# --------------------------------------------------------------- responses


@dataclass
class Response:
    """A whole body, sent with Content-Length."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value, status: int = 200, headers: dict | None = None) -> Response:
        return cls(status, json.dumps(value).encode() + b"\n", "application/json", headers or {})

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", "")

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        # docker reads exactly this shape: {"message": "..."}
        return cls.json({"message": message}, status)


@dataclass
class StreamResponse:
    """A body produced while it is sent (chunked).  The head goes out before
    the first chunk is asked for -- ``POST /containers/{id}/wait`` relies on
    that: ``docker run`` waits for the head before it calls start."""

    chunks: Iterable[bytes]
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class UpgradeResponse:
    """``101 UPGRADED``, then ``run(rfile, wfile)`` owns the raw connection
    until it returns; the connection is closed afterwards."""

    run: Callable[[BinaryIO, BinaryIO], None]
    content_type: str = "application/vnd.docker.raw-stream"
    abandon: Callable[[], None] | None = None  # called instead of run if the client is gone


Reply = Response | StreamResponse | UpgradeResponse
App = Callable[[Request], Reply]


# ------------------------------------------------------------------ server


class _Handler(socketserver.BaseRequestHandler):
    server: UnixHTTPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        rfile = sock.makefile("rb", buffering=65536)
        wfile = sock.makefile("wb", buffering=65536)
        try:
            while self._one_request(sock, rfile, wfile):
                pass
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away: nothing to answer
        finally:
            for f in (wfile, rfile):
                try:
                    f.close()
                except OSError:
                    pass

    def _one_request(self, sock: socket.socket, rfile, wfile) -> bool:
        """Serve one request; True if the connection may carry another."""
        sock.settimeout(IDLE_TIMEOUT)
        try:
            head = read_head(rfile)
        except ProtocolError as e:
            _send(wfile, "GET", Response.error(e.status, str(e)), close=True)
            return False
        if head is None:
            return False
        sock.settimeout(None)  # a handler may stream for hours (logs -f)
        start_line, headers = head
        parts = start_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            _send(
                wfile, "GET", Response.error(400, f"malformed request line: {start_line[:80]!r}"), close=True
            )
            return False
        method, target, version = parts
        try:
            body = BodyReader(rfile, headers, limit=STREAM_LIMIT)
        except ProtocolError as e:
            _send(wfile, method, Response.error(e.status, str(e)), close=True)
            return False
        split = urlsplit(target)
        request = Request(
            method, target, unquote(split.path), parse_qs(split.query, keep_blank_values=True), headers, body
        )
        keep_alive = not headers.has_token("Connection", "close") and (
            version == "HTTP/1.1" or headers.has_token("Connection", "keep-alive")
        )
        reply = self._call_app(request)
        if isinstance(reply, UpgradeResponse):
            self._upgrade(request, reply, sock, rfile, wfile)
            return False
        if isinstance(reply, Response) and reply.status == 413:
            keep_alive = False  # the rest of that body is not worth reading
        _send(wfile, method, reply, close=not keep_alive)
        if keep_alive and not body.exhausted:
            # The handler did not read the whole body: read the rest so the
            # next request starts where it should -- unless it is big.
            try:
                keep_alive = body.drain()
            except ProtocolError:
                keep_alive = False
        log.info("%s %s -> %s", method, target, getattr(reply, "status", "?"))
        return keep_alive

    def _call_app(self, request: Request) -> Reply:
        try:
            return self.server.app(request)
        except BodyTooLarge as e:
            return Response.error(413, str(e))
        except ProtocolError as e:
            return Response.error(e.status, str(e))
        except Exception as e:  # a real fault: say so, keep serving
            log.error("%s %s failed:\n%s", request.method, request.target, traceback.format_exc())
            return Response.error(500, f"internal error in the stepbox daemon: {type(e).__name__}: {e}")

    def _upgrade(self, request: Request, reply: UpgradeResponse, sock, rfile, wfile) -> None:
        if request.wants_upgrade:
            head = (
                f"HTTP/1.1 101 UPGRADED\r\nContent-Type: {reply.content_type}\r\n"
                "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            )
        else:  # an old client: a 200 whose body ends at close
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {reply.content_type}\r\nConnection: close\r\n\r\n"
        try:
            wfile.write(head.encode())
            wfile.flush()
        except OSError:
            if reply.abandon:
                reply.abandon()
            raise
        log.info("%s %s -> 101 (raw stream)", request.method, request.target)
        try:
            reply.run(rfile, wfile)
            wfile.flush()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                sock.shutdown(socket.SHUT_WR)  # the client sees end-of-stream
            except OSError:
                pass


def _send(wfile, method: str, reply: Response | StreamResponse, close: bool) -> None:
    reason = _reason(reply.status)
    lines = [
        f"HTTP/1.1 {reply.status} {reason}",
        "Server: stepbox",
        "Api-Version: 1.44",
        "Docker-Experimental: false",
        "Ostype: linux",
    ]
    if reply.content_type:
        lines.append(f"Content-Type: {reply.content_type}")
    lines += [f"{k}: {v}" for k, v in reply.headers.items()]
    if close:
        lines.append("Connection: close")
    if isinstance(reply, StreamResponse):
        lines.append("Transfer-Encoding: chunked")
        wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        wfile.flush()
        if method == "HEAD":
            return
        writer = ChunkedWriter(wfile)
        try:
            for chunk in reply.chunks:
                writer.write(chunk)
        except OSError:
            raise  # the client went away
        except Exception:
            # The head is gone already: the only honest signal left is to
            # cut the stream without its final chunk.
            log.error("stream failed:\n%s", traceback.format_exc())
            raise ConnectionAbortedError("stream failed") from None
        writer.close()
        return
    if reply.status not in (204, 304) and not (100 <= reply.status < 200):
        lines.append(f"Content-Length: {len(reply.body)}")
    wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    if method != "HEAD" and reply.status not in (204, 304):
        wfile.write(reply.body)
    wfile.flush()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Listens on a UNIX socket file; one thread per connection."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # 50 parallel `docker run`s connect at once

    def __init__(self, path: str, app: App, mode: int = 0o660):
        self.app = app
        self.path = path
        super().__init__(path, _Handler, bind_and_activate=False)
        # bind, chmod, then listen: nobody may connect while the socket is
        # still open to everyone.
        old_umask = os.umask(0o177)
        try:
            self.server_bind()
        finally:
            os.umask(old_umask)
        os.chmod(path, mode)
        self.server_activate()

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="http-accept", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
