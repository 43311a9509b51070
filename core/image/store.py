"""A content-addressed image store in OCI image-layout form.

On disk (the OCI image-layout spec)::

    oci-layout                  {"imageLayoutVersion": "1.0.0"}
    index.json                  one manifest descriptor per tag, named by the
                                annotation org.opencontainers.image.ref.name
    blobs/sha256/<hex>          manifests, image configs and layer tars

An image's *ID* is the digest of its config, as in Docker.  The config lists
the layers' ``rootfs.diff_ids`` -- digests of the uncompressed layer tars --
bottom layer first; that is the seed's "只针对变化的部分进行创建，然后继续引用父镜像":
each layer holds only the change and the image refers to its parents.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import hashlib
import json
import marshal
import os
import tarfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from stepbox.core.kernel import LayerEntry
from stepbox.core.kernel.atomic import (
    atomic_write,
    atomic_write_json,
    fsync_directory,
    json_document,
    read_json,
    sweep_temporaries,
)

from .incoming import Incoming
from .layer_tar import content_size, read_layer_file, write_layer
from .reference import InvalidReference, parse_reference

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
# An empty layer tar is its end-of-archive blocks, padded to one tar record at most.
EMPTY_TAR_MAX = 10240
REF_ANNOTATION = "org.opencontainers.image.ref.name"


class ImageNotFound(LookupError):
    def __init__(self, name: str):
        super().__init__(f"No such image: {name}")


class InvalidImageConfig(ValueError):
    """An image config (from a load or a pull) that is not one."""


class BlobDigestMismatch(ValueError):
    pass


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Image:
    id: str  # config digest
    manifest_digest: str
    config: dict
    layers: tuple[str, ...]  # layer blob digests, bottom first
    tags: tuple[str, ...]  # familiar names: "busybox:latest"

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return tuple(self.config["rootfs"]["diff_ids"])

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


class ImageStore:
    def __init__(self, root: str):
        self.root = root
        self._index_path = os.path.join(root, "index.json")
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        layout = os.path.join(root, "oci-layout")
        if not os.path.exists(layout):
            atomic_write_json(layout, {"imageLayoutVersion": "1.0.0"})
        if not os.path.exists(self._index_path):
            atomic_write_json(self._index_path, {"schemaVersion": 2, "manifests": []})
        sweep_temporaries(root)
        # Parsed JSON blobs (manifests, configs): a blob never changes for its
        # digest, so it is read from disk once.  Shared, so read-only here:
        # what leaves the store (Image.config) is a copy.
        self._json_blobs: dict[str, Any] = {}
        self._json_copies: dict[str, bytes] = {}  # each marshalled, for a fresh copy
        self._layer_sizes: dict[str, int] = {}
        self._index_cache: tuple[tuple, dict] | None = None
        # What resolve() derives from one version of the index -- the digest
        # each name points to, each manifest's config digest, layers and tags
        # (tags: every name of the same config) -- kept with the index dict it
        # came from: a new index.json is a new dict (_read_index), which makes
        # it stale, so a tag, an untag or an rmi is seen at once.  One tuple,
        # swapped whole: the daemon resolves from several threads.
        self._derived: tuple[dict | None, dict[str, Any]] = (None, {})
        # Blobs of transfers in flight (a pull, a load): stored already but
        # not yet named by a manifest in the index, so gc must not take them.
        self._pinned: collections.Counter[str] = collections.Counter()
        self._pin_lock = threading.Lock()

    # -- blobs ------------------------------------------------------------
    def blob_sizes(self) -> dict[str, int]:
        """Every blob's size on disk, by hex digest: taken before and after
        a prune, the difference is the space it reclaimed."""
        directory = os.path.join(self.root, "blobs", "sha256")
        sizes = {}
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        sizes[entry.name] = entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        pass
        except FileNotFoundError:
            pass
        return sizes

    def blob_path(self, digest: str) -> str:
        algo, _, hexpart = digest.partition(":")
        if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return os.path.join(self.root, "blobs", "sha256", hexpart)

    def put_blob(self, data: bytes, expected: str | None = None) -> str:
        digest = sha256_digest(data)
        if expected is not None and expected != digest:
            raise BlobDigestMismatch(f"blob digest mismatch: expected {expected}, content is {digest}")
        path = self.blob_path(digest)
        if not os.path.exists(path):
            atomic_write(path, data)
        return digest

    def adopt_blob(self, path: str, digest: str) -> str:
        """Make the file ``path`` (in the store, its content already hashed
        to ``digest`` while it arrived) the blob ``digest``: a rename, after
        an fsync, so a crash leaves no half-written blob under that name."""
        target = self.blob_path(digest)
        if os.path.exists(target):
            with contextlib.suppress(FileNotFoundError):  # (adopted already: a layer two images share)
                os.unlink(path)
            return digest
        with open(path, "rb") as f:
            os.fsync(f.fileno())
        os.replace(path, target)
        fsync_directory(os.path.dirname(target))
        return digest

    @contextlib.contextmanager
    def written_layer(self, entries: Iterable[LayerEntry]) -> Iterator[str]:
        """Write a changeset as a layer tar straight into a blob (hashed while
        it is written, a file's contents a piece at a time: a commit of a
        container with a 10 GiB file costs no 10 GiB of memory); the block
        gets its digest, pinned until it ends -- by then the image naming it
        is in the index (see :meth:`pinned`)."""
        with Incoming(self.root) as incoming:
            out, path = incoming.new_file()
            hashing = _Hashing(out)
            with out:
                write_layer(entries, hashing)
            digest = "sha256:" + hashing.hasher.hexdigest()
            with self.pinned([digest]):
                self.adopt_blob(path, digest)
                yield digest

    @contextlib.contextmanager
    def pinned(self, digests):
        """Keep ``digests`` from :meth:`gc` while the block runs: an image
        prune during a pull must not delete the layers it just stored."""
        digests = list(digests)
        with self._pin_lock:
            self._pinned.update(digests)
        try:
            yield
        finally:
            with self._pin_lock:
                self._pinned.subtract(digests)
                self._pinned += collections.Counter()  # drop the zeros

    def pin(self, digest: str) -> None:
        """Pin one more digest to the innermost :meth:`pinned` block's set."""
        with self._pin_lock:
            self._pinned[digest] += 1

    def unpin(self, digest: str) -> None:
        with self._pin_lock:
            self._pinned[digest] -= 1
            self._pinned += collections.Counter()

    def get_blob(self, digest: str) -> bytes:
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def has_blob(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def _json_blob(self, digest: str) -> Any:
        parsed = self._json_blobs.get(digest)
        if parsed is None:
            if len(self._json_blobs) > 4096:
                self._json_blobs.clear()
                self._json_copies.clear()
            parsed = json.loads(self.get_blob(digest))
            try:
                self._json_copies[digest] = marshal.dumps(parsed)
            except ValueError:
                pass  # nested deeper than marshal goes (3.13 parses deeper): copies parse again
            self._json_blobs[digest] = parsed
        return parsed

    def _json_copy(self, digest: str) -> Any:
        """A deep copy of a parsed JSON blob, the caller's own: the parse
        kept marshalled, loaded again -- marshal writes JSON's values (dicts
        in their order, lists, strings, numbers, True, False, None) as they
        are and shares nothing mutable between two loads, at about 40 % of
        the cost of parsing the JSON again (one per `run`)."""
        self._json_blob(digest)
        kept = self._json_copies.get(digest)
        return marshal.loads(kept) if kept is not None else json.loads(self.get_blob(digest))

    def _read_index(self) -> dict:
        """index.json, re-read only when it changed: every write replaces the
        file (a new inode), so (inode, mtime, size) tells."""
        st = os.stat(self._index_path)
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._index_cache is None or self._index_cache[0] != key:
            self._index_cache = (key, read_json(self._index_path))
        return self._index_cache[1]  # read-only: writers use _locked_index

    # -- images -----------------------------------------------------------

    @contextlib.contextmanager
    def _locked_index(self):
        """Read-modify-write of index.json under an exclusive lock, so two
        CLI calls tagging at once cannot lose each other's update.  An index
        the block left as it was is not written again: every cached rebuild
        tags its image anew (``build -t app``), and each durable write costs
        two fsyncs -- a good part of that rebuild's time (issue 18)."""
        with open(os.path.join(self.root, ".lock"), "a+") as lock:
            _flock(lock)
            with open(self._index_path, "rb") as f:
                before = f.read()
            index = json.loads(before)
            yield index
            after = json_document(index)
            if after != before:
                atomic_write(self._index_path, after)

    def add_image(self, layers: Sequence[bytes | str], config: dict, tag: str | None = None) -> Image:
        """Store layers (bottom first) and config; tag the image.  A layer is
        its tar's bytes, or the digest of a layer already in the store (so a
        commit does not re-read its parent's layers).  The config's
        ``rootfs.diff_ids`` is filled in from the layers."""
        digests = [layer if isinstance(layer, str) else sha256_digest(layer) for layer in layers]
        with self.pinned(digests):  # before they are written: see gc
            layer_digests, sizes = [], []
            for layer in layers:
                if isinstance(layer, str):
                    if not self.has_blob(layer):
                        raise ImageNotFound(f"layer {layer}")
                    layer_digests.append(layer)
                    sizes.append(os.path.getsize(self.blob_path(layer)))
                else:
                    layer_digests.append(self.put_blob(layer))
                    sizes.append(len(layer))
            config = dict(config)
            config["rootfs"] = {
                "type": "layers",
                "diff_ids": layer_digests,
            }  # uncompressed: digest == diff_id
            config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
            return self._add_manifest(config_bytes, layer_digests, sizes, tag)

    def add_loaded_image(
        self, config_bytes: bytes, layer_tars: Sequence[bytes | str], tag: str | None
    ) -> Image:
        """An image from elsewhere (``load``, ``pull``): its config is kept
        byte for byte so its ID stays the same, after checking that the
        layers are the ones its ``rootfs.diff_ids`` names.  A layer given as a
        ``str`` is the digest of one the store already has."""
        try:
            config = json.loads(config_bytes)
            diff_ids = config.get("rootfs", {}).get("diff_ids", [])
            if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
                raise TypeError("rootfs.diff_ids is not a list of digests")
        except (ValueError, AttributeError, TypeError) as e:
            raise InvalidImageConfig(f"the image config is not valid: {e}") from None
        if len(diff_ids) != len(layer_tars):
            raise BlobDigestMismatch(
                f"image config lists {len(diff_ids)} layers, the image has {len(layer_tars)}"
            )
        with self.pinned(diff_ids):  # before they are written: see gc
            digests = []
            for expected, tar in zip(diff_ids, layer_tars, strict=True):
                if isinstance(tar, bytes):
                    digests.append(self.put_blob(tar, expected=expected))
                elif tar != expected:
                    raise BlobDigestMismatch(f"layer {tar} is not the {expected} the image config names")
                else:
                    digests.append(tar)
            sizes = [os.path.getsize(self.blob_path(d)) for d in digests]
            return self._add_manifest(config_bytes, digests, sizes, tag)

    def _add_manifest(
        self, config_bytes: bytes, layer_digests: list[str], sizes: list[int], tag: str | None
    ) -> Image:
        config_digest = sha256_digest(config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [
                {"mediaType": MEDIA_LAYER, "digest": d, "size": size}
                for d, size in zip(layer_digests, sizes, strict=True)
            ],
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        manifest_digest = sha256_digest(manifest_bytes)
        with self.pinned([config_digest, manifest_digest]):  # written, then named: see gc
            self.put_blob(config_bytes)
            self.put_blob(manifest_bytes)
            return self._index_manifest(manifest_digest, manifest_bytes, tag)

    def _index_manifest(self, manifest_digest: str, manifest_bytes: bytes, tag: str | None) -> Image:
        with self._locked_index() as index:
            descriptor = {"mediaType": MEDIA_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes)}
            if tag is not None:
                ref = str(parse_reference(tag))
                index["manifests"] = [
                    m for m in index["manifests"] if m.get("annotations", {}).get(REF_ANNOTATION) != ref
                ]
                descriptor["annotations"] = {REF_ANNOTATION: ref}
            if descriptor not in index["manifests"]:
                index["manifests"].append(descriptor)
        return self._load(manifest_digest)

    def _facts(self, index: dict) -> dict[str, Any]:
        """The cache of what is derived from ``index`` (see ``_derived``)."""
        owner, facts = self._derived
        if owner is not index:
            facts = {}
            self._derived = (index, facts)
        return facts

    def _by_ref(self, index: dict) -> dict[str | None, str]:
        """The manifest digest of each name in ``index``."""
        facts = self._facts(index)
        by_ref = facts.get("by_ref")
        if by_ref is None:
            by_ref = facts["by_ref"] = {
                m.get("annotations", {}).get(REF_ANNOTATION): m["digest"] for m in index["manifests"]
            }
        return by_ref

    def image_id(self, name: str) -> str:
        """The ID of the image ``name`` names: :meth:`resolve` (the same
        errors) without making the Image -- for who only needs to know that
        it is there (a run checks before its plan, which resolves it)."""
        index = self._read_index()
        by_ref = self._by_ref(index)
        try:
            ref: str | None = str(parse_reference(name))
        except InvalidReference:
            ref = None
        if ref is not None and ref in by_ref:
            return self._config_of(by_ref[ref])
        return self.resolve(name).id

    def resolve(self, name: str) -> Image:
        """An image by reference (``busybox``, ``busybox:1.36``) or by ID
        (full ``sha256:…`` or a unique prefix of at least 4 hex digits)."""
        index = self._read_index()
        by_ref = self._by_ref(index)
        try:
            ref = parse_reference(name)
        except InvalidReference:
            ref = None
        if ref is not None and str(ref) in by_ref:
            return self._load(by_ref[str(ref)], index)
        prefix = name.removeprefix("sha256:")
        if len(prefix) == 64 and name.startswith("sha256:"):
            # A full ID (what a plan resolves again under its lock): the one
            # manifest of that config, without loading every image to compare.
            for m in index["manifests"]:
                if self._config_of(m["digest"]) == name:
                    return self._load(m["digest"], index)
        if len(prefix) >= 4 and all(c in "0123456789abcdef" for c in prefix):
            matches = {
                img.id: img for img in self.list() if img.id.removeprefix("sha256:").startswith(prefix)
            }
            if len(matches) == 1:
                return next(iter(matches.values()))
        if ref is None:
            raise InvalidReference(f"invalid reference format: {name!r}")
        raise ImageNotFound(ref.familiar_str())

    def has_id(self, image_id: str) -> bool:
        """Is an image with this full ID (``sha256:…``) still in the store?
        What resolve(image_id) checks, without building the Image: IDs are
        content digests, so an image found by name a moment ago is the same
        image if its ID is still there."""
        index = self._read_index()
        facts = self._facts(index)
        ids = facts.get("ids")
        if ids is None:
            ids = facts["ids"] = frozenset(self._config_of(m["digest"]) for m in index["manifests"])
        return image_id in ids

    def list(self) -> list[Image]:
        index = self._read_index()
        seen: dict[str, Image] = {}
        for m in index["manifests"]:
            image = self._load(m["digest"], index)
            seen.setdefault(image.id, image)
        return list(seen.values())

    def _load(self, manifest_digest: str, index: dict | None = None) -> Image:
        index = index or self._read_index()
        facts = self._facts(index)
        known = facts.get(manifest_digest)
        if known is None:
            manifest = self._json_blob(manifest_digest)
            config_digest = manifest["config"]["digest"]
            refs = []
            for m in index["manifests"]:
                ref = m.get("annotations", {}).get(REF_ANNOTATION)
                if ref and self._config_of(m["digest"]) == config_digest:
                    refs.append(ref)
            # In docker's order: by full name (docker.io/library/app:1 < …:other).
            tags = tuple(parse_reference(ref).familiar_str() for ref in sorted(refs))
            layers = tuple(layer["digest"] for layer in manifest["layers"])
            known = facts[manifest_digest] = (config_digest, layers, tags)
        config_digest, layers, tags = known
        # The caller's own copy (it may change it): the blob parsed afresh --
        # the same as deepcopy for parsed JSON, and several times faster.
        config = self._json_copy(config_digest)
        return Image(config_digest, manifest_digest, config, layers, tags)

    def _config_of(self, manifest_digest: str) -> str:
        return self._json_blob(manifest_digest)["config"]["digest"]

    def tag(self, image: Image, tag: str) -> None:
        ref = str(parse_reference(tag))
        with self._locked_index() as index:
            index["manifests"] = [
                m for m in index["manifests"] if m.get("annotations", {}).get(REF_ANNOTATION) != ref
            ]
            index["manifests"].append(
                {
                    "mediaType": MEDIA_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": os.path.getsize(self.blob_path(image.manifest_digest)),
                    "annotations": {REF_ANNOTATION: ref},
                }
            )

    def untag(self, tag: str) -> bool:
        """Remove one name; True if it existed."""
        ref = str(parse_reference(tag))
        with self._locked_index() as index:
            before = len(index["manifests"])
            index["manifests"] = [
                m for m in index["manifests"] if m.get("annotations", {}).get(REF_ANNOTATION) != ref
            ]
            return len(index["manifests"]) != before

    def delete(self, image: Image) -> None:
        """Forget every name and manifest of ``image``; blobs go at :meth:`gc`."""
        with self._locked_index() as index:
            index["manifests"] = [m for m in index["manifests"] if self._config_of(m["digest"]) != image.id]

    def gc(self, keep: AbstractSet[str] = frozenset()) -> builtins.list[str]:
        """Delete blobs no manifest in the index refers to (nor ``keep``,
        nor a transfer in flight); what an interrupted load or an rmi left
        behind.  Returns the digests.

        The order matters, because images are added while this runs: a new
        image's blobs are pinned *before* they are written and unpinned only
        *after* the index names them.  So a blob in the listing (step 1) was
        pinned before it; if its pin is gone at step 2, the index read at
        step 3 names it."""
        directory = os.path.join(self.root, "blobs", "sha256")
        listed = [n for n in os.listdir(directory) if not n.startswith(".")]  # 1
        with self._pin_lock:  # 2
            live = set(keep) | set(self._pinned)
        with open(os.path.join(self.root, ".lock"), "a+") as lock:  # 3, and no index write meanwhile
            _flock(lock)
            for m in read_json(self._index_path)["manifests"]:
                live.add(m["digest"])
                try:
                    manifest = json.loads(self.get_blob(m["digest"]))
                except FileNotFoundError:
                    continue  # a broken entry: its manifest is gone already
                live.add(manifest["config"]["digest"])
                live.update(layer["digest"] for layer in manifest["layers"])
            removed = []
            for name in listed:
                digest = "sha256:" + name
                if digest not in live:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(directory, name))
                        removed.append(digest)
        return removed

    def layer_size(self, blob_digest: str) -> int:
        """The layer's size as docker shows it (see :func:`.layer_tar.content_size`);
        read once per blob, which never changes for its digest."""
        size = self._layer_sizes.get(blob_digest)
        if size is None:
            with open(self.blob_path(blob_digest), "rb") as f:
                size = self._layer_sizes[blob_digest] = content_size(f)
        return size

    def image_size(self, image: Image) -> int:
        """``docker images``' SIZE: the image's layers, each counted by its files."""
        return sum(self.layer_size(digest) for digest in image.layers)

    def layer_diff_ids(self, image: Image) -> builtins.list[str]:
        """The image's DiffIDs, less those of empty layers (a tar with no
        members): Docker's layer store makes no layer of an empty diff (its
        commit of an unchanged container adds none), so its ChainIDs skip them."""
        kept = []
        for blob, diff_id in zip(image.layers, image.diff_ids, strict=False):
            try:
                small = os.path.getsize(self.blob_path(blob)) <= EMPTY_TAR_MAX
                if small:
                    with tarfile.open(self.blob_path(blob)) as tar:
                        if tar.next() is None:
                            continue
            except (OSError, ValueError, tarfile.TarError):
                pass  # not readable as an empty tar: a layer like any other
            kept.append(diff_id)
        return kept

    def layer_entries(self, blob_digest: str) -> builtins.list[LayerEntry]:
        """A layer's changeset, checked for escapes (see :mod:`.layer_tar`);
        its files' contents stay in the blob until they are read."""
        return read_layer_file(self.blob_path(blob_digest))


class _Hashing:
    """A file being written that hashes what goes through it."""

    def __init__(self, out: BinaryIO):
        self.out, self.hasher = out, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.out.write(data)


def _flock(f) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: a single user, best effort
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)
