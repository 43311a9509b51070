"""The client's half of ``docker cp``: tars of local files, and where a copy lands.

The daemon only knows "a tar of this path" and "extract a tar into this
directory".  Everything else -- ``cp c:/d/f new`` renaming the file, ``cp
dir c:/x`` making ``/x`` when it does not exist but copying *into* it when
it does, ``dir/.`` meaning "the contents" -- happens on the client, which
renames the archive's entries before it sends or after it receives them
(moby ``pkg/archive/copy.go``; the names of the functions are its names).
"""

from __future__ import annotations

import io
import os
import posixpath
import stat as statmod
import tarfile
from dataclasses import dataclass
from typing import BinaryIO


class CopyError(Exception):
    """A copy that cannot be done, worded as the docker CLI words it."""


@dataclass
class CopyInfo:
    path: str
    exists: bool = False
    is_dir: bool = False
    rebase_name: str = ""


def _base(path: str) -> str:
    """Go's filepath.Base."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rsplit("/", 1)[-1]


def _clean(path: str) -> str:
    """Go's path.Clean: no trailing "/", no "." or ".." left, one leading "/"
    (POSIX lets normpath keep two)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def preserve_trailing(cleaned: str, original: str) -> str:
    """PreserveTrailingDotOrSeparator: keep "/." and "/" that cleaning lost."""
    if _base(cleaned) != "." and _base(original) == "." and original.endswith("."):
        if not cleaned.endswith("/"):
            cleaned += "/"
        cleaned += "."
    if not cleaned.endswith("/") and original.endswith("/"):
        cleaned += "/"
    return cleaned


def asserts_directory(path: str) -> bool:
    return path.endswith("/") or _base(path) == "."


def split_dir_entry(path: str) -> tuple[str, str]:
    """SplitPathDirEntry: (directory, last name), keeping a trailing "."."""
    cleaned = _clean(path)
    if _base(path) == "." and path.endswith("."):
        cleaned += "/."
    return posixpath.dirname(cleaned) or ".", _base(cleaned)


def resolve_local(path: str) -> str:
    return preserve_trailing(os.path.abspath(path), path)


def rebase_name(path: str, resolved: str) -> tuple[str, str]:
    """GetRebaseName: (resolved path with the asked trailing "/." or "/",
    the name to give the entries if the last name changed)."""
    if _base(path) == "." and path.endswith(".") and not (_base(resolved) == "." and resolved.endswith(".")):
        resolved += "/."
    if path.endswith("/") and not resolved.endswith("/"):
        resolved += "/"
    return resolved, (_base(path) if _base(path) != _base(resolved) else "")


# -- sources -----------------------------------------------------------------------------


def source_info(path: str, follow_link: bool) -> CopyInfo:
    """CopyInfoSourcePath: symlinks before the last name are followed (with
    ``-L`` the last one too); the source must exist."""
    if follow_link:
        resolved = os.path.realpath(path)
        if not os.path.lexists(resolved):
            raise CopyError(f"lstat {path}: no such file or directory")
        resolved, rebase = rebase_name(path, resolved)
    else:
        directory, base = os.path.split(path)
        resolved = os.path.join(os.path.realpath(directory or "."), base)
        rebase = _base(path) if path.endswith("/") and _base(path) != _base(resolved) else ""
    try:
        st = os.lstat(resolved)
    except FileNotFoundError:
        raise CopyError(f"lstat {resolved.rstrip('/') or '/'}: no such file or directory") from None
    except NotADirectoryError:
        raise CopyError(f"lstat {resolved}: not a directory") from None
    return CopyInfo(resolved, True, statmod.S_ISDIR(st.st_mode), rebase)


def tar_resource(info: CopyInfo, out: BinaryIO) -> None:
    """TarResource: the source as a tar, its entries named after its last
    name (or ``rebase_name``): ``dir`` -> ``dir/...``, ``dir/.`` -> ``./...``."""
    directory, base = split_dir_entry(info.path)
    top = os.path.join(directory, base) if base != "." else directory
    name = info.rebase_name or base
    seen: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, top, name, seen)


def _add(tar: tarfile.TarFile, path: str, name: str, seen: dict) -> None:
    st = os.lstat(path)
    info = tarfile.TarInfo(name)
    info.mode = statmod.S_IMODE(st.st_mode)
    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, int(st.st_mtime)
    data = None
    if statmod.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        info.name = name.rstrip("/") + "/" if name != "/" else "/"
    elif statmod.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
    elif statmod.S_ISREG(st.st_mode):
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in seen:
            info.type, info.linkname = tarfile.LNKTYPE, seen[key]
        else:
            with open(path, "rb") as f:
                data = f.read()
            info.size = len(data)
            if st.st_nlink > 1:
                seen[key] = name
    else:
        return  # sockets, devices, FIFOs: not copied
    tar.addfile(info, io.BytesIO(data) if data is not None else None)
    if statmod.S_ISDIR(st.st_mode):
        for child in sorted(os.listdir(path)):
            _add(tar, os.path.join(path, child), posixpath.join(name, child), seen)


# -- renaming entries --------------------------------------------------------------------


def rebase_entries(archive: BinaryIO, old: str, new: str, out: BinaryIO) -> None:
    """RebaseArchiveEntries: the first ``old`` in each name becomes ``new``."""
    if old == "/":
        old = ""
    with (
        tarfile.open(fileobj=archive, mode="r|*") as src,
        tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as dst,
    ):
        for member in src:
            member.name = member.name.replace(old, new, 1)
            if member.islnk():
                member.linkname = member.linkname.replace(old, new, 1)
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)


def prepare_copy(src: CopyInfo, dst: CopyInfo) -> tuple[str, str | None]:
    """PrepareArchiveCopy: (the directory to extract into, the new first
    name of the entries or None to keep them)."""
    dst_dir, dst_base = split_dir_entry(dst.path)
    _, src_base = split_dir_entry(src.path)
    if dst.exists and dst.is_dir:
        return dst.path, None
    if dst.exists and src.is_dir:
        raise CopyError("cannot copy directory")
    if not dst.exists and not src.is_dir and asserts_directory(dst.path):
        raise CopyError("no such directory")
    return dst_dir, dst_base  # (renamed from rebase_name or src_base)


def source_base(src: CopyInfo) -> str:
    return src.rebase_name or split_dir_entry(src.path)[1]


# -- extracting here -----------------------------------------------------------------------


def destination_info(path: str) -> CopyInfo:
    """CopyInfoDestinationPath: a symlink at the destination is followed;
    a missing destination needs an existing parent directory."""
    original = path
    for _ in range(11):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            parent, _base_name = split_dir_entry(path)
            try:
                if not statmod.S_ISDIR(os.stat(parent).st_mode):
                    raise CopyError("not a directory")
            except FileNotFoundError:
                raise CopyError(f"stat {parent}: no such file or directory") from None
            return CopyInfo(path)
        if not statmod.S_ISLNK(st.st_mode):
            return CopyInfo(path, True, statmod.S_ISDIR(st.st_mode))
        target = os.readlink(path)
        path = target if target.startswith("/") else os.path.join(split_dir_entry(path)[0], target)
    raise CopyError(f"too many symlinks in {original}")


def untar_here(archive: BinaryIO, destination: str) -> None:
    """Untar with NoLchown and NoOverwriteDirNonDir, names kept inside
    ``destination``; times and modes as in the archive."""
    destination = os.path.abspath(destination)
    directories = []
    with tarfile.open(fileobj=archive, mode="r|*") as tar:
        for member in tar:
            name = _clean(member.name)
            path = os.path.normpath(os.path.join(destination, name.lstrip("/")))
            if not (path + "/").startswith(destination.rstrip("/") + "/"):
                raise CopyError(f"{member.name!r} is outside of {destination!r}")
            os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
            if os.path.lexists(path):
                is_dir = os.path.isdir(path) and not os.path.islink(path)
                if is_dir and not member.isdir():
                    raise CopyError(f'cannot overwrite directory "{path}" with non-directory "{destination}"')
                if not is_dir and member.isdir():
                    raise CopyError(f'cannot overwrite non-directory "{path}" with directory "{destination}"')
                if is_dir and name == ".":
                    continue
                if not is_dir:
                    os.unlink(path)
            if member.isdir():
                os.makedirs(path, 0o755, exist_ok=True)
                directories.append((path, member))
                os.chmod(path, member.mode & 0o7777)
                continue
            if member.issym():
                os.symlink(member.linkname, path)
                os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
                continue
            if member.islnk():
                target = os.path.normpath(os.path.join(destination, _clean(member.linkname).lstrip("/")))
                if not (target + "/").startswith(destination.rstrip("/") + "/"):
                    raise CopyError(f'invalid hardlink "{path}" -> "{member.linkname}"')
                os.link(target, path)
                continue
            if not member.isreg():
                continue
            stream = tar.extractfile(member)
            assert stream is not None  # a regular file has contents
            with open(path, "wb") as f:
                while chunk := stream.read(1 << 16):
                    f.write(chunk)
            os.chmod(path, member.mode & 0o7777)
            os.utime(path, (member.mtime, member.mtime))
    for path, member in reversed(directories):
        os.utime(path, (member.mtime, member.mtime))
