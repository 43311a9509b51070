"""HTTP to one registry: connections, authentication, redirects.

Built on :mod:`http.client` so every request is visible: one keep-alive
connection per thread (transfers run in parallel threads), a 401 answered by
the flow its ``WWW-Authenticate`` asks for (:mod:`.challenge`), and redirects
followed for blob downloads (Docker Hub sends those to a CDN -- without our
``Authorization`` header, which is for the registry only).

Which scheme: docker talks https to every registry except loopback ones
(``localhost:5000``, ``127.0.0.1:5000``) and those the user marked insecure;
so do we.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import overload
from urllib.parse import urlencode, urljoin, urlsplit

from .challenge import parse_challenge
from .credentials import Credentials
from .errors import AuthenticationRequired, RegistryClientError, describe_error_body

DOCKER_HUB_HOST = "registry-1.docker.io"
USER_AGENT = "stepbox/0.1 (learning container engine)"
TIMEOUT = 120

Body = bytes | Callable[[], Iterable[bytes]] | None


def registry_host(registry: str) -> str:
    """The host to talk to for a reference's registry part."""
    return DOCKER_HUB_HOST if registry in ("docker.io", "index.docker.io") else registry


def is_loopback(netloc: str) -> bool:
    host = urlsplit("//" + netloc).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scheme_for(registry: str, insecure: Iterable[str] = ()) -> str:
    return "http" if is_loopback(registry) or registry in set(insecure) else "https"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes = b""
    raw: http.client.HTTPResponse | None = None  # set when streaming
    url: str = ""

    @overload
    def header(self, name: str) -> str | None: ...
    @overload
    def header(self, name: str, default: str) -> str: ...
    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@dataclass
class Transport:
    """Requests to one registry on behalf of one repository operation.

    ``scopes`` are what to ask a token server for, e.g.
    ``["repository:team/app:pull,push", "repository:library/busybox:pull"]``."""

    registry: str  # as in the reference: "localhost:5000", "docker.io"
    scheme: str = "https"
    credentials: Credentials | None = None
    scopes: list[str] = field(default_factory=list)
    _auth_header: str | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _auth_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{registry_host(self.registry)}"

    # -- connections --------------------------------------------------------
    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        conn = pool.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    netloc, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
            pool[(scheme, netloc)] = conn
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._local.pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def _send_once(
        self, method: str, url: str, headers: dict[str, str], body: Body, stream: bool
    ) -> Response:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        payload = body() if callable(body) else body
        chunked = payload is not None and not isinstance(payload, (bytes, bytearray))
        for attempt in (1, 2):
            conn = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request(method, target, body=payload, headers=headers, encode_chunked=chunked)
                raw = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # A keep-alive connection the server closed meanwhile: once more
                # on a fresh one, if the body can be sent again.
                self._drop(parts.scheme, parts.netloc)
                if attempt == 2 or (chunked and not callable(body)):
                    raise RegistryClientError(f"{method} {url}: connection lost ({e})") from None
                payload = body() if callable(body) else body
            except OSError as e:
                self._drop(parts.scheme, parts.netloc)
                raise RegistryClientError(
                    f"cannot reach the registry at {parts.scheme}://{parts.netloc}: {e}"
                    + (" (is it an http-only registry? mark it insecure)" if parts.scheme == "https" else "")
                ) from None
        if stream and raw.status < 300:
            return Response(raw.status, raw.headers, raw=raw, url=url)
        try:
            data = raw.read()
        except (http.client.IncompleteRead, OSError) as e:
            self._drop(parts.scheme, parts.netloc)
            raise RegistryClientError(f"{method} {url}: the response was cut short ({e})") from None
        return Response(raw.status, raw.headers, data, url=url)

    # -- requests -----------------------------------------------------------
    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        headers: dict[str, str] | None = None,
        body: Body = None,
        stream: bool = False,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """Send a request, authenticating and following redirects as needed.

        ``body`` is bytes, or a function returning an iterable of bytes (sent
        with chunked transfer encoding; a function so it can be sent again
        after a 401).  With ``ok``, any other status raises
        :class:`RegistryClientError` carrying the registry's error message."""
        url = urljoin(self.base_url + "/", path_or_url)
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        for _redirect in range(6):
            same_host = urlsplit(url).netloc == urlsplit(self.base_url).netloc
            send = dict(headers)
            if same_host and self._auth_header:
                send["Authorization"] = self._auth_header
            response = self._send_once(method, url, send, body, stream)
            if response.status == 401 and same_host:
                if not self._authenticate(response, send.get("Authorization")):
                    raise AuthenticationRequired(
                        f"{self.registry}: {describe_error_body(401, response.body)} -- "
                        + (
                            "the credentials were refused"
                            if self.credentials
                            else f"log in first: stepbox login {self.registry}"
                        )
                    )
                assert self._auth_header is not None  # what _authenticate found to try
                response = self._send_once(
                    method, url, {**headers, "Authorization": self._auth_header}, body, stream
                )
                if response.status == 401:
                    who = f" for user {self.credentials.username!r}" if self.credentials else ""
                    raise AuthenticationRequired(
                        f"{self.registry}: the credentials{who} were refused for {path_or_url} "
                        f"({describe_error_body(401, response.body)}); check them with stepbox login"
                    )
            if response.status in (301, 302, 303, 307, 308) and method in ("GET", "HEAD"):
                url = urljoin(url, response.header("Location", ""))
                continue
            break
        if ok and response.status not in ok:
            if response.raw is not None:
                response.body = response.raw.read()
            raise RegistryClientError(
                f"{method} {url}: {describe_error_body(response.status, response.body)}"
            )
        return response

    def _authenticate(self, response: Response, tried: str | None) -> bool:
        """Answer a 401's challenge; True if there is something new to try."""
        challenge = parse_challenge(response.header("WWW-Authenticate", ""))
        with self._auth_lock:
            if self._auth_header and self._auth_header != tried:
                return True  # another thread already did it
            if challenge is None:
                return False
            if challenge.scheme == "basic":
                if self.credentials is None:
                    return False
                pair = f"{self.credentials.username}:{self.credentials.password}".encode()
                new = "Basic " + base64.b64encode(pair).decode()
            elif challenge.scheme == "bearer":
                new = "Bearer " + self._fetch_token(challenge.params)
            else:
                return False
            if new == tried:
                return False
            self._auth_header = new
            return True

    def _fetch_token(self, params: dict[str, str]) -> str:
        """Docker's token flow: GET <realm>?service=…&scope=…[&scope=…],
        with Basic credentials if we have them; the answer is JSON with
        ``token`` (or OAuth2's ``access_token``)."""
        realm = params.get("realm")
        if not realm:
            raise AuthenticationRequired(f"{self.registry}: Bearer challenge without a realm")
        scopes = list(self.scopes)
        if params.get("scope") and params["scope"] not in scopes:
            scopes.append(params["scope"])
        query = [("service", params["service"])] if params.get("service") else []
        query += [("scope", s) for s in scopes]
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        headers = {"User-Agent": USER_AGENT}
        if self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        response = self._send_once("GET", url, headers, None, False)
        if response.status != 200:
            raise AuthenticationRequired(
                f"the token server {realm} refused: {describe_error_body(response.status, response.body)}"
            )
        try:
            answer = json.loads(response.body)
            return answer.get("token") or answer["access_token"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AuthenticationRequired(
                f"the token server {realm} answered something that is not a token"
            ) from None

    def close(self) -> None:
        for conn in getattr(self._local, "pool", {}).values():
            conn.close()


def read_stream(response: Response, sink: Callable[[bytes], None], piece: int = 1 << 20) -> int:
    """Copy a streamed body into ``sink``; the byte count.  A body shorter than
    its Content-Length is an error (http.client raises IncompleteRead)."""
    raw = response.raw
    assert raw is not None, "read_stream needs a response requested with stream=True"
    total = 0
    try:
        while True:
            data = raw.read(piece)
            if not data:
                break
            sink(data)
            total += len(data)
    except (http.client.IncompleteRead, OSError) as e:
        raise RegistryClientError(
            f"download of {response.url} was cut short after {total} bytes ({e})"
        ) from None
    finally:
        raw.close()
    return total


def chunks_of(
    data: bytes, size: int, on_piece: Callable[[int], None] | None = None
) -> Callable[[], Iterator[bytes]]:
    """A replayable chunked body over ``data`` that reports progress."""

    def generate() -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(data), size):
            piece = bytes(view[start : start + size])
            yield piece
            if on_piece:
                on_piece(len(piece))

    return generate
