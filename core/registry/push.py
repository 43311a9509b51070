"""``stepbox push``: send only the blobs the registry does not have.

For each layer (in parallel) and then the config:

1. ``HEAD /v2/<name>/blobs/<digest>`` -- 200 means the registry has it: skip
   ("Layer already exists").  The digest is of the *compressed* layer, which
   is why compression must be deterministic (:mod:`.layer_metadata`).
2. If we pulled or pushed the layer from another repository of the same
   registry, ``POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>``:
   201 means the registry linked it -- zero bytes sent ("Mounted from …").
3. Otherwise upload: ``POST`` opens a session, one ``PATCH`` streams the bytes
   (chunked transfer encoding, as docker does), ``PUT ?digest=`` closes it and
   makes the registry verify the digest.

Last, ``PUT /v2/<name>/manifests/<tag>`` with a Docker schema 2 manifest.  The
registry refuses a manifest naming blobs it lacks, which is why it goes last.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from stepbox.core.image.reference import Reference
from stepbox.core.image.store import ImageStore

from .errors import RegistryClientError
from .layer_metadata import LayerMetadata, RemoteLayer, compress_layer
from .manifest import Descriptor, docker_manifest
from .mediatypes import DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST
from .transport import Transport, chunks_of

MAX_PARALLEL = 5  # docker's default max-concurrent-uploads
PATCH_PIECE = 1 << 20


@dataclass
class PushResult:
    manifest_digest: str
    uploaded: list[str] = field(default_factory=list)  # blob digests sent
    existing: list[str] = field(default_factory=list)  # blob digests the registry had
    mounted: list[str] = field(default_factory=list)  # blob digests mounted from another repository
    bytes_sent: int = 0


class _Pusher:
    def __init__(
        self, store: ImageStore, ref: Reference, transport: Transport, metadata: LayerMetadata, progress, say
    ):
        self.store, self.ref, self.t, self.metadata = store, ref, transport, metadata
        self.repo = ref.repository
        self.progress, self.say = progress, say

    def exists(self, digest: str) -> bool:
        response = self.t.request("HEAD", f"/v2/{self.repo}/blobs/{digest}")
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise RegistryClientError(f"HEAD blob {digest}: unexpected HTTP {response.status}")

    def mount(self, digest: str, source: str) -> str | None:
        """Try a cross-repository mount; the upload Location if it was refused."""
        response = self.t.request(
            "POST", f"/v2/{self.repo}/blobs/uploads/?mount={digest}&from={source}", ok=(201, 202)
        )
        return None if response.status == 201 else response.header("Location")

    def upload(self, data: bytes, digest: str, label: str, location: str | None = None) -> None:
        if location is None:
            location = self.t.request("POST", f"/v2/{self.repo}/blobs/uploads/", ok=(202,)).header("Location")
        if not location:
            raise RegistryClientError("the registry opened an upload without a Location header")
        task = self.progress.add(f"{label}: Pushing", len(data))
        response = self.t.request(
            "PATCH",
            location,
            headers={"Content-Type": "application/octet-stream"},
            body=chunks_of(data, PATCH_PIECE, lambda n: self.progress.advance(task, n)),
            ok=(202, 204),
        )
        location = response.header("Location") or location
        separator = "&" if "?" in location else "?"
        self.t.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            headers={"Content-Length": "0"},
            body=b"",
            ok=(201, 204),
        )
        self.progress.finish(task, f"{label}: Pushed")

    def push_layer(self, diff_id: str, result: PushResult) -> Descriptor:
        short = diff_id.removeprefix("sha256:")[:12]
        # 1. Known compressed forms: does the registry have one already?
        known = self.metadata.candidates(diff_id, self.ref.registry)
        ours = self.metadata.own_compression(diff_id)
        if ours is not None:
            known.insert(0, (ours, []))
        for layer, _repos in known:
            if self.exists(layer.digest):
                result.existing.append(layer.digest)
                self.say(f"{short}: Layer already exists")
                return Descriptor(layer.media_type, layer.digest, layer.size)
        # 2. Mount from a repository that has it.
        location = None
        for layer, repos in known:
            for source in repos:
                if source == self.repo:
                    continue
                location = self.mount(layer.digest, source)
                if location is None:
                    result.mounted.append(layer.digest)
                    self.metadata.remember_remote(diff_id, layer, self.ref.registry, self.repo)
                    self.say(f"{short}: Mounted from {source}")
                    return Descriptor(layer.media_type, layer.digest, layer.size)
        # 3. Compress (deterministically) and upload.
        data = compress_layer(self.store.get_blob(diff_id))
        layer = RemoteLayer("sha256:" + hashlib.sha256(data).hexdigest(), len(data), DOCKER_LAYER_GZIP)
        self.metadata.remember_own(diff_id, layer)
        if ours is None and self.exists(layer.digest):  # first push from here of a layer it has
            result.existing.append(layer.digest)
            self.say(f"{short}: Layer already exists")
        else:
            self.upload(data, layer.digest, short, location)
            result.uploaded.append(layer.digest)
            result.bytes_sent += len(data)
            if not self.progress.drawing:
                self.say(f"{short}: Pushed")
        self.metadata.remember_remote(diff_id, layer, self.ref.registry, self.repo)
        return Descriptor(layer.media_type, layer.digest, layer.size)


def push(
    store: ImageStore,
    ref: Reference,
    transport: Transport,
    metadata: LayerMetadata,
    progress=None,
    say=lambda line: None,
    source: str | None = None,
) -> PushResult:
    """Push the local image ``source`` (default: ``ref`` itself) to ``ref``."""
    from .progress import _Quiet

    pusher = _Pusher(store, ref, transport, metadata, progress or _Quiet(), say)
    image = store.resolve(source or str(ref))
    transport.request("GET", "/v2/", ok=(200,))  # version check; also drives the login flow
    result = PushResult(manifest_digest="")
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
        layers = list(pool.map(lambda d: pusher.push_layer(d, result), image.diff_ids))
    # The config: its digest is the image ID, the same bytes everywhere.
    config_bytes = store.get_blob(image.id)
    if pusher.exists(image.id):
        result.existing.append(image.id)
    else:
        pusher.upload(config_bytes, image.id, "config")
        result.uploaded.append(image.id)
        result.bytes_sent += len(config_bytes)
    manifest = docker_manifest(Descriptor(DOCKER_CONFIG, image.id, len(config_bytes)), layers)
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    response = transport.request(
        "PUT",
        f"/v2/{ref.repository}/manifests/{ref.tag or digest}",
        headers={"Content-Type": DOCKER_MANIFEST},
        body=manifest,
        ok=(201, 200, 202),
    )
    echoed = response.header("Docker-Content-Digest")
    if echoed and echoed != digest:
        raise RegistryClientError(f"the registry stored the manifest as {echoed}, we sent {digest}")
    result.manifest_digest = digest
    result.bytes_sent += len(manifest)
    say(f"{ref.tag or 'latest'}: digest: {digest} size: {len(manifest)}")
    return result
