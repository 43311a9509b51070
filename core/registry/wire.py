"""Reading request bodies the two ways HTTP/1.1 frames them.

A body comes either with ``Content-Length: N`` (read exactly N bytes) or with
``Transfer-Encoding: chunked`` -- a sequence of ``<hex size>\\r\\n<bytes>\\r\\n``
ending with a zero-size chunk and optional trailers.  The docker daemon sends
layers the second way: it streams a PATCH without knowing the compressed size
in advance.  ``http.server`` does not decode chunked bodies, so we do.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BufferedIOBase
from typing import BinaryIO

# A request handler's rfile (typeshed calls it a BufferedIOBase), or any binary file.
Readable = BinaryIO | BufferedIOBase

READ_SIZE = 1 << 20


class BodyError(ValueError):
    """A malformed or truncated request body."""


def iter_body(rfile: Readable, headers) -> Iterator[bytes]:
    """Yield the request body in pieces, whichever framing it uses."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        yield from _iter_chunked(rfile)
        return
    length = headers.get("Content-Length")
    if not length:
        return
    try:
        remaining = int(length)
    except ValueError:
        raise BodyError(f"bad Content-Length {length!r}") from None
    if remaining < 0:
        raise BodyError(f"bad Content-Length {length!r}")
    while remaining:
        piece = rfile.read(min(remaining, READ_SIZE))
        if not piece:
            raise BodyError(f"request body ended {remaining} bytes short of its Content-Length")
        remaining -= len(piece)
        yield piece


def _iter_chunked(rfile: Readable) -> Iterator[bytes]:
    while True:
        line = rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise BodyError("chunked body ended inside a chunk-size line")
        size_text = line.split(b";", 1)[0].strip()  # drop chunk extensions
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BodyError(f"bad chunk size {size_text!r}") from None
        if size == 0:
            while rfile.readline(1024).strip():  # trailers, until the empty line
                pass
            return
        while size:
            piece = rfile.read(min(size, READ_SIZE))
            if not piece:
                raise BodyError("chunked body ended inside a chunk")
            size -= len(piece)
            yield piece
        if rfile.readline(16).strip():
            raise BodyError("chunk not followed by CRLF")


def read_all(rfile: Readable, headers, limit: int) -> bytes:
    """A small body (a manifest) in memory; BodyError past ``limit`` bytes."""
    parts, total = [], 0
    for piece in iter_body(rfile, headers):
        total += len(piece)
        if total > limit:
            raise BodyError(f"body larger than {limit} bytes")
        parts.append(piece)
    return b"".join(parts)
