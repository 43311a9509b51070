"""Bytes arriving from outside -- a ``load``, an ``import``, a pull -- go to
disk as they arrive, hashed while they stream, never whole in memory.

A 1 GiB image is a 1 GiB tar; holding it in RAM to look at it (as a first
version of stepbox did) lets any client size the daemon's memory.  Here an
archive member, a downloaded blob or an uploaded tarball is copied in 1 MiB
pieces into a scratch directory inside the image store (same filesystem: a
checked layer then becomes a blob by a rename), its sha256 computed on the
way.  A gzip layer is uncompressed the same way, piece by piece.

Limits, so that a small input cannot claim a large output (documented in
the daemon's README section and checked by tests/images/test_bombs.py):

* ``STEPBOX_MAX_LAYER_BYTES`` (default 16 GiB): the most one uncompressed
  layer may hold -- so a gzip bomb (10 MB that inflate to 10 TB of zeros)
  stops at the limit with an error naming it, having used no memory and at
  most that much disk, which is deleted at once;
* ``STEPBOX_MAX_UPLOAD_BYTES`` (default 64 GiB): the most one archive or
  tarball may hold in all;
* documents (``manifest.json``, ``index.json``, image configs): 4 MiB each;
* sparse tar entries are refused outright: ten kilobytes of GNU sparse
  headers can describe a file of any size (see layer_tar.py).

The scratch directory is named ``.tmp-incoming-*``: a daemon killed half-way
through leaves it behind, and the store sweeps it on the next start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from stepbox.core.kernel.atomic import SCRATCH_LOCK, TMP_PREFIX

CHUNK = 1 << 20
MAX_DOCUMENT_BYTES = 4 << 20
DEFAULT_MAX_LAYER_BYTES = 16 << 30
DEFAULT_MAX_UPLOAD_BYTES = 64 << 30


class TooLarge(ValueError):
    """Input past one of the limits above (the message names it)."""


def max_layer_bytes() -> int:
    return _limit("STEPBOX_MAX_LAYER_BYTES", DEFAULT_MAX_LAYER_BYTES)


def max_upload_bytes() -> int:
    return _limit("STEPBOX_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def _limit(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class Readable(Protocol):
    """What a transfer reads from: a file, a tar member, a request body."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Spooled:
    """A file in the scratch directory and what was learnt copying it."""

    path: str
    digest: str  # "sha256:…" of its bytes
    size: int


class Incoming:
    """A scratch directory in the store for one transfer; ``close`` (or the
    ``with`` block's end) deletes whatever was not adopted into the store."""

    def __init__(self, store_root: str):
        os.makedirs(store_root, exist_ok=True)
        self.directory = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}incoming-", dir=store_root)
        # Held while this transfer lives: a sweep of leftovers (another
        # process opening the store) leaves a locked directory alone.
        self._lock = open(os.path.join(self.directory, SCRATCH_LOCK), "wb")
        try:
            import fcntl

            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX)
        except ImportError:
            pass

    def __enter__(self) -> Incoming:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self._lock.close()

    def new_file(self) -> tuple[BinaryIO, str]:
        fd, path = tempfile.mkstemp(dir=self.directory)
        return os.fdopen(fd, "wb"), path

    def save(self, source: Readable, limit: int, what: str) -> Spooled:
        """Copy ``source`` to its end into a new file, at most ``limit`` bytes."""
        out, path = self.new_file()
        hasher, size = hashlib.sha256(), 0
        with out:
            while piece := source.read(CHUNK):
                size += len(piece)
                if size > limit:
                    raise TooLarge(f"{what} is larger than the limit of {limit} bytes")
                hasher.update(piece)
                out.write(piece)
        return Spooled(path, "sha256:" + hasher.hexdigest(), size)

    def save_bytes(self, data: bytes) -> Spooled:
        out, path = self.new_file()
        with out:
            out.write(data)
        return Spooled(path, "sha256:" + hashlib.sha256(data).hexdigest(), len(data))

    def uncompressed(self, spooled: Spooled, what: str) -> Spooled:
        """The layer ``spooled`` as a plain tar: itself, or its gzip inflated
        into a new file piece by piece (at most STEPBOX_MAX_LAYER_BYTES)."""
        with open(spooled.path, "rb") as f:
            magic = f.read(4)
        if magic[:2] == b"\x1f\x8b":
            return self._gunzip(spooled, what)
        if magic == b"\x28\xb5\x2f\xfd":
            raise CorruptInput(f"{what} is zstd-compressed, which stepbox does not support")
        limit = max_layer_bytes()
        if spooled.size > limit:
            raise TooLarge(
                f"{what} is larger than the layer limit of {limit} bytes (STEPBOX_MAX_LAYER_BYTES)"
            )
        return spooled

    def _gunzip(self, spooled: Spooled, what: str) -> Spooled:
        limit = max_layer_bytes()
        out, path = self.new_file()
        hasher, size = hashlib.sha256(), 0
        # 16 + MAX_WBITS: a gzip stream.  Members may follow one another, and
        # zero bytes may pad the end, as gzip(1) and Python's gzip allow.
        inflater, pending, complete = zlib.decompressobj(16 + zlib.MAX_WBITS), b"", False
        with open(spooled.path, "rb") as source, out:
            try:
                while True:
                    if not pending:
                        pending = source.read(CHUNK)
                        if not pending:
                            break
                    # max_length: at most 1 MiB out per step, however well the
                    # input compresses -- memory stays flat for a bomb too.
                    data = inflater.decompress(pending, CHUNK)
                    pending = inflater.unconsumed_tail
                    size += len(data)
                    if size > limit:
                        raise TooLarge(
                            f"{what} inflates past the layer limit of {limit} bytes "
                            "(STEPBOX_MAX_LAYER_BYTES): a gzip bomb, or a layer too big for this daemon"
                        )
                    hasher.update(data)
                    out.write(data)
                    complete = inflater.eof
                    if complete:
                        pending = (inflater.unused_data + pending).lstrip(b"\0")
                        if not pending and not (pending := source.read(CHUNK).lstrip(b"\0")):
                            rest = source.read(CHUNK)
                            while rest and not rest.strip(b"\0"):
                                rest = source.read(CHUNK)
                            if not rest:
                                break
                            pending = rest
                        inflater, complete = zlib.decompressobj(16 + zlib.MAX_WBITS), False
            except zlib.error as e:
                raise CorruptInput(f"{what}: the gzip stream is corrupt: {e}") from None
        if not complete:
            raise CorruptInput(f"{what}: the gzip stream ends before its end")
        return Spooled(path, "sha256:" + hasher.hexdigest(), size)


class CorruptInput(ValueError):
    """Input that is not what it claims to be (the message says how)."""


def read_document(source: Readable, what: str) -> bytes:
    """A small JSON document, at most MAX_DOCUMENT_BYTES."""
    data = source.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"{what} is larger than the limit of {MAX_DOCUMENT_BYTES} bytes for a document")
    return data
