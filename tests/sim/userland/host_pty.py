"""Reading what a program on one of the host's ptys shows, for the tests that
compare a terminal session of the real busybox with the simulator's."""

from __future__ import annotations

import os
import select


def read_pty(fd: int, expect: int, wait: float = 6.0, quiet: float = 0.0) -> bytes:
    """What the pty's master ``fd`` shows: until ``expect`` bytes came (or
    ``wait`` seconds passed without any), then, if ``quiet`` is given, whatever
    else comes until that long passes without output."""
    out = b""
    while len(out) < expect and select.select([fd], [], [], wait)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the program ended and closed the pty
            break
        if not data:
            break
        out += data
    while quiet and select.select([fd], [], [], quiet)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    return out
