"""Image references, normalised the way docker does.

``busybox`` means ``docker.io/library/busybox:latest``; ``localhost:5000/x``
keeps its registry (a first component with a dot, a colon or ``localhost`` is
a registry); a reference may carry a tag, a digest (``@sha256:…``) or both.
"""

from __future__ import annotations

import functools
import re

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"

# The grammar of distribution/reference, simplified to what matters here.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_REGISTRY = re.compile(r"^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")


class InvalidReference(ValueError):
    """A name that is not a valid image reference."""


class Reference:
    """A parsed reference: a value (immutable, equal and hashed by its
    parts).  A plain class, not a frozen dataclass: ``stepbox build -t``
    checks its tags with this module, and importing dataclasses is a good
    part of a cached rebuild's start-up (issue 18)."""

    __slots__ = ("registry", "repository", "tag", "digest")
    registry: str
    repository: str  # "library/busybox"
    tag: str | None
    digest: str | None

    def __init__(self, registry: str, repository: str, tag: str | None, digest: str | None):
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "repository", repository)
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "digest", digest)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Reference is immutable")

    def _parts(self) -> tuple[str, str, str | None, str | None]:
        return (self.registry, self.repository, self.tag, self.digest)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._parts() == other._parts()

    def __hash__(self) -> int:
        return hash(self._parts())

    def __repr__(self) -> str:
        return (
            f"Reference(registry={self.registry!r}, repository={self.repository!r}, "
            f"tag={self.tag!r}, digest={self.digest!r})"
        )

    @property
    def name(self) -> str:
        """Fully qualified repository: ``docker.io/library/busybox``."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar(self) -> str:
        """What docker shows: ``busybox``, ``user/app``, ``localhost:5000/x``."""
        if self.registry == DEFAULT_REGISTRY:
            return self.repository.removeprefix("library/")
        return self.name

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    def familiar_str(self) -> str:
        s = self.familiar
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


# Cached: a run resolves the same few names several times, and a Reference
# is immutable (an invalid one raises, which is not cached).
@functools.lru_cache(maxsize=1024)
def parse_reference(text: str) -> Reference:
    """Parse and normalise ``text``; raise :class:`InvalidReference` saying why."""
    if not text or any(c.isspace() for c in text):
        raise InvalidReference(f"invalid reference format: {text!r} is empty or has spaces")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference(
                f"invalid reference format: {text!r}: digest must be sha256: and 64 hex digits"
            )
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InvalidReference(f"invalid reference format: {text!r}: bad tag {tag!r}")
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
        if not _REGISTRY.match(registry):
            raise InvalidReference(f"invalid reference format: {text!r}: bad registry {registry!r}")
    else:
        registry, path = DEFAULT_REGISTRY, rest
    if path != path.lower():
        raise InvalidReference(f"invalid reference format: repository name ({path}) must be lowercase")
    if not _PATH.match(path):
        raise InvalidReference(f"invalid reference format: {text!r}")
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)
