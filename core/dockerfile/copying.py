"""``COPY`` and ``ADD``: files from the context (or another stage) as a layer.

The rules, as Docker's classic builder applies them:

* **sources** are relative to the context root (``/x`` and ``./x`` mean
  ``x``); ``*``, ``?`` and ``[..]`` match within one path component; a path
  that leaves the context (``../x``) is refused; symlinks named as a source
  are followed (inside the context), symlinks *inside* a copied directory
  are copied as symlinks;
* a **directory** source copies its *contents*, not the directory itself;
* the **destination** is relative to ``WORKDIR``.  It is a directory when it
  ends in ``/``, when it already is one in the image, or when the source is a
  directory; with several sources it must end in ``/``;
* missing parent directories are created ``0755``;
* everything copied (and every directory created) belongs to ``root`` --
  the owner in the context does not travel -- or to ``--chown=user:group``
  (names looked up in the image's ``/etc/passwd`` and ``/etc/group``; with
  only a user, the group of the same name or number); permission bits are
  kept, or set by ``--chmod`` (BuildKit's flag; the classic builder refuses it);
* ``ADD`` of a local **tar archive** (plain, gzip, bzip2, xz) unpacks it into
  the destination, keeping the archive's owners and modes (its files are
  ranges of the archive -- a compressed one is first inflated into a scratch
  file -- copied piece by piece when the layer is written); ``ADD`` of a URL
  downloads it (mode 0600) -- and fails clearly when there is no network.

The result is a changeset (:class:`LayerEntry` list) that becomes one layer,
including the existing parent directories as overlayfs would copy them up.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import posixpath
import re
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import BinaryIO

from stepbox.core.image.incoming import max_layer_bytes
from stepbox.core.image.layer_tar import UnsafeLayer, read_layer_buffer, read_layer_file
from stepbox.core.kernel import EntryKind, LayerEntry
from stepbox.core.kernel.contents import CHUNK, Bytes, Contents, FileRange

from . import tree as trees
from .context import ContextFile
from .errors import BuildError

_WILDCARD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class CopyRequest:
    keyword: str  # "COPY" or "ADD"
    sources: list[str]
    dest: str
    workdir: str
    owner: tuple[int, int] = (0, 0)
    chmod: int | None = None


@dataclass(frozen=True)
class SourceItem:
    """One resolved source: the name as given (for the destination's file
    name) and the entry it leads to (symlinks followed)."""

    name: str
    entry: ContextFile


def go_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match``: ``*``/``?`` never match ``/``; ``[^a]`` negates."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i < len(pattern):
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return False
            body = pattern[i:end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
    return re.fullmatch("".join(out), name) is not None


def clean_source(path: str) -> str:
    cleaned = posixpath.normpath("/" + path)  # "/" keeps ".." from climbing out...
    if posixpath.normpath(path.lstrip("/") or ".").startswith(".."):
        raise BuildError(f"Forbidden path outside the build context: {path} ()")
    return cleaned.lstrip("/") or "."


def resolve_sources(request: CopyRequest, source: trees.Tree, what: str) -> list[SourceItem]:
    items: list[SourceItem] = []
    for raw in request.sources:
        path = clean_source(raw)
        if _WILDCARD.search(path):
            matched = [
                (rel, _follow(source, rel)) for rel in sorted(source) if rel != "." and go_match(path, rel)
            ]
            items += [SourceItem(rel, entry) for rel, entry in matched if entry is not None]
            continue
        entry = _follow(source, path)
        if entry is None:
            raise BuildError(
                f"{request.keyword} failed: file not found in {what}: stat {raw}: file does not exist"
            )
        items.append(SourceItem(path, entry))
    if not items:
        raise BuildError(f"{request.keyword} failed: no source files were specified")
    return items


def _follow(source: trees.Tree, path: str) -> ContextFile | None:
    real = trees.resolve(source, path)
    return source.get(real) if real is not None else None


def normalize_dest(workdir: str, dest: str) -> str:
    """Absolute destination, keeping a trailing ``/`` (it means "a directory")."""
    slash = dest.endswith("/")
    if not dest.startswith("/"):
        dest = posixpath.join("/", workdir or "/", dest)
    dest = posixpath.normpath(dest)
    if dest == "//":
        dest = "/"
    return dest + "/" if slash and dest != "/" else dest


class LayerBuilder:
    """Collects the entries of the new layer on top of ``image`` (a tree of
    what is already there), creating parents as ``mkdir -p`` would."""

    def __init__(self, image: trees.Tree, owner: tuple[int, int], now: float):
        self.image = image
        self.owner = owner
        self.now = now
        self.entries: dict[str, LayerEntry] = {}

    def _existing(self, path: str) -> ContextFile | None:
        if path in self.entries:
            e = self.entries[path]
            return ContextFile(path, e.kind.value, e.mode, e.uid, e.gid, e.mtime)
        return self.image.get(path)

    def real_path(self, absolute: str, *, follow_last: bool = True) -> str:
        """Where ``absolute`` lands once the image's symlinks are followed
        (in scope: never above the image's root)."""
        real = trees.resolve(self._combined(), absolute.strip("/"), follow_last=follow_last)
        if real is None:
            return absolute.strip("/")
        return "" if real == "." else real

    def _combined(self) -> trees.Tree:
        if not self.entries:
            return self.image
        merged = dict(self.image)
        for path, e in self.entries.items():
            merged[path] = ContextFile(
                path,
                "dir" if e.kind is EntryKind.DIR else "symlink" if e.kind is EntryKind.SYMLINK else "file",
                e.mode,
                e.uid,
                e.gid,
                e.mtime,
                link=e.link,
            )
        return merged

    def is_dir(self, path: str) -> bool:
        existing = self._existing(path)
        return existing is not None and existing.kind == "dir"

    def mkdir_p(self, path: str, owner: tuple[int, int] | None = None) -> None:
        """Make ``path`` and its parents directories; existing ones are
        carried into the layer unchanged (overlayfs copies them up), new ones
        are 0755 and belong to ``owner``."""
        uid, gid = owner or self.owner
        parts = path.split("/") if path not in ("", ".") else []
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            existing = self._existing(sub)
            if existing is not None and existing.kind == "dir":
                if sub not in self.entries:
                    self.entries[sub] = LayerEntry(
                        sub,
                        EntryKind.DIR,
                        mode=existing.mode,
                        uid=existing.uid,
                        gid=existing.gid,
                        mtime=existing.mtime,
                    )
            else:
                self.entries[sub] = LayerEntry(
                    sub, EntryKind.DIR, mode=0o755, uid=uid, gid=gid, mtime=self.now
                )

    def put(self, path: str, entry: ContextFile, owner: tuple[int, int] | None, chmod: int | None) -> None:
        """Place one source entry at ``path`` (its parent already exists)."""
        uid, gid = owner if owner is not None else (entry.uid, entry.gid)
        mode = chmod if chmod is not None else entry.mode
        if entry.kind == "dir":
            self.entries[path] = LayerEntry(
                path, EntryKind.DIR, mode=mode, uid=uid, gid=gid, mtime=entry.mtime
            )
        elif entry.kind == "symlink":
            self.entries[path] = LayerEntry(
                path, EntryKind.SYMLINK, mode=0o777, uid=uid, gid=gid, mtime=entry.mtime, link=entry.link
            )
        else:
            self.entries[path] = LayerEntry(
                path, EntryKind.FILE, mode=mode, uid=uid, gid=gid, mtime=entry.mtime, contents=entry.contents
            )
        # Whatever was below a replaced directory in this layer goes with it.
        if entry.kind != "dir":
            for other in [p for p in self.entries if p.startswith(path + "/")]:
                del self.entries[other]

    def result(self) -> list[LayerEntry]:
        return sorted(self.entries.values(), key=lambda e: e.path.split("/"))


def copy_layer(
    request: CopyRequest,
    source: trees.Tree,
    image: trees.Tree,
    what: str,
    *,
    allow_archives: bool = False,
    fetch=None,
    scratch: Callable[[], str] | None = None,
) -> list[LayerEntry]:
    """The changeset of one ``COPY``/``ADD`` of ``request.sources`` (from
    ``source``: the context or another stage) onto ``image``.  ``scratch``:
    a directory that lives until the layer is written (where a compressed
    archive is inflated); without one, such an archive is read into memory."""
    layer = LayerBuilder(image, request.owner, time.time())
    urls = [s for s in request.sources if is_url(s)] if request.keyword == "ADD" else []
    local = replace(request, sources=[s for s in request.sources if s not in urls])
    items = resolve_sources(local, source, what) if local.sources else []
    downloads = [(_url_name(u), (fetch or download)(u)) for u in urls]
    if len(items) + len(downloads) > 1 and not request.dest.endswith("/"):
        raise BuildError(
            f"When using {request.keyword} with more than one source file, "
            "the destination must be a directory and end with a /"
        )
    dest = normalize_dest(request.workdir, request.dest)
    dest_is_slash = dest.endswith("/")
    dest_path = layer.real_path(dest)

    for name, data in downloads:
        entry = ContextFile(name, "file", 0o600, 0, 0, time.time(), contents=Bytes(data))
        _copy_file(layer, entry, name, dest_path, dest_is_slash, request)

    for item in items:
        entry = item.entry
        if entry.kind == "dir":
            # Docker makes the missing parents root's and only the destination
            # directory itself (if new) the --chown owner's.
            layer.mkdir_p(posixpath.dirname(dest_path), owner=(0, 0))
            layer.mkdir_p(dest_path)
            for child in _children(source, entry.path):
                rel = child.path[len(entry.path) + 1 :] if entry.path != "." else child.path
                target = posixpath.join(dest_path, rel) if dest_path else rel
                layer.put(target, child, request.owner, request.chmod)
        elif allow_archives and is_archive(entry.contents):
            layer.mkdir_p(dest_path, owner=(0, 0))  # --chown does not apply to archives
            _extract(layer, entry.contents, dest_path, what=item.name, scratch=scratch)
        else:
            _copy_file(layer, entry, posixpath.basename(item.name), dest_path, dest_is_slash, request)
    return layer.result()


def _copy_file(
    layer: LayerBuilder,
    entry: ContextFile,
    name: str,
    dest_path: str,
    dest_is_slash: bool,
    request: CopyRequest,
) -> None:
    if dest_is_slash or layer.is_dir(dest_path) or not dest_path:
        target = posixpath.join(dest_path, name) if dest_path else name
    else:
        target = dest_path
    target = layer.real_path("/" + target, follow_last=False)
    layer.mkdir_p(posixpath.dirname(target))
    layer.put(target, entry, request.owner, request.chmod)


def _children(source: trees.Tree, directory: str) -> list[ContextFile]:
    if directory == ".":
        return [f for p, f in sorted(source.items(), key=lambda kv: kv[0].split("/")) if p != "."]
    prefix = directory + "/"
    return [f for p, f in sorted(source.items(), key=lambda kv: kv[0].split("/")) if p.startswith(prefix)]


# ------------------------------------------------------------------ archives


def is_archive(contents: Contents) -> bool:
    """A tar, possibly gzip/bzip2/xz compressed (what ADD unpacks): its first
    header is read as a stream, so only the first blocks are looked at."""
    if not contents.size:
        return False
    try:
        with contents.reader() as f, tarfile.open(fileobj=f, mode="r|*"):
            return True
    except _NOT_A_TAR:
        return False


def _xz(f: BinaryIO) -> io.BufferedIOBase:
    # lzma is imported here, not at the top: Pyodide's Python leaves it out
    # (tests/pyodide runs the builder there), and only an xz archive needs it.
    try:
        import lzma
    except ImportError:
        raise OSError("it is xz-compressed, and this Python has no lzma module") from None
    return lzma.LZMAFile(f)


def _lzma_errors() -> tuple[type[Exception], ...]:
    try:
        import lzma
    except ImportError:
        return ()
    return (lzma.LZMAError,)


# What reading a damaged archive raises (lzma's own error only where lzma exists).
_CORRUPT: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error, *_lzma_errors())
_NOT_A_TAR: tuple[type[Exception], ...] = (tarfile.TarError, *_CORRUPT)

# What a compressed archive starts with, and how it is read inflated.
_INFLATE: tuple[tuple[bytes, Callable[[BinaryIO], io.BufferedIOBase]], ...] = (
    (b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f)),
    (b"BZh", lambda f: bz2.BZ2File(f)),
    (b"\xfd7zXZ\x00", _xz),
)


def _extract(
    layer: LayerBuilder, contents: Contents, dest: str, what: str, scratch: Callable[[], str] | None
) -> None:
    """Unpack a tar into ``dest`` keeping its modes and owners; the same
    escape checks as for image layers (no ``..``, no writing through links).
    The entries' contents are ranges of the plain tar on disk."""
    try:
        plain = _plain_tar(contents, what, scratch)
        entries = read_layer_file(plain) if plain is not None else read_layer_buffer(contents.read())
    except UnsafeLayer as e:
        raise BuildError(f"ADD {what}: refusing to unpack the archive: {e}") from None
    for entry in sorted(entries, key=lambda x: x.path.split("/")):
        if entry.kind is EntryKind.WHITEOUT:
            continue
        path = posixpath.join(dest, entry.path) if dest else entry.path
        layer.mkdir_p(posixpath.dirname(path), owner=(0, 0))
        link = posixpath.join(dest, entry.link) if entry.kind is EntryKind.HARDLINK and dest else entry.link
        layer.entries[path] = replace(entry, path=path, link=link, opaque=False)


def _plain_tar(contents: Contents, what: str, scratch: Callable[[], str] | None) -> str | None:
    """The archive as an uncompressed tar file: the context's own file when
    it is one, else a copy (inflated if compressed) in ``scratch`` -- piece
    by piece, and no bigger than a layer may be (a gzip bomb stops there).
    None: no scratch directory to make one in."""
    with contents.reader() as f:
        head = f.peek(6)[:6]
    inflate = next((open_ for magic, open_ in _INFLATE if head.startswith(magic)), None)
    if (
        inflate is None
        and isinstance(contents, FileRange)
        and contents.offset == 0
        and os.path.getsize(contents.path) == contents.size
    ):
        return contents.path
    if scratch is None:
        return None
    directory = scratch()
    limit = max_layer_bytes()
    room = limit + (limit >> 3) + CHUNK  # headers and padding on top of the files' bytes
    fd, path = tempfile.mkstemp(dir=directory, suffix=".tar")
    try:
        with contents.reader() as raw, os.fdopen(fd, "wb") as out:
            source: io.BufferedIOBase = inflate(raw) if inflate is not None else raw
            written = 0
            while piece := source.read(CHUNK):
                written += len(piece)
                if written > room:
                    raise BuildError(
                        f"ADD {what}: refusing to unpack the archive: it inflates to more than the limit "
                        f"of {limit} bytes (STEPBOX_MAX_LAYER_BYTES)"
                    )
                out.write(piece)
    except _CORRUPT as e:
        raise BuildError(f"ADD {what}: refusing to unpack the archive: it is corrupt: {e}") from None
    return path


# ---------------------------------------------------------------------- URLs


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _url_name(url: str) -> str:
    name = posixpath.basename(urllib.parse.urlparse(url).path)
    return name or "__unnamed__"


def download(url: str, timeout: float = 15.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise BuildError(
            f"ADD {url}: cannot download it ({reason}). This machine seems to be offline: "
            "download the file into the build context and use COPY (or ADD a local file) instead"
        ) from None
