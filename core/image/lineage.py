"""Which local image another was made from: its *parent*.

The seed: an image "继续引用父镜像" -- keeps referring to its parent image.
Docker writes the parent down when it makes an image (``commit``, each step
of the classic builder) and uses it twice: ``docker history`` shows the IDs
of the local images an image was built through (``<missing>`` for history
that came from elsewhere), and ``docker images`` hides *intermediate*
images -- untagged ones that are some image's parent (``-a`` shows them).

stepbox reads the parent off the images themselves instead of keeping a
record: P is an ancestor of X when X's history begins with all of P's
history and X's layers begin with all of P's layers -- X was made on top of
P.  The parent is the nearest ancestor.  (Docker's record is lost by ``docker
save``/``load``; this one is not, so a loaded image whose base is local shows
that base's ID where docker would say ``<missing>``.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from .store import Image


def _history_key(image: Image) -> tuple[str, ...]:
    return tuple(json.dumps(entry, sort_keys=True) for entry in image.config.get("history") or [])


def _layers_in(history: tuple[str, ...]) -> int:
    return sum(1 for entry in history if not json.loads(entry).get("empty_layer"))


def parents(images: Iterable[Image]) -> dict[str, str]:
    """Image ID -> its parent's ID, for every image that has a local parent."""
    images = list(images)
    by_key: dict[tuple, list[str]] = {}
    histories = {}
    for image in images:
        histories[image.id] = history = _history_key(image)
        by_key.setdefault((history, image.diff_ids), []).append(image.id)
    found = {}
    for image in images:
        history = histories[image.id]
        for length in range(len(history) - 1, 0, -1):  # the nearest ancestor first
            prefix = history[:length]
            layers = _layers_in(prefix)
            if layers > len(image.diff_ids):
                continue
            candidates = [i for i in by_key.get((prefix, image.diff_ids[:layers]), ()) if i != image.id]
            if candidates:
                found[image.id] = min(candidates)  # equal histories: any, but always the same
                break
    return found


def intermediate_ids(images: Iterable[Image], parent_of: dict[str, str] | None = None) -> set[str]:
    """Untagged images that are another image's parent: the steps of a build,
    which ``docker images`` leaves out unless asked for all (``-a``).
    ``parent_of`` is :func:`parents` of the same images, if already known."""
    images = list(images)
    untagged = {image.id for image in images if not image.tags}
    return untagged & set((parents(images) if parent_of is None else parent_of).values())


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """The OCI ChainIDs of a layer stack, bottom first: the first layer's is
    its DiffID, each next one ``sha256(parent's ChainID + " " + DiffID)`` --
    a layer *on top of what is below it*, what Docker's layer store keys its
    layers by (and names in ``rmi``'s ``Deleted:`` lines)."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            chains.append("sha256:" + hashlib.sha256(f"{chains[-1]} {diff_id}".encode()).hexdigest())
    return chains


def released_layers(removed: list[str], remaining: Iterable[list[str]]) -> list[str]:
    """The ChainIDs of the layers of a removed image (its DiffIDs,
    ``removed``) that no remaining image (theirs, ``remaining``) stands on,
    top first: what Docker's layer store releases with the image."""
    kept = {chain for diff_ids in remaining for chain in chain_ids(diff_ids)}
    return [chain for chain in reversed(chain_ids(removed)) if chain not in kept]
