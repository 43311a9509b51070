"""Resolve a path through layers (stepbox exercises check whiteouts --dir .)."""


def lookup(layers: list[dict[str, str | None]], path: str) -> str | None:
    """layers: top-most first; each is {path in the layer's tar: contents}, None for a
    directory, e.g. [{"etc/.wh.motd": ""}, {"etc/motd": "hello\\n"}].

    ".wh.NAME" deletes NAME of the layers below; a directory holding ".wh..wh..opq"
    hides everything the layers below have in it.

    Return the contents of the file at `path` ("etc/motd") as the container sees it,
    or None if it sees no file there."""
    return None  # your turn
