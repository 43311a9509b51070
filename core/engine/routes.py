"""From ``POST /v1.44/containers/abc/start`` to the function that starts it.

Two Docker conventions shape the router:

* **Versioned paths.**  Clients put the API version they speak in front of
  every path (``/v1.44/...``) after asking the daemon with ``HEAD /_ping``;
  unversioned paths mean "the daemon's version".  A version above ours is
  refused, one below the minimum too.
* **Names with slashes.**  An image name may contain ``/`` and ``:``
  (``localhost:5000/team/app:1.0``), and it is put in the path unescaped:
  ``POST /images/localhost:5000/team/app:1.0/push``.  So a route like
  ``/images/{name*}/push`` is matched on its *suffix*: ``{name*}`` takes
  everything between the fixed start and the fixed end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from stepbox.core.http_server.messages import Reply, Request, Response

from . import API_VERSION, MIN_API_VERSION
from .errors import status_of

log = logging.getLogger("stepbox.engine")

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(/.*)$")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # "/containers/{id}/start", "/images/{name*}/json"
    handler: Callable[[Request], Reply]
    regex: re.Pattern

    @classmethod
    def make(cls, method: str, pattern: str, handler) -> Route:
        parts = re.split(r"(\{\w+\*?\})", pattern)
        regex = ""
        for part in parts:
            if part.startswith("{"):
                name = part.strip("{}*")
                regex += f"(?P<{name}>.+)" if part.endswith("*}") else f"(?P<{name}>[^/]+)"
            else:
                regex += re.escape(part)
        return cls(method, pattern, handler, re.compile(f"^{regex}$"))


class Router:
    """Routes are tried in the order they were added: fixed paths
    (``/images/json``) go before patterns (``/images/{name*}/json``)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler) -> None:
        self.routes.append(Route.make(method, pattern, handler))

    def __call__(self, request: Request) -> Reply:
        try:
            path, request.api_version = self._strip_version(request.path)
            route, params = self._match(request.method, path)
            request.params = params
            return route.handler(request)
        except Exception as error:
            status = status_of(error)
            if status is None:
                raise  # a real fault: the server logs it, 500
            if status >= 500:
                log.warning("%s %s -> %d: %s", request.method, request.target, status, error)
            return Response.error(status, str(error))

    @staticmethod
    def _strip_version(path: str) -> tuple[str, str]:
        from .errors import ApiError

        match = _VERSION_PREFIX.match(path)
        if not match:
            return path, API_VERSION
        version, rest = match.groups()
        if _version_tuple(version) > _version_tuple(API_VERSION):
            raise ApiError(
                f"client version {version} is too new. Maximum supported API version is {API_VERSION}", 400
            )
        if _version_tuple(version) < _version_tuple(MIN_API_VERSION):
            raise ApiError(
                f"client version {version} is too old. Minimum supported API version is "
                f"{MIN_API_VERSION}, please upgrade your client to a newer version",
                400,
            )
        return rest, version

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        from .errors import ApiError

        allowed = False
        for route in self.routes:
            match = route.regex.match(path)
            if match:
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return route, match.groupdict()
                allowed = True
        if allowed:
            raise ApiError(f"method {method} is not allowed for {path}", 405)
        raise ApiError("page not found", 404)
