"""Networks through the stepbox daemon, on the real kernel, inside a network namespace of the test's.

The issue's "done when", as a new user would type it: a published port
answers on the host's loopback; two containers on a user-defined network
reach each other by name while one on the default bridge cannot reach them;
and removing everything leaves no veth, rule or proxy behind.
"""

from __future__ import annotations

import json
import sys

import pytest

from .sandbox import stepbox, wait_for

pytestmark = [pytest.mark.linux, pytest.mark.slow]

HTTPD = "mkdir /www; echo hi from $(hostname) > /www/index.html; exec httpd -f -p 80 -h /www"


def _run(netd, *argv):
    out = stepbox(netd, *argv)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


FETCH = """
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode(), end="")
except OSError as e:
    sys.exit(f"{sys.argv[1]}: {e}")
"""


def _fetch(netns, url: str) -> str:
    """GET ``url`` from inside the test's namespace (the host's side)."""
    out = wait_for(lambda: netns.run([sys.executable, "-c", FETCH, url]).stdout, timeout=10)
    return out.strip()


def _veths(netns) -> list[str]:
    return [name for name in netns.links() if name.startswith("veth")]


def test_a_published_port_answers_on_loopback_and_goes_with_the_container(netd, netns):
    _run(
        netd,
        "run",
        "-d",
        "--name",
        "web",
        "--hostname",
        "web1",
        "-p",
        "8080:80",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    )
    try:
        assert _fetch(netns, "http://127.0.0.1:8080/") == "hi from web1"
        assert _run(netd, "port", "web") == "80/tcp -> 0.0.0.0:8080"
        assert _run(netd, "port", "web", "80") == "0.0.0.0:8080"
        doc = json.loads(_run(netd, "inspect", "web"))[0]
        settings = doc["NetworkSettings"]
        assert settings["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
        assert settings["IPAddress"] == settings["Networks"]["bridge"]["IPAddress"]
        assert settings["Networks"]["bridge"]["Gateway"] == "172.17.0.1"
        # the other address of the host (the bridge's): through the DNAT rule, not the proxy's socket
        assert _fetch(netns, "http://172.17.0.1:8080/") == "hi from web1"
        inside = _run(netd, "exec", "web", "cat", "/etc/hosts")
        assert f"{settings['IPAddress']}\tweb1" in inside
        assert "dnat to" in netns.nft() and len(_veths(netns)) == 1
        assert ":8080" in netns.listening()
    finally:
        _run(netd, "rm", "-f", "web")
    assert _veths(netns) == []
    assert "dnat to" not in netns.nft()
    assert ":8080" not in netns.listening()


def test_an_ephemeral_port_and_publish_all(netd, netns):
    _run(netd, "run", "-d", "--name", "eph", "-p", "80", "--expose", "81", "-P", "busybox", "sh", "-c", HTTPD)
    try:
        ports = json.loads(_run(netd, "inspect", "-f", "{{json .NetworkSettings.Ports}}", "eph"))
        assert set(ports) == {"80/tcp", "81/tcp"}
        host_port = ports["80/tcp"][0]["HostPort"]
        assert int(host_port) > 1024 and host_port != ports["81/tcp"][0]["HostPort"]
        assert _fetch(netns, f"http://127.0.0.1:{host_port}/").startswith("hi from")
    finally:
        _run(netd, "rm", "-f", "eph")


def test_a_host_port_in_use_is_a_clear_error_and_leaves_nothing_half_wired(netd, netns):
    _run(netd, "run", "-d", "--name", "first", "-p", "8090:80", "busybox", "sh", "-c", HTTPD)
    try:
        rules_before, veths_before = netns.nft(), _veths(netns)
        out = stepbox(netd, "run", "-d", "--name", "second", "-p", "8090:80", "busybox", "sleep", "60")
        assert out.returncode == 125
        assert "Bind for 0.0.0.0:8090 failed: port is already allocated" in out.stderr
        assert _veths(netns) == veths_before and netns.nft() == rules_before
        second = json.loads(_run(netd, "inspect", "second"))[0]
        assert second["State"]["Status"] == "created"
        assert second["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == ""
        assert _fetch(netns, "http://127.0.0.1:8090/").startswith("hi from")  # the first still serves
    finally:
        _run(netd, "rm", "-f", "first", "second")


def test_containers_on_a_network_reach_each_other_by_name_and_the_bridge_cannot(netd, netns):
    _run(netd, "network", "create", "n1")
    try:
        _run(netd, "run", "-d", "--name", "a", "--network", "n1", "busybox", "sh", "-c", HTTPD)
        _run(
            netd,
            "run",
            "-d",
            "--name",
            "b",
            "--network",
            "n1",
            "--network-alias",
            "bee",
            "busybox",
            "sleep",
            "300",
        )
        _run(netd, "run", "-d", "--name", "c", "busybox", "sleep", "300")
        assert wait_for(
            lambda: (
                "hi from" in stepbox(netd, "exec", "b", "timeout", "5", "wget", "-qO-", "http://a/").stdout
            )
        )
        assert stepbox(netd, "exec", "a", "ping", "-c1", "-W2", "bee").returncode == 0
        resolv = _run(netd, "exec", "a", "cat", "/etc/resolv.conf")
        assert "nameserver 127.0.0.11" in resolv
        a_ip = _run(netd, "inspect", "-f", "{{.NetworkSettings.Networks.n1.IPAddress}}", "a")
        assert stepbox(netd, "exec", "c", "ping", "-c1", "-W2", a_ip).returncode != 0  # isolation
        assert stepbox(netd, "exec", "c", "nslookup", "a").returncode != 0  # no names on the default bridge
        out = stepbox(netd, "network", "rm", "n1")
        assert out.returncode == 1 and "has active endpoints" in out.stderr  # docker: 1 but for run
        # connect c: now it can, by name; disconnect: eth1 goes again
        _run(netd, "network", "connect", "--alias", "sea", "n1", "c")
        assert stepbox(netd, "exec", "c", "ping", "-c1", "-W2", "a").returncode == 0
        assert stepbox(netd, "exec", "a", "ping", "-c1", "-W2", "sea").returncode == 0
        assert "eth1" in _run(netd, "exec", "c", "cat", "/proc/net/dev")
        _run(netd, "network", "disconnect", "n1", "c")
        assert "eth1" not in _run(netd, "exec", "c", "cat", "/proc/net/dev")
        network = json.loads(_run(netd, "network", "inspect", "n1"))[0]
        assert sorted(v["Name"] for v in network["Containers"].values()) == ["a", "b"]
    finally:
        _run(netd, "rm", "-f", "a", "b", "c")
        stepbox(netd, "network", "rm", "n1")
    assert _veths(netns) == [] and not [n for n in netns.links() if n.startswith("br-")]


def test_containers_started_at_once_get_their_own_addresses_and_rules(netd, netns):
    # Each start holds only its own container's lock: the network manager's
    # lock must keep two of them from choosing one address, and the packet
    # rules (replaced whole) from losing one start's ports to another's.
    from concurrent.futures import ThreadPoolExecutor

    names = [f"par{i}" for i in range(6)]
    _run(netd, "network", "create", "npar")
    try:
        with ThreadPoolExecutor(len(names)) as pool:
            outs = list(
                pool.map(
                    lambda n: stepbox(
                        netd,
                        "run",
                        "-d",
                        "--name",
                        n,
                        "--network",
                        "npar",
                        "-p",
                        "80",
                        "busybox",
                        "sleep",
                        "300",
                    ),
                    names,
                )
            )
        assert all(out.returncode == 0 for out in outs), [out.stderr for out in outs]
        addresses = [
            _run(netd, "inspect", "-f", "{{.NetworkSettings.Networks.npar.IPAddress}}", n) for n in names
        ]
        assert all(addresses) and len(set(addresses)) == len(names), addresses
        rules = netns.nft()
        for address in addresses:
            assert f"dnat to {address}:80" in rules, (address, rules)
        assert len(_veths(netns)) == len(names)
    finally:
        _run(netd, "rm", "-f", *names)
        stepbox(netd, "network", "rm", "npar")
    assert _veths(netns) == [] and "dnat to" not in netns.nft()


def test_network_create_options_inspect_ls_and_prune(netd, netns):
    nid = _run(
        netd, "network", "create", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254",
        "--ip-range", "10.77.0.128/25", "--label", "team=red", "-o", "com.docker.network.bridge.name=red0", "red",
    )  # fmt: skip
    try:
        doc = json.loads(_run(netd, "network", "inspect", "red"))[0]
        assert doc["Id"] == nid and doc["Driver"] == "bridge" and doc["Labels"] == {"team": "red"}
        assert doc["IPAM"]["Config"] == [
            {"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254", "IPRange": "10.77.0.128/25"}
        ]
        assert doc["Options"] == {"com.docker.network.bridge.name": "red0"}
        assert "red0" in netns.links()
        _run(netd, "run", "-d", "--name", "r1", "--network", "red", "busybox", "sleep", "300")
        _run(
            netd,
            "run",
            "-d",
            "--name",
            "r2",
            "--network",
            "red",
            "--ip",
            "10.77.0.200",
            "busybox",
            "sleep",
            "300",
        )
        ips = [
            _run(netd, "inspect", "-f", "{{.NetworkSettings.Networks.red.IPAddress}}", n)
            for n in ("r1", "r2")
        ]
        assert ips == ["10.77.0.128", "10.77.0.200"]
        assert _run(netd, "network", "ls", "-q", "-f", "label=team=red") == nid[:12]
        assert _run(netd, "network", "ls", "--format", "{{.Name}}", "-f", "name=re") == "red"
        out = stepbox(netd, "run", "--rm", "--ip", "10.77.0.5", "busybox", "true")
        assert out.returncode == 125 and "user defined networks only" in out.stderr
        _run(netd, "rm", "-f", "r1", "r2")
        assert _run(netd, "network", "prune", "-f").splitlines() == ["Deleted Networks:", "red"]
        assert "red0" not in netns.links()
    finally:
        stepbox(netd, "rm", "-f", "r1", "r2")
        stepbox(netd, "network", "rm", "red")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["network", "create", "--subnet", "10.1.0.1/16", "x"], "host bits"),
        (["network", "create", "-d", "overlay", "x"], "only bridge"),
        (["network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "x"], "not supported"),
        (["network", "create", "bridge"], "pre-defined"),
        (["network", "rm", "none"], "pre-defined"),
        (["network", "rm", "nosuch"], "network nosuch not found"),
        (["run", "--rm", "--network", "nosuch", "busybox", "true"], "network nosuch not found"),
        (["run", "--rm", "-p", "80:80/sctp", "busybox", "true"], "invalid proto"),
        (["run", "--rm", "--add-host", "x:nope", "busybox", "true"], "invalid IP address"),
    ],
)
def test_bad_requests_are_refused_by_name(netd, argv, message):
    out = stepbox(netd, *argv)
    assert out.returncode == (125 if argv[0] == "run" else 1), out  # as docker's CLI
    assert message in out.stderr


def test_dns_add_host_and_none(netd):
    out = _run(
        netd, "run", "--rm", "--dns", "10.9.9.9", "--dns-search", "corp.test", "--add-host", "db:10.0.0.5",
        "busybox", "sh", "-c", "cat /etc/resolv.conf /etc/hosts",
    )  # fmt: skip
    assert "nameserver 10.9.9.9" in out and "search corp.test" in out and "10.0.0.5\tdb" in out
    none = _run(netd, "run", "--rm", "--network", "none", "busybox", "cat", "/proc/net/dev")
    assert "eth0" not in none and "lo" in none


def test_network_responses_match_the_swagger_schema(netd):
    from tests.engine import swagger

    client = netd.client()
    created = client.request(
        "POST", "/networks/create", body={"Name": "schema-net", "Labels": {"a": "b"}, "Internal": True}
    ).json()
    swagger.validate(created, "/networks/create", "post", 201)
    cid = client.create(
        {
            "Image": "busybox",
            "Cmd": ["sleep", "300"],
            "ExposedPorts": {"81/udp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "8484"}]}, "NetworkMode": "bridge"},
        }
    )
    try:
        client.start(cid)
        client.request(
            "POST",
            "/networks/schema-net/connect",
            body={"Container": cid, "EndpointConfig": {"Aliases": ["s"]}},
        )
        inspect = client.inspect(cid)
        swagger.validate(inspect, "/containers/{id}/json")
        assert inspect["NetworkSettings"]["Ports"] == {
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8484"}],
            "81/udp": None,
        }
        swagger.validate(client.containers(all_=True), "/containers/json")
        swagger.validate(client.request("GET", "/networks").json(), "/networks")
        swagger.validate(client.request("GET", "/networks/schema-net").json(), "/networks/{id}")
    finally:
        client.remove(cid, force=True)
    pruned = client.request("POST", "/networks/prune").json()
    assert pruned == {"NetworksDeleted": ["schema-net"]}
    swagger.validate(pruned, "/networks/prune", "post")


@pytest.mark.parametrize("mode", ["none", "host"])
def test_ports_cannot_be_published_without_a_network_to_forward_to(netd, mode):
    out = stepbox(netd, "run", "--rm", "--network", mode, "-p", "8585:80", "busybox", "true")
    assert out.returncode == 125 and "conflicting options: port publishing" in out.stderr


def test_stepbox_step_walks_through_the_network_steps(tmp_path):
    """`stepbox step` runs the same plan in its own process: its network
    steps wire a real veth, shown with the netlink calls they made."""

    from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

    from .sandbox import Netns

    if not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    netns = Netns()
    try:
        _step_in(netns, tmp_path)
    finally:
        netns.delete()


def _step_in(netns, tmp_path):
    import os
    import shutil

    exe = shutil.which("stepbox", path=os.path.dirname(sys.executable))
    env = {**os.environ, "STEPBOX_BRIDGE": "stepbox0"}
    root = str(tmp_path / "root")
    out = netns.run(
        [exe, "--backend", "linux", "--root", root, "step", "-y", "busybox", "ip", "-o", "-4", "addr"],
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for title in ("Choose the container's address (IPAM)", "Create a veth pair", "Add the default route"):
        assert title in out.stdout
    assert "ip link add veth" in out.stdout and "eth0    inet 172.17.0.2/16" in out.stdout
    assert [n for n in netns.links() if n.startswith("veth")] == []


PEER_SERVER = """
import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.client_address[0].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
server = http.server.HTTPServer(("198.51.100.2", 9000), Echo)
server.timeout = 30
server.handle_request()
"""


def test_outbound_traffic_is_masqueraded_and_internal_networks_have_no_way_out(netd, netns):
    """An "outside" namespace of the test's, cabled to the daemon's: a
    container's request leaves with the host's address (masquerade)."""
    import subprocess

    from .sandbox import Netns

    outside = Netns()
    try:
        netns.run(["ip", "link", "add", "sbout0", "type", "veth", "peer", "name", "sbout1"], check=True)
        netns.run(["ip", "link", "set", "sbout1", "netns", outside.path], check=True)
        netns.run(["ip", "addr", "add", "198.51.100.1/24", "dev", "sbout0"], check=True)
        netns.run(["ip", "link", "set", "sbout0", "up"], check=True)
        outside.run(["ip", "addr", "add", "198.51.100.2/24", "dev", "sbout1"], check=True)
        outside.run(["ip", "link", "set", "sbout1", "up"], check=True)
        server = subprocess.Popen([*outside.enter, sys.executable, "-c", PEER_SERVER])
        try:
            seen = wait_for(
                lambda: (
                    stepbox(
                        netd, "run", "--rm", "busybox", "wget", "-qO-", "http://198.51.100.2:9000/"
                    ).stdout
                )
            )
            assert seen == "198.51.100.1"  # not 172.17.0.x: masqueraded on the way out
        finally:
            server.kill()
            server.wait()
        _run(netd, "network", "create", "--internal", "sealed")
        try:
            out = stepbox(
                netd, "run", "--rm", "--network", "sealed", "busybox", "ping", "-c1", "-W1", "198.51.100.2"
            )
            assert out.returncode != 0 and "Network is unreachable" in out.stdout + out.stderr
        finally:
            stepbox(netd, "network", "rm", "sealed")
    finally:
        netns.run(["ip", "link", "del", "sbout0"])
        outside.delete()


def test_mac_address_is_the_one_asked_for(netd):
    out = _run(
        netd,
        "run",
        "--rm",
        "--mac-address",
        "92:d0:c6:0a:29:33",
        "busybox",
        "cat",
        "/sys/class/net/eth0/address",
    )
    assert out == "92:d0:c6:0a:29:33"
    bad = stepbox(netd, "run", "--rm", "--mac-address", "nope", "busybox", "true")
    assert bad.returncode == 125 and "not a valid mac address" in bad.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--bip", "nonsense"], "invalid --bip nonsense"),
        (["--bip", "10.0.0.0/24"], "must be a host of the subnet"),
        (["--bridge", "none", "--bip", "10.0.0.1/24"], "cannot be used with --bridge=none"),
        (["--bridge", "a-name-far-too-long"], "at most 15 characters"),
        (["--default-address-pool", "base=10.0.0.0/8"], "both base and size"),
    ],
)
def test_bad_daemon_network_options_stop_it_before_anything_is_built(tmp_path, args, message):
    import os
    import shutil
    import subprocess

    exe = shutil.which("stepbox", path=os.path.dirname(sys.executable))
    out = subprocess.run(
        [exe, "--root", str(tmp_path / "root"), "daemon", "--backend", "sim", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1 and message in out.stderr


def test_network_container_mode_shares_the_namespace_as_docker_does(netd):
    """``--network container:web``: the same interfaces and address as web,
    its hostname and /etc/hosts, and its server on localhost."""
    _run(netd, "network", "create", "podnet")
    try:
        _run(netd, "run", "-d", "--name", "podweb", "--network", "podnet", "busybox", "sh", "-c", HTTPD)
        web_ip = _run(netd, "inspect", "-f", "{{.NetworkSettings.Networks.podnet.IPAddress}}", "podweb")
        side = "sh -c 'ip -o -4 addr show eth0; hostname; wget -qO- http://127.0.0.1/'"
        out = wait_for(
            lambda: (
                stepbox(
                    netd, "run", "--rm", "--network", "container:podweb", "busybox", "sh", "-c", side
                ).stdout
            ),
            timeout=20,
        )
        assert f"inet {web_ip}/" in out
        assert "hi from " in out  # its httpd, on the shared localhost
        hostname = _run(netd, "inspect", "-f", "{{.Config.Hostname}}", "podweb")
        assert out.splitlines()[1] == hostname
        mode = _run(netd, "create", "--network", "container:podweb", "busybox", "true")
        assert _run(netd, "inspect", "-f", "{{.HostConfig.NetworkMode}}", mode) == "container:podweb"
        _run(netd, "rm", mode)
        # What dockerd refuses, by name.
        for argv, message in (
            (("-p", "81:80"), "conflicting options: port publishing and the container type network mode"),
            (("--hostname", "x"), "conflicting options: hostname and the network mode"),
            (("--dns", "1.1.1.1"), "conflicting options: dns and the network mode"),
        ):
            out = stepbox(netd, "run", "--rm", *argv, "--network", "container:podweb", "busybox", "true")
            assert out.returncode == 125 and message in out.stderr, out.stderr
        out = stepbox(netd, "run", "--rm", "--network", "container:nosuch", "busybox", "true")
        assert out.returncode != 0 and "No such container: nosuch" in out.stderr, out.stderr
        _run(netd, "create", "--name", "podstopped", "busybox", "true")
        out = stepbox(netd, "run", "--rm", "--network", "container:podstopped", "busybox", "true")
        assert "cannot join network of a non running container: podstopped" in out.stderr, out.stderr
    finally:
        stepbox(netd, "rm", "-f", "podweb", "podstopped")
        stepbox(netd, "network", "rm", "podnet")
