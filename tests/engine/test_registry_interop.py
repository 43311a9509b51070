"""``docker push`` / ``docker pull`` through the stepbox daemon, against the
stepbox registry (core/registry) started in this test process."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from .conftest import needs_docker_cli

registry_server = pytest.importorskip("stepbox.core.registry.server",
                                      reason="core/registry is not in this checkout")
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
