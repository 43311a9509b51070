"""Networking on the simulator against networking on the real kernel.

Two daemons with a default bridge -- one on the real kernel, one on the
simulator -- each inside a network namespace this module creates (the
networking-safety rule: the simulator's published ports and DNS sockets are
real loopback sockets too).  The same containers, networks and shell scripts
run on both; what the busybox applets print (``ip``, ``ifconfig``, ``route``,
``netstat``, ``hostname -i``, ``ping``, ``nc``, ``wget``, ``nslookup``), their
exit statuses, and who reaches whom must be equal.  Hypothesis generates
topologies (networks, containers on them, connects) compared by reachability.

What is normalised, because the simulator is documented to differ
(``backends/sim/SIMPLIFICATIONS.md``): interface indexes (the simulated host
has an eth0 the test's namespace lacks), IPv6 lines (not simulated),
interface counters (the real ones count IPv6 chatter) and round-trip times.
The world beyond the host (the host's own nameserver, the internet) is not
compared: the test's namespace has none.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from stepbox.core.network.manager import BridgeSettings
from stepbox.core.session import open_session

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.engine.daemon_process import TestDaemon
from tests.network.sandbox import Netns, daemon_in, stepbox

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]


class Side:
    def __init__(self, name: str, netns: Netns, daemon: TestDaemon):
        self.name, self.netns, self.daemon = name, netns, daemon

    def cli(self, *argv: str) -> tuple[int, str, str]:
        r = stepbox(self.daemon, *argv)
        return r.returncode, normalise(r.stdout), normalise(r.stderr)

    def clean(self) -> None:
        self.daemon.remove_all_containers()
        stepbox(self.daemon, "network", "prune", "-f")


@pytest.fixture(scope="module")
def sides():
    made: list[Side] = []
    try:
        ns = Netns()
        made.append(Side("real", ns, daemon_in(ns)))
        ns = Netns()
        sim = TestDaemon("sim", prefix=tuple(ns.enter), args=("--bridge", "stepbox0"))
        made.append(Side("sim", ns, sim))
        sim.start()
        for side in made:
            side.daemon.client().request(
                "POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"}
            )
        yield made
    finally:
        for side in made:
            try:
                side.clean()
            finally:
                side.daemon.cleanup()
                side.netns.delete()


@pytest.fixture
def both(sides):
    for side in sides:
        side.clean()
    yield sides
    for side in sides:
        side.clean()


# -- normalising what is documented to differ ---------------------------------------------------

_SUBS = [
    (re.compile(r"^\d+: ", re.M), "N: "),  # interface indexes
    (re.compile(r"@if\d+"), "@ifN"),
    (re.compile(r"(RX|TX) (packets|bytes):\d+( \([\d.]+ [KMGT]?i?B\))?"), r"\1 \2:N"),
    (re.compile(r"time=[\d.]+ ms"), "time=T ms"),
    (re.compile(r"min/avg/max = [\d./]+ ms"), "min/avg/max = T ms"),
]


def normalise(text: str) -> str:
    lines, skip_next = [], False
    for line in text.splitlines():
        if skip_next and line.strip().startswith("valid_lft"):
            skip_next = False
            continue
        skip_next = False
        if "inet6" in line:
            skip_next = True  # ip addr's "valid_lft ..." line belongs to it
            continue
        lines.append(line)
    lines = _sorted_socket_rows(lines)
    text = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
    for pattern, replacement in _SUBS:
        text = pattern.sub(replacement, text)
    return text


def _sorted_socket_rows(lines: list[str]) -> list[str]:
    """netstat's rows in a fixed order: Linux lists sockets in the order of
    its hash tables, salted per namespace -- an order no program can rely on."""
    done: list[str] = []
    rows: list[str] = []
    for line in [*lines, ""]:
        if line.startswith(("tcp ", "udp ")):
            rows.append(line)
            continue
        done += sorted(rows)
        rows = []
        done.append(line)
    return done[:-1]


def agree(sides, *argv: str):
    """Run the same CLI command on both sides; their results, which must be equal."""
    real, sim = (side.cli(*argv) for side in sides)
    if real != sim:
        shown = [f"exit {r[0]}\n--stdout--\n{r[1]}--stderr--\n{r[2]}".splitlines() for r in (real, sim)]
        diff = "\n".join(difflib.unified_diff(shown[0], shown[1], "real", "sim", lineterm=""))
        pytest.fail(f"{' '.join(argv)}\n{diff}")
    return real


def run_script(sides, script: str, *options: str):
    return agree(sides, "run", "--rm", *options, "busybox", "sh", "-c", script)


# -- the scripts ------------------------------------------------------------------------------------


def test_interfaces_addresses_and_routes_agree(both):
    run_script(
        both,
        "ip addr; ip link; ip route; ip -4 addr show dev eth0; ip -o addr; ip -o link; "
        "ifconfig; ifconfig -a; route; route -n; netstat -r; netstat -rn; hostname -i",
    )
    code, out, _ = run_script(both, "ip addr; ip route; route -n; ifconfig -a", "--network", "none")
    assert "eth0" not in out and code == 0


def test_ping_nc_and_wget_say_the_same_errors(both):
    run_script(
        both,
        "ping -c 2 -i 0.2 172.17.0.1; echo ping=$?; "
        "ping -c 1 -W 1 172.17.0.99; echo lost=$?; "
        "nc 172.17.0.1 1; echo refused=$?; "
        "nc -w 1 127.0.0.1 9; echo local=$?; "
        "wget -qO- http://172.17.0.1:1/; echo wget=$?; "
        "wget http://127.0.0.1/; echo wget_lo=$?; "
        "echo hi | nc 172.17.0.1 2>&1; echo usage=$?",
    )
    run_script(
        both,
        "ping -c 1 -W 1 172.17.0.1; echo ping=$?; nc 172.17.0.1 80; echo nc=$?; "
        "wget -q http://172.17.0.1/; echo wget=$?; hostname -i; echo host=$?",
        "--network",
        "none",
        "--hostname",
        "box",
    )


def test_an_unprivileged_container_cannot_change_its_network(both):
    run_script(
        both,
        "ip addr add 10.1.1.1/24 dev eth0; echo add=$?; ip link set eth0 down; echo down=$?; "
        "ip link set eth0 mtu 1400; echo mtu=$?; ip route add 10.2.0.0/16 via 172.17.0.1; echo route=$?; "
        "ifconfig eth0 down; echo ifconfig=$?; route add -net 10.3.0.0/16 gw 172.17.0.1; echo r=$?; "
        "ip route; ip -4 addr",
    )


def test_servers_and_their_sockets_agree(both):
    run_script(
        both,
        "mkdir /www; echo hello > /www/index.html; httpd -p 80 -h /www; "
        "nc -l -p 99 > /tmp/got & sleep 0.3; netstat -ltn; netstat -ln; netstat -lun; "
        "wget -qO- http://127.0.0.1/; wget -qO- http://172.17.0.2/index.html; echo w=$?; "
        "wget -qO- http://127.0.0.1/nosuch; echo missing=$?; "
        "echo via-nc | nc 127.0.0.1 99; sleep 0.3; cat /tmp/got; "
        "nc -l -p 80; echo busy=$?",
    )


def test_httpd_answers_and_logs_agree(both):
    """httpd -vvv's log (the client's port masked), its redirect of a
    directory, its 400, 404 and 501 pages, HEAD; without -f nothing is
    logged (its stderr is /dev/null)."""
    ask = "printf '%s HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 80 | grep -v -e ^Date: -e ^Last-Modified: -e ^ETag:; "
    _code, out, _err = run_script(
        both,
        "mkdir -p /www/sub; echo hello > /www/index.html; echo sub > /www/sub/index.html; "
        "httpd -f -vvv -p 80 -h /www 2>/tmp/log & sleep 0.3; "
        "wget -qO- http://127.0.0.1/; wget -qO- http://127.0.0.1/sub; "
        "wget -qO- http://$(hostname -i)/nosuch; echo missing=$?; "
        + ask % "GET /../etc"
        + ask % "BREW /"
        + ask % "HEAD /sub/"
        + ask % "GET /sub?x=1"
        + ask % "GET /a%%20b/../sub//./index.html?q"
        + "sleep 0.3; kill $!; sed 's/]:[0-9]*:/]:PORT:/' /tmp/log; "
        "httpd -vv -p 81 -h /www 2>/tmp/quiet; wget -qO- http://127.0.0.1:81/; cat /tmp/quiet; echo quiet",
    )
    assert "[::ffff:127.0.0.1]:PORT: url:/sub\n[::ffff:127.0.0.1]:PORT: response:302\n" in out
    assert "url:/sub/index.html\n" in out and "response:501\n" in out and out.endswith("\nhello\nquiet\n")


def test_dns_by_name_aliases_and_isolation_agree(both):
    for side in both:
        assert side.cli("network", "create", "n1")[0] == 0
        code, _, err = side.cli(
            "run", "-d", "--name", "web", "--network", "n1", "--network-alias", "www", "busybox",
            "sh", "-c", "mkdir /www; echo from-web > /www/index.html; httpd -f -p 80 -h /www",
        )  # fmt: skip
        assert code == 0, err
    run_script(
        both,
        # -type=a: asked for A and AAAA at once, busybox prints the answers in
        # the order they arrive (either, on the real kernel)
        "nslookup -type=a web; echo ns=$?; nslookup -type=a www; nslookup nosuch; echo nosuch=$?; "
        "ping -c 1 web; echo ping=$?; wget -qO- http://www/; echo wget=$?; "
        "grep -v '^#' /etc/resolv.conf; ip route",  # the comment names each host's own nameserver
        "--network",
        "n1",
    )
    # the default bridge resolves nothing of n1's (no embedded DNS: Docker's host-file only)
    # and reaches none of its addresses (the networks are isolated)
    run_script(
        both,
        "ping -c 1 -W 1 172.18.0.2; echo isolated=$?; nc -w 1 172.18.0.2 80; echo nc=$?",
    )


def test_the_neighbour_table_agrees(both):
    # right after the ping the entry is REACHABLE on the real kernel (for 15-45 s)
    for side in both:
        code, _, err = side.cli("run", "-d", "--name", "peer", "busybox", "sleep", "300")
        assert code == 0, err
    run_script(
        both,
        "arp -n; ipneigh; echo empty=$?; ping -c 1 172.17.0.2 >/dev/null; "
        "arp -n; arp -an; arp -n -i eth0; arp -n -i lo; arp -n 172.17.0.2; arp -n 172.17.0.9; arp -H ether -n; "
        "arp -H loop; echo hw=$?; arp -A inet6; echo af=$?; arp -s 172.17.0.9 02:00:00:00:00:01; echo s=$?; "
        "arp -s 172.17.0.9 02:00; echo badmac=$?; arp -d 172.17.0.2; echo d=$?; arp -d; echo need=$?; "
        "ipneigh -4; ipneigh show dev eth0; ipneigh -4 show nud reachable; ipneigh -4 show nud stale; "
        "ipneigh -4 show to 172.17.0.0/16; ipneigh -4 show 10.0.0.0/8; ipneigh show dev nosuch; echo dev=$?; "
        "ipneigh show nud bogus; echo nud=$?; ipneigh bogus; echo cmd=$?; ipneigh flush; echo flush=$?; "
        "ipneigh -4 flush dev eth0; echo flushed=$?; ipneigh -4",
    )
    run_script(  # with CAP_NET_ADMIN the entries go
        both,
        "ping -c 1 172.17.0.2 >/dev/null; arp -d 172.17.0.2; echo d=$?; arp -n; arp -d 172.17.0.2; echo again=$?; "
        "ping -c 1 172.17.0.2 >/dev/null; ipneigh -4 flush to 172.17.0.2; echo flush=$?; ipneigh -4; arp -n",
        "--cap-add",
        "NET_ADMIN",
    )


# -- generated topologies, compared by who reaches whom -------------------------------------------------

NETWORKS = ("bridge", "n1", "n2")
topologies = hs.lists(
    hs.lists(hs.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True), min_size=2, max_size=3
)


def reachability(side: Side, containers: list[list[str]]) -> dict:
    """Build the topology on ``side``; then every container pings every
    address of every other: {(from, to, address): reached}."""
    for net in {n for nets in containers for n in nets} - {"bridge"}:
        assert side.cli("network", "create", net)[0] == 0
    addresses: dict[str, list[tuple[str, str]]] = {}
    for i, nets in enumerate(containers):
        name = f"t{i}"
        code, _, err = side.cli("run", "-d", "--name", name, "--network", nets[0], "busybox", "sleep", "300")
        assert code == 0, err
        for net in nets[1:]:
            code, _, err = side.cli("network", "connect", net, name)
            assert code == 0, err
        _, out, _ = side.cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", name)
        addresses[name] = sorted((net, s["IPAddress"]) for net, s in json.loads(out).items())
    seen = {}
    for a in addresses:
        targets = [f"{b}:{net}:{ip}" for b in addresses if b != a for net, ip in addresses[b]]
        script = " ".join(  # all at once: an unreachable one waits its second
            f"(ping -c 1 -W 1 {t.split(':')[2]} >/dev/null 2>&1 && echo {t}=yes || echo {t}=no) &"
            for t in targets
        )
        script += " wait"
        _, out, _ = side.cli("exec", a, "sh", "-c", script)
        for line in out.split():
            where, _, answer = line.partition("=")
            seen[(a, where)] = answer == "yes"
    return seen


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(containers=topologies)
def test_generated_topologies_reach_the_same_containers(sides, containers):
    found = []
    for side in sides:
        side.clean()
        try:
            found.append(reachability(side, containers))
        finally:
            side.clean()
    real, sim = found
    assert sim == real
    # and both as Docker promises: reachable exactly when sharing that network
    for (a, where), reached in real.items():
        b, net, _ip = where.split(":")
        shares = net in containers[int(a[1:])]
        assert reached == shares, (a, where)


# -- the topology the engine reads back (what a notebook draws) ----------------------------------------


@pytest.fixture
def runtimes():
    """In-process engines with a default bridge: the simulator, and the real
    kernel wired inside a namespace of the test's (STEPBOX_NETNS)."""
    made = []
    netns = Netns()
    try:
        for backend in ("linux", "sim"):
            root = tempfile.mkdtemp(prefix=f"stepbox-topology-{backend}-")
            before = os.environ.get("STEPBOX_NETNS")
            os.environ["STEPBOX_NETNS"] = netns.path
            try:
                session = open_session(backend, root, records_in_memory=True, network=BridgeSettings())
            finally:
                if before is None:
                    del os.environ["STEPBOX_NETNS"]
                else:
                    os.environ["STEPBOX_NETNS"] = before
            made.append((session, root))
            session.runtime.networks.start()
        yield [session.runtime for session, _root in made]
    finally:
        for session, root in made:
            for record in session.runtime.containers.all():
                try:
                    session.runtime.remove(session.runtime.refresh(record), force=True)
                except Exception:
                    pass
            session.runtime.networks.close()
            session.close()
            shutil.rmtree(root, ignore_errors=True)
        netns.delete()


def comparable(topology) -> dict:
    """The topology without what is random (veth names, a network's bridge
    name made of its random ID, the bridges' MACs) or documented to differ
    (the simulated host's eth0)."""
    shown = {}
    text = re.sub(r'"br-[0-9a-f]{12}"', '"br-*"', json.dumps(topology.to_dict()))
    for name, view in json.loads(text).items():
        interfaces = []
        for i in view["interfaces"]:
            if name == "host" and i["name"] == "eth0":
                continue  # the simulated host's uplink (SIMPLIFICATIONS.md)
            if i["name"].startswith("veth"):
                i = {**i, "name": "veth*", "mac": "*"}
            if i["kind"] == "bridge":
                i = {**i, "mac": "*"}
            interfaces.append(i)
        routes = [r for r in view["routes"] if not (name == "host" and r["device"] == "eth0")]
        shown[name] = {
            "interfaces": sorted(interfaces, key=json.dumps),
            "routes": routes,
            "sockets": view["sockets"],
        }
    return shown


def test_the_topology_read_back_is_the_same_on_both_kernels(runtimes):
    from stepbox.core.container.config import ContainerConfig

    for runtime in runtimes:
        runtime.network_manager().create("n1")
        runtime.run(ContainerConfig("busybox", ("sleep", "60")), "a", detach=True)
        runtime.run(ContainerConfig("busybox", ("sleep", "60"), network="n1"), "b", detach=True)
        runtime.connect(runtime.get("b"), "bridge")
        runtime.run(ContainerConfig("busybox", ("nc", "-l", "-p", "99"), network="n1"), "c", detach=True)
        runtime.run(ContainerConfig("busybox", ("sleep", "60"), network="none"), "d", detach=True)
    real, sim = (comparable(runtime.topology()) for runtime in runtimes)
    assert set(real) == {"host", "a", "b", "c", "d"}
    assert ("tcp", "::", 99) in [(s["proto"], s["address"], s["port"]) for s in real["c"]["sockets"]]
    assert [i["name"] for i in real["b"]["interfaces"]] == ["eth0", "eth1", "lo"]
    assert sim == real
