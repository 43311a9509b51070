"""A file's contents in a layer changeset, read when they are needed.

A layer can hold a file of gigabytes.  A :class:`~.unionfs.LayerEntry` that
carried its file's bytes would make ``docker export``, a commit or unpacking
an image layer cost as much memory as the biggest file (or the whole
filesystem, for an export); so an entry carries a :class:`Contents` instead:
its ``size`` and a way to ``open()`` it, which whoever writes the file
somewhere (a layer tar, a layer directory, an HTTP body) reads piece by piece.

Where the bytes are is the producer's business: a file in a layer directory
(the Linux backend), an inode of the simulated kernel, a range of a layer tar
in the image store, or -- for entries made in memory, a few bytes of
``/etc/hosts`` -- plain :class:`Bytes`.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO, Protocol

CHUNK = 1 << 20  # what one read of a copy asks for


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class Contents(ABC):
    """A regular file's contents: ``size`` bytes, opened anew by each ``open()``."""

    size: int

    @abstractmethod
    def open(self) -> BinaryIO:
        """A new reader positioned at the first byte."""

    def read(self) -> bytes:
        """All of it, in memory: for small files and tests only -- whatever
        may be big is copied with :meth:`copy_to` or read from :meth:`open`."""
        with self.open() as f:
            return f.read()

    def chunks(self) -> Iterator[bytes]:
        """Exactly ``size`` bytes in pieces of at most :data:`CHUNK`.  A file
        that shrank since it was listed is padded with zeros, one that grew
        is cut at ``size`` (what tar does: its header already said ``size``)."""
        left = self.size
        try:
            f = self.open()
        except FileNotFoundError:  # gone since it was listed (a running container)
            f = io.BytesIO()
        with f:
            while left > 0:
                piece = f.read(min(left, CHUNK))
                if not piece:
                    break
                left -= len(piece)
                yield piece
        while left > 0:
            yield bytes(min(left, CHUNK))
            left -= min(left, CHUNK)

    def reader(self) -> io.BufferedReader:
        """A reader of exactly ``size`` bytes (the :meth:`chunks`): what a tar
        member is copied from, which must not come up short."""
        return io.BufferedReader(Pieces(self.chunks()), CHUNK)

    def copy_to(self, out: Writable) -> None:
        """Write exactly ``size`` bytes to ``out`` (anything with ``write``)."""
        for piece in self.chunks():
            out.write(piece)

    def same_file(self, other: Contents) -> bool:
        """Whether both name the same file (not merely equal bytes)."""
        return self is other

    # Entries compare by value (tests build the expected changeset with
    # ``data=``): equal when the bytes are.  Never used on a hot path.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Contents):
            return NotImplemented
        return self is other or (self.size == other.size and self.read() == other.read())

    def __hash__(self) -> int:
        return hash(self.size)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.size} bytes>"


class Pieces(io.RawIOBase):
    """A reader over an iterator of byte strings (what tarfile copies from);
    a read is filled whole unless the pieces run out (tarfile insists)."""

    def __init__(self, pieces: Iterator[bytes]):
        self.pieces, self.rest = pieces, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        filled = 0
        while filled < len(buffer):
            if not self.rest:
                piece = next(self.pieces, b"")
                if not piece:
                    break
                self.rest = memoryview(piece)
            n = min(len(buffer) - filled, len(self.rest))
            buffer[filled : filled + n] = self.rest[:n]
            self.rest = self.rest[n:]
            filled += n
        return filled


class Bytes(Contents):
    """Contents held in memory (small files made by stepbox itself)."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.size = len(self.data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)

    def read(self) -> bytes:
        return self.data


EMPTY = Bytes(b"")


class BufferRange(Contents):
    """``size`` bytes at ``offset`` of a buffer already in memory (a member
    of an archive that is itself in memory): no second copy of them."""

    def __init__(self, buffer: bytes, offset: int, size: int):
        self.buffer, self.offset, self.size = buffer, offset, size

    def open(self) -> BinaryIO:
        return io.BufferedReader(_ViewReader(memoryview(self.buffer)[self.offset : self.offset + self.size]))


class _ViewReader(io.RawIOBase):
    def __init__(self, view: memoryview):
        self.view, self.pos = view, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self.view) - self.pos)
        buffer[:n] = self.view[self.pos : self.pos + n]
        self.pos += n
        return n

    def close(self) -> None:
        self.view.release()
        super().close()


class FileRange(Contents):
    """``size`` bytes at ``offset`` of the file at ``path`` (a member of an
    uncompressed layer tar in the image store)."""

    def __init__(self, path: str, offset: int, size: int):
        self.path, self.offset, self.size = path, offset, size

    def open(self) -> BinaryIO:
        f = open(self.path, "rb")
        f.seek(self.offset)
        return io.BufferedReader(_Limited(f, self.size))


class _Limited(io.RawIOBase):
    """At most ``left`` bytes of ``f``."""

    def __init__(self, f: BinaryIO, left: int):
        self.f, self.left = f, left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self.left)
        if want <= 0:
            return 0
        piece = self.f.read(want)
        buffer[: len(piece)] = piece
        self.left -= len(piece)
        return len(piece)

    def close(self) -> None:
        self.f.close()
        super().close()
