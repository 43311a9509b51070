"""The registry's disk: blobs stored once, repositories made of link files.

Layout under ``--root``::

    blobs/sha256/<hex>                    every blob's bytes, once, named by digest
    repositories/<name>/_layers/<hex>     "this repository may serve blob <hex>"
    repositories/<name>/_manifests/<hex>  a manifest revision; the file holds its media type
    repositories/<name>/_tags/<tag>       the file holds the manifest digest the tag points to
    uploads/<uuid>/                       uploads in progress (see :mod:`.uploads`)

This is the CNCF registry's design, simplified: a 100 MB base layer used by
fifty repositories is stored once, and each repository only gets a small
*link*.  Linking matters for security too: a client may read a blob through
``/v2/<name>/blobs/<digest>`` only if ``<name>`` links it -- knowing a digest
pushed to someone else's repository is not enough.  (Cross-repository *mount*
is the explicit way to link a blob you can already read elsewhere.)

Repository names were validated (:mod:`.names`) before they reach here; names
start with ``[a-z0-9]``, so they can never collide with ``_layers`` & co.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass

from stepbox.core.kernel.atomic import atomic_write, sweep_temporaries

from .errors import RegistryError
from .mediatypes import FOREIGN_LAYERS, IMAGE_MANIFESTS, INDEXES, MANIFEST_MAX_BYTES, guess_manifest_type
from .names import is_digest, is_sha256_digest, is_valid_tag


@dataclass(frozen=True)
class StoredManifest:
    body: bytes
    media_type: str
    digest: str


def _hex(digest: str) -> str:
    if not is_sha256_digest(digest):
        raise RegistryError(
            "DIGEST_INVALID", f"unsupported or malformed digest {digest!r}", detail={"digest": digest}
        )
    return digest.split(":", 1)[1]


class RegistryStorage:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        for sub in ("blobs/sha256", "repositories", "uploads"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        sweep_temporaries(os.path.join(self.root, "blobs"))
        # Tag and link writes are atomic renames; this lock only orders
        # read-modify-write sequences such as "delete a manifest and its tags".
        self._lock = threading.Lock()

    # -- paths --------------------------------------------------------------
    def blob_path(self, digest: str) -> str:
        return os.path.join(self.root, "blobs", "sha256", _hex(digest))

    def _repo(self, name: str, *parts: str) -> str:
        return os.path.join(self.root, "repositories", *name.split("/"), *parts)

    @property
    def uploads_dir(self) -> str:
        return os.path.join(self.root, "uploads")

    # -- blobs --------------------------------------------------------------
    def has_blob(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def is_linked(self, name: str, digest: str) -> bool:
        return os.path.exists(self._repo(name, "_layers", _hex(digest))) and self.has_blob(digest)

    def link_blob(self, name: str, digest: str) -> None:
        path = self._repo(name, "_layers", _hex(digest))
        if not os.path.exists(path):
            atomic_write(path, b"", durable=False)

    def unlink_blob(self, name: str, digest: str) -> bool:
        try:
            os.unlink(self._repo(name, "_layers", _hex(digest)))
            return True
        except FileNotFoundError:
            return False

    def blob_size(self, name: str, digest: str) -> int:
        """Size of a blob this repository links, else BLOB_UNKNOWN."""
        if not self.is_linked(name, digest):
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})
        return os.path.getsize(self.blob_path(digest))

    def commit_blob(self, name: str, temp_path: str, expected: str) -> str:
        """Move a fully received, already *verified* temp file into place.

        The caller hashed every byte as it arrived and compared the result with
        ``expected`` before calling; here the file is renamed (atomic on one
        filesystem) unless an identical blob is there already."""
        target = self.blob_path(expected)
        if os.path.exists(target):
            os.unlink(temp_path)
        else:
            os.replace(temp_path, target)
        self.link_blob(name, expected)
        return expected

    def put_small_blob(self, name: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self.has_blob(digest):
            atomic_write(self.blob_path(digest), data)
        self.link_blob(name, digest)
        return digest

    # -- manifests ----------------------------------------------------------
    def put_manifest(self, name: str, reference: str, body: bytes, content_type: str | None) -> str:
        if len(body) > MANIFEST_MAX_BYTES:
            raise RegistryError(
                "MANIFEST_INVALID", f"manifest larger than {MANIFEST_MAX_BYTES} bytes", status=413
            )
        media_type, document = self._check_manifest(name, body, content_type)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if is_digest(reference) and reference != digest:
            raise RegistryError(
                "DIGEST_INVALID",
                f"manifest digest is {digest}, not {reference}",
                detail={"digest": reference},
            )
        if not is_digest(reference) and not is_valid_tag(reference):
            raise RegistryError("MANIFEST_INVALID", f"invalid tag {reference!r}")
        with self._lock:
            if not self.has_blob(digest):
                atomic_write(self.blob_path(digest), body)
            atomic_write(self._repo(name, "_manifests", _hex(digest)), media_type.encode(), durable=False)
            if not is_digest(reference):
                atomic_write(self._repo(name, "_tags", reference), digest.encode())
        return digest

    def _check_manifest(self, name: str, body: bytes, content_type: str | None) -> tuple[str, dict]:
        """Parse a manifest and check that what it refers to is in this repository,
        so a tag can never point at an image that cannot be pulled."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise RegistryError("MANIFEST_INVALID", f"manifest is not JSON: {e}") from None
        if not isinstance(document, dict) or document.get("schemaVersion") != 2:
            raise RegistryError("MANIFEST_INVALID", "only schemaVersion 2 manifests are accepted")
        media_type = guess_manifest_type(document, content_type)
        if media_type is None:
            raise RegistryError(
                "MANIFEST_INVALID",
                f"unknown manifest media type {content_type or document.get('mediaType')!r}",
            )
        try:
            if media_type in IMAGE_MANIFESTS:
                for descriptor in [document["config"], *document.get("layers", [])]:
                    if descriptor.get("mediaType") in FOREIGN_LAYERS:
                        continue
                    if not self.is_linked(name, descriptor["digest"]):
                        raise RegistryError("MANIFEST_BLOB_UNKNOWN", detail={"digest": descriptor["digest"]})
            elif media_type in INDEXES:
                for descriptor in document["manifests"]:
                    if not os.path.exists(self._repo(name, "_manifests", _hex(descriptor["digest"]))):
                        raise RegistryError(
                            "MANIFEST_BLOB_UNKNOWN",
                            "index names a manifest unknown to this repository",
                            detail={"digest": descriptor["digest"]},
                        )
        except (KeyError, TypeError, AttributeError) as e:
            raise RegistryError("MANIFEST_INVALID", f"malformed manifest: missing or bad {e}") from None
        return media_type, document

    def resolve(self, name: str, reference: str) -> str:
        """A tag or digest -> the manifest digest, or MANIFEST_UNKNOWN."""
        if is_digest(reference):
            if os.path.exists(self._repo(name, "_manifests", _hex(reference))):
                return reference
        elif is_valid_tag(reference):
            try:
                with open(self._repo(name, "_tags", reference), "rb") as f:
                    return f.read().decode()
            except FileNotFoundError:
                pass
        else:
            raise RegistryError(
                "MANIFEST_INVALID", f"{reference!r} is neither a tag nor a digest", status=400
            )
        if not self.repository_exists(name):
            raise RegistryError("NAME_UNKNOWN", detail={"name": name})
        raise RegistryError("MANIFEST_UNKNOWN", detail={"name": name, "reference": reference})

    def get_manifest(self, name: str, reference: str) -> StoredManifest:
        digest = self.resolve(name, reference)
        with open(self._repo(name, "_manifests", _hex(digest)), "rb") as f:
            media_type = f.read().decode()
        with open(self.blob_path(digest), "rb") as f:
            return StoredManifest(f.read(), media_type, digest)

    def delete_manifest(self, name: str, reference: str) -> None:
        """By tag: forget the tag.  By digest: forget the revision and every
        tag pointing at it (the bytes stay until a garbage collection)."""
        digest = self.resolve(name, reference)
        with self._lock:
            if not is_digest(reference):
                os.unlink(self._repo(name, "_tags", reference))
                return
            for tag in self.tags(name):
                if self.resolve(name, tag) == digest:
                    os.unlink(self._repo(name, "_tags", tag))
            os.unlink(self._repo(name, "_manifests", _hex(digest)))

    # -- garbage collection -------------------------------------------------
    def garbage_collect(self, upload_age_seconds: float = 24 * 3600) -> list[str]:
        """Delete blobs no repository links, and uploads abandoned for longer
        than ``upload_age_seconds``; the blob digests removed.

        Deleting a manifest or a blob through the API only removes *links*
        (another repository may share the bytes); this is where bytes go.  Run
        it while the registry is stopped (or quiet), as the CNCF registry's
        ``garbage-collect`` expects: a blob uploaded between the scan and the
        deletion, but not yet linked, would be lost."""
        import shutil
        import time

        live = set()
        top = os.path.join(self.root, "repositories")
        for dirpath, _dirnames, filenames in os.walk(top):
            if os.path.basename(dirpath) in ("_layers", "_manifests"):
                live.update(filenames)
        removed = []
        directory = os.path.join(self.root, "blobs", "sha256")
        for name in os.listdir(directory):
            if name not in live and not name.startswith("."):
                os.unlink(os.path.join(directory, name))
                removed.append("sha256:" + name)
        now = time.time()
        for session in os.listdir(self.uploads_dir):
            path = os.path.join(self.uploads_dir, session)
            if now - os.path.getmtime(path) > upload_age_seconds:
                shutil.rmtree(path, ignore_errors=True)
        return removed

    # -- listing ------------------------------------------------------------
    def repository_exists(self, name: str) -> bool:
        return any(os.path.isdir(self._repo(name, part)) for part in ("_layers", "_manifests", "_tags"))

    def tags(self, name: str) -> list[str]:
        if not self.repository_exists(name):
            raise RegistryError("NAME_UNKNOWN", detail={"name": name})
        try:
            names = os.listdir(self._repo(name, "_tags"))
        except FileNotFoundError:
            return []
        return sorted(t for t in names if is_valid_tag(t))

    def repositories(self) -> list[str]:
        top = os.path.join(self.root, "repositories")
        found = []
        for dirpath, dirnames, _files in os.walk(top):
            if any(d in ("_layers", "_manifests", "_tags") for d in dirnames):
                found.append(os.path.relpath(dirpath, top).replace(os.sep, "/"))
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(found)
