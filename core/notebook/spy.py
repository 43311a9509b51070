"""A tap on a UNIX socket: see the HTTP requests a client sends to the daemon.

The seed: the CLI "通过REST API进行交互" -- it talks to the daemon with REST
requests.  To *see* them, put :class:`SocketSpy` between the two, as
``socat -v UNIX-LISTEN:spy.sock UNIX-CONNECT:daemon.sock`` would: it listens
on its own socket, forwards every byte both ways unchanged, and parses what
passes into requests (method, path, headers, body) and the status codes
the daemon answered.  Point the CLI at the spy (``stepbox -H unix://…/spy.sock
run …``) and every request it makes is recorded.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import deque
from dataclasses import dataclass, field

BODY_KEPT = 4096  # bytes of each body kept for showing


@dataclass
class SeenRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""  # the first BODY_KEPT bytes
    body_size: int = 0
    status: int | None = None  # the daemon's answer, once it came
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def body_text(self, limit: int = 300) -> str:
        """The body for reading: JSON compacted, binary summarised."""
        if not self.body_size:
            return ""
        try:
            text = json.dumps(json.loads(self.body), separators=(",", ":"))
        except (ValueError, UnicodeDecodeError):
            kind = self.headers.get("content-type", "bytes")
            return f"<{self.body_size:,} bytes of {kind}>"
        return text if len(text) <= limit else text[:limit] + "…"


class _Parser:
    """Incremental HTTP/1.1 message framing for one direction of one connection."""

    def __init__(self, on_head, on_body, on_end, body_mode):
        self.buffer = b""
        self.state = "head"
        self.remaining = 0
        self.on_head, self.on_body, self.on_end = on_head, on_body, on_end
        self.body_mode = body_mode  # (start line, headers) -> ("none"|"length"|"chunked"|"close"|"raw", n)

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer and self.state != "raw":
            if self.state == "head":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
                start, *lines = head.split("\r\n")
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.on_head(start, headers)
                mode, length = self.body_mode(start, headers)
                if mode == "none" or (mode == "length" and length == 0):
                    self.on_end()
                else:
                    self.state, self.remaining = mode, length
            elif self.state == "length":
                piece, self.buffer = self.buffer[: self.remaining], self.buffer[self.remaining :]
                self.remaining -= len(piece)
                self.on_body(piece)
                if self.remaining == 0:
                    self.state = "head"
                    self.on_end()
            elif self.state == "chunked":
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0:
                    return
                size = int(self.buffer[:line_end].split(b";")[0] or b"0", 16)
                if len(self.buffer) < line_end + 2 + size + 2:
                    return
                self.on_body(self.buffer[line_end + 2 : line_end + 2 + size])
                self.buffer = self.buffer[line_end + 2 + size + 2 :]
                if size == 0:
                    self.state = "head"
                    self.on_end()
            elif self.state == "close":
                self.on_body(self.buffer)
                self.buffer = b""

    def closed(self) -> None:
        if self.state == "close":
            self.on_end()


class SocketSpy:
    """Forward ``listen_path`` -> ``upstream_path``, recording HTTP requests."""

    def __init__(self, upstream_path: str, listen_path: str):
        self.upstream_path, self.listen_path = upstream_path, listen_path
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []

    @property
    def host(self) -> str:
        """What to give the client: ``-H`` / ``DOCKER_HOST``."""
        return f"unix://{self.listen_path}"

    def start(self) -> SocketSpy:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.listen_path)
        server.listen(16)
        self._server = server
        self._spawn(self._accept_loop)
        return self

    def close(self) -> None:
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        for sock in list(self._connections):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        try:
            os.unlink(self.listen_path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> SocketSpy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> list[SeenRequest]:
        with self._lock:
            return list(self.requests[mark:])

    # -- plumbing --------------------------------------------------------------------
    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="socket-spy")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while self._server is not None:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream_path)
            except OSError:
                client.close()
                continue
            self._connections += [client, upstream]
            pending: deque[SeenRequest] = deque()
            self._spawn(self._pump, client, upstream, self._request_parser(pending))
            self._spawn(self._pump, upstream, client, self._response_parser(pending))

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, parser: _Parser) -> None:
        try:
            while data := source.recv(65536):
                # Record first, forward second: once the bytes are on their
                # way, the answer (and the client's exit) may come before
                # this thread runs again.
                try:
                    parser.feed(data)
                except (ValueError, UnicodeDecodeError, IndexError):
                    parser.state = "raw"  # not HTTP we understand: keep forwarding, stop reading
                target.sendall(data)
        except OSError:
            pass
        finally:
            parser.closed()
            try:
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _request_parser(self, pending: deque) -> _Parser:
        current: list[SeenRequest] = []

        def on_head(start: str, headers: dict) -> None:
            method, target, _version = start.split(" ", 2)
            request = SeenRequest(method, target, headers)
            current[:] = [request]
            pending.append(request)
            with self._lock:
                self.requests.append(request)

        def on_body(piece: bytes) -> None:
            request = current[0]
            request.body_size += len(piece)
            if len(request.body) < BODY_KEPT:
                request.body += piece[: BODY_KEPT - len(request.body)]

        def body_mode(start: str, headers: dict):
            length = int(headers.get("content-length", "0"))
            if "upgrade" in headers.get("connection", "").lower() and length == 0:
                return "raw", 0  # nothing more of HTTP on this connection
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return "chunked", 0
            return "length", length

        parser = _Parser(on_head, on_body, lambda: None, body_mode)

        def after_upgrade() -> None:
            # A request asking to upgrade (attach, exec start): what follows
            # on this connection is a raw stream, not HTTP.
            if current and "upgrade" in current[0].headers.get("connection", "").lower():
                parser.state = "raw"

        parser.on_end = after_upgrade
        return parser

    @staticmethod
    def _response_parser(pending: deque) -> _Parser:
        current: list[SeenRequest] = []

        def on_head(start: str, headers: dict) -> None:
            status = int(start.split(" ")[1])
            request = pending.popleft() if pending else None
            current[:] = [request] if request else []
            if request:
                request.status, request.response_headers = status, headers

        def body_mode(start: str, headers: dict):
            status = int(start.split(" ")[1])
            request = current[0] if current else None
            if status == 101:
                return "raw", 0
            if (request and request.method == "HEAD") or status in (204, 304) or 100 <= status < 200:
                return "none", 0
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return "chunked", 0
            if "content-length" in headers:
                return "length", int(headers["content-length"])
            return "close", 0

        return _Parser(on_head, lambda piece: None, lambda: None, body_mode)


def requests_table(requests: list[SeenRequest]) -> str:
    """The requests as an HTML table: what the client asked, what the daemon said."""
    from .tables import html_table

    return html_table(
        [(r.method, r.target, r.status, r.body_text()) for r in requests],
        ("method", "path", "status", "request body"),
        code_columns=(1, 3),
    )


__all__ = ["SeenRequest", "SocketSpy", "requests_table"]
