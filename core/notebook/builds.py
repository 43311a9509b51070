"""Stepping through ``docker build``: one Dockerfile instruction per step.

The builder (``core/dockerfile``) already is a plan of Steps; this wraps its
Stepper in Step / Run to end / Reset controls and shows, after each
instruction, what the builder printed (``Step 2/5 : ADD run.sh /``,
``---> Using cache`` …) and the image built so far as a layer stack.
"""

from __future__ import annotations

import os

from stepbox.core.dockerfile.builder import Builder, BuildOptions
from stepbox.core.dockerfile.cache import BuildCache

from .controls import Walkthrough
from .diagrams import layer_stack_svg
from .tables import code_list, html_table
from .views import image_layer_boxes


class BuildWalk(Walkthrough):
    @property
    def session(self):
        """The build's state (a BuildSession): current image, cache hits, result."""
        return self.stepper.ctx

    lines: list[str]  # everything the builder printed in this build


def build_walk(lab, context_dir: str, tags: tuple[str, ...] = (), no_cache: bool = False) -> BuildWalk:
    """Step through building ``context_dir``'s Dockerfile in ``lab``'s engine
    (the build cache lives in the lab's state directory)."""
    lines: list[str] = []  # what the builder printed, this build
    shown = [0]  # how many of them a step has shown already
    cache = BuildCache(os.path.join(lab.root, "build-cache"))

    def start():
        lines.clear()
        shown[0] = 0
        builder = Builder(lab.images, lab.runtime, cache, out=lines.append)
        return builder.stepper(BuildOptions(context_dir, tags=tuple(tags), no_cache=no_cache))

    def discard(stepper) -> None:
        if not stepper.done:
            stepper.abort()

    def picture(session, result) -> str:
        new, shown[0] = lines[shown[0] :], len(lines)
        parts = [code_list(new, "docker build says", limit=40)]
        state = session.current
        if state is not None and state.image_id:
            image = lab.images.resolve(state.image_id)
            parts.append(
                html_table(
                    [
                        ("image so far", state.image_id.removeprefix("sha256:")[:12]),
                        ("layers", len(image.layers)),
                        ("history entries", len(image.config.get("history", []))),
                    ]
                )
            )
            parts.append(
                layer_stack_svg(image_layer_boxes(lab.images, image), "the image so far", max_lines=4)
            )
        return "".join(parts)

    walk = BuildWalk(start, discard, [picture], lab.shorten)
    walk.lines = lines
    walk.lang = lab.lang  # the steps' explanations in the lab's language (core/dockerfile/in_chinese.py)
    walk.twin = lambda: build_walk(lab, context_dir, tags, no_cache)
    return walk


__all__ = ["BuildWalk", "build_walk"]
