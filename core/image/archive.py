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

An archive is read as a stream: each member goes to a scratch file as it
arrives, hashed on the way, and a checked layer becomes a blob by a rename
(:mod:`.incoming`, which also says the size limits).  Memory stays flat
whatever the archive's size.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
import zlib
from collections.abc import Sequence
from typing import IO, Any, Protocol, cast

from .incoming import (
    MAX_DOCUMENT_BYTES,
    CorruptInput,
    Incoming,
    Readable,
    Spooled,
    TooLarge,
    max_upload_bytes,
)
from .layer_tar import UnsafeLayer, check_layer
from .reference import parse_reference
from .store import MEDIA_MANIFEST, REF_ANNOTATION, BlobDigestMismatch, Image, ImageStore

INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


class BadArchive(ValueError):
    """An image archive that is malformed or does not match its digests."""


# ------------------------------------------------------------------- save


class Writable(Protocol):
    """Where ``save`` writes its tar: a file, or a streamed response's pipe."""

    def write(self, data: bytes, /) -> int: ...


def save(store: ImageStore, images: list[tuple[Image, list[str]]], out: Writable) -> None:
    """Write ``images`` (each with the names to save it under) as one tar,
    to ``out`` as it is made (a stream: nothing is sought back to), each
    blob copied from its file in pieces."""
    blobs: dict[str, str] = {}  # digest -> path
    docker_manifest: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    repositories: dict[str, dict[str | None, str]] = {}  # a digest reference has no tag
    for image, names in images:
        for digest in (image.manifest_digest, image.id, *image.layers):
            blobs.setdefault(digest, store.blob_path(digest))
        manifest_size = os.path.getsize(blobs[image.manifest_digest])
        repo_tags = []
        for name in names:
            ref = parse_reference(name)
            repo_tags.append(ref.familiar_str())
            repositories.setdefault(ref.familiar, {})[ref.tag] = image.id.removeprefix("sha256:")
            index.append(
                {
                    "mediaType": MEDIA_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": manifest_size,
                    "annotations": {"io.containerd.image.name": str(ref), REF_ANNOTATION: ref.tag},
                }
            )
        if not names:
            index.append(
                {"mediaType": MEDIA_MANIFEST, "digest": image.manifest_digest, "size": manifest_size}
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
    # A stream mode ("w|") only ever writes; typeshed asks for a whole file.
    with tarfile.open(fileobj=cast(IO[bytes], out), mode="w|", format=tarfile.PAX_FORMAT) as archive:
        _add_dir(archive, "blobs/")
        _add_dir(archive, "blobs/sha256/")
        for digest, path in sorted(blobs.items()):
            info = tarfile.TarInfo(_blob_name(digest))
            info.mode = 0o644
            with open(path, "rb") as f:
                info.size = os.fstat(f.fileno()).st_size
                archive.addfile(info, f)
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


class _Members:
    """Every regular file of the archive, by normalised name, as a scratch
    file (never extracted under its own name, so ``../x`` can do no harm:
    it is just a key)."""

    def __init__(self, stream: Readable, incoming: Incoming):
        self.incoming = incoming
        self.files: dict[str, Spooled] = {}
        budget = max_upload_bytes()
        try:
            # A stream mode ("r|*") only ever reads; typeshed asks for a whole file.
            with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|*") as archive:
                for m in archive:
                    if m.issparse():
                        raise BadArchive(f"the archive member {m.name!r} is a sparse file: refused")
                    if not m.isreg():
                        continue
                    name = posixpath.normpath(m.name).lstrip("/")
                    member = archive.extractfile(m)
                    if member is None:  # only for links and special files, not for a regular one
                        continue
                    spooled = incoming.save(member, budget, "the archive")
                    budget -= spooled.size
                    self.files[name] = spooled
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise BadArchive(f"not a valid image archive: {e}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.files

    def json(self, name: str) -> object:
        if name not in self.files:
            raise BadArchive(f"the archive has no {name}")
        try:
            return json.loads(self.document(self.files[name], name))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadArchive(f"{name} in the archive is not valid JSON: {e}") from None

    @staticmethod
    def document(spooled: Spooled, name: str) -> bytes:
        if spooled.size > MAX_DOCUMENT_BYTES:
            raise TooLarge(f"{name} is larger than the limit of {MAX_DOCUMENT_BYTES} bytes for a document")
        with open(spooled.path, "rb") as f:
            return f.read()

    def blob(self, name: str, digest: str | None = None) -> Spooled:
        if not isinstance(name, str) or name not in self.files:
            raise BadArchive(f"the archive lacks {name}")
        spooled = self.files[name]
        expected = digest or (
            "sha256:" + name.rsplit("/", 1)[-1] if name.startswith("blobs/sha256/") else None
        )
        if expected and spooled.digest != expected:
            raise BlobDigestMismatch(
                f"{name}: content does not match its digest {expected} (it is {spooled.digest})"
            )
        return spooled

    def layer(self, name: str, digest: str | None = None) -> Spooled:
        """A layer: uncompressed (to a new scratch file if it was gzip) and
        checked for escapes, sparse entries and size, its bytes never all in
        memory."""
        return checked_layer(self.incoming, self.blob(name, digest), f"layer {name}")


def checked_layer(incoming: Incoming, spooled: Spooled, what: str) -> Spooled:
    tar = incoming.uncompressed(spooled, what)
    with open(tar.path, "rb") as f:
        check_layer(f)  # refuses escapes and device nodes, naming the entry
    return tar


def load(store: ImageStore, stream: Readable) -> list[str]:
    """Load every image in the archive; the names (or IDs) loaded."""
    with Incoming(store.root) as incoming:
        members = _Members(stream, incoming)
        if "manifest.json" in members:
            checked = _check_docker(members)
        elif "index.json" in members:
            checked = _check_oci(members)
        else:
            raise BadArchive(
                "not an image archive: it has neither manifest.json (docker save) nor index.json (OCI)"
            )
        # Everything was checked: now store.  The layers' blobs are pinned
        # until the index names them (a prune meanwhile must not take them).
        loaded = []
        digests = [layer.digest for _, layers, _ in checked for layer in layers]
        with store.pinned(digests):
            for config, layers, tags in checked:
                for layer in layers:
                    store.adopt_blob(layer.path, layer.digest)
                image = store.add_loaded_image(
                    config, [layer.digest for layer in layers], tags[0] if tags else None
                )
                for tag in tags[1:]:
                    store.tag(image, tag)
                loaded += [f"Loaded image: {tag}" for tag in tags] or [f"Loaded image ID: {image.id}"]
        return loaded


def _check_docker(members: _Members) -> list[tuple[bytes, list[Spooled], list[str]]]:
    manifest = members.json("manifest.json")
    if not isinstance(manifest, list):
        raise BadArchive("manifest.json must be a list of images")
    checked = []
    for entry in manifest:
        if not isinstance(entry, dict) or "Config" not in entry or "Layers" not in entry:
            raise BadArchive("manifest.json entry lacks Config or Layers")
        config_name, layer_names, tags = entry["Config"], entry["Layers"], entry.get("RepoTags") or []
        if not isinstance(config_name, str):
            raise BadArchive("manifest.json: Config must be the name of a file in the archive")
        if not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
            raise BadArchive("manifest.json: Layers must be a list of file names in the archive")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadArchive("manifest.json: RepoTags must be a list of image names")
        for tag in tags:
            parse_reference(tag)  # a bad name refuses the whole archive, before anything is stored
        legacy_digest = None
        if config_name.endswith(".json") and "/" not in config_name:
            legacy_digest = "sha256:" + config_name[:-5]  # old format: <id>.json
        config = members.document(members.blob(config_name, legacy_digest), config_name)
        checked.append((config, [members.layer(name) for name in layer_names], tags))
    return checked


def _check_oci(members: _Members) -> list[tuple[bytes, list[Spooled], list[str]]]:
    index = members.json("index.json")
    if not isinstance(index, dict):
        raise BadArchive("index.json must be a JSON object")
    checked = []

    def visit(descriptor: dict, name: str | None) -> None:
        digest = descriptor["digest"]
        if not isinstance(digest, str):
            raise TypeError("a descriptor's digest must be a string")
        document = json.loads(members.document(members.blob(_blob_name(digest), digest), digest))
        media = descriptor.get("mediaType") or document.get("mediaType")
        annotations = descriptor.get("annotations") or {}
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
        config_digest = document["config"]["digest"]
        config = members.document(members.blob(_blob_name(config_digest), config_digest), config_digest)
        layers = [
            members.layer(_blob_name(layer["digest"]), layer["digest"])
            for layer in document.get("layers", [])
        ]
        # A bare tag ("latest") names no repository: load such an image untagged.
        tag = name if isinstance(name, str) and (":" in name or "/" in name) else None
        if tag:
            parse_reference(tag)
        checked.append((config, layers, [tag] if tag else []))

    try:
        for descriptor in index.get("manifests", []):
            visit(descriptor, None)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        if isinstance(e, (BadArchive, BlobDigestMismatch, TooLarge, CorruptInput, UnsafeLayer)):
            raise
        raise BadArchive(f"malformed OCI index or manifest: {e}") from None
    return checked


# ---------------------------------------------------------- import / export


def import_rootfs(
    store: ImageStore, stream: Readable, tag: str | None, message: str = "", changes: Sequence[str] = ()
) -> Image:
    """``docker import``: a flat filesystem tar becomes a one-layer image."""
    from .commit import apply_change
    from .store import now_rfc3339

    section: dict = {}
    for line in changes:
        apply_change(section, line)
    if tag:
        parse_reference(tag)
    with Incoming(store.root) as incoming:
        try:
            raw = incoming.save(stream, max_upload_bytes(), "the tarball")
        except OSError as e:
            raise BadArchive(f"cannot read the tarball: {e}") from None
        tar = checked_layer(incoming, raw, "the tarball")
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
        with store.pinned([tar.digest]):
            store.adopt_blob(tar.path, tar.digest)
            return store.add_image([tar.digest], config, tag=tag)


def export_rootfs(entries, out: Writable) -> None:
    """``docker export``: a flattened filesystem (see :mod:`.flatten`) as a tar."""
    from .layer_tar import write_layer

    write_layer(entries, out)
