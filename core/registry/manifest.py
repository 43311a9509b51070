"""Manifests on the client side: reading what a registry serves, writing what we push.

An image manifest (Docker schema 2 or OCI) is::

    {"schemaVersion": 2, "mediaType": "...manifest...",
     "config": {"mediaType": "...", "digest": "sha256:…", "size": 1469},
     "layers": [{"mediaType": "...tar.gzip", "digest": "sha256:…", "size": 2811478}, …]}

Each entry is a *descriptor*: media type, digest, size.  The layers' digests
are of the *compressed* bytes; the config's ``rootfs.diff_ids`` are of the
*uncompressed* tars -- a pull checks both.

Everything here comes from the network, so it is validated field by field and
any surprise is a :class:`VerificationFailed` that names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import VerificationFailed
from .mediatypes import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    FOREIGN_LAYERS,
    IMAGE_MANIFESTS,
    INDEXES,
    guess_manifest_type,
)
from .names import is_sha256_digest

DEFAULT_PLATFORM = ("linux", "amd64")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


def _descriptor(value, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise VerificationFailed(f"malformed manifest: {where} is not an object")
    digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType", "")
    if not isinstance(digest, str) or not is_sha256_digest(digest):
        raise VerificationFailed(f"malformed manifest: {where} has no valid sha256 digest ({digest!r})")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise VerificationFailed(f"malformed manifest: {where} has no valid size ({size!r})")
    if not isinstance(media, str):
        raise VerificationFailed(f"malformed manifest: {where} has a bad mediaType")
    return Descriptor(media, digest, size)


def parse_document(body: bytes, content_type: str | None) -> tuple[str, dict]:
    """A manifest or index: its media type and JSON."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise VerificationFailed(f"malformed manifest: not JSON ({e})") from None
    if not isinstance(document, dict):
        raise VerificationFailed("malformed manifest: not a JSON object")
    if document.get("schemaVersion") != 2:
        raise VerificationFailed(
            f"unsupported manifest schemaVersion {document.get('schemaVersion')!r} "
            "(only schema 2 / OCI manifests are supported)"
        )
    media_type = guess_manifest_type(document, content_type)
    if media_type is None:
        raise VerificationFailed(f"unsupported manifest media type {content_type!r}")
    return media_type, document


def parse_image_manifest(media_type: str, document: dict) -> ImageManifest:
    if media_type not in IMAGE_MANIFESTS:
        raise VerificationFailed(f"expected an image manifest, got {media_type}")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise VerificationFailed("malformed manifest: 'layers' is not a list")
    parsed = tuple(_descriptor(layer, f"layer {i + 1}") for i, layer in enumerate(layers))
    for layer in parsed:
        if layer.media_type in FOREIGN_LAYERS:
            raise VerificationFailed(
                f"layer {layer.digest} is a foreign (non-distributable) layer; stepbox cannot fetch those"
            )
    return ImageManifest(media_type, _descriptor(document.get("config"), "config"), parsed)


def choose_platform(document: dict, platform: tuple[str, str] = DEFAULT_PLATFORM) -> Descriptor:
    """The manifest for ``platform`` in an index (manifest list)."""
    entries = document.get("manifests")
    if not isinstance(entries, list):
        raise VerificationFailed("malformed index: 'manifests' is not a list")
    seen = []
    for i, entry in enumerate(entries):
        descriptor = _descriptor(entry, f"index entry {i + 1}")
        p = entry.get("platform") or {}
        seen.append(f"{p.get('os', '?')}/{p.get('architecture', '?')}")
        if (p.get("os"), p.get("architecture")) == platform and descriptor.media_type not in INDEXES:
            return descriptor
    raise VerificationFailed(
        f"the image has no {'/'.join(platform)} variant (it has: {', '.join(seen) or 'none'})"
    )


def docker_manifest(config: Descriptor, layers: list[Descriptor]) -> bytes:
    """A Docker schema 2 manifest, which every client (docker included) pulls.
    Serialised once; its digest is of exactly these bytes."""
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": Descriptor(DOCKER_CONFIG, config.digest, config.size).to_json(),
        "layers": [layer.to_json() for layer in layers],
    }
    return json.dumps(document, indent=3).encode()
