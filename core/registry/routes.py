"""Which endpoint a request path names.

Every endpoint of the API sits under ``/v2/``; a repository name may have
several components (``library/ubuntu``, ``team/app/api``), so the endpoint is
found from the *end* of the path::

    /v2/                                   base: "is this a v2 registry? am I allowed in?"
    /v2/_catalog                           every repository
    /v2/<name>/tags/list                   a repository's tags
    /v2/<name>/manifests/<tag or digest>   an image manifest or index
    /v2/<name>/blobs/uploads/[<uuid>]      an upload session
    /v2/<name>/blobs/<digest>              a layer or config

The name is checked against the spec's grammar before anything touches the
disk (see :mod:`.names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .errors import RegistryError
from .names import is_valid_name

_PATTERNS = [
    ("tags", re.compile(r"(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"(?P<name>.+)/manifests/(?P<arg>[^/]+)")),
    ("upload", re.compile(r"(?P<name>.+)/blobs/uploads/(?P<arg>[^/]*)")),
    ("blob", re.compile(r"(?P<name>.+)/blobs/(?P<arg>[^/]+)")),
]


@dataclass(frozen=True)
class Route:
    kind: str  # base, catalog, tags, manifest, upload, blob
    name: str = ""  # repository
    arg: str = ""  # tag/digest, upload uuid ("" = start one), or blob digest


def route(path: str) -> Route | None:
    """The endpoint for a URL path (query already removed); None if none matches.
    Raises NAME_INVALID for a well-placed but invalid repository name."""
    path = unquote(path)
    if path in ("/v2", "/v2/"):
        return Route("base")
    if not path.startswith("/v2/"):
        return None
    rest = path[len("/v2/") :]
    if rest in ("_catalog", "_catalog/"):
        return Route("catalog")
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(rest)
        if m:
            name = m.group("name")
            if not is_valid_name(name):
                raise RegistryError(
                    "NAME_INVALID", f"invalid repository name {name!r}", detail={"name": name}
                )
            return Route(kind, name, m.groupdict().get("arg") or "")
    return None


def paginate(items: list[str], n: str | None, last: str | None) -> tuple[list[str], str | None]:
    """One page of a sorted list: up to ``n`` items after ``last``.

    Returns the page and the ``last`` to ask for next (None when this is the
    end).  ``n=0`` is an empty page with no next, as the spec requires."""
    if last:
        items = [i for i in items if i > last]
    if n is None or n == "":
        return items, None
    try:
        count = int(n)
        if count < 0:
            raise ValueError
    except ValueError:
        raise RegistryError(
            "UNSUPPORTED", f"n must be a non-negative integer, not {n!r}", status=400
        ) from None
    if count == 0:
        return [], None
    page = items[:count]
    return page, (page[-1] if len(items) > count else None)
