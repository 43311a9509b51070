"""A container's stdout and stderr on one connection.

A process has two output streams, but an HTTP connection carries one byte
stream.  Docker multiplexes them: each piece of output goes out as a *frame*
with an 8-byte header -- the stream type (1 stdout, 2 stderr), three zero
bytes, and the payload size as a big-endian 32-bit integer::

    01 00 00 00 00 00 00 03  'h' 'i' '\\n'

A container with a TTY has only one stream, so its output goes raw, without
headers.  :class:`LogTail` reads the container's two log files
(``stdout.log``, ``stderr.log``) from where it last stopped: that is both
``docker logs`` (read everything) and ``attach``/``logs -f`` (keep reading
while the container runs).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

# Neither datetime nor typing at import: the CLI's ``run`` reads frames with
# this module, and those imports were a tenth of its start-up (issue 18).
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from datetime import datetime

STDIN, STDOUT, STDERR = 0, 1, 2
_HEADER = struct.Struct(">BxxxL")
MAX_FRAME = 32 * 1024


def frame(stream: int, data: bytes) -> bytes:
    """One frame: the 8-byte header, then the bytes."""
    return _HEADER.pack(stream, len(data)) + data


def frames(stream: int, data: bytes, tty: bool = False) -> Iterator[bytes]:
    if tty:
        if data:
            yield data
        return
    for start in range(0, len(data), MAX_FRAME):
        yield frame(stream, data[start : start + MAX_FRAME])


def read_frames(read) -> Iterator[tuple[int, bytes]]:
    """The other end: ``read(n)`` bytes at a time, yield (stream, payload)."""
    while True:
        header = _read_exactly(read, _HEADER.size)
        if not header:
            return
        stream, size = _HEADER.unpack(header)
        yield stream, _read_exactly(read, size)


def _read_exactly(read, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = read(size - len(data))
        if not chunk:
            if data:
                raise EOFError(f"stream ended inside a frame ({len(data)} of {size} bytes)")
            return b""
        data += chunk
    return data


class LogTail:
    """Follows ``stdout.log`` and ``stderr.log`` in ``log_dir``.  (A plain
    class: the CLI imports this module for its frames, and dataclasses would
    cost every command milliseconds.)"""

    def __init__(
        self, log_dir: str, streams: tuple[int, ...] = (STDOUT, STDERR), offsets: dict[int, int] | None = None
    ):
        self.log_dir = log_dir
        self.streams = streams
        self.offsets = offsets if offsets is not None else {}

    def path(self, stream: int) -> str:
        return os.path.join(self.log_dir, "stdout.log" if stream == STDOUT else "stderr.log")

    def skip_to_end(self) -> LogTail:
        for stream in self.streams:
            try:
                self.offsets[stream] = os.path.getsize(self.path(stream))
            except OSError:
                self.offsets[stream] = 0
        return self

    def read_new(self) -> list[tuple[int, bytes]]:
        """Whatever was written since the last call, per stream."""
        return [(stream, data) for stream, data, _start in self.read_new_at()]

    def read_new_at(self) -> list[tuple[int, bytes, int]]:
        """The same, with the offset in its file where each piece starts."""
        out = []
        for stream in self.streams:
            try:
                with open(self.path(stream), "rb") as f:
                    f.seek(self.offsets.get(stream, 0))
                    data = f.read()
            except OSError:
                continue
            if data:
                start = self.offsets.get(stream, 0)
                self.offsets[stream] = start + len(data)
                out.append((stream, data, start))
        return out


def last_lines(data: bytes, count: int | None) -> bytes:
    """``--tail N``: the last ``count`` lines (all if None)."""
    if count is None or count < 0:
        return data
    if count == 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:])


def timed_lines(data: bytes, start: int, times) -> list[tuple[int | None, bytes]]:
    """``data`` (read at offset ``start`` of a log) as lines, each with the
    time its first byte was written (``times``: a :class:`LogTimes`)."""
    out = []
    offset = start
    for line in data.splitlines(keepends=True):
        out.append((times.time_at(offset), line))
        offset += len(line)
    return out


def stamp(nanos: int | None) -> bytes:
    """Docker's log time: RFC 3339 with nine digits of nanoseconds, UTC."""
    from datetime import UTC, datetime

    if nanos is None:
        nanos = 0
    seconds = datetime.fromtimestamp(nanos // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{seconds}.{nanos % 10**9:09d}Z".encode()


def with_timestamps(data: bytes, when: datetime | None = None) -> bytes:
    """Every line stamped with one time (``when``, or now): for output whose
    writing time was not recorded."""
    from datetime import UTC, datetime

    moment = when or datetime.now(UTC)
    nanos = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    return b"".join(stamp(nanos) + b" " + line for line in data.splitlines(keepends=True))
