"""``docker push`` / ``docker pull`` through the stepbox daemon, against the
stepbox registry (core/registry) started in this test process."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from stepbox.core.engine.client import json_messages
from stepbox.core.registry import server as registry_server

from .conftest import needs_docker_cli

pytestmark = needs_docker_cli


@pytest.fixture(scope="module")
def registry():
    root = tempfile.mkdtemp(prefix="sbx-registry-")
    server = registry_server.make_server("127.0.0.1:0", root)
    registry_server.serve_in_thread(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)


def test_push_then_pull_back(docker, registry):
    name = f"{registry.netloc}/team/bb:1"
    docker.ok("run", "--name", "to-push", "busybox", "sh", "-c", "echo pushed > /mark")
    docker.ok("commit", "to-push", name)
    docker.ok("rm", "to-push")
    pushed = docker("push", name)
    assert pushed.code == 0, pushed.err
    pushes = [r for r in registry.app.log if r.method == "PUT" and "/manifests/" in r.path]
    assert pushes, "the manifest reached the registry"
    docker.ok("rmi", name)
    pulled = docker("pull", name)
    assert pulled.code == 0, pulled.err
    assert docker.ok("run", "--rm", name, "cat", "/mark") == "pushed\n"
    docker.ok("rmi", name)


def test_pull_of_an_unknown_image_fails_cleanly(docker, registry):
    result = docker("pull", f"{registry.netloc}/team/nothing:1")
    assert result.code != 0 and result.err
    assert docker.ok("run", "--rm", "busybox", "echo", "fine") == "fine\n"


def test_push_and_pull_stream_progress_per_layer(docker, client, registry):
    """The daemon streams Docker's progress messages while bytes move: a
    ``progressDetail`` with current/total per layer, then its final word --
    what ``docker push``/``pull`` (and ``stepbox``) draw their bars from."""
    name = f"{registry.netloc}/team/progress:1"
    docker.ok("run", "--name", "big", "busybox", "sh", "-c", "head -c 3000000 /dev/urandom > /blob")
    docker.ok("commit", "big", name)
    docker.ok("rm", "big")

    def transfer(method, path, query=None):
        with client.stream(method, path, query=query) as reply:
            assert reply.status == 200
            return list(json_messages(reply.body))

    pushed = transfer("POST", f"/images/{name}/push")
    moving = [m for m in pushed if (m.get("progressDetail") or {}).get("total")]
    assert moving and all(m["status"] == "Pushing" for m in moving)
    layers = {m["id"] for m in moving if len(m["id"]) == 12}  # (and the image's "config")
    assert max(m["progressDetail"]["current"] for m in moving if m["id"] in layers) >= 3_000_000
    assert {m["id"] for m in pushed if m.get("status") == "Pushed"} >= {m["id"] for m in moving}
    assert not any("error" in m for m in pushed)

    docker.ok("rmi", name)
    pulled = transfer("POST", "/images/create", {"fromImage": name})
    moving = [m for m in pulled if (m.get("progressDetail") or {}).get("total")]
    assert moving and all(m["status"] == "Downloading" for m in moving)
    assert any(m.get("status") == "Pull complete" for m in pulled)
    docker.ok("rmi", name)
