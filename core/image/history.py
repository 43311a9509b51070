"""``docker history``: how an image came to be, newest step first.

The image config's ``history`` lists every step that made the image --
``created_by`` is the instruction or the committed container's command --
bottom first; a step that changed no file is marked ``empty_layer``, every
other one made the next layer of ``rootfs``.  Each row shows that layer's
size (its files' bytes, as docker counts) and, for a step that ended a
local image, that image's ID and names; the other rows' steps were made
elsewhere (pulled, loaded) or their images are gone: ``<missing>``, as
docker says.  Which local image ended a step is :mod:`.lineage`'s answer.
"""

from __future__ import annotations

from datetime import datetime

from .lineage import parents
from .store import Image, ImageStore

MISSING = "<missing>"


def unix_time(text: str | None) -> int:
    """An RFC 3339 time (``2024-01-01T00:00:00Z``, docker's nanoseconds too)
    as Unix seconds; 0 when absent or unreadable."""
    if not text:
        return 0
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def history_rows(store: ImageStore, image: Image) -> list[dict]:
    """``GET /images/{name}/history``: one row per history entry, newest first."""
    layers = list(image.layers)
    rows = []
    for entry in image.config.get("history") or []:
        size = 0
        if not entry.get("empty_layer") and layers:
            size = store.layer_size(layers.pop(0))
        rows.append(
            {
                "Id": MISSING,
                "Created": unix_time(entry.get("created")),
                "CreatedBy": entry.get("created_by", ""),
                "Tags": None,
                "Size": size,
                "Comment": entry.get("comment", ""),
            }
        )
    # An image's own last step is row len(history) - 1; its parent's last
    # step comes before it, and so on down the chain of local images.
    images = {other.id: other for other in store.list()}
    parent_of = parents([*images.values(), image] if image.id not in images else images.values())
    current: Image | None = image
    while current is not None:
        steps = len(current.config.get("history") or [])
        if 0 < steps <= len(rows):
            rows[steps - 1]["Id"] = current.id
            rows[steps - 1]["Tags"] = list(current.tags) or None
        current = images.get(parent_of.get(current.id, ""))
    rows.reverse()
    return rows
