"""The build context: the files a build may ``COPY`` or ``ADD``.

``docker build PATH`` sends the directory PATH to the daemon as a tar,
leaving out what ``.dockerignore`` excludes; the builder sees nothing else
-- not ``../x``, not an excluded file.  stepbox lists the same selection
as :class:`ContextFile` records (relative path -> kind, mode, owner, and
where the contents are), which is what :mod:`.copying` copies from and what
the build cache checksums.  A file's contents stay on disk
(:class:`~stepbox.core.kernel.contents.Contents`): they are read piece by
piece when they are checksummed or written into a layer, so a context of
gigabytes costs the builder no more memory than a small one.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field

from stepbox.core.kernel import FileMeta
from stepbox.core.kernel.contents import EMPTY, Contents, FileRange

from .dockerignore import IgnoreError, PatternMatcher, read_patterns
from .errors import BuildError


@dataclass(frozen=True)
class ContextFile:
    path: str  # relative, with "/": "src/main.c"
    kind: str  # "file", "dir" or "symlink"
    mode: int  # permission bits
    uid: int
    gid: int
    mtime: float
    contents: Contents = EMPTY  # a file's, read when needed
    link: str = ""  # symlink target

    @property
    def size(self) -> int:
        return self.contents.size

    @property
    def data(self) -> bytes:
        """The whole contents in memory: for small files only (``/etc/passwd``
        for ``--chown``); copies go through ``contents``."""
        return self.contents.read()

    def checksum(self) -> str:
        """What a copy of this entry depends on (content, type and mode; the
        owner does not matter: COPY makes files root's or --chown's)."""
        h = hashlib.sha256(f"{self.kind}\0{self.path}\0{self.mode:o}\0{self.link}\0".encode())
        for piece in self.contents.chunks():
            h.update(piece)
        return h.hexdigest()


@dataclass
class BuildContext:
    root: str
    files: dict[str, ContextFile] = field(default_factory=dict)  # "." is the root itself

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())

    def children(self, directory: str) -> list[ContextFile]:
        """Everything below ``directory`` ("." for all), parents first."""
        if directory == ".":
            return [f for p, f in sorted(self.files.items()) if p != "."]
        prefix = directory + "/"
        return [f for p, f in sorted(self.files.items()) if p.startswith(prefix)]


def load_context(root: str, ignore_file: str | None = None) -> BuildContext:
    """Read ``root`` minus what ``.dockerignore`` (or ``ignore_file``) excludes."""
    if not os.path.isdir(root):
        raise BuildError(f"unable to prepare context: path {root!r} not found")
    ignore_path = ignore_file or os.path.join(root, ".dockerignore")
    patterns: list[str] = []
    if os.path.exists(ignore_path):
        with open(ignore_path, encoding="utf-8", errors="surrogateescape") as f:
            patterns = read_patterns(f.read())
    try:
        matcher = PatternMatcher(patterns)
    except IgnoreError as e:
        raise BuildError(f"error checking context: {e} in .dockerignore") from None
    context = BuildContext(os.path.abspath(root))
    st = os.lstat(root)
    context.files["."] = ContextFile(".", "dir", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime)
    _walk(context, matcher, "")
    return context


def _walk(context: BuildContext, matcher: PatternMatcher, relative_dir: str) -> None:
    directory = os.path.join(context.root, relative_dir)
    try:
        names = sorted(os.listdir(directory))
    except PermissionError as e:
        raise BuildError(f"error checking context: can't stat '{directory}': {e}") from None
    for name in names:
        rel = f"{relative_dir}/{name}" if relative_dir else name
        full = os.path.join(context.root, rel)
        st = os.lstat(full)
        is_dir = stat.S_ISDIR(st.st_mode)
        if matcher.matches(rel):
            # Excluded.  A directory is still walked if a "!" pattern could
            # bring back something below it; it is not itself included.
            if is_dir and matcher.has_exclusions and matcher.may_reinclude_below(rel):
                _walk(context, matcher, rel)
            continue
        _add_parents(context, rel)
        common = FileMeta(mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid, mtime=st.st_mtime)
        if is_dir:
            context.files[rel] = ContextFile(rel, "dir", **common)
            _walk(context, matcher, rel)
        elif stat.S_ISLNK(st.st_mode):
            context.files[rel] = ContextFile(rel, "symlink", link=os.readlink(full), **common)
        elif stat.S_ISREG(st.st_mode):
            try:
                with open(full, "rb"):
                    pass  # readable now (what docker checks); read later, piece by piece
            except PermissionError as e:
                raise BuildError(f"error checking context: can't open '{rel}': {e}") from None
            context.files[rel] = ContextFile(rel, "file", contents=FileRange(full, 0, st.st_size), **common)
        # sockets, fifos and devices are not sent, as with docker


def _add_parents(context: BuildContext, rel: str) -> None:
    """A file re-included below an excluded directory still needs its
    parent directories; they arrive as plain 0755 directories, as when a tar
    without the directory entry is unpacked."""
    parent = os.path.dirname(rel)
    while parent and parent not in context.files:
        context.files[parent] = ContextFile(parent, "dir", 0o755, 0, 0, 0.0)
        parent = os.path.dirname(parent)
