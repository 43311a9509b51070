"""Parsing ``WWW-Authenticate``: how a registry says "who are you?".

A 401 answer names a *scheme* and its parameters::

    WWW-Authenticate: Basic realm="stepbox-registry"
    WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"

``Basic``: send ``Authorization: Basic base64(user:password)`` with every request.
``Bearer`` (Docker's token auth, used by Docker Hub and most public
registries): ask the *token server* at ``realm`` for a token valid for
``service`` and ``scope`` -- anonymously, or with Basic credentials -- and send
``Authorization: Bearer <token>`` to the registry.  The registry never sees
your password; the token is short-lived and limited to the scope (one
repository, ``pull`` and/or ``push``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer" (lowercased)
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge in a ``WWW-Authenticate`` header, or None."""
    header = (header or "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = m.end()
    return Challenge(scheme.lower(), params)
