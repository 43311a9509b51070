"""HTTP/1.1 on the wire: what both the daemon and the client read and write.

An HTTP/1.1 message is a *head* -- a start line and ``Name: value`` header
lines, ended by an empty line -- and an optional *body*.  A body's length is
given either by ``Content-Length`` or, when the sender does not know it in
advance (``docker load`` streaming a tar, ``docker build`` sending its
context), by ``Transfer-Encoding: chunked``: a series of ``<hex size>\\r\\n
<bytes>\\r\\n`` chunks ended by a zero-size chunk.  The daemon answers long
streams (logs, pull progress) the same way.
"""

from __future__ import annotations

from typing import BinaryIO

CRLF = b"\r\n"
MAX_HEAD_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The peer broke HTTP; ``status`` is what a server answers."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BodyTooLarge(ProtocolError):
    def __init__(self, limit: int):
        super().__init__(f"request body is larger than the limit of {limit} bytes", 413)


class Headers:
    """Header fields in arrival order; names compare case-insensitively."""

    def __init__(self, items: list[tuple[str, str]] | None = None):
        self.items = items if items is not None else []

    def __repr__(self) -> str:
        return f"Headers({self.items!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Headers) and self.items == other.items

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.items:
            if key.lower() == lname:
                return value
        return default

    def has_token(self, name: str, token: str) -> bool:
        """``Connection: keep-alive, Upgrade`` has the token ``upgrade``."""
        value = self.get(name) or ""
        return token.lower() in (t.strip().lower() for t in value.split(","))

    def add(self, name: str, value: str) -> None:
        self.items.append((name, value))


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
            if not length.isdigit():
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
            size_text = line.split(b";", 1)[0].strip()
            try:
                self._chunk_left = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size line: {line[:40]!r}") from None
            if self._chunk_left == 0:
                while read_line(self.rfile) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                self._done = True
                return b""
        data = self.rfile.read(min(size, self._chunk_left))
        if not data:
            raise ProtocolError("connection closed in the middle of a chunk")
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            read_line(self.rfile, 2)  # the CRLF after the chunk
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


class ChunkedWriter:
    """Writes a body in chunks, flushing each one (progress must show up
    while it happens, not when the stream ends)."""

    def __init__(self, wfile: BinaryIO):
        self.wfile = wfile
        self.closed = False

    def write(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n" % len(data) + data + CRLF)
            self.wfile.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
