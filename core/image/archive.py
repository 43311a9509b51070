"""Moving images in and out as files: ``save``/``load``, ``import``/``export``.

``save`` writes what ``docker save`` writes since Docker 25: an OCI image
layout (``oci-layout``, ``index.json``, ``blobs/sha256/…``) that *also* has
Docker's ``manifest.json`` and ``repositories``, so both ``docker load`` and
OCI tools read it.  ``load`` reads that, the older Docker format
(``<id>/layer.tar``) and plain OCI archives (skopeo's ``oci-archive:``).

Nothing from an archive is trusted: every blob is checked against its digest,
every layer against the config's ``diff_ids`` and for escapes
(:mod:`.layer_tar`), before the index names the image -- so a bad archive
leaves the store as it was (stray blobs are collected by ``gc``).
"""

from __future__ import annotations

import gzip
import io
import json
import posixpath
import tarfile
from collections.abc import Sequence
from typing import IO, Any, BinaryIO, Protocol

from .layer_tar import read_layer
from .reference import parse_reference
from .store import MEDIA_MANIFEST, REF_ANNOTATION, BlobDigestMismatch, Image, ImageStore, sha256_digest

INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


class BadArchive(ValueError):
    """An image archive that is malformed or does not match its digests."""


# ------------------------------------------------------------------- save


class Readable(Protocol):
    """Where ``docker import`` reads its tarball from: a file, a request body."""

    def read(self, size: int = -1, /) -> bytes: ...


def save(store: ImageStore, images: list[tuple[Image, list[str]]], out: BinaryIO) -> None:
    """Write ``images`` (each with the names to save it under) as one tar."""
    blobs: dict[str, bytes] = {}
    docker_manifest: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    repositories: dict[str, dict[str | None, str]] = {}  # a digest reference has no tag
    for image, names in images:
        for digest in (image.manifest_digest, image.id, *image.layers):
            if digest not in blobs:
                blobs[digest] = store.get_blob(digest)
        repo_tags = []
        for name in names:
            ref = parse_reference(name)
            repo_tags.append(ref.familiar_str())
            repositories.setdefault(ref.familiar, {})[ref.tag] = image.id.removeprefix("sha256:")
            index.append(
                {
                    "mediaType": MEDIA_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": len(blobs[image.manifest_digest]),
                    "annotations": {"io.containerd.image.name": str(ref), REF_ANNOTATION: ref.tag},
                }
            )
        if not names:
            index.append(
                {
                    "mediaType": MEDIA_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": len(blobs[image.manifest_digest]),
                }
            )
        docker_manifest.append(
            {
                "Config": _blob_name(image.id),
                "RepoTags": repo_tags or None,
                "Layers": [_blob_name(d) for d in image.layers],
            }
        )
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(
            {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPES[0], "manifests": index}
        ).encode(),
        "manifest.json": json.dumps(docker_manifest).encode(),
        "repositories": json.dumps(repositories).encode(),
    }
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        _add_dir(archive, "blobs/")
        _add_dir(archive, "blobs/sha256/")
        for digest, data in sorted(blobs.items()):
            _add_file(archive, _blob_name(digest), data)
        for name, data in files.items():
            _add_file(archive, name, data)


def _blob_name(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


def _add_dir(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    archive.addfile(info)


def _add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


# ------------------------------------------------------------------- load


def _read_members(stream: IO[bytes]) -> dict[str, bytes]:
    """Every regular file of the archive by normalised name (never extracted
    to disk, so names like ``../x`` can do no harm -- they are just keys)."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r:*") as archive:
            for m in archive:
                if m.isreg():
                    contents = archive.extractfile(m)
                    assert contents is not None  # a regular file always has contents
                    members[posixpath.normpath(m.name).lstrip("/")] = contents.read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise BadArchive(f"not a valid image archive: {e}") from None
    return members


def _json(members: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(members[name])
    except KeyError:
        raise BadArchive(f"the archive has no {name}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadArchive(f"{name} in the archive is not valid JSON: {e}") from None


def _checked_blob(members: dict[str, bytes], name: str, digest: str | None = None) -> bytes:
    if name not in members:
        raise BadArchive(f"the archive lacks {name}")
    data = members[name]
    expected = digest or ("sha256:" + name.rsplit("/", 1)[-1] if name.startswith("blobs/sha256/") else None)
    if expected and sha256_digest(data) != expected:
        raise BlobDigestMismatch(
            f"{name}: content does not match its digest {expected} (it is {sha256_digest(data)})"
        )
    return data


def uncompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise BadArchive(f"a gzip layer is corrupt: {e}") from None
    if data[:4] == b"\x28\xb5\x2f\xfd":
        raise BadArchive("zstd-compressed layers are not supported")
    return data


def _checked_layers(raw_layers: list[bytes]) -> list[bytes]:
    tars = []
    for raw in raw_layers:
        tar = uncompress(raw)
        read_layer(io.BytesIO(tar))  # refuses escapes and device nodes, naming the entry
        tars.append(tar)
    return tars


def load(store: ImageStore, stream: IO[bytes]) -> list[str]:
    """Load every image in the archive; the names (or IDs) loaded."""
    members = _read_members(stream)
    if "manifest.json" in members:
        return _load_docker(store, members)
    if "index.json" in members:
        return _load_oci(store, members)
    raise BadArchive("not an image archive: it has neither manifest.json (docker save) nor index.json (OCI)")


def _load_docker(store: ImageStore, members: dict[str, bytes]) -> list[str]:
    manifest = _json(members, "manifest.json")
    if not isinstance(manifest, list):
        raise BadArchive("manifest.json must be a list of images")
    # Check everything first, store afterwards: a bad image loads nothing.
    checked = []
    for entry in manifest:
        try:
            config_name, layer_names = entry["Config"], entry["Layers"]
        except (TypeError, KeyError):
            raise BadArchive("manifest.json entry lacks Config or Layers") from None
        legacy_digest = None
        if config_name.endswith(".json") and "/" not in config_name:
            legacy_digest = "sha256:" + config_name[:-5]  # old format: <id>.json
        config = _checked_blob(members, config_name, legacy_digest)
        tars = _checked_layers([_checked_blob(members, name) for name in layer_names])
        checked.append((config, tars, entry.get("RepoTags") or []))
    loaded = []
    for config, tars, tags in checked:
        image = store.add_loaded_image(config, tars, tags[0] if tags else None)
        for tag in tags[1:]:
            store.tag(image, tag)
        loaded += [f"Loaded image: {tag}" for tag in tags] or [f"Loaded image ID: {image.id}"]
    return loaded


def _load_oci(store: ImageStore, members: dict[str, bytes]) -> list[str]:
    index = _json(members, "index.json")
    checked = []

    def visit(descriptor: dict, name: str | None) -> None:
        data = _checked_blob(members, _blob_name(descriptor["digest"]), descriptor["digest"])
        document = json.loads(data)
        media = descriptor.get("mediaType") or document.get("mediaType")
        annotations = descriptor.get("annotations", {})
        name = annotations.get("io.containerd.image.name") or name or annotations.get(REF_ANNOTATION)
        if media in INDEX_MEDIA_TYPES:
            for child in document.get("manifests", []):
                platform = child.get("platform", {})
                if (
                    platform.get("architecture", "amd64") in ("amd64",)
                    and platform.get("os", "linux") == "linux"
                ):
                    visit(child, name)
                    return
            raise BadArchive("the index has no linux/amd64 image")
        config = _checked_blob(
            members, _blob_name(document["config"]["digest"]), document["config"]["digest"]
        )
        raws = [
            _checked_blob(members, _blob_name(layer["digest"]), layer["digest"])
            for layer in document.get("layers", [])
        ]
        checked.append((config, _checked_layers(raws), name))

    try:
        for descriptor in index.get("manifests", []):
            visit(descriptor, None)
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as e:
        raise BadArchive(f"malformed OCI index or manifest: {e}") from None
    loaded = []
    for config, tars, name in checked:
        # A bare tag ("latest") names no repository: load such an image untagged.
        tag = name if name and (":" in name or "/" in name) else None
        image = store.add_loaded_image(config, tars, tag)
        loaded.append(
            f"Loaded image: {parse_reference(tag).familiar_str()}" if tag else f"Loaded image ID: {image.id}"
        )
    return loaded


# ---------------------------------------------------------- import / export


def import_rootfs(
    store: ImageStore, stream: Readable, tag: str | None, message: str = "", changes: Sequence[str] = ()
) -> Image:
    """``docker import``: a flat filesystem tar becomes a one-layer image."""
    from .commit import apply_change
    from .store import now_rfc3339

    try:
        raw = stream.read()
    except OSError as e:
        raise BadArchive(f"cannot read the tarball: {e}") from None
    [tar] = _checked_layers([raw])
    section: dict = {}
    for line in changes:
        apply_change(section, line)
    created = now_rfc3339()
    history = {
        "created": created,
        "created_by": "stepbox import",
        **({"comment": message} if message else {}),
    }
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": section,
        "history": [history],
    }
    return store.add_image([tar], config, tag=tag)


def export_rootfs(entries, out: BinaryIO) -> None:
    """``docker export``: a flattened filesystem (see :mod:`.flatten`) as a tar."""
    from .layer_tar import write_layer

    write_layer(entries, out)
