"""Media types: how a registry and its clients say what a JSON document is.

Two families describe the same three things.  Docker's "schema 2" came first
and is what ``docker push`` sends; OCI's image spec standardised it with new
names.  A *manifest* lists one image's config and layers; an *index* (Docker:
*manifest list*) lists manifests, one per platform (linux/amd64, linux/arm64…).
"""

from __future__ import annotations

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

IMAGE_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEXES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
MANIFEST_TYPES = IMAGE_MANIFESTS + INDEXES

# Layers that may legally be absent from a registry ("non-distributable":
# Windows base layers fetched from their own URLs).
FOREIGN_LAYERS = (
    DOCKER_FOREIGN_LAYER,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
)

# What a pulling client says it understands, best first.
ACCEPT_MANIFESTS = ", ".join(MANIFEST_TYPES)

# The most a registry needs to buffer for one manifest (the spec suggests 4 MiB).
MANIFEST_MAX_BYTES = 4 * 1024 * 1024


def guess_manifest_type(document: dict, content_type: str | None) -> str | None:
    """A manifest's media type: the request's Content-Type if it names one,
    else the document's own ``mediaType``, else its shape (OCI made
    ``mediaType`` optional, so a bare ``{"manifests": [...]}`` is an index)."""
    if content_type:
        content_type = content_type.split(";", 1)[0].strip()
        if content_type in MANIFEST_TYPES:
            return content_type
    declared = document.get("mediaType")
    if declared in MANIFEST_TYPES:
        return declared
    if declared is None:
        if "manifests" in document:
            return OCI_INDEX
        if "config" in document:
            return OCI_MANIFEST
    return None
