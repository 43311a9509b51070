"""Unpacking a build context that came as a tar (``POST /build``).

``docker build DIR`` sends DIR as a tar; the daemon unpacks it into a fresh
directory and builds from there (:func:`.context.load_context` reads it).  The
tar comes from a client, so it is hostile until checked -- with the checks a
layer gets (:mod:`stepbox.core.image.layer_tar`), not tarfile's extraction
filters (those need Python 3.11.4; Debian 12 has 3.11.2):

* names that climb out with ``..`` are refused; absolute names are taken
  relative to the context's root, as tar does;
* nothing is written *through* a symlink of the context (``evil -> /etc``,
  then ``evil/passwd``);
* a hardlink may only point at a regular file earlier in the context;
* device nodes, FIFOs and other special files are refused;
* sparse entries are refused (a header can claim any size: a 10 KiB tar
  "holding" gigabytes), and so is a context that unpacks to more than
  ``max_bytes`` (a gzip'ed context is small on the wire, maybe huge unpacked).

Symlinks are unpacked as they are, wherever they point, as Docker does: the
builder reads the context without following them.  Permission bits are kept
(``COPY`` copies them; setuid, setgid and sticky are dropped on the way), and
so are modification times; owners are not (the files are the daemon's, as
with Docker -- ``COPY`` makes them root's or ``--chown``'s anyway).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile

from stepbox.core.image.layer_tar import UnsafeLayer, normalise_path, refuse_through_symlink

WHAT = "build context"
_SPECIAL = {tarfile.CHRTYPE: "character device", tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "FIFO"}


class UnsafeContext(UnsafeLayer):
    """A build context tar that would write outside its directory, or holds what a context may not."""


def extract_context(archive: tarfile.TarFile, into: str, max_bytes: int | None = None) -> None:
    """Unpack ``archive`` into the (empty) directory ``into``; at most
    ``max_bytes`` of file contents, if given."""
    left = max_bytes
    symlinks: set[str] = set()  # the context's own symlinks: nothing goes through them
    files: set[str] = set()  # regular files so far: what a hardlink may point at
    directories: list[tuple[str, tarfile.TarInfo]] = []
    root = os.path.realpath(into)
    for member in archive:
        try:
            path = normalise_path(member.name, WHAT)
            refuse_through_symlink(member.name, posixpath.dirname(path), symlinks, WHAT)
        except UnsafeLayer as e:
            raise UnsafeContext(str(e)) from None
        if member.issparse():
            raise UnsafeContext(f"{WHAT} entry {member.name!r} is a sparse file; refused")
        if left is not None and member.isreg():
            left -= member.size
            if left < 0:
                raise UnsafeContext(
                    f"the {WHAT} unpacks to more than {max_bytes} bytes (STEPBOX_MAX_UPLOAD_BYTES)"
                )
        if not path:
            continue  # "./": the root is the directory we were given
        target = os.path.join(into, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)  # a parent with no entry of its own
        if not _inside(
            os.path.realpath(os.path.dirname(target)), root
        ):  # the checks above make sure; so does this
            raise UnsafeContext(f"{WHAT} entry {member.name!r} would land outside the context")
        if not member.isdir():
            _clear(target)
        symlinks.discard(path)
        files.discard(path)
        if member.isdir():
            if os.path.islink(target) or (os.path.lexists(target) and not os.path.isdir(target)):
                _clear(target)  # a directory where a symlink was must not become the symlink's target
            os.makedirs(target, exist_ok=True)
            directories.append((target, member))  # their modes last: a read-only one must still fill
        elif member.isreg():
            source = archive.extractfile(member)
            assert source is not None  # a regular file always has contents to read
            with open(target, "xb") as out:
                shutil.copyfileobj(source, out)
            _set_attributes(target, member)
            files.add(path)
        elif member.issym():
            os.symlink(member.linkname, target)
            os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
            symlinks.add(path)
        elif member.islnk():
            try:
                linked = normalise_path(member.linkname, WHAT)
            except UnsafeLayer as e:
                raise UnsafeContext(str(e)) from None
            if linked not in files:
                raise UnsafeContext(
                    f"{WHAT} entry {member.name!r} is a hardlink to {member.linkname!r}, "
                    "which is not a regular file earlier in the same context"
                )
            os.link(os.path.join(into, linked), target)
            files.add(path)
        else:
            kind = _SPECIAL.get(member.type, f"special file (type {member.type!r})")
            raise UnsafeContext(f"{WHAT} entry {member.name!r} is a {kind}; a build context may not hold one")
    for target, member in reversed(directories):
        _set_attributes(target, member)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _clear(path: str) -> None:
    """Make room for a later entry of the same name (the last one wins, as with tar)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _set_attributes(path: str, member: tarfile.TarInfo) -> None:
    os.chmod(path, member.mode & 0o777)
    os.utime(path, (member.mtime, member.mtime))
