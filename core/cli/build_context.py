"""What ``stepbox build PATH`` sends: the build context as a tar.

As docker's CLI does for its classic builder: the directory PATH minus what
``.dockerignore`` excludes (the same selection the builder itself makes,
:func:`stepbox.core.dockerfile.context.load_context`), with the Dockerfile and
``.dockerignore`` always included.  A Dockerfile from outside the context
(``-f ../Dockerfile``) travels inside the tar under a name of its own.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile

from stepbox.core.dockerfile.context import ContextFile, load_context

SPOOL_IN_MEMORY = 64 << 20  # bytes; bigger contexts spill to a temporary file


def context_tar(context_dir: str, dockerfile: str | None) -> tuple[tempfile.SpooledTemporaryFile, str]:
    """The context as a tar, rewound, and the Dockerfile's name inside it."""
    context = load_context(context_dir)
    dockerfile_path = _dockerfile_path(context_dir, dockerfile)
    inside = os.path.relpath(os.path.abspath(dockerfile_path), context.root)
    extra: dict[str, bytes] = {}
    if inside.startswith(".." + os.sep) or inside == "..":
        if not os.path.isfile(dockerfile_path):
            inside = os.path.basename(dockerfile_path)  # the daemon says it cannot find it
        else:
            import secrets  # here: hmac and hashlib cost every other build's start-up milliseconds

            inside = f".dockerfile.{secrets.token_hex(10)}"  # docker's name for it
            extra[inside] = _read(dockerfile_path)
    for always in (inside, ".dockerignore"):  # sent even if .dockerignore excludes them
        if (
            always not in context.files
            and always not in extra
            and os.path.isfile(os.path.join(context.root, always))
        ):
            extra[always] = _read(os.path.join(context.root, always))
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    with tarfile.open(fileobj=spooled, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, entry in sorted(context.files.items()):
            _add(tar, path, entry)
        for name, data in extra.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    spooled.seek(0)
    return spooled, inside.replace(os.sep, "/")


def _dockerfile_path(context_dir: str, dockerfile: str | None) -> str:
    """``-f`` is a path from here; failing that, from the context (as the builder reads it)."""
    if dockerfile is None:
        return os.path.join(context_dir, "Dockerfile")
    if os.path.isabs(dockerfile) or os.path.exists(dockerfile):
        return dockerfile
    return os.path.join(context_dir, dockerfile)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _add(tar: tarfile.TarFile, path: str, entry: ContextFile) -> None:
    info = tarfile.TarInfo(path)
    info.mode, info.mtime, info.uid, info.gid = entry.mode, entry.mtime, entry.uid, entry.gid
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.link
        tar.addfile(info)
    else:
        info.size = entry.size
        with entry.contents.reader() as contents:  # piece by piece: a big file never whole in memory
            tar.addfile(info, contents)
