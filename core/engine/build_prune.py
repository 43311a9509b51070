"""``POST /build/prune`` (``docker builder prune``): forget build cache entries
and delete the images only they kept.

stepbox's builder is Docker's classic one: a cache entry maps a step (its
parent image, instruction and inputs, see core/dockerfile/cache.py) to the
image the step committed.  Those step images are untagged; the ones the
final image is built on are its parents and stay while it does.  So:

* by default the *dangling* cache goes: entries whose image is gone, and
  entries whose image nothing else keeps -- untagged, no container made
  from it, no other image's parent (a failed build's last steps) -- with
  that image; a removed image's parent may become dangling in turn;
* ``all=1``: every entry goes; their images too when nothing else keeps them;
* ``filters``: ``until`` keeps entries used since then (Go duration, Unix
  seconds or RFC 3339, as dockerd), ``id`` takes only the entries named;
  BuildKit's other filters (``inuse``, ``shared``, ``type`` ...) describe
  records stepbox does not have and are refused by name, as are the size
  budgets (``keep-storage``, ``reserved-space`` ...).

The answer is dockerd's: ``CachesDeleted`` (the entries' IDs) and
``SpaceReclaimed`` (bytes of the store's blobs and cache entries deleted).
"""

from __future__ import annotations

import time

from stepbox.core.container.errors import Conflict
from stepbox.core.dockerfile.cache import BuildCache, CacheRecord
from stepbox.core.http_server.messages import Request, Response
from stepbox.core.image.lineage import parents
from stepbox.core.image.store import ImageNotFound

from .engine import Engine
from .errors import BadParameter
from .filters import parse_filters, time_filter

SIZE_BUDGETS = ("keep-storage", "reserved-space", "max-used-space", "min-free-space")


def prune_build_cache(engine: Engine, cache: BuildCache, req: Request) -> Response:
    for name in SIZE_BUDGETS:
        if req.int_arg(name, 0):
            raise BadParameter(
                f"{name} is not supported: stepbox's build cache keeps no size budget "
                "(prune by age with the until filter)"
            )
    filters = parse_filters(req.arg("filters"), ("until", "id"))
    now = time.time()
    limits = [time_filter(v, "until", now) for v in filters.get("until", [])]
    ids = filters.get("id", [])

    def chosen(record: CacheRecord) -> bool:
        return all(record.last_used < limit for limit in limits) and (
            not ids or any(record.key.startswith(i) for i in ids if i)
        )

    prune_all = req.flag("all")
    blobs_before = engine.runtime.images.blob_sizes()
    deleted: list[str] = []
    reclaimed = 0
    their_images: set[str] = set()  # the images of the entries deleted
    tried: set[str] = set()
    progress = True
    while progress:  # again after each pass: a removed image's parent may be dangling now
        progress = False
        kept_by_others = _kept_by_others(engine)
        present = {image.id for image in engine.runtime.images.list()}
        for record in cache.records():
            dangling = record.image_id not in present or record.image_id not in kept_by_others
            if chosen(record) and (prune_all or dangling) and cache.remove(record.key):
                deleted.append(record.key)
                reclaimed += record.size
                if record.image_id is not None:
                    their_images.add(record.image_id)
                progress = True
        for image_id in sorted((their_images & present) - kept_by_others - tried):
            tried.add(image_id)
            try:
                engine.runtime.remove_image(image_id)
            except (ImageNotFound, Conflict):
                continue  # removed, tagged or given a container meanwhile
            engine.events.publish("image", "delete", image_id, {})
            progress = True
    engine.runtime.collect_garbage()
    blobs_after = engine.runtime.images.blob_sizes()
    reclaimed += sum(size for digest, size in blobs_before.items() if digest not in blobs_after)
    return Response.json({"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed})


def _kept_by_others(engine: Engine) -> set[str]:
    """Images something besides the build cache keeps: tagged ones, those a
    container was made from, and every image's parent."""
    images = engine.runtime.images.list()
    kept = {image.id for image in images if image.tags}
    kept |= set(parents(images).values())
    kept |= {record.image_id for record in engine.runtime.containers.all()}
    return kept
