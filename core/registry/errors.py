"""Errors, as the spec spells them on the wire and as the client reports them.

A registry answers a failure with a 4xx status and a JSON body::

    {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry",
                 "detail": {"digest": "sha256:..."}}]}

``code`` is one of a fixed list (below), so a client can act on it; ``message``
is for people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# code -> (HTTP status, default message), from the spec's error-code table.
CODES: dict[str, tuple[int, str]] = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "manifest references a blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "the operation is unsupported"),
    "TOOMANYREQUESTS": (429, "too many requests"),
}


@dataclass
class RegistryError(Exception):
    """Raised inside the server; the handler turns it into the error JSON."""

    code: str
    message: str = ""
    detail: Any = None
    status: int = 0  # 0: the code's usual status; else overrides it (e.g. 416, 413)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        default_status, default_message = CODES[self.code]
        self.status = self.status or default_status
        self.message = self.message or default_message
        super().__init__(f"{self.code}: {self.message}")

    def body(self) -> bytes:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return json.dumps({"errors": [error]}).encode()


class RegistryClientError(Exception):
    """Something a registry (or the way to it) did that stops a pull, push or
    login; the message says what and, where it can, what to do."""


class AuthenticationRequired(RegistryClientError):
    pass


class VerificationFailed(RegistryClientError):
    """Content that does not match its digest, is truncated, or is malformed.
    Nothing is stored when this is raised."""


def describe_error_body(status: int, body: bytes) -> str:
    """The registry's own words for a failed request, if it sent the spec's JSON."""
    try:
        errors = json.loads(body)["errors"]
        return "; ".join(f"{e.get('code', 'UNKNOWN')}: {e.get('message', '')}".rstrip(": ") for e in errors)
    except (ValueError, KeyError, TypeError, AttributeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return f"HTTP {status}" + (f": {text}" if text else "")
