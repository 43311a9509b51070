"""The grammar of repository names, tags and digests on the wire.

A repository name becomes a *path* on the server's disk, so validating it is
what stops ``/v2/../../etc/blobs/...`` style tricks: the spec's regular
expression admits only lowercase alphanumeric components separated by ``/``,
with single ``.``/``_``, a double ``__`` or runs of ``-`` inside a component.
No component can be empty, ``.`` or ``..``, so a valid name joined under a
directory always stays under it.
"""

from __future__ import annotations

import re

# distribution/reference's path component: the OCI spec's `[a-z0-9]+([._-][a-z0-9]+)*`
# widened to `__` and `-+`, which docker accepts too.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
NAME_MAX = 255  # "less than 256 characters", slashes included
TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# The spec allows any registered algorithm; stepbox, like most registries, stores sha256 only.
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}")
ANY_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def is_valid_name(name: str) -> bool:
    return len(name) <= NAME_MAX and NAME_RE.fullmatch(name) is not None


def is_valid_tag(tag: str) -> bool:
    return TAG_RE.fullmatch(tag) is not None


def is_digest(reference: str) -> bool:
    """True for anything shaped like ``algo:hex`` (a tag can never contain ':')."""
    return ":" in reference


def is_sha256_digest(digest: str) -> bool:
    return DIGEST_RE.fullmatch(digest) is not None
