"""Layer tars <-> changesets, and the checks that keep a layer inside its box.

An image layer is a tar of *changes* against the layers below it.  Deleted
files are marked with *whiteouts*: an empty file ``.wh.NAME`` deletes ``NAME``,
and ``DIR/.wh..wh..opq`` makes ``DIR`` *opaque* (nothing below shows through).
The union filesystem turns these markers into what overlayfs understands.

A layer comes from outside (a registry, ``docker save``, a user's tar) and is
therefore hostile until checked.  :func:`read_layer` refuses, naming the entry:

* paths that climb out with ``..`` (``../../etc/passwd``);
* entries written *through* a symlink of the same layer (``evil -> /etc``
  followed by ``evil/passwd``) -- the classic symlink escape;
* hardlinks to anything that is not a regular file earlier in the layer
  (``link -> ../../etc/shadow``) -- the hardlink escape;
* device nodes, FIFOs and other special files (a char device 0/0 is accepted
  as an overlay-style whiteout, which is what it means);
* sparse entries: a few kilobytes of GNU sparse headers can describe a file
  of any size, which reading it would then produce;
* more content than STEPBOX_MAX_LAYER_BYTES in all (see :mod:`.incoming`).

:func:`check_layer` makes the same checks without keeping any file's bytes:
how a layer arriving from outside is judged before it is stored.

Absolute names (``/etc/hosts``) are taken relative to the layer root, as
Docker does; they cannot escape.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from stepbox.core.kernel import Contents, EntryKind, FileMeta, LayerEntry
from stepbox.core.kernel.contents import CHUNK, EMPTY, BufferRange, Bytes, FileRange, Writable
from stepbox.core.kernel.contents import Pieces as _Pieces

# gzip, bzip2, xz: what tarfile's "r:*" would uncompress
_MAGIC_PREFIXES = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ")

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


class UnsafeLayer(ValueError):
    """A layer tar that would write outside its directory, or is malformed."""


def normalise_path(name: str, what: str = "layer") -> str:
    """``./a//b/`` -> ``a/b``; raise :class:`UnsafeLayer` if it climbs out
    (``what`` names the archive in the message: a layer, a build context)."""
    path = posixpath.normpath("/" + name.lstrip("/")) if name else "/"
    # normpath("/../x") is "/x", so check the raw components for an escape.
    depth = 0
    for part in name.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise UnsafeLayer(f"{what} entry {name!r} climbs out of the {what} with '..'")
        elif part not in ("", "."):
            depth += 1
    return path.lstrip("/")


def read_layer(stream: BinaryIO) -> list[LayerEntry]:
    """Parse and check a (possibly gzip-compressed) layer tar, its files'
    contents read into memory: for small layers (tests, exercises).  What
    may be big is read with :func:`read_layer_file` or :func:`read_layer_buffer`."""
    return _read(stream, _in_memory)


def read_layer_file(path: str) -> list[LayerEntry]:
    """:func:`read_layer` of the layer tar at ``path``, each file's contents
    left where they are (a range of the tar, read when the file is written
    out): memory stays flat whatever the layer's size.  A compressed tar
    cannot be read at an offset: its files are read into memory."""
    with open(path, "rb") as f:
        if _compressed(f):
            return _read(f, _in_memory)
        return _read(f, lambda archive, m: FileRange(path, m.offset_data, m.size))


def read_layer_buffer(data: bytes) -> list[LayerEntry]:
    """:func:`read_layer` of a layer tar already in memory (``ADD x.tar`` of
    a build context): the files' contents are ranges of ``data``, not copies."""
    stream = io.BytesIO(data)
    if _compressed(stream):
        return _read(stream, _in_memory)
    return _read(stream, lambda archive, m: BufferRange(data, m.offset_data, m.size))


def check_layer(stream: BinaryIO) -> None:
    """The checks of :func:`read_layer`, reading past file contents instead
    of keeping them: memory stays flat whatever the layer's size."""
    _read(stream, None)


# How a regular member's contents are kept: read now, or left in place.
ContentsOf = Callable[[tarfile.TarFile, tarfile.TarInfo], Contents]


def _in_memory(archive: tarfile.TarFile, m: tarfile.TarInfo) -> Contents:
    contents = archive.extractfile(m)
    assert contents is not None  # a regular file always has contents
    data = contents.read()
    if len(data) != m.size:
        raise UnsafeLayer(f"layer entry {m.name!r} is truncated")
    return Bytes(data)


def _compressed(stream: BinaryIO) -> bool:
    """Whether the tar is compressed (its members are then at no offset of the stream)."""
    try:
        return stream.read(6).startswith(_MAGIC_PREFIXES)
    finally:
        stream.seek(0)


def _read(stream: BinaryIO, contents_of: ContentsOf | None) -> list[LayerEntry]:
    from .incoming import max_layer_bytes

    limit, total = max_layer_bytes(), 0
    end = _size_of(stream) if contents_of is not _in_memory else None
    try:
        archive = tarfile.open(fileobj=stream, mode="r:*")
    except tarfile.TarError as e:
        raise UnsafeLayer(f"not a valid layer tar: {e}") from None
    entries: dict[str, LayerEntry] = {}
    symlinks: set[str] = set()
    with archive:
        try:
            for member in archive:
                if member.issparse():
                    raise UnsafeLayer(
                        f"layer entry {member.name!r} is a sparse file; stepbox refuses sparse entries "
                        "(their headers can claim any size)"
                    )
                total += member.size
                if total > limit:
                    raise UnsafeLayer(
                        f"the layer holds more than the limit of {limit} bytes (STEPBOX_MAX_LAYER_BYTES)"
                    )
                if end is not None and member.isreg() and member.offset_data + member.size > end:
                    raise UnsafeLayer(f"layer entry {member.name!r} is truncated")
                entry = _entry_from_member(archive, member, entries, symlinks, contents_of)
                if entry is None:
                    continue
                if entry.kind is EntryKind.SYMLINK:
                    symlinks.add(entry.path)
                else:
                    symlinks.discard(entry.path)
                if entry.kind is EntryKind.DIR and entry.path in entries and entries[entry.path].opaque:
                    entry = _with(entry, opaque=True)  # the opaque marker may come first
                entries[entry.path] = entry
        except (tarfile.TarError, EOFError, OSError) as e:
            raise UnsafeLayer(f"layer tar is truncated or corrupt: {e}") from None
    return list(entries.values())


def _size_of(stream: BinaryIO) -> int | None:
    """The length of a plain file (a gzip stream's is not its content's)."""
    try:
        if stream.read(2) == b"\x1f\x8b":
            return None
        return stream.seek(0, 2)
    except (OSError, AttributeError):
        return None
    finally:
        try:
            stream.seek(0)
        except (OSError, AttributeError):
            pass


def content_size(stream: BinaryIO) -> int:
    """A layer's size as docker shows it (``docker images``, ``history``):
    the bytes of its regular files -- not the tar's headers and padding, and
    a hardlink's content once."""
    try:
        with tarfile.open(fileobj=stream, mode="r:*") as archive:
            return sum(m.size for m in archive if m.isreg())
    except (tarfile.TarError, EOFError, OSError) as e:
        raise UnsafeLayer(f"layer tar is truncated or corrupt: {e}") from None


def _entry_from_member(
    archive: tarfile.TarFile,
    m: tarfile.TarInfo,
    seen: dict[str, LayerEntry],
    symlinks: set[str],
    contents_of: ContentsOf | None = _in_memory,
) -> LayerEntry | None:
    path = normalise_path(m.name)
    if not path:
        return None  # "./" itself
    parent, base = posixpath.split(path)
    refuse_through_symlink(m.name, parent, symlinks)
    common = FileMeta(mode=m.mode & 0o7777, uid=m.uid, gid=m.gid, mtime=float(m.mtime))

    if base == OPAQUE_MARKER:
        old = seen.get(parent)
        if old is None:
            return LayerEntry(parent, EntryKind.DIR, opaque=True, mode=0o755)
        return LayerEntry(
            parent, EntryKind.DIR, opaque=True, mode=old.mode, uid=old.uid, gid=old.gid, mtime=old.mtime
        )
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        return None  # aufs bookkeeping (.wh..wh.plnk etc.)
    if base.startswith(WHITEOUT_PREFIX):
        return LayerEntry(posixpath.join(parent, base[len(WHITEOUT_PREFIX) :]), EntryKind.WHITEOUT)

    if m.isdir():
        return LayerEntry(path, EntryKind.DIR, **common)
    if m.isreg():
        if contents_of is None:
            return LayerEntry(path, EntryKind.FILE, **common)
        return LayerEntry(path, EntryKind.FILE, contents=contents_of(archive, m), **common)
    if m.issym():
        return LayerEntry(path, EntryKind.SYMLINK, link=m.linkname, **common)
    if m.islnk():
        target = normalise_path(m.linkname)
        if target not in seen or seen[target].kind not in (EntryKind.FILE, EntryKind.HARDLINK):
            raise UnsafeLayer(
                f"layer entry {m.name!r} is a hardlink to {m.linkname!r}, "
                "which is not a regular file earlier in the same layer"
            )
        if seen[target].kind is EntryKind.HARDLINK:
            target = seen[target].link
        return LayerEntry(path, EntryKind.HARDLINK, link=target, **common)
    if m.ischr() and m.devmajor == 0 and m.devminor == 0:
        return LayerEntry(path, EntryKind.WHITEOUT)
    kind = {
        tarfile.CHRTYPE: "character device",
        tarfile.BLKTYPE: "block device",
        tarfile.FIFOTYPE: "FIFO",
    }.get(m.type, f"special file (type {m.type!r})")
    raise UnsafeLayer(f"layer entry {m.name!r} is a {kind}; layers may not contain device nodes")


def refuse_through_symlink(name: str, parent: str, symlinks: set[str], what: str = "layer") -> None:
    """Raise :class:`UnsafeLayer` if ``parent`` (normalised) is, or is below,
    one of the archive's own ``symlinks``: writing there would follow it."""
    probe = parent
    while probe:
        if probe in symlinks:
            raise UnsafeLayer(
                f"{what} entry {name!r} would be written through the symlink {probe!r} (a symlink escape)"
            )
        probe = posixpath.dirname(probe)


def _with(entry: LayerEntry, **changes) -> LayerEntry:
    from dataclasses import replace

    return replace(entry, **changes)


def write_layer(entries: Iterable[LayerEntry], out: Writable) -> None:
    """Write a changeset as a layer tar, parents first, whiteouts as ``.wh.``
    files, hardlinks after every file they may point to.  Deterministic: the
    same entries give the same bytes (and so the same digest).  Each file's
    contents are copied piece by piece as its member is written."""
    in_order = sorted(entries, key=lambda e: (e.kind is EntryKind.HARDLINK, e.path.split("/")))
    counted = _Counted(out)  # (typeshed's TarFile wants a whole file; tarfile writes and tells)
    with tarfile.TarFile(
        fileobj=counted,  # type: ignore[arg-type]
        mode="w",
        format=tarfile.PAX_FORMAT,
        copybufsize=CHUNK,
    ) as archive:
        for entry in in_order:
            for info, contents in _members(entry):
                archive.addfile(info, _Pieces(contents.chunks()) if contents is not None else None)


class _Counted:
    """``out`` with a ``tell`` (tarfile asks; an HTTP body being sent has none)."""

    def __init__(self, out: Writable):
        self.out, self.written = out, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.out.write(data)

    def tell(self) -> int:
        return self.written


def _members(e: LayerEntry) -> Iterator[tuple[tarfile.TarInfo, Contents | None]]:
    def info(name: str, type_: bytes) -> tarfile.TarInfo:
        t = tarfile.TarInfo(name)
        t.type, t.mode, t.uid, t.gid, t.mtime = type_, e.mode, e.uid, e.gid, int(e.mtime)
        t.uname = t.gname = ""
        return t

    if e.kind is EntryKind.WHITEOUT:
        parent, base = posixpath.split(e.path)
        t = info(posixpath.join(parent, WHITEOUT_PREFIX + base), tarfile.REGTYPE)
        t.mode = 0o644
        yield t, EMPTY
    elif e.kind is EntryKind.DIR:
        yield info(e.path + "/", tarfile.DIRTYPE), None
        if e.opaque:
            t = info(posixpath.join(e.path, OPAQUE_MARKER), tarfile.REGTYPE)
            t.mode = 0o644
            yield t, EMPTY
    elif e.kind is EntryKind.FILE:
        t = info(e.path, tarfile.REGTYPE)
        t.size = e.contents.size
        yield t, e.contents
    elif e.kind is EntryKind.SYMLINK:
        t = info(e.path, tarfile.SYMTYPE)
        t.linkname = e.link
        yield t, None
    elif e.kind is EntryKind.HARDLINK:
        t = info(e.path, tarfile.LNKTYPE)
        t.linkname = e.link
        yield t, None
