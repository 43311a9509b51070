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

import os
import stat
from typing import TYPE_CHECKING

from stepbox.core.kernel.contents import EMPTY, Contents, FileRange

from .dockerignore import IgnoreError, PatternMatcher, read_patterns
from .errors import BuildError

if TYPE_CHECKING:
    from stepbox.core.kernel import FileMeta

# Plain classes rather than dataclasses: ``stepbox build`` lists its context
# through this module, and importing dataclasses (inspect, ast, dis) and
# making the classes would be a good part of a cached rebuild's start-up
# (issue 18).


class ContextFile:
    """One entry of the context; immutable (a value, as the frozen
    dataclass it was: equal and hashed by its fields)."""

    __slots__ = ("path", "kind", "mode", "uid", "gid", "mtime", "contents", "link")
    path: str  # relative, with "/": "src/main.c"
    kind: str  # "file", "dir" or "symlink"
    mode: int  # permission bits
    uid: int
    gid: int
    mtime: float
    contents: Contents  # a file's, read when needed
    link: str  # symlink target

    def __init__(
        self,
        path: str,
        kind: str,
        mode: int,
        uid: int,
        gid: int,
        mtime: float,
        contents: Contents = EMPTY,
        link: str = "",
    ):
        init = object.__setattr__  # immutable: __setattr__ below refuses
        init(self, "path", path)
        init(self, "kind", kind)
        init(self, "mode", mode)
        init(self, "uid", uid)
        init(self, "gid", gid)
        init(self, "mtime", mtime)
        init(self, "contents", contents)
        init(self, "link", link)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a ContextFile is immutable")

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ContextFile({fields})"

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
        import hashlib  # here: the client lists a context but never checksums it

        h = hashlib.sha256(f"{self.kind}\0{self.path}\0{self.mode:o}\0{self.link}\0".encode())
        for piece in self.contents.chunks():
            h.update(piece)
        return h.hexdigest()


class BuildContext:
    def __init__(self, root: str, files: dict[str, ContextFile] | None = None):
        self.root = root
        self.files: dict[str, ContextFile] = {} if files is None else files  # "." is the root itself

    def __repr__(self) -> str:
        return f"BuildContext(root={self.root!r}, files={self.files!r})"

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
        common: FileMeta = {
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "mtime": st.st_mtime,
        }
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
