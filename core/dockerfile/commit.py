"""The end of every build step: reuse the cached image, or commit a new one.

The cache key is the parent image, the step's ``created_by`` text, the config
after the step and what else decides its result (COPY's sources' checksums,
a RUN's build arguments ...).  On a miss the step's layer is made (possibly
none: ENV, CMD ... only edit the config) and a new image is committed on top
of the stage's current one -- ``docker build``'s classic builder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from stepbox.core.image.reference import InvalidReference
from stepbox.core.image.store import ImageNotFound, now_rfc3339
from stepbox.core.kernel import LayerEntry

from .cache import cache_key
from .state import BuildSession, StageState


def commit_or_reuse(
    session: BuildSession,
    state: StageState,
    created_by: str,
    config: dict,
    make_layer: Callable[[], list[LayerEntry]],
    extra: str = "",
) -> None:
    """The heart of every step: reuse the cached image, or make the layer
    (possibly none) and commit a new image on top of the current one."""
    key = cache_key(state.image_id, created_by, _clean(config), extra)
    if session.cache is not None and not session.options.no_cache:
        cached = session.cache.get(key)
        if cached is not None:
            try:
                image = session.images.resolve(cached)
            except (ImageNotFound, InvalidReference):
                image = None
            if image is not None:
                session.say(" ---> Using cache")
                session.cached += 1
                state.load(image)
                return
    entries = make_layer()
    session.built += 1
    state.config = config
    now = now_rfc3339()
    history: dict[str, str | bool] = {"created": now, "created_by": created_by}
    if state.maintainer:
        history["author"] = state.maintainer
    if not entries:
        history["empty_layer"] = True  # as Docker: an empty diff is no layer
    image_config: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "created": now,
        "config": _clean(config),
        "history": [*state.history, history],
    }
    if state.maintainer:
        image_config["author"] = state.maintainer
    layers: list[bytes | str] = list(state.layers)
    with contextlib.ExitStack() as pins:
        if entries:  # written straight into a blob, pinned until the image names it
            layers.append(pins.enter_context(session.images.written_layer(entries)))
        image = session.images.add_image(layers, image_config, tag=None)
    if session.cache is not None:
        session.cache.put(key, image.id)
    state.load(image)


def _clean(config: dict) -> dict:
    """Config as stored: no null fields (Docker shows them as null; absent is the same)."""
    return {k: v for k, v in config.items() if v is not None}
