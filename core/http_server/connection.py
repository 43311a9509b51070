"""One connection: bytes in through h11, replies out, until it closes.

The loop is the life of a keep-alive connection::

    wait for a request (idle_timeout) -> read its head (head_timeout)
    -> call the application (which reads the body as it likes, body_timeout
       between bytes) -> send the reply -> the next request, or close

A reply that streams (``logs -f``) or upgrades the connection (``attach``)
is written without a timeout: there the server is the one taking its time.
Whatever a client sends, it gets a 4xx and the connection is closed -- never
a traceback, never a stuck worker.  An exception in the application is a
fault of ours: it is logged with its traceback and answered 500 with a
reference to that log entry, never with the exception's text.
"""

from __future__ import annotations

import io
import secrets
import socket
import ssl
import time
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from .headers import Headers
from .messages import (
    Body,
    BodyTooLarge,
    HTTPError,
    Reply,
    Request,
    Response,
    StreamResponse,
    UpgradeResponse,
)

if TYPE_CHECKING:
    from .server import HTTPServer

RECV_SIZE = 256 * 1024
TLS_CLOSE_TIMEOUT = 1.0  # seconds to wait for the peer's close_notify after ours


class _PeerGone(Exception):
    """The client closed, reset, or went silent while we waited for it."""


class Connection:
    def __init__(self, sock: socket.socket, server: HTTPServer, peer: str, tls: bool):
        self.sock = sock
        self.server = server
        self.limits = server.limits
        self.peer = peer
        self.tls = tls
        self.log = server.log
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_head_bytes)

    # -- the loop ----------------------------------------------------------------------
    def serve(self) -> None:
        try:
            while self._one_request():
                pass
        except (_PeerGone, OSError):
            pass  # nothing left to answer
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def _one_request(self) -> bool:
        """Serve one request; True if the connection may carry another."""
        event = self._next_request()
        if event is None:
            return False
        request = self._request_from(event)
        if request.headers.get("Transfer-Encoding") is not None and request.headers.get("Content-Length"):
            # Which one frames the body?  Two parties answering differently is
            # how requests are smuggled past a proxy: refuse (RFC 9112 6.1).
            self._write_raw(
                self.server.render_error(
                    400, "a request may not have both Content-Length and Transfer-Encoding"
                )
            )
            return False
        declared = request.headers.get("Content-Length")
        if declared is not None and declared.isdecimal() and int(declared) > self.limits.max_body_bytes:
            self._send(request, self.server.render_error(413, str(BodyTooLarge(self.limits.max_body_bytes))))
            return False  # the body was never read: this connection is done
        reply = self._call_app(request)
        if isinstance(reply, UpgradeResponse):
            self._upgrade(request, reply)
            return False
        self._send(request, reply)
        return self._ready_for_next(request)

    def _next_request(self) -> h11.Request | None:
        """The next request's head, or None when the connection should end
        (closed by the client, idle too long, or garbage -- answered)."""
        head_deadline = None
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as e:
                # h11 hints 501 for a Transfer-Encoding it does not know: still
                # the client's doing, so a 4xx.
                self._refuse(
                    400 if e.error_status_hint >= 500 else e.error_status_hint, f"malformed request: {e}"
                )
                return None
            if isinstance(event, h11.Request):
                # h11 bounds a head that arrives in pieces; one that arrives
                # whole is measured here (to within its whitespace).
                size = len(event.method) + len(event.target) + 12
                size += sum(len(k) + len(v) + 4 for k, v in event.headers.raw_items())
                if size > self.limits.max_head_bytes:
                    self._refuse(431, f"request head larger than {self.limits.max_head_bytes} bytes")
                    return None
                return event
            if event is not h11.NEED_DATA:
                return None  # ConnectionClosed, or PAUSED after an abandoned switch
            if head_deadline is None:
                timeout = self.limits.idle_timeout
            else:
                timeout = max(0.0, head_deadline - time.monotonic())
            try:
                received = self._receive(timeout)
            except _PeerGone:
                if head_deadline is not None:
                    self._refuse(408, "timed out reading the request head")
                return None
            if received and head_deadline is None:
                head_deadline = time.monotonic() + self.limits.head_timeout

    def _receive(self, timeout: float | None) -> int:
        """Read what the client sent (waiting at most ``timeout``) into h11;
        the number of bytes (0 at end of stream)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(RECV_SIZE)
        except (TimeoutError, ConnectionError) as e:
            raise _PeerGone() from e
        self.h11.receive_data(data)
        return len(data)

    def _request_from(self, event: h11.Request) -> Request:
        target = event.target.decode("latin-1")
        split = urlsplit(target)
        headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()])
        return Request(
            event.method.decode("ascii"),
            target,
            unquote(split.path),
            parse_qs(split.query, keep_blank_values=True),
            headers,
            _RequestBody(self, self.limits.max_body_bytes, _declares_no_body(headers)),
            peer=self.peer,
            tls=self.tls,
        )

    def _call_app(self, request: Request) -> Reply:
        try:
            return self.server.app(request)
        except HTTPError as e:
            return self.server.render_error(e.status, str(e))
        except _PeerGone:
            raise
        except Exception:
            return self._fault(request)

    def _fault(self, request: Request) -> Response:
        """A bug or an unexpected failure of ours: the traceback goes to the
        log under a reference the client is given; the body says no more."""
        reference = secrets.token_hex(6)
        self.log.exception("%s %s failed (reference %s)", request.method, request.target, reference)
        return self.server.render_error(
            500, f"internal error in the {self.server.name} (reference {reference}: see its log)"
        )

    # -- replies -----------------------------------------------------------------------
    def _head_fields(self, status: int, content_type: str, extra: dict[str, str]) -> list[tuple[str, str]]:
        fields = list(self.server.default_headers)
        if content_type:
            fields.append(("Content-Type", content_type))
        fields += list(extra.items())
        return fields

    def _send(self, request: Request, reply: Response | StreamResponse) -> None:
        close = getattr(reply, "close", False) or not self._body_can_be_drained(request)
        fields = self._head_fields(reply.status, reply.content_type, reply.headers)
        if isinstance(reply, Response):
            if reply.status not in (204, 304) and reply.status >= 200:
                fields.append(("Content-Length", str(len(reply.body))))
        elif reply.length is not None:
            fields.append(("Content-Length", str(reply.length)))
        if close:
            fields.append(("Connection", "close"))
        try:
            head = self.h11.send(
                h11.Response(status_code=reply.status, headers=fields, reason=_reason(reply.status))
            )
        except h11.LocalProtocolError:
            # A reply that cannot be put on the wire (a header with a newline
            # in it...) is a fault of ours.
            self._write_raw(self._fault(request))
            raise _PeerGone() from None
        if isinstance(reply, Response):
            body = reply.body if request.method != "HEAD" and reply.status not in (204, 304) else b""
            self.sock.settimeout(self.limits.send_timeout)
            self.sock.sendall(head + self.h11.send(h11.Data(data=body)) + self.h11.send(h11.EndOfMessage()))
        else:
            self.sock.settimeout(None)  # a long poll: the client waits for us
            self.sock.sendall(head)
            self._stream(request, reply)
        self.log.info("%s %s -> %s", request.method, request.target, reply.status)

    def _stream(self, request: Request, reply: StreamResponse) -> None:
        chunks = iter(reply.chunks)
        try:
            if request.method != "HEAD":
                for chunk in chunks:
                    if chunk:
                        self.sock.sendall(self.h11.send(h11.Data(data=chunk)))
            self.sock.sendall(self.h11.send(h11.EndOfMessage()))
        except (OSError, _PeerGone):
            raise
        except Exception:
            # The head is gone already: the only honest signal left is to
            # cut the stream without its end.
            self.log.exception("%s %s: the stream failed", request.method, request.target)
            raise _PeerGone() from None
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's finally (unsubscribe, unlock) runs now

    def _body_can_be_drained(self, request: Request) -> bool:
        """Whether the part of the body the application did not read is
        small enough to read and drop so the connection stays usable."""
        body = request.body
        if body.exhausted:
            return True
        if self.h11.they_are_waiting_for_100_continue:
            return False  # it will never come: the client waits for our word
        length = request.headers.get("Content-Length")
        if length is None or not length.isdecimal():
            return False  # chunked: no telling how long
        return int(length) - body.consumed <= self.limits.max_drain_bytes

    def _ready_for_next(self, request: Request) -> bool:
        if self.h11.our_state is h11.MUST_CLOSE:
            return False
        if self.h11.their_state is h11.SEND_BODY:
            try:
                request.body.discard(self.limits.max_drain_bytes)
            except (HTTPError, _PeerGone):
                return False
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request h11 could not even parse, then close."""
        self._write_raw(self.server.render_error(status, message))
        self.log.info("(unparsed request from %s) -> %s: %s", self.peer, status, message)

    def _write_raw(self, reply: Response) -> None:
        """A whole reply written plainly, outside h11 (which sends nothing
        for a request it never saw); the connection closes after it."""
        fields = self._head_fields(reply.status, reply.content_type, reply.headers)
        fields += [("Content-Length", str(len(reply.body))), ("Connection", "close")]
        head = f"HTTP/1.1 {reply.status} {_reason(reply.status).decode()}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in fields
        )
        try:
            self.sock.settimeout(self.limits.send_timeout)
            self.sock.sendall(head.encode("latin-1") + b"\r\n" + reply.body)
        except OSError:
            pass

    # -- upgrades ----------------------------------------------------------------------
    def _upgrade(self, request: Request, reply: UpgradeResponse) -> None:
        """101 (or, for a client that did not ask to upgrade, a 200 whose
        body ends at close), then the raw connection is ``reply.run``'s."""
        try:
            if self.h11.their_state is h11.SEND_BODY:
                request.body.discard(self.limits.max_drain_bytes)
            leftover = b""
            if self.h11.their_state is h11.MIGHT_SWITCH_PROTOCOL:
                head = self.h11.send(
                    h11.InformationalResponse(
                        status_code=101,
                        reason=b"UPGRADED",
                        headers=[
                            *self._head_fields(101, reply.content_type, {}),
                            ("Connection", "Upgrade"),
                            ("Upgrade", "tcp"),
                        ],
                    )
                )
                leftover = self.h11.trailing_data[0]
            else:
                status, reason = (101, "UPGRADED") if request.wants_upgrade else (200, "OK")
                fields = self._head_fields(status, reply.content_type, {})
                fields += (
                    [("Connection", "Upgrade"), ("Upgrade", "tcp")]
                    if status == 101
                    else [("Connection", "close")]
                )
                head = (
                    f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
                ).encode("latin-1")
            self.sock.settimeout(None)  # a stream for as long as the process runs
            self.sock.sendall(head)
        except (OSError, _PeerGone, HTTPError):
            if reply.abandon:
                reply.abandon()
            raise _PeerGone() from None
        self.log.info("%s %s -> 101 (raw stream)", request.method, request.target)
        rfile = io.BufferedReader(_RawSocketReader(self.sock, leftover))
        wfile = io.BufferedWriter(self.sock.makefile("wb", buffering=0), 65536)
        try:
            reply.run(rfile, wfile)
            wfile.flush()
        except (OSError, ValueError):
            pass  # the client went away
        finally:
            self._end_stream()

    def _end_stream(self) -> None:
        """Tell the client the stream has ended, keeping the socket readable
        (it may still be sending): close_notify on TLS, FIN otherwise."""
        try:
            if isinstance(self.sock, ssl.SSLSocket):
                self.sock.settimeout(TLS_CLOSE_TIMEOUT)
                self.sock.unwrap()
            else:
                self.sock.shutdown(socket.SHUT_WR)
        except (OSError, ValueError):
            pass


class _RequestBody(Body):
    """The body of the request being served, read from h11 as the
    application asks for it, counted against a limit."""

    limit: int

    def __init__(self, connection: Connection, limit: int, empty: bool):
        self.connection = connection
        self.limit = limit
        self.consumed = 0
        self.empty = empty  # the head says there is no body
        self._pending = b""
        self._done = False

    @property
    def exhausted(self) -> bool:
        return (self._done or self.empty) and not self._pending

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while piece := self.read(RECV_SIZE):
                parts.append(piece)
            return b"".join(parts)
        if size == 0:
            return b""
        if not self._pending and not self._done:
            self._pending = self._next_data()
        piece, self._pending = self._pending[:size], self._pending[size:]
        return piece

    def _next_data(self) -> bytes:
        connection = self.connection
        while True:
            try:
                event = connection.h11.next_event()
            except h11.RemoteProtocolError as e:
                raise HTTPError(f"malformed request body: {e}") from None
            if isinstance(event, h11.Data):
                self.consumed += len(event.data)
                if self.consumed > self.limit:
                    raise BodyTooLarge(self.limit)
                if event.data:
                    return bytes(event.data)
                continue
            if isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                self._done = True
                return b""
            if event is not h11.NEED_DATA:
                raise HTTPError("the connection ended inside the request body")
            if connection.h11.they_are_waiting_for_100_continue:
                connection.sock.settimeout(connection.limits.send_timeout)
                connection.sock.sendall(
                    connection.h11.send(h11.InformationalResponse(status_code=100, headers=[]))
                )
            try:
                connection._receive(connection.limits.body_timeout)
            except _PeerGone:
                raise HTTPError(
                    f"no part of the request body arrived for {connection.limits.body_timeout:g}s", 408
                ) from None

    def discard(self, max_bytes: int) -> None:
        """Read and drop the rest (at most ``max_bytes``, else HTTPError)."""
        dropped = len(self._pending)
        self._pending = b""
        while not self._done:
            dropped += len(self._next_data())
            if dropped > max_bytes:
                raise HTTPError("too much of the request body left unread", 413)


class _RawSocketReader(io.RawIOBase):
    """The raw connection after an upgrade, starting with what h11 had
    already received past the request (a client may send stdin at once)."""

    def __init__(self, sock: socket.socket, leftover: bytes):
        self.sock = sock
        self.leftover = leftover

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.leftover:
            n = min(len(buffer), len(self.leftover))
            buffer[:n] = self.leftover[:n]
            self.leftover = self.leftover[n:]
            return n
        try:
            return self.sock.recv_into(buffer)
        except ConnectionError:
            return 0


def _declares_no_body(headers: Headers) -> bool:
    """A request without Content-Length or Transfer-Encoding has no body
    (RFC 9112 6.3); nor has one with Content-Length: 0."""
    return headers.get("Transfer-Encoding") is None and (headers.get("Content-Length") or "0").strip() == "0"


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
