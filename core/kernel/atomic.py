"""Writing state so that a crash leaves the old version or the new one.

Every file stepbox keeps (image index, blobs, container records, and what
the backends keep: layers, mount records, a shim's exit status) is written
to a temporary name in the same directory, flushed, and renamed over the
real name: rename(2) within one filesystem is atomic, so a reader -- or a
program started after a ``kill -9`` -- never sees half a file.  Leftover
temporaries (``.tmp-*`` files and scratch directories) are swept on start-up
by :func:`sweep_temporaries`.

A rename is a change to the *directory*; until the directory itself is
fsync'ed, a power cut may forget it even though the file's bytes are safe.
So a durable write fsyncs the file, renames it, then fsyncs the directory.

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
        if durable:
            fsync_directory(directory)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def json_document(value: Any) -> bytes:
    """``value`` as :func:`atomic_write_json` writes it (so a caller can tell
    whether a file already holds it)."""
    return json.dumps(value, indent=2, sort_keys=True).encode() + b"\n"


def atomic_write_json(path: str, value: Any, *, durable: bool = True) -> None:
    atomic_write(path, json_document(value), durable=durable)


def read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.load(f)


def fsync_directory(directory: str) -> None:
    """Make the names in ``directory`` (a rename just done) durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except (OSError, AttributeError):  # no O_DIRECTORY (Windows): nothing to do
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename stands
    finally:
        os.close(fd)


SCRATCH_LOCK = ".lock"


def _in_use(scratch: str) -> bool:
    """A scratch directory whose owner is alive holds an flock on its
    ``.lock`` (core/image/incoming.py): another process's transfer in
    flight, not a leftover."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(os.path.join(scratch, SCRATCH_LOCK), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def sweep_temporaries(directory: str) -> int:
    """Remove temporaries an interrupted write left behind (files, and the
    scratch directories of transfers); how many."""
    import shutil

    removed = 0
    for dirpath, dirs, files in os.walk(directory):
        for name in [d for d in dirs if d.startswith(TMP_PREFIX)]:
            dirs.remove(name)
            if not _in_use(os.path.join(dirpath, name)):
                shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)
                removed += 1
        for name in files:
            if name.startswith(TMP_PREFIX):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed
