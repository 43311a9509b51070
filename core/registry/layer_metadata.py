"""What we know about layers in registries: compressed digests and where they are.

The local store keeps layers *uncompressed* (a layer's blob digest is its
``diff_id``); registries keep them *compressed*, under the digest of the
compressed bytes.  To skip a layer on push we must ask "do you have
<compressed digest>?" -- so we remember, per ``diff_id``:

* the digest our own deterministic gzip gives (:func:`compress_layer`), so a
  re-push need not even re-compress an unchanged 100 MB layer to learn it;
* the compressed digests we *pulled* it as, and from which repositories --
  candidates for a ``HEAD`` and for a cross-repository mount.

Docker keeps the same thing (``image/overlay2/distribution/``); it is only a
cache: wrong or missing entries cost time, never correctness, because the
registry verifies every digest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from dataclasses import dataclass

from stepbox.core.kernel.atomic import atomic_write

from .mediatypes import DOCKER_LAYER_GZIP

# gzip level 6 is the zlib default (docker's too); mtime=0 and no file name in
# the header make the output a function of the input alone, so pushing the
# same layer twice gives the same digest -- and the second push skips it.
GZIP_LEVEL = 6


def compress_layer(tar: bytes) -> bytes:
    return gzip.compress(tar, compresslevel=GZIP_LEVEL, mtime=0)


@dataclass(frozen=True)
class RemoteLayer:
    digest: str  # of the compressed bytes
    size: int
    media_type: str


class LayerMetadata:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict:
        try:
            with open(self.path) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {}

    def _update(self, change) -> None:
        with self._lock:
            data = self._read()
            change(data)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode(), durable=False)

    def own_compression(self, diff_id: str) -> RemoteLayer | None:
        entry = self._read().get(diff_id, {}).get("ours")
        return RemoteLayer(entry["digest"], entry["size"], DOCKER_LAYER_GZIP) if entry else None

    def remember_own(self, diff_id: str, layer: RemoteLayer) -> None:
        def change(data):
            data.setdefault(diff_id, {})["ours"] = {"digest": layer.digest, "size": layer.size}

        self._update(change)

    def candidates(self, diff_id: str, registry: str) -> list[tuple[RemoteLayer, list[str]]]:
        """Compressed forms of ``diff_id`` known for ``registry``, each with the
        repositories there that have it (for a mount)."""
        found = []
        for entry in self._read().get(diff_id, {}).get("remote", []):
            repos = [s.split("/", 1)[1] for s in entry.get("sources", []) if s.split("/", 1)[0] == registry]
            found.append((RemoteLayer(entry["digest"], entry["size"], entry["media_type"]), repos))
        return found

    def remember_remote(self, diff_id: str, layer: RemoteLayer, registry: str, repository: str) -> None:
        source = f"{registry}/{repository}"

        def change(data):
            remote = data.setdefault(diff_id, {}).setdefault("remote", [])
            for entry in remote:
                if entry["digest"] == layer.digest:
                    if source not in entry["sources"]:
                        entry["sources"].append(source)
                    return
            remote.append(
                {
                    "digest": layer.digest,
                    "size": layer.size,
                    "media_type": layer.media_type,
                    "sources": [source],
                }
            )

        self._update(change)


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def default_metadata_path(store_root: str) -> str:
    """Beside the image store (``<state>/images`` -> ``<state>/distribution``)."""
    return os.path.join(os.path.dirname(os.path.abspath(store_root)), "distribution", "layers.json")
