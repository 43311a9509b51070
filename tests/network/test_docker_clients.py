"""The real clients on stepbox's networks: the docker CLI, docker-py, docker-compose 1.29.

All inside the test's own network namespace; compose creates its project
network with labels, re-inspects it, connects its services with aliases and
removes everything on ``down``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.engine.conftest import DOCKER, DockerCLI

from .sandbox import daemon_in, stepbox, wait_for
from .test_daemon_networks import HTTPD, _fetch, _veths

pytestmark = [pytest.mark.linux, pytest.mark.slow]

COMPOSE = shutil.which("docker-compose")

COMPOSE_FILE = """\
version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir /www; echo hello from web > /www/index.html; exec httpd -f -p 80 -h /www'
  client:
    image: busybox
    depends_on: [web]
    command: sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/ && exit 0; sleep 0.5; done; exit 1'
"""


@pytest.fixture(scope="module")
def docker(netd):
    if DOCKER is None:
        pytest.skip("the docker CLI is not installed")
    config_dir = tempfile.mkdtemp(prefix="sbx-docker-config-")
    try:
        yield DockerCLI(netd, config_dir)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def test_docker_cli_publishes_and_manages_networks(docker, netns):
    docker.ok("run", "-d", "--name", "dweb", "-p", "127.0.0.1:8181:80", "busybox", "sh", "-c", HTTPD)
    try:
        assert _fetch(netns, "http://127.0.0.1:8181/").startswith("hi from")
        assert docker.ok("port", "dweb").strip() == "80/tcp -> 127.0.0.1:8181"
        assert "127.0.0.1:8181->80/tcp" in docker.ok("ps")
        # the CLI sends --mac-address in EndpointsConfig["default"]
        mac = docker.ok(
            "run",
            "--rm",
            "--mac-address",
            "92:d0:c6:0a:29:34",
            "busybox",
            "cat",
            "/sys/class/net/eth0/address",
        )
        assert mac.strip() == "92:d0:c6:0a:29:34"
    finally:
        docker.ok("rm", "-f", "dweb")
    nid = docker.ok("network", "create", "--subnet", "10.88.0.0/24", "--label", "x=y", "dn").strip()
    try:
        assert docker.ok("network", "ls", "-q", "--filter", "label=x=y").split() == [nid[:12]]
        doc = json.loads(docker.ok("network", "inspect", "dn"))[0]
        assert doc["IPAM"]["Config"][0]["Subnet"] == "10.88.0.0/24" and doc["Labels"] == {"x": "y"}
        docker.ok(
            "run",
            "-d",
            "--name",
            "d1",
            "--network",
            "dn",
            "--network-alias",
            "one",
            "busybox",
            "sleep",
            "300",
        )
        out = docker.ok("run", "--rm", "--network", "dn", "busybox", "nslookup", "one")
        assert "10.88.0.2" in out
        ip = docker.ok("inspect", "-f", "{{.NetworkSettings.Networks.dn.IPAddress}}", "d1").strip()
        assert ip == "10.88.0.2"
        rm = docker("network", "rm", "dn")
        assert rm.code == 1 and "active endpoints" in rm.err
        docker.ok("network", "disconnect", "dn", "d1")
        docker.ok("network", "connect", "--ip", "10.88.0.9", "dn", "d1")
        assert (
            docker.ok("inspect", "-f", "{{.NetworkSettings.Networks.dn.IPAddress}}", "d1").strip()
            == "10.88.0.9"
        )
    finally:
        docker("rm", "-f", "d1")
        docker("network", "rm", "dn")


def test_docker_sdk_ports_and_networks(netd, netns):
    docker_sdk = pytest.importorskip("docker")
    client = docker_sdk.DockerClient(base_url=netd.host)
    network = client.networks.create("sdknet", labels={"k": "v"})
    try:
        container = client.containers.run(
            "busybox",
            ["sh", "-c", HTTPD],
            detach=True,
            name="sdkweb",
            network="sdknet",
            ports={"80/tcp": 8282},
        )
        container.reload()
        assert container.ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8282"}]}
        assert _fetch(netns, "http://127.0.0.1:8282/").startswith("hi from")
        network.reload()
        assert [c.name for c in network.containers] == ["sdkweb"]
        assert client.networks.get("sdknet").attrs["Labels"] == {"k": "v"}
    finally:
        for name in ("sdkweb",):
            try:
                client.containers.get(name).remove(force=True)
            except docker_sdk.errors.NotFound:
                pass
        network.remove()
        client.close()


@pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is not installed (apt-get install docker-compose)"
)
def test_compose_up_and_down(netd, netns):
    project = tempfile.mkdtemp(prefix="sbx-compose-")
    env = {**os.environ, "DOCKER_HOST": netd.host, "COMPOSE_PROJECT_NAME": "demo"}
    try:
        with open(os.path.join(project, "docker-compose.yml"), "w") as f:
            f.write(COMPOSE_FILE)
        up = subprocess.run(
            [COMPOSE, "up", "--exit-code-from", "client", "--timeout", "1"],
            cwd=project, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        assert "hello from web" in up.stdout
        networks = json.loads(stepbox(netd, "network", "inspect", "demo_default").stdout)
        assert networks[0]["Labels"]["com.docker.compose.project"] == "demo"
        # a second `up` re-inspects the network and must find it unchanged
        again = subprocess.run(
            [COMPOSE, "up", "-d", "web"], cwd=project, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "Recreating" not in again.stderr and "needs to be recreated" not in again.stderr
    finally:
        down = subprocess.run(
            [COMPOSE, "down", "--timeout", "1"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        shutil.rmtree(project, ignore_errors=True)
    assert down.returncode == 0, down.stderr
    assert stepbox(netd, "ps", "-aq").stdout.strip() == ""
    assert "demo_default" not in stepbox(netd, "network", "ls").stdout
    assert _veths(netns) == [] and not [n for n in netns.links() if n.startswith("br-")]
    assert "dnat" not in netns.nft()


def test_a_daemon_restart_restores_the_proxy_and_kill_9_blocks_nothing(netns):
    d = daemon_in(netns)
    try:
        out = stepbox(d, "run", "-d", "--name", "keep", "-p", "8383:80", "busybox", "sh", "-c", HTTPD)
        assert out.returncode == 0, out.stderr
        assert stepbox(d, "network", "create", "kept").returncode == 0
        for name in ("k1", "k2"):
            assert (
                stepbox(
                    d, "run", "-d", "--name", name, "--network", "kept", "busybox", "sleep", "300"
                ).returncode
                == 0
            )

        def names_resolve():
            return stepbox(d, "exec", "k1", "nslookup", "k2").returncode == 0

        assert _fetch(netns, "http://127.0.0.1:8383/").startswith("hi from") and names_resolve()
        d.stop()  # SIGTERM: the proxy and the DNS server go with the daemon, the containers stay
        assert wait_for(lambda: ":8383" not in netns.listening())
        d.start()
        assert _fetch(netns, "http://127.0.0.1:8383/").startswith("hi from") and names_resolve()
        d.kill()  # -9: nothing is cleaned up
        d.start()
        assert _fetch(netns, "http://127.0.0.1:8383/").startswith("hi from") and names_resolve()
        assert "stepbox0" in netns.links() and len(_veths(netns)) == 3
    finally:
        d.remove_all_containers()
        stepbox(d, "network", "rm", "kept")
        d.cleanup()
    assert _veths(netns) == [] and not [n for n in netns.links() if n.startswith("br-")]
