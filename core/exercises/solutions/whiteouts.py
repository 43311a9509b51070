"""Resolve a path through layers: the reference solution."""

import posixpath


def lookup(layers: list[dict[str, str | None]], path: str) -> str | None:
    for layer in layers:  # from the top down: the first layer that knows the path wins
        if path in layer:
            return layer[path]
        # A whiteout of the path or of one of its directories hides what lies below,
        # and so does an opaque directory above it.
        parent = path
        while parent:
            parent, name = posixpath.split(parent)
            if posixpath.join(parent, ".wh." + name) in layer:
                return None
            if posixpath.join(parent, ".wh..wh..opq") in layer and parent:
                return None
    return None
