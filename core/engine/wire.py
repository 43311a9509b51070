"""HTTP/1.1 on the wire, the client's side: reading the daemon's answers.

An HTTP/1.1 message is a *head* -- a start line and ``Name: value`` header
lines, ended by an empty line -- and an optional *body*.  A body's length is
given either by ``Content-Length`` or, when the sender does not know it in
advance (``docker load`` streaming a tar, ``docker build`` sending its
context), by ``Transfer-Encoding: chunked``: a series of ``<hex size>\\r\\n
<bytes>\\r\\n`` chunks ended by a zero-size chunk.  The daemon answers long
streams (logs, pull progress) the same way.

(The servers parse requests with h11, see core/http_server; the client is
kept to this one small module because every ``stepbox`` command imports it.
It is as strict: a chunk size is 1 to 16 hex digits, a chunk ends with CRLF.)
"""

from __future__ import annotations

import re

from stepbox.core.http_server.headers import Headers

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import BinaryIO

CRLF = b"\r\n"
MAX_HEAD_BYTES = 64 * 1024
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r?\n")


class ProtocolError(Exception):
    """The peer broke HTTP; ``status`` is what a server answers."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BodyTooLarge(ProtocolError):
    def __init__(self, limit: int):
        super().__init__(f"request body is larger than the limit of {limit} bytes", 413)


def read_line(rfile: BinaryIO, limit: int = MAX_HEAD_BYTES) -> bytes:
    line = rfile.readline(limit + 1)
    if len(line) > limit:
        raise ProtocolError("header line too long", 431)
    return line


def read_head(rfile: BinaryIO) -> tuple[str, Headers] | None:
    """The start line and headers; ``None`` if the peer closed before sending
    anything (the normal end of a keep-alive connection)."""
    line = read_line(rfile)
    while line in (b"\r\n", b"\n"):  # tolerate stray empty lines between messages
        line = read_line(rfile)
    if not line:
        return None
    total = len(line)
    headers = Headers()
    while True:
        raw = read_line(rfile)
        total += len(raw)
        if total > MAX_HEAD_BYTES:
            raise ProtocolError("request head too large", 431)
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            raise ProtocolError("connection closed in the middle of the head")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise ProtocolError(f"malformed header line: {raw[:80]!r}")
        headers.add(name, value.strip())
    return line.decode("latin-1").rstrip("\r\n"), headers


class BodyReader:
    """A message body as a file-like object, whatever its framing.

    ``limit`` caps how many bytes may be read: past it :class:`BodyTooLarge`
    is raised (a daemon must not let one client fill its memory)."""

    def __init__(
        self, rfile: BinaryIO, headers: Headers, limit: int | None = None, until_close: bool = False
    ):
        self.rfile = rfile
        self.limit = limit
        self.consumed = 0
        self.chunked = headers.has_token("Transfer-Encoding", "chunked")
        self._chunk_left = 0
        self._done = False
        length = headers.get("Content-Length")
        if self.chunked:
            self.remaining = None
        elif length is not None:
            if not length.isdecimal():
                raise ProtocolError(f"bad Content-Length: {length!r}")
            self.remaining = int(length)
            if limit is not None and self.remaining > limit:
                raise BodyTooLarge(limit)
        else:
            self.remaining = None if until_close else 0
        self._done = self.remaining == 0

    @property
    def exhausted(self) -> bool:
        return self._done

    def _count(self, data: bytes) -> bytes:
        self.consumed += len(data)
        if self.limit is not None and self.consumed > self.limit:
            raise BodyTooLarge(self.limit)
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self.read(65536):
                parts.append(chunk)
            return b"".join(parts)
        if self._done or size == 0:
            return b""
        if self.chunked:
            return self._count(self._read_chunked(size))
        if self.remaining is None:  # until the peer closes
            data = self.rfile.read1(size) if hasattr(self.rfile, "read1") else self.rfile.read(size)
            if not data:
                self._done = True
            return self._count(data)
        data = self.rfile.read(min(size, self.remaining))
        if not data:
            raise ProtocolError("connection closed before the whole body arrived")
        self.remaining -= len(data)
        self._done = self.remaining == 0
        return self._count(data)

    def _read_chunked(self, size: int) -> bytes:
        if self._chunk_left == 0:
            line = read_line(self.rfile, 1024)
            if not line:
                raise ProtocolError("the connection closed in the middle of the answer")
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise ProtocolError(f"bad chunk size line: {line[:40]!r}")
            self._chunk_left = int(match.group(1), 16)
            if self._chunk_left == 0:
                while read_line(self.rfile) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                self._done = True
                return b""
        data = self.rfile.read(min(size, self._chunk_left))
        if not data:
            raise ProtocolError("connection closed in the middle of a chunk")
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and read_line(self.rfile, 2) not in (b"\r\n", b"\n"):
            raise ProtocolError("a chunk not followed by CRLF")
        return data

    def drain(self, max_bytes: int = 1 << 20) -> bool:
        """Read and drop what is left (so the connection can carry the next
        request); False if more than ``max_bytes`` remained."""
        dropped = 0
        while not self._done:
            chunk = self.read(65536)
            dropped += len(chunk)
            if dropped > max_bytes:
                return False
        return True
