"""What the image interop tests do on each side: run a script in a container,
commit it, move images across, and read a filesystem as a comparable listing.

Docker's side goes through the ``docker`` CLI of the private dockerd
(:mod:`tests.support.dockerd`); stepbox's side through an in-process
:class:`~stepbox.core.container.runtime.Runtime` and the archive functions
``save``/``load`` -- the same code the daemon's ``/images/get`` and
``/images/load`` call.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import uuid

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.image.archive import load, save

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

# Every test here compares with a real dockerd, which needs root on Linux.
INTEROP = [
    pytest.mark.linux,
    pytest.mark.slow,
    pytest.mark.skipif(not IS_LINUX_ROOT, reason=f"compares with a real dockerd, which {LINUX_ONLY_REASON}"),
]

# What a container's init layer adds to `docker export` (never part of the
# image): Docker's, and the mount points both engines make.
INIT_PATHS = {
    ".dockerenv",
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
    "etc/mtab",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "dev/mqueue",
    "proc",
    "sys",
}


# ------------------------------------------------------------------ running


def docker_run(dockerd, image: str, script: str) -> tuple[int, str, str]:
    result = dockerd.docker("run", "--rm", "--network", "none", image, "sh", "-c", script, check=False)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


def stepbox_run(runtime, image: str, script: str) -> tuple[int, str, str]:
    record = runtime.run(ContainerConfig(image=image, cmd=("sh", "-c", script), network="none"))
    try:
        out, err = runtime.logs(record)
        return record.exit_code, out.decode(errors="replace"), err.decode(errors="replace")
    finally:
        runtime.remove(record, force=True)


def docker_commit(dockerd, image: str, script: str, ref: str, *commit_args: str) -> str:
    """Run ``script`` in a container of ``image``, commit it as ``ref``; the image ID."""
    name = "c-" + uuid.uuid4().hex[:12]
    try:
        status = dockerd.docker(
            "run", "--name", name, "--network", "none", image, "sh", "-c", script, check=False
        )
        assert status.returncode == 0, f"docker run failed: {status.stderr.decode()}"
        return dockerd.docker("commit", *commit_args, name, ref).stdout.decode().strip()
    finally:
        dockerd.docker("rm", "-f", name, check=False)


def stepbox_commit(runtime, image: str, script: str, ref: str, **commit_args) -> str:
    record = runtime.run(ContainerConfig(image=image, cmd=("sh", "-c", script), network="none"))
    try:
        out, err = runtime.logs(record)
        assert record.exit_code == 0, f"stepbox run failed ({record.exit_code}): {err.decode()}"
        return runtime.commit(record, ref, **commit_args).id
    finally:
        runtime.remove(record, force=True)


# ---------------------------------------------------------------- moving


def stepbox_save(runtime, *refs: str) -> bytes:
    buf = io.BytesIO()
    save(runtime.images, [(runtime.images.resolve(ref), [ref]) for ref in refs], buf)
    return buf.getvalue()


def stepbox_to_docker(runtime, dockerd, *refs: str) -> None:
    dockerd.load(stepbox_save(runtime, *refs))


def docker_to_stepbox(dockerd, runtime, *refs: str) -> list[str]:
    archive = dockerd.docker("save", *refs).stdout
    return load(runtime.images, io.BytesIO(archive))


# ------------------------------------------------------------ filesystems


def stepbox_export(runtime, image: str) -> tarfile.TarFile:
    """The image's filesystem as ``export`` of a created container gives it."""
    record = runtime.create(ContainerConfig(image=image, cmd=("true",), network="none"))
    try:
        buf = io.BytesIO()
        runtime.export(record, buf)
    finally:
        runtime.remove(record, force=True)
    buf.seek(0)
    return tarfile.open(fileobj=buf)


def contents(archive: tarfile.TarFile, member: str | tarfile.TarInfo) -> bytes:
    """A regular file's bytes from ``archive``."""
    f = archive.extractfile(member)
    assert f is not None, f"{member} is not a regular file"
    return f.read()


def listing(archive: tarfile.TarFile) -> dict[str, tuple]:
    """path -> (type, permission bits, uid, gid, symlink target, content
    digest, the other names of the same inode), without the init layer.
    A hardlink's content is its target's; hardlinks are compared as groups
    because which name a tar stores first is the writer's choice."""
    members = [(m.name.strip("/").removeprefix("./"), m) for m in archive]
    members = [(path, m) for path, m in members if path and not _init_path(path)]
    group: dict[str, str] = {}  # union-find of hardlinked names

    def root(path: str) -> str:
        while group.get(path, path) != path:
            path = group[path]
        return path

    for path, m in members:
        if m.islnk():
            group[root(path)] = root(m.linkname.strip("/").removeprefix("./"))
    digests = {
        path: hashlib.sha256(contents(archive, m)).hexdigest()[:16] for path, m in members if m.isreg()
    }
    names: dict[str, list[str]] = {}
    for path, m in members:
        if m.isreg() or m.islnk():
            names.setdefault(root(path), []).append(path)
    tree = {}
    for path, m in members:
        if m.isdir():
            kind = "dir"
        elif m.issym():
            kind = "symlink"
        elif m.isreg() or m.islnk():
            kind = "file"
        else:
            kind = f"special {m.type!r}"
        links = tuple(sorted(set(names.get(root(path), ())) - {path})) if kind == "file" else ()
        tree[path] = (
            kind,
            0 if m.issym() else m.mode & 0o7777,
            m.uid,
            m.gid,
            m.linkname if m.issym() else "",
            digests.get(root(path), "") if kind == "file" else "",
            links,
        )
    return tree


def _init_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in INIT_PATHS)


def describe_differences(expected: dict, actual: dict, left: str = "docker", right: str = "stepbox") -> str:
    lines = []
    for path in sorted(expected.keys() | actual.keys()):
        if expected.get(path) != actual.get(path):
            lines.append(f"  /{path}:\n    {left:8}{expected.get(path)}\n    {right:8}{actual.get(path)}")
    return "\n".join(lines[:40]) + (f"\n  ... and {len(lines) - 40} more" if len(lines) > 40 else "")


def layer_members(archive: bytes, ref: str) -> list[str]:
    """Names in the top layer of the image ``ref`` in a ``save`` archive
    (either format): shows how a deletion travels (``.wh.`` files)."""
    import json

    with tarfile.open(fileobj=io.BytesIO(archive)) as outer:
        manifest = json.loads(contents(outer, "manifest.json"))
        [entry] = [e for e in manifest if ref in (e.get("RepoTags") or [])]
        layer = contents(outer, entry["Layers"][-1])
    with tarfile.open(fileobj=io.BytesIO(layer)) as inner:
        return [m.name.strip("/").removeprefix("./") for m in inner]
