"""Writing state so that a crash leaves the old version or the new one.

Every file stepbox keeps (image index, blobs, container records, and what
the backends keep: layers, mount records, a shim's exit status) is written
to a temporary name in the same directory, flushed, and renamed over the
real name: rename(2) within one filesystem is atomic, so a reader -- or a
program started after a ``kill -9`` -- never sees half a file.  Leftover
temporaries (``.tmp-*``) are swept on start-up by :func:`sweep_temporaries`.

It lives in ``core.kernel`` because the backends use it too, and
``core.kernel`` is all of core a backend may import.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

TMP_PREFIX = ".tmp-"


def atomic_write(path: str, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; ``durable`` also fsyncs it."""
    with atomic_file(path, durable=durable) as f:
        f.write(data)


@contextmanager
def atomic_file(path: str, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A file for ``path``'s new contents, written piece by piece (a tar
    arriving from the daemon), renamed over ``path`` only if the block ends
    without an error; ``durable`` also fsyncs it."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: str, value: Any, *, durable: bool = True) -> None:
    atomic_write(path, json.dumps(value, indent=2, sort_keys=True).encode() + b"\n", durable=durable)


def read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.load(f)


def sweep_temporaries(directory: str) -> int:
    """Remove temporaries an interrupted write left behind; how many."""
    removed = 0
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            if name.startswith(TMP_PREFIX):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed
