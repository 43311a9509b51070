"""When each piece of a container's log was written: ``docker logs --timestamps``.

The log files hold the bytes as the container wrote them.  Beside each one,
``stdout.log.times`` records, for every chunk appended, the file offset where
it starts and the time it was written (two little-endian 64-bit integers:
offset, nanoseconds since the epoch).  Whoever writes the log -- the shim on
the real kernel, the simulated kernel's host file -- appends to it; the
daemon reads it to stamp lines (``--timestamps``) and to pick them by time
(``--since``, ``--until``).  A line gets the time of the chunk its first byte
arrived in.
"""

from __future__ import annotations

import bisect
import os
import struct
import time

_RECORD = struct.Struct("<QQ")
SUFFIX = ".times"


def index_path(log_path: str) -> str:
    return log_path + SUFFIX


def record(index_fd: int, offset: int, when_ns: int | None = None) -> None:
    """Append one (offset, time) record to an index opened O_APPEND."""
    os.write(index_fd, _RECORD.pack(offset, time.time_ns() if when_ns is None else when_ns))


class LogTimes:
    """A log's index, read: the time of any offset in it."""

    def __init__(self, offsets: list[int], times: list[int]):
        self.offsets = offsets
        self.times = times

    @classmethod
    def read(cls, log_path: str) -> LogTimes:
        try:
            with open(index_path(log_path), "rb") as f:
                data = f.read()
        except OSError:
            return cls([], [])
        usable = len(data) - len(data) % _RECORD.size  # a record being written is left out
        offsets, times = [], []
        for offset, when in _RECORD.iter_unpack(data[:usable]):
            offsets.append(offset)
            times.append(when)
        return cls(offsets, times)

    def time_at(self, offset: int) -> int | None:
        """Nanoseconds since the epoch when the byte at ``offset`` was written (None: unknown)."""
        i = bisect.bisect_right(self.offsets, offset) - 1
        return self.times[i] if i >= 0 else None
