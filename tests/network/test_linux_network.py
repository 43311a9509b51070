"""``LinuxNetwork`` on the real kernel, acting in a network namespace of the test's.

The backend is told to act in the test's namespace (``netns_path``), so the
test process itself never leaves the host's -- and nothing it builds does.
A second namespace, a ``sleep`` under ``unshare --net`` inside the first,
plays the container.
"""

from __future__ import annotations

import errno
import subprocess
import time

import pytest
from stepbox.core.kernel import BridgeRules, Firewall, PortRule, Tracer

pytestmark = [pytest.mark.linux]


@pytest.fixture
def net(netns):
    from stepbox.backends.linux.network import LinuxNetwork

    n = LinuxNetwork(Tracer(), netns_path=netns.path, table="stepbox_unit")
    try:
        yield n
    finally:
        for name in ("sbu0", "vethu1"):
            try:
                n.delete_link(name)
            except OSError:
                pass
        n.apply_firewall(Firewall())
        n.close()


@pytest.fixture
def container(netns):
    """A process in a network namespace of its own, inside the test's."""
    proc = subprocess.Popen([*netns.enter, "unshare", "--net", "--fork", "--kill-child", "sleep", "60"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            children = subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
            ).stdout.split()
            grandchildren = [
                p
                for c in children
                for p in subprocess.run(["pgrep", "-P", c], capture_output=True, text=True).stdout.split()
            ]
            if grandchildren or children:
                pid = int((grandchildren or children)[0])
                if open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"sleep"):
                    yield pid
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the container stand-in did not start")
    finally:
        proc.kill()
        proc.wait()


def test_wiring_a_container_by_hand_and_what_each_side_sees(net, container):
    net.create_bridge("sbu0")
    net.add_address("sbu0", "10.123.0.1/24")
    net.set_up("sbu0")
    net.create_veth("vethu1", "vpeeru1")
    net.set_master("vethu1", "sbu0")
    net.set_up("vethu1")
    net.move_to_netns("vpeeru1", container, "eth0")
    net.set_up("lo", netns=container)
    net.add_address("eth0", "10.123.0.2/24", netns=container)
    net.set_up("eth0", netns=container, mac="02:42:0a:7b:00:02")
    net.add_default_route("10.123.0.1", "eth0", netns=container)

    host = net.view()
    assert host.interface("sbu0").kind == "bridge" and host.interface("sbu0").addresses == ("10.123.0.1/24",)
    assert host.interface("vethu1").master == "sbu0" and host.interface("vethu1").up
    assert host.interface("vpeeru1") is None  # moved away
    inside = net.view(container)
    assert [i.name for i in inside.interfaces] == ["eth0", "lo"]
    eth0 = inside.interface("eth0")
    assert (eth0.kind, eth0.mac, eth0.addresses, eth0.up) == (
        "veth",
        "02:42:0a:7b:00:02",
        ("10.123.0.2/24",),
        True,
    )
    assert [r.to_dict() for r in inside.routes] == [
        {"destination": "10.123.0.0/24", "device": "eth0", "gateway": ""},
        {"destination": "default", "device": "eth0", "gateway": "10.123.0.1"},
    ]
    calls = [op.detail for op in net.tracer.ops]
    assert f"ip link set vpeeru1 netns {container} name eth0" in calls

    # a socket the engine serves from inside the container's namespace (the DNS server's way)
    server = net.open_socket("udp", "127.0.0.11", 53, netns=container)
    try:
        assert ("udp", "127.0.0.11", 53) in [
            (s.proto, s.address, s.port) for s in net.view(container).sockets
        ]
        assert not [s for s in net.view().sockets if s.port == 53]
    finally:
        server.close()
    # and a connection from the host's side to the container's address
    listener = net.open_socket("tcp", "10.123.0.2", 0, netns=container)
    try:
        port = listener.getsockname()[1]
        client = net.connect("tcp", "10.123.0.2", port)
        client.close()
    finally:
        listener.close()

    net.delete_link("vethu1")  # takes eth0 with it
    assert [i.name for i in net.view(container).interfaces] == ["lo"]


def test_errors_carry_the_kernels_errno(net):
    net.create_bridge("sbu0")
    with pytest.raises(OSError) as exists:
        net.create_bridge("sbu0")
    assert exists.value.errno == errno.EEXIST
    with pytest.raises(OSError) as missing:
        net.delete_link("nosuch0")
    assert missing.value.errno == errno.ENODEV
    taken = net.open_socket("tcp", "127.0.0.1", 0)
    try:
        with pytest.raises(OSError) as in_use:
            net.open_socket("tcp", "127.0.0.1", taken.getsockname()[1])
        assert in_use.value.errno == errno.EADDRINUSE
    finally:
        taken.close()


def test_the_firewall_is_one_table_replaced_at_once(net, netns):
    rules = Firewall(
        (BridgeRules("sbu0", "10.123.0.0/24"),),
        (PortRule("tcp", "0.0.0.0", 8080, "10.123.0.2", 80, "sbu0"),),
    )
    net.apply_firewall(rules)
    text = net.firewall_text()
    assert "table ip stepbox_unit" in text and "dnat to 10.123.0.2:80" in text
    assert "stepbox_unit" in netns.nft()
    net.apply_firewall(Firewall((BridgeRules("sbu0", "10.123.0.0/24"),)))
    assert "dnat" not in net.firewall_text() and "masquerade" in net.firewall_text()
    net.apply_firewall(Firewall())
    assert net.firewall_text() == "" and "stepbox_unit" not in netns.nft()
    assert (
        "stepbox_unit" not in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    )


def test_forwarding_is_switched_on_in_the_engines_namespace_only(net, netns):
    netns.run(["sysctl", "-qw", "net.ipv4.ip_forward=0"], check=True)
    net.enable_forwarding()
    assert netns.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"


def test_the_userland_proxy_relays_tcp_and_udp(net):
    from stepbox.core.network.services import ServiceLoop, TcpProxy, UdpProxy

    services = ServiceLoop()
    backend_tcp = net.open_socket("tcp", "127.0.0.1", 0)
    backend_udp = net.open_socket("udp", "127.0.0.1", 0)
    t_port, u_port = backend_tcp.getsockname()[1], backend_udp.getsockname()[1]
    tcp = TcpProxy(
        services, net.open_socket("tcp", "127.0.0.1", 0), lambda: net.connect("tcp", "127.0.0.1", t_port)
    )
    udp = UdpProxy(
        services, net.open_socket("udp", "127.0.0.1", 0), lambda: net.connect("udp", "127.0.0.1", u_port)
    )
    try:
        client = net.connect("tcp", "127.0.0.1", tcp.listener.getsockname()[1])
        backend_tcp.setblocking(True)
        conn, _ = backend_tcp.accept()
        client.sendall(b"ping")
        assert conn.recv(4) == b"ping"
        conn.sendall(b"pong")
        assert client.recv(4) == b"pong"
        client.close()
        conn.close()

        sender = net.connect("udp", "127.0.0.1", udp.listener.getsockname()[1])
        sender.send(b"hello")
        backend_udp.setblocking(True)
        backend_udp.settimeout(5)
        data, peer = backend_udp.recvfrom(100)
        assert data == b"hello"
        backend_udp.sendto(b"back", peer)
        sender.settimeout(5)
        assert sender.recv(100) == b"back"
        sender.close()
    finally:
        tcp.close()
        udp.close()
        services.close()
        backend_tcp.close()
        backend_udp.close()
