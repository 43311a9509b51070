"""Byte ranges: ``Range`` on blob GETs and ``Content-Range`` on upload PATCHes.

Two different conventions meet here, both inclusive at both ends:

* a client *reading* asks ``Range: bytes=100-199`` (RFC 9110; also
  ``bytes=100-`` "from 100 to the end" and ``bytes=-50`` "the last 50") and gets
  ``206 Partial Content`` with ``Content-Range: bytes 100-199/1000``.  That is how
  an interrupted pull resumes.
* a client *uploading a chunk* says ``Content-Range: 0-1023`` (no ``bytes``
  unit; the OCI spec's ``^[0-9]+-[0-9]+$``), and the registry answers each chunk
  with ``Range: 0-1023`` -- everything it has so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BYTES_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")
_CHUNK_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?")


class RangeNotSatisfiable(ValueError):
    pass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, total: int) -> str:
        return f"bytes {self.start}-{self.end}/{total}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a ``Range`` header asks for within ``size`` bytes.

    ``None`` means "send the whole thing": no header, a unit other than bytes,
    a syntax we do not understand, or several ranges (RFC 9110 lets a server
    ignore Range, and multipart answers are more than a registry needs).
    Raises :class:`RangeNotSatisfiable` for a range that starts past the end.
    """
    if not header:
        return None
    m = _BYTES_RANGE.fullmatch(header)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # syntactically invalid: ignore it, as RFC 9110 says
    if start >= size:
        raise RangeNotSatisfiable(header)
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1))


def parse_chunk_range(header: str) -> ByteRange | None:
    """``Content-Range`` of an upload chunk (``0-1023``); None if malformed."""
    m = _CHUNK_RANGE.fullmatch(header.strip())
    if not m:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    return ByteRange(start, end) if end >= start else None


def upload_range(received: int) -> str:
    """The ``Range`` an upload status reports: bytes ``0..received-1``.

    Docker's registry writes ``0-0`` for an empty upload too (there is no way
    to say "nothing" in this inclusive syntax), and clients know it."""
    return f"0-{max(received - 1, 0)}"
