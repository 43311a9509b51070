"""What an application behind the server sees and returns.

An application is a function ``Request -> reply``.  A reply is one of

* :class:`Response` -- a whole body, sent with ``Content-Length``;
* :class:`StreamResponse` -- a body produced while it is sent (``docker
  pull`` progress, ``logs -f``, a blob read from disk): chunked, or with a
  ``Content-Length`` given in advance;
* :class:`UpgradeResponse` -- ``101 UPGRADED``, after which the connection
  is no longer HTTP but a raw byte stream both ways (``attach``, ``exec``).

A request the server itself refuses (a malformed head, a body over the
limit, a query parameter that is not a number) raises :class:`HTTPError`
with the status to answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from .headers import Headers


class HTTPError(Exception):
    """A request refused with a 4xx status (``status``) and a message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BodyTooLarge(HTTPError):
    def __init__(self, limit: int):
        super().__init__(f"request body is larger than the limit of {limit} bytes", 413)
        self.limit = limit


class Body:
    """A request body as a file: ``read(n)`` returns up to n bytes, ``b""`` at
    its end.  The server's connection provides the real one; this one is
    empty (and what tests build requests with)."""

    limit: int | None = None
    consumed: int = 0  # bytes read from the client so far

    def read(self, size: int = -1) -> bytes:
        return b""

    @property
    def exhausted(self) -> bool:
        return True

    def discard(self, max_bytes: int) -> None:
        """Read and drop what is left (at most ``max_bytes``, else HTTPError)."""


@dataclass
class Request:
    method: str
    target: str  # as sent: "/v1.44/containers/json?all=1"
    path: str  # decoded, without the query: "/v1.44/containers/json"
    query: dict[str, list[str]]
    headers: Headers
    body: Body = field(default_factory=Body)
    params: dict[str, str] = field(default_factory=dict)  # filled by a router: {"id": …}
    api_version: str = ""
    peer: str = ""  # who connected: "unix" or "127.0.0.1:53312"
    tls: bool = False  # whether the connection is TLS

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
        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise HTTPError(f"invalid value for {name}: {value!r} is not an integer") from None

    def read_body(self, limit: int) -> bytes:
        """The whole body, which must not be longer than ``limit`` bytes."""
        data = self.body.read(limit + 1)
        while len(data) <= limit and (more := self.body.read(limit + 1 - len(data))):
            data += more
        if len(data) > limit:
            raise BodyTooLarge(limit)
        return data

    def json(self, required: bool = False, limit: int = 4 << 20):
        """The body as JSON (``None`` if empty and not required)."""
        data = self.read_body(limit)
        if not data.strip():
            if required:
                raise HTTPError("a JSON request body is required")
            return None
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise HTTPError(f"malformed JSON in the request body: {e}") from None

    @property
    def wants_upgrade(self) -> bool:
        return self.headers.has_token("Connection", "upgrade")


@dataclass
class Response:
    """A whole body, sent with Content-Length."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # close the connection after it (a request we did not read)

    @classmethod
    def json(cls, value, status: int = 200, headers: dict | None = None) -> Response:
        return cls(status, json.dumps(value).encode() + b"\n", "application/json", headers or {})

    @classmethod
    def empty(cls, status: int = 204, headers: dict | None = None) -> Response:
        return cls(status, b"", "", headers or {})

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        # docker reads exactly this shape: {"message": "..."}
        return cls.json({"message": message}, status)


@dataclass
class StreamResponse:
    """A body produced while it is sent.  The head goes out before the first
    piece is asked for -- ``POST /containers/{id}/wait`` relies on that:
    ``docker run`` waits for the head before it calls start.  Chunked,
    unless ``length`` says in advance how long it is."""

    chunks: Iterable[bytes]
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None


@dataclass
class UpgradeResponse:
    """``101 UPGRADED``, then ``run(rfile, wfile)`` owns the raw connection
    until it returns; the connection is closed afterwards."""

    run: Callable[[BinaryIO, BinaryIO], None]
    content_type: str = "application/vnd.docker.raw-stream"
    abandon: Callable[[], None] | None = None  # called instead of run if the client is gone


class Writable(Protocol):
    """What :func:`written_by` hands its writer: a file that only writes."""

    def write(self, data: bytes, /) -> int: ...


def written_by(write: Callable[[Writable], None], piece_size: int = 1 << 20) -> Iterator[bytes]:
    """A body that ``write(file)`` produces (``tarfile`` writing an image
    archive), run on a thread of its own and handed over in pieces of about
    ``piece_size`` through a short queue: the client's pace sets the
    writer's, and memory holds a few pieces, never the whole body.  If the
    writer fails, the body ends with its exception (the connection is then
    cut: the head went out long ago)."""
    import queue
    import threading

    pieces: queue.Queue = queue.Queue(maxsize=4)
    done = object()
    stop = threading.Event()

    class _Pipe:
        def __init__(self):
            self.buffer = bytearray()

        def write(self, data: bytes, /) -> int:
            if stop.is_set():
                raise BrokenPipeError("the client went away")
            self.buffer += data
            if len(self.buffer) >= piece_size:
                self.flush()
            return len(data)

        def flush(self) -> None:
            if self.buffer:
                pieces.put(bytes(self.buffer))
                self.buffer.clear()

    def run() -> None:
        pipe = _Pipe()
        try:
            write(pipe)
            pipe.flush()
            pieces.put(done)
        except BaseException as e:  # handed to the reader, which raises it
            pieces.put(e)

    def body() -> Iterator[bytes]:
        threading.Thread(target=run, name="streamed body", daemon=True).start()
        try:
            while (piece := pieces.get()) is not done:
                if isinstance(piece, BaseException):
                    raise piece
                yield piece
        finally:
            stop.set()
            while not pieces.empty():  # let a blocked writer see the stop
                pieces.get_nowait()

    return body()


Reply = Response | StreamResponse | UpgradeResponse
App = Callable[[Request], Reply]
ErrorRenderer = Callable[[int, str], Response]


def docker_error(status: int, message: str) -> Response:
    """The Engine API's error shape (the default renderer)."""
    return Response.error(status, message)
