"""Bytes from the daemon to the terminal or a file, as they arrive.

A container's output comes multiplexed (8-byte frame headers say stdout or
stderr, see :mod:`stepbox.core.engine.streams`); each frame is written to
our own stdout or stderr and flushed at once, so ``stepbox run`` shows a
line when the container prints it, not when it exits.  Tars (``save``,
``export``) go to a file written atomically, or to stdout.
"""

from __future__ import annotations

import sys

from stepbox.core.engine.streams import STDERR, read_frames


def copy_frames(read) -> None:
    """Demultiplex frames from ``read(n)`` onto our stdout and stderr."""
    stdout, stderr = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()  # what click.echo buffered goes first
    for stream, data in read_frames(read):
        target = stderr if stream == STDERR else stdout
        target.write(data)
        target.flush()


def copy_body(body, output: str | None) -> None:
    """A response body (a tar) to the file ``output`` -- all of it or none,
    if it is cut off -- or to stdout."""
    if output:
        from stepbox.core.kernel.atomic import atomic_file

        with atomic_file(output) as f:
            while chunk := body.read(1 << 20):
                f.write(chunk)
        return
    stdout = sys.stdout.buffer
    while chunk := body.read(1 << 20):
        stdout.write(chunk)
    stdout.flush()
