"""Fixtures for the registry tests: a real stepbox registry on 127.0.0.1:0,
image stores in temporary directories, credentials kept out of $HOME."""

from __future__ import annotations

import pytest
from stepbox.core.image.store import ImageStore
from stepbox.core.registry.client import RegistryClient
from stepbox.core.registry.server import make_server, serve_in_thread

from .helpers import Http


@pytest.fixture(autouse=True)
def private_credentials(tmp_path, monkeypatch):
    """login/push must never read or write the real ~/.stepbox or ~/.docker."""
    monkeypatch.setenv("STEPBOX_CONFIG", str(tmp_path / "stepbox-config"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("STEPBOX_INSECURE_REGISTRIES", raising=False)


@pytest.fixture
def start_registry(tmp_path):
    """Start stepbox registries (torn down even when the test fails)."""
    servers = []

    def start(htpasswd: str | None = None, root=None, **options):
        server = make_server(
            "127.0.0.1:0", str(root or tmp_path / f"registry{len(servers)}"), htpasswd, **options
        )
        serve_in_thread(server)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def registry(start_registry):
    return start_registry()


@pytest.fixture
def http(registry):
    return Http(registry.netloc)


@pytest.fixture
def deletable(start_registry):
    """A registry started with --enable-delete, and raw HTTP to it."""
    server = start_registry(allow_delete=True)
    return server, Http(server.netloc)


@pytest.fixture
def new_store(tmp_path):
    count = [0]

    def make() -> ImageStore:
        count[0] += 1
        return ImageStore(str(tmp_path / f"state{count[0]}" / "images"))

    return make


@pytest.fixture
def client_for():
    def make(store: ImageStore) -> RegistryClient:
        return RegistryClient(store, progress=False)

    return make
