"""``docker cp``: files into and out of a container, as tar archives.

On the wire (``/containers/{id}/archive?path=...``):

* ``HEAD`` answers the ``X-Docker-Container-Path-Stat`` header -- base64 of
  ``{"name", "size", "mode", "mtime", "linkTarget"}`` -- so the client knows
  whether the path is a file, a directory or a symlink before it copies;
* ``GET`` sends the path as a tar (the same header comes along): a directory
  with everything in it, a file alone, a symlink as a symlink;
* ``PUT`` extracts a tar into a directory of the container.

Which name the entries get, where a copy lands and how a trailing ``/`` or
``/.`` changes that follow moby's ``pkg/archive`` (``docker cp src/. dst``
copies the *contents* of src).  Paths are resolved inside the container
(:mod:`.container_files`); modes, times and owners travel in the tar;
extracted files belong to the container's root (Docker's rule -- ``-a``
gives them to the container's ``--user``).
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import tarfile
from datetime import UTC, datetime
from typing import IO, Any

from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult

from .container_files import ContainerFiles, ReadOnly, join
from .errors import BadRequest, NoSuchContainer

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"

# Go's os.FileMode bits, which the stat header carries.
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_SETUID = 1 << 23
GO_MODE_SETGID = 1 << 22
GO_MODE_CHARDEVICE = 1 << 21
GO_MODE_STICKY = 1 << 20


class FileNotInContainer(NoSuchContainer):
    """404, worded as Docker words it."""

    def __init__(self, path: str, container: str):
        Exception.__init__(self, f"Could not find the file {path} in container {container}")


class NotADirectory(BadRequest):
    pass


# -- paths ----------------------------------------------------------------------------------


def _go_clean(path: str) -> str:
    """Go's path.Clean: no trailing "/", no "." or ".." left, one leading "/"
    (POSIX lets normpath keep two)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _go_base(path: str) -> str:
    """Go's filepath.Base: "/" for "/", trailing slashes ignored."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rsplit("/", 1)[-1]


def keep_trailing(cleaned: str, original: str) -> str:
    """moby's PreserveTrailingDotOrSeparator: ``/d/.`` and ``/d/`` say "the
    directory itself, its contents" -- cleaning must not lose that."""
    if _go_base(cleaned) != "." and _go_base(original) == "." and original.endswith("."):
        if not cleaned.endswith("/"):
            cleaned += "/"
        cleaned += "."
    if not cleaned.endswith("/") and original.endswith("/"):
        cleaned += "/"
    return cleaned


def absolute(path: str) -> str:
    return keep_trailing(_go_clean("/" + path), path)


def _resolve_path(view: ContainerFiles, path: str) -> tuple[str, str, str]:
    """moby's ResolvePath: (what ``path`` names -- the directory part with
    its symlinks followed inside the container, the last name as it is, so
    that a symlink is copied as a symlink --, whether it must be a
    directory ("/d/", "/d/."), and the absolute path asked for)."""
    abs_path = absolute(path)
    directory, _, base = abs_path.rpartition("/")
    resolved_dir = view.resolve(directory or "/", follow_last=True)
    if base in ("", "."):
        return resolved_dir, "dir", abs_path
    return join(resolved_dir, base), "", abs_path


def _lstat(view: ContainerFiles, target: str, must_be_dir: str, original: str, container: str) -> StatResult:
    try:
        st = view.lstat(target)
    except FileNotFoundError:
        raise FileNotInContainer(original, container) from None
    except NotADirectoryError:
        raise BadRequest(f"lstat {original}: not a directory") from None
    if must_be_dir and st.kind is not EntryKind.DIR:
        raise BadRequest(f"lstat {original}: not a directory")
    return st


# -- HEAD: the stat header ----------------------------------------------------------------


def go_file_mode(st: StatResult) -> int:
    mode = st.mode & 0o777
    if st.mode & 0o4000:
        mode |= GO_MODE_SETUID
    if st.mode & 0o2000:
        mode |= GO_MODE_SETGID
    if st.mode & 0o1000:
        mode |= GO_MODE_STICKY
    if st.kind is EntryKind.DIR:
        mode |= GO_MODE_DIR
    elif st.kind is EntryKind.SYMLINK:
        mode |= GO_MODE_SYMLINK
    elif st.is_device:
        mode |= GO_MODE_DEVICE | GO_MODE_CHARDEVICE
    return mode


def go_time(seconds: float) -> str:
    """Go's time.Time as JSON (RFC 3339, nanoseconds without trailing zeros)."""
    moment = datetime.fromtimestamp(int(seconds), UTC)
    nanos = round((seconds - int(seconds)) * 1e9)
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def stat_path(view: ContainerFiles, path: str, container: str) -> dict[str, Any]:
    """``ContainerPathStat`` of ``path`` (moby's StatPath): a symlink's
    ``linkTarget`` is where it leads, resolved inside the container."""
    target, must_be_dir, abs_path = _resolve_path(view, path)
    st = _lstat(view, target, must_be_dir, path, container)
    link_target = ""
    if st.kind is EntryKind.SYMLINK:
        link_target = view.resolve(abs_path, follow_last=True)
    return {
        "name": _go_base(abs_path),
        "size": st.size,
        "mode": go_file_mode(st),
        "mtime": go_time(st.mtime),
        "linkTarget": link_target,
    }


def encode_stat(stat: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(stat, separators=(",", ":")).encode()).decode()


# -- GET: a tar of the path -----------------------------------------------------------------


def archive_path(view: ContainerFiles, path: str, container: str, out: IO[bytes]) -> dict[str, Any]:
    """Write ``path`` as a tar to ``out``; its stat.  The entries are named
    after the path asked for (``/data`` -> ``data/...``, ``/data/.`` ->
    ``./...``, ``/link/`` -> ``link/...``), whatever symlinks led there."""
    stat = stat_path(view, path, container)
    target, _must_be_dir, abs_path = _resolve_path(view, path)
    st = view.lstat(target)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        writer = _TarWriter(view, tar)
        if st.kind is EntryKind.DIR:
            writer.tree(target, _go_base(abs_path))
        else:
            writer.entry(target, _go_base(abs_path), st)
    return stat


class _TarWriter:
    def __init__(self, view: ContainerFiles, tar: tarfile.TarFile):
        self.view, self.tar = view, tar
        self.seen: dict[int, str] = {}  # inode -> the name it was first written under

    def tree(self, directory: str, name: str) -> None:
        self.entry(directory, name, self.view.lstat(directory))
        for child in sorted(self.view.listdir(directory)):
            path = join(directory, child)
            try:
                st = self.view.lstat(path)
            except FileNotFoundError:
                continue  # gone meanwhile (a running container)
            entry_name = posixpath.join(name, child)
            if st.kind is EntryKind.DIR:
                self.tree(path, entry_name)
            else:
                self.entry(path, entry_name, st)

    def entry(self, path: str, name: str, st: StatResult) -> None:
        info = tarfile.TarInfo(name)
        info.mode = st.mode & 0o7777
        info.uid, info.gid = st.uid, st.gid
        info.uname = "root" if st.uid == 0 else ""
        info.gname = "root" if st.gid == 0 else ""
        info.mtime = int(st.mtime)
        data = None
        if st.kind is EntryKind.DIR:
            info.type = tarfile.DIRTYPE
            if not info.name.endswith("/"):
                info.name += "/"
        elif st.kind is EntryKind.SYMLINK:
            info.type = tarfile.SYMTYPE
            info.linkname = self.view.readlink(path)
        elif st.is_device:
            return  # FileOps tells no device numbers: not copied (see SIMPLIFICATIONS)
        elif st.nlink > 1 and st.ino and st.ino in self.seen:
            info.type = tarfile.LNKTYPE
            info.linkname = self.seen[st.ino]
        else:
            data = self.view.read(path)
            info.size = len(data)
            if st.nlink > 1 and st.ino:
                self.seen[st.ino] = name
        self.tar.addfile(info, io.BytesIO(data) if data is not None else None)


# -- PUT: extracting a tar ----------------------------------------------------------------


def extract_to(
    view: ContainerFiles,
    path: str,
    container: str,
    archive: IO[bytes],
    *,
    owner: tuple[int, int] = (0, 0),
    no_overwrite_dir_non_dir: bool = False,
) -> None:
    """Extract the tar ``archive`` into the container's directory ``path``
    (moby's ContainerExtractToDir + Unpack): every name and link stays
    inside the container, files belong to ``owner``, directories merge."""
    abs_path = absolute(path)
    try:
        destination = view.resolve(abs_path, follow_last=True)
        st = view.lstat(destination)
    except FileNotFoundError:
        raise FileNotInContainer(_go_clean(abs_path), container) from None
    except NotADirectoryError:
        raise NotADirectory("extraction point is not a directory") from None
    if st.kind is not EntryKind.DIR:
        raise NotADirectory("extraction point is not a directory")
    try:
        view.writable(destination)
        _Extractor(view, destination, owner, no_overwrite_dir_non_dir).run(archive)
    except ReadOnly as e:
        raise BadRequest(str(e)) from None
    except tarfile.TarError as e:
        raise BadRequest(f"the archive is not a valid tar: {e}") from None


class _Prefixed:
    """A stream with its first bytes read already, given back first (all
    that tarfile's stream mode asks of a file: ``read(n)``)."""

    def __init__(self, first: bytes, rest: IO[bytes]):
        self.first, self.rest = first, rest

    def read(self, size: int = -1) -> bytes:
        first, self.first = self.first, b""
        if size is None or size < 0:
            return first + self.rest.read()
        return first + self.rest.read(size - len(first)) if size > len(first) else first


class _Extractor:
    def __init__(self, view: ContainerFiles, destination: str, owner: tuple[int, int], no_overwrite: bool):
        self.view, self.destination, self.owner, self.no_overwrite = view, destination, owner, no_overwrite
        self.dirs: list[tuple[str, float]] = []

    def run(self, archive: IO[bytes]) -> None:
        first = archive.read(1)
        if not first:
            return  # an empty body is an empty archive, as Go's tar reader (and dockerd) take it
        with tarfile.open(fileobj=_Prefixed(first, archive), mode="r|*") as tar:  # type: ignore[call-overload]
            for member in tar:
                self.member(tar, member)
        for path, mtime in self.dirs:
            files = self.view.writable(path)
            files.set_mtime(self.view.inside(path), mtime)

    def _place(self, name: str) -> str:
        """The container path an entry goes to: under the destination, its
        parents resolved inside the container (created if missing)."""
        clean = _go_clean(name)
        if clean.startswith("../") or clean == ".." or clean.startswith("/../"):
            raise BadRequest(f'{name!r} is outside of "{self.destination}"')
        clean = clean.lstrip("/")
        if clean == ".":
            return self.destination
        parent, base = posixpath.split(clean)
        parent_path = self.view.resolve(join(self.destination, parent) if parent else self.destination, True)
        self._mkdirs(parent_path)
        return join(parent_path, base)

    def _mkdirs(self, path: str) -> None:
        try:
            st = self.view.lstat(path)
        except FileNotFoundError:
            self._mkdirs(posixpath.dirname(path) or "/")
            files = self.view.writable(path)
            files.mkdir(self.view.inside(path), 0o755)
            files.chown(self.view.inside(path), *self.owner)
            return
        if st.kind is not EntryKind.DIR:
            raise BadRequest(f"{path}: not a directory")

    def member(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        if member.type in (tarfile.XGLTYPE, tarfile.XHDTYPE):
            return
        path = self._place(member.name)
        files = self.view.writable(path)
        inside = self.view.inside(path)
        try:
            existing = self.view.lstat(path)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            is_dir = existing.kind is EntryKind.DIR
            if self.no_overwrite and is_dir and not member.isdir():
                raise BadRequest(
                    f'cannot overwrite directory "{path}" with non-directory "{self.destination}"'
                )
            if self.no_overwrite and not is_dir and member.isdir():
                raise BadRequest(
                    f'cannot overwrite non-directory "{path}" with directory "{self.destination}"'
                )
            if is_dir and _go_clean(member.name) == ".":
                return
            if not (is_dir and member.isdir()):
                _remove_all(files, inside)
        if member.isdir():
            if existing is None or existing.kind is not EntryKind.DIR:
                files.mkdir(inside, 0o755)
        elif member.isreg() or member.type == tarfile.AREGTYPE:
            stream = tar.extractfile(member)
            files.write(inside, stream.read() if stream else b"", mode=0o600)
        elif member.issym():
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
            if not (target + "/").startswith(
                self.destination.rstrip("/") + "/"
            ) and not member.linkname.startswith("/"):
                raise BadRequest(f'invalid symlink "{path}" -> "{member.linkname}"')
            files.symlink(member.linkname, inside)
        elif member.islnk():
            target = self._place(member.linkname)
            if not (target + "/").startswith(self.destination.rstrip("/") + "/"):
                raise BadRequest(f'invalid hardlink "{path}" -> "{member.linkname}"')
            target_files, target_inside, _ = self.view.holder(target)
            if target_files is not files:
                raise BadRequest(f'invalid hardlink "{path}" -> "{member.linkname}": across mounts')
            files.link(target_inside, inside)
        else:
            return  # devices and FIFOs: not made (FileOps cannot), as SIMPLIFICATIONS says
        files.chown(inside, *self.owner)
        if not member.issym():
            files.chmod(inside, member.mode & 0o7777)
            if member.isdir():
                self.dirs.append((path, float(member.mtime)))
            else:
                files.set_mtime(inside, float(member.mtime))
        else:
            files.set_mtime(inside, float(member.mtime))


def _remove_all(files: FileOps, path: str) -> None:
    st = files.lstat(path)
    if st.kind is EntryKind.DIR:
        for name in files.listdir(path):
            _remove_all(files, posixpath.join(path, name))
        files.rmdir(path)
    else:
        files.unlink(path)


__all__ = [
    "PATH_STAT_HEADER",
    "FileNotInContainer",
    "archive_path",
    "encode_stat",
    "extract_to",
    "stat_path",
]
