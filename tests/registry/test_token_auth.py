"""Docker's Bearer-token flow, against a token server and registry run here.

The registry answers 401 with ``WWW-Authenticate: Bearer realm=…,service=…,
scope=…``; the client asks the token server (with Basic credentials if it has
some), then repeats the request with ``Authorization: Bearer <token>``.  This
is how Docker Hub is reached; the test needs no internet.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from stepbox.core.http_server.messages import Response
from stepbox.core.registry.challenge import parse_challenge
from stepbox.core.registry.credentials import Credentials, store_credentials
from stepbox.core.registry.errors import AuthenticationRequired
from stepbox.core.registry.routes import route
from stepbox.core.registry.server import make_server

from .helpers import layer, make_image

PULL_TOKEN, PUSH_TOKEN = "token-for-pull", "token-for-push"


class TokenServer:
    """Grants ``pull`` to anyone and ``push`` to bob:secret, like a public
    repository on a hosted registry."""

    def __init__(self):
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else None
                owner.requests.append({"query": query, "user": user})
                wants_push = any("push" in s for s in query.get("scope", []))
                if wants_push and user != "bob:secret":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(
                    {"token": PUSH_TOKEN if wants_push else PULL_TOKEN, "expires_in": 300}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def realm(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/token"


@pytest.fixture
def token_setup(tmp_path):
    tokens = TokenServer()
    registry = make_server("127.0.0.1:0", str(tmp_path / "registry"))
    registry_app = registry.app

    def bearer_gate(request):
        """The stepbox registry behind a token check: reads need a token,
        writes need the push token."""
        granted = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        writing = request.method in ("POST", "PUT", "PATCH", "DELETE")
        if granted == PUSH_TOKEN or (granted == PULL_TOKEN and not writing):
            return registry_app(request)
        where = route(urlsplit(request.target).path)
        repo = where.name if where else ""
        scope = f',scope="repository:{repo}:{"pull,push" if writing else "pull"}"' if repo else ""
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        challenge = f'Bearer realm="{tokens.realm}",service="test-registry"{scope}'
        return Response(401, body, "application/json", {"WWW-Authenticate": challenge}, close=True)

    registry.app = bearer_gate
    registry.serve_in_thread()
    yield registry, tokens
    registry.close()
    tokens.server.shutdown()
    tokens.server.server_close()


def test_parse_challenge():
    c = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert c.scheme == "bearer"
    assert c.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:samalba/my-app:pull,push",
    }
    assert parse_challenge('Basic realm="x y", charset="UTF-8"').params == {
        "realm": "x y",
        "charset": "UTF-8",
    }
    assert parse_challenge("") is None


def test_push_needs_credentials_then_anonymous_pull_works(
    token_setup, new_store, client_for, monkeypatch, tmp_path
):
    registry, tokens = token_setup
    store = new_store()
    name = f"{registry.netloc}/team/app:1"
    image = make_image(store, name, [layer({"a": b"1"})])
    with pytest.raises(AuthenticationRequired, match="token server"):
        client_for(store).push(name)
    store_credentials(registry.netloc, Credentials("bob", "secret"))
    client_for(store).push(name)
    push_request = tokens.requests[-1]
    assert push_request["user"] == "bob:secret"
    assert push_request["query"]["service"] == ["test-registry"]
    assert "repository:team/app:pull,push" in push_request["query"]["scope"]
    # Pull, anonymously, from another machine (no stored credentials there).
    monkeypatch.setenv("STEPBOX_CONFIG", str(tmp_path / "elsewhere"))
    tokens.requests.clear()
    assert client_for(new_store()).pull(name).image.id == image.id
    assert tokens.requests and all(r["user"] is None for r in tokens.requests)
    assert all(r["query"]["scope"] == ["repository:team/app:pull"] for r in tokens.requests)
