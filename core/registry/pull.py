"""``stepbox pull``: manifest, config, then only the layers we do not have.

1. ``GET /v2/<name>/manifests/<tag>`` with an ``Accept`` listing every manifest
   type we read.  An *index* (manifest list) is resolved to its linux/amd64
   manifest, fetched by digest.  A manifest fetched by digest must hash to it.
2. ``GET`` the config blob; verify its digest.  Its ``rootfs.diff_ids`` name
   the uncompressed layers.
3. Layers whose ``diff_id`` the local store already has are skipped ("Already
   exists") -- the seed's "only what changed moves", on the way down.
4. The rest are downloaded in parallel, each checked three times: the
   compressed bytes against the manifest's digest and size, the gunzipped tar
   against the config's ``diff_id``, and the tar's entries for escapes
   (:func:`~stepbox.core.image.layer_tar.check_layer`).  Each goes to a
   scratch file as it arrives, hashed on the way, and is gunzipped file to
   file (:mod:`stepbox.core.image.incoming`): memory stays flat however big
   the layers are.
5. Only when *everything* checked out is anything stored
   (:meth:`ImageStore.add_loaded_image`), so a lying registry leaves the
   store exactly as it was -- the layers become blobs by a rename, pinned
   against an image prune until the index names them.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from stepbox.core.image.incoming import MAX_DOCUMENT_BYTES, CorruptInput, Incoming, Spooled, TooLarge
from stepbox.core.image.layer_tar import UnsafeLayer, check_layer
from stepbox.core.image.reference import Reference
from stepbox.core.image.store import Image, ImageStore

from .errors import VerificationFailed
from .layer_metadata import LayerMetadata, RemoteLayer
from .manifest import Descriptor, choose_platform, parse_document, parse_image_manifest
from .mediatypes import ACCEPT_MANIFESTS, INDEXES, OCI_LAYER_ZSTD
from .names import is_sha256_digest
from .transport import Transport, read_stream

MAX_PARALLEL = 3  # docker's default max-concurrent-downloads


@dataclass
class PullResult:
    image: Image
    manifest_digest: str
    downloaded: list[str] = field(default_factory=list)  # compressed layer digests fetched
    existing: list[str] = field(default_factory=list)  # diff_ids already in the store
    bytes_received: int = 0


def fetch_manifest(transport: Transport, repository: str, reference: str) -> tuple[bytes, str, str]:
    """(body, media type, digest) of a manifest; verified if ``reference`` is a digest."""
    response = transport.request(
        "GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT_MANIFESTS}, ok=(200,)
    )
    body = response.body
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if reference.startswith("sha256:") and digest != reference:
        raise VerificationFailed(
            f"manifest {reference} from {transport.registry}/{repository} "
            f"does not match its digest (its content is {digest})"
        )
    return body, response.header("Content-Type", ""), digest


def fetch_blob(transport: Transport, repository: str, descriptor: Descriptor) -> bytes:
    """A small blob (an image config) in memory, verified against its
    descriptor's digest and size (at most MAX_DOCUMENT_BYTES)."""
    if descriptor.size > MAX_DOCUMENT_BYTES:
        raise VerificationFailed(
            f"blob {descriptor.digest} claims {descriptor.size} bytes: more than an image config may hold"
        )
    parts: list[bytes] = []
    _fetch(transport, repository, descriptor, parts.append)
    return b"".join(parts)


def fetch_blob_to_file(
    transport: Transport, repository: str, descriptor: Descriptor, incoming: Incoming, on_bytes=lambda n: None
) -> Spooled:
    """A blob into a scratch file as it arrives, verified like fetch_blob."""
    out, path = incoming.new_file()
    with out:
        digest, size = _fetch(
            transport, repository, descriptor, lambda piece: (out.write(piece), on_bytes(len(piece)))
        )
    return Spooled(path, digest, size)


def _fetch(transport: Transport, repository: str, descriptor: Descriptor, sink) -> tuple[str, int]:
    response = transport.request("GET", f"/v2/{repository}/blobs/{descriptor.digest}", stream=True, ok=(200,))
    hasher = hashlib.sha256()
    received = 0

    def take(piece: bytes) -> None:
        nonlocal received
        received += len(piece)
        if received > descriptor.size:
            raise VerificationFailed(
                f"blob {descriptor.digest} is larger than the {descriptor.size} bytes its manifest says"
            )
        hasher.update(piece)
        sink(piece)

    read_stream(response, take)
    if received != descriptor.size:
        raise VerificationFailed(
            f"blob {descriptor.digest} is truncated: got {received} of {descriptor.size} bytes"
        )
    actual = "sha256:" + hasher.hexdigest()
    if actual != descriptor.digest:
        raise VerificationFailed(
            f"blob {descriptor.digest} from {transport.registry}/{repository} "
            f"does not match its digest (its content is {actual})"
        )
    return actual, received


def _checked_layer(incoming: Incoming, compressed: Spooled, descriptor: Descriptor, diff_id: str) -> Spooled:
    if descriptor.media_type == OCI_LAYER_ZSTD:
        raise VerificationFailed(
            f"layer {descriptor.digest} is zstd-compressed, which stepbox does not support"
        )
    try:
        tar = incoming.uncompressed(compressed, f"layer {descriptor.digest}")
    except (CorruptInput, TooLarge) as e:
        raise VerificationFailed(f"layer {descriptor.digest}: {e}") from None
    if tar.digest != diff_id:
        raise VerificationFailed(
            f"layer {descriptor.digest} uncompresses to {tar.digest}, but the image "
            f"config says its diff_id is {diff_id}"
        )
    try:
        with open(tar.path, "rb") as f:
            check_layer(f)
    except UnsafeLayer as e:
        raise VerificationFailed(f"layer {descriptor.digest} is unsafe: {e}") from None
    return tar


def pull(
    store: ImageStore,
    ref: Reference,
    transport: Transport,
    metadata: LayerMetadata | None = None,
    progress=None,
    say=lambda line: None,
) -> PullResult:
    from .progress import _Quiet

    progress = progress or _Quiet()
    repository = ref.repository
    reference = ref.digest or ref.tag
    assert reference is not None  # parse_reference gives a tag when there is no digest
    body, content_type, digest = fetch_manifest(transport, repository, reference)
    media_type, document = parse_document(body, content_type)
    if media_type in INDEXES:
        chosen = choose_platform(document)
        body, content_type, digest = fetch_manifest(transport, repository, chosen.digest)
        media_type, document = parse_document(body, content_type)
    manifest = parse_image_manifest(media_type, document)

    config_bytes = fetch_blob(transport, repository, manifest.config)
    try:
        config = json.loads(config_bytes)
        diff_ids = config["rootfs"]["diff_ids"]
        if not isinstance(diff_ids, list) or not all(
            isinstance(d, str) and is_sha256_digest(d) for d in diff_ids
        ):
            raise TypeError("rootfs.diff_ids is not a list of sha256 digests")
    except (ValueError, KeyError, TypeError) as e:
        raise VerificationFailed(f"malformed image config {manifest.config.digest}: {e}") from None
    if len(diff_ids) != len(manifest.layers):
        raise VerificationFailed(
            f"the manifest lists {len(manifest.layers)} layers but the image config "
            f"names {len(diff_ids)} diff_ids"
        )

    # From here until the index names the image, its layers are pinned: an
    # image prune meanwhile keeps them (those already here and those arriving).
    with store.pinned(diff_ids):
        result = PullResult(image=None, manifest_digest=digest)  # type: ignore[arg-type]
        wanted = [
            (i, layer, diff_id)
            for i, (layer, diff_id) in enumerate(zip(manifest.layers, diff_ids, strict=True))
            if not store.has_blob(diff_id)
        ]
        result.existing = [d for d in diff_ids if store.has_blob(d)]
        for d in result.existing:
            say(f"{d.removeprefix('sha256:')[:12]}: Already exists")

        with Incoming(store.root) as incoming:

            def download(item):
                i, layer, diff_id = item
                task = progress.add(f"{layer.digest.removeprefix('sha256:')[:12]}: Downloading", layer.size)
                compressed = fetch_blob_to_file(
                    transport, repository, layer, incoming, lambda n: progress.advance(task, n)
                )
                tar = _checked_layer(incoming, compressed, layer, diff_id)
                progress.finish(task, f"{layer.digest.removeprefix('sha256:')[:12]}: Pull complete")
                return i, layer, tar

            # list() inside the with: the first failure propagates, and the pool
            # still waits for the other downloads (their results are thrown away).
            with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
                done = list(pool.map(download, wanted))
            tag = f"{ref.name}:{ref.tag}" if ref.tag and not ref.digest else None
            for _i, layer, tar in done:
                store.adopt_blob(tar.path, tar.digest)
                result.downloaded.append(layer.digest)
                result.bytes_received += layer.size
                if not progress.drawing:
                    say(f"{layer.digest.removeprefix('sha256:')[:12]}: Pull complete")
            result.image = store.add_loaded_image(config_bytes, list(diff_ids), tag)
    if metadata is not None:
        for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
            metadata.remember_remote(
                diff_id, RemoteLayer(layer.digest, layer.size, layer.media_type), ref.registry, repository
            )
    return result
