"""-p specs, PortBindings, /etc/hosts and resolv.conf, the nft script, DNS answers."""

from __future__ import annotations

import pytest
from stepbox.core.kernel.network import BridgeRules, Firewall, PortRule
from stepbox.core.network.etc_files import (
    BadHostEntry,
    ResolvConf,
    parse_extra_host,
    render_hosts,
    render_resolv_conf,
    render_user_network_resolv_conf,
)
from stepbox.core.network.ports import (
    BadPortSpec,
    PortBinding,
    bindings_from_api,
    bindings_to_api,
    parse_publish,
)
from stepbox.core.network.services import answer

# -- -p ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("80", [PortBinding("tcp", 80)]),
        ("8080:80", [PortBinding("tcp", 80, "", 8080)]),
        ("127.0.0.1:8080:80", [PortBinding("tcp", 80, "127.0.0.1", 8080)]),
        ("127.0.0.1::53/udp", [PortBinding("udp", 53, "127.0.0.1", 0)]),
        ("8000-8001:80-81", [PortBinding("tcp", 80, "", 8000), PortBinding("tcp", 81, "", 8001)]),
        ("80-81", [PortBinding("tcp", 80), PortBinding("tcp", 81)]),
    ],
)
def test_publish_specs(spec, expected):
    assert parse_publish(spec) == expected


@pytest.mark.parametrize(
    "spec,message",
    [
        ("0", "invalid containerPort"),
        ("70000", "invalid containerPort"),
        ("8080:80/sctp", "invalid proto"),
        ("nope:8080:80", "invalid IP address"),
        ("8000-8002:80-81", "invalid ranges"),
        ("1:2:3:4", "expected \\[ip:\\]"),
        ("[::1]:80:80", "IPv6"),
    ],
)
def test_bad_publish_specs(spec, message):
    with pytest.raises(BadPortSpec, match=message):
        parse_publish(spec)


def test_port_bindings_round_trip_through_the_api_shape():
    bindings = parse_publish("127.0.0.1:8080:80") + parse_publish("53/udp")
    exposed, api = bindings_to_api(bindings)
    assert exposed == {"80/tcp": {}, "53/udp": {}}
    assert api == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }
    assert bindings_from_api(api) == bindings


@pytest.mark.parametrize(
    "value,message",
    [
        ([], "expected an object"),
        ({"80/tcp": "x"}, "expected a list"),
        ({"80/tcp": [{"HostPort": 8080}]}, "are strings"),
        ({"80/tcp": [{"HostIp": "::1"}]}, "IPv6 is not supported"),
        ({"80/xyz": []}, "invalid protocol"),
        ({"80/tcp": [{"HostPort": "99999"}]}, "invalid HostPort"),
    ],
)
def test_bad_port_bindings_name_what_is_wrong(value, message):
    with pytest.raises(BadPortSpec, match=message):
        bindings_from_api(value)


# -- /etc files -----------------------------------------------------------------------------------


def test_hosts_has_localhost_extra_hosts_then_the_container():
    text = render_hosts("box", ["172.17.0.2"], [("db", "10.0.0.5")], aliases=["web"])
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert lines[-2:] == ["10.0.0.5\tdb", "172.17.0.2\tbox web"]


@pytest.mark.parametrize("text", ["db:10.0.0.5", "db=10.0.0.5", "db:[::1]"])
def test_add_host_forms(text):
    assert parse_extra_host(text)[0] == "db"


@pytest.mark.parametrize("text", ["db", "db:", "db:not-an-ip", ":1.2.3.4"])
def test_bad_add_host(text):
    with pytest.raises(BadHostEntry):
        parse_extra_host(text)


HOST = ResolvConf.parse("nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n")


def test_resolv_conf_on_the_default_bridge_drops_loopback_servers():
    text = render_resolv_conf(HOST, embedded=False, dns=[], dns_search=[], dns_options=[])
    assert "nameserver 10.0.0.2" in text and "127.0.0.53" not in text
    assert "search corp.example" in text and "options edns0" in text


def test_resolv_conf_falls_back_to_public_servers_when_only_loopback():
    text = render_resolv_conf(
        ResolvConf.parse("nameserver 127.0.0.53\n"), embedded=False, dns=[], dns_search=[], dns_options=[]
    )
    assert "nameserver 8.8.8.8" in text


def test_resolv_conf_on_a_user_network_points_at_the_embedded_server():
    text = render_resolv_conf(HOST, embedded=True, dns=["1.1.1.1"], dns_search=["x.test"], dns_options=[])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["nameserver 127.0.0.11", "search x.test", "options ndots:0 edns0"]
    assert "forwards the rest to 1.1.1.1" in text


def test_resolv_conf_on_a_user_mode_network_names_its_dns_forwarder():
    """slirp4netns (rootless): 10.0.2.3 asks the host's servers, even a loopback one."""
    text = render_user_network_resolv_conf(HOST, "10.0.2.3", [], [], [])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["nameserver 10.0.2.3", "search corp.example", "options edns0"]
    text = render_user_network_resolv_conf(HOST, "10.0.2.3", ["1.1.1.1"], ["x.test"], ["ndots:2"])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["nameserver 1.1.1.1", "search x.test", "options ndots:2"]


# -- the nft script ---------------------------------------------------------------------------------


def test_nft_script_replaces_the_table_and_empty_removes_it():
    from stepbox.backends.linux.nftables import render

    assert render(Firewall()) == "table ip stepbox\ndelete table ip stepbox\n"
    script = render(
        Firewall(
            (BridgeRules("stepbox0", "172.17.0.0/16"), BridgeRules("br-1", "172.18.0.0/16", internal=True)),
            (PortRule("tcp", "0.0.0.0", 8080, "172.17.0.2", 80, "stepbox0"),),
        )
    )
    assert script.startswith("table ip stepbox\ndelete table ip stepbox\ntable ip stepbox {")
    assert 'iifname "stepbox0" oifname { "br-1" } drop' in script
    assert 'iifname "br-1" oifname != "br-1" drop' in script
    assert 'ip saddr 172.17.0.0/16 oifname != "stepbox0" masquerade' in script
    assert "172.18.0.0/16 oifname" not in script  # internal: no way out, no masquerade
    assert 'iifname != "stepbox0" tcp dport 8080 dnat to 172.17.0.2:80' in script


# -- the embedded DNS server's answers -----------------------------------------------------------------


def _query(name: str, qtype: str = "A") -> bytes:
    from dnslib import DNSRecord

    return DNSRecord.question(name, qtype).pack()


def _no_forward(query: bytes):
    return None


def test_dns_answers_a_known_container():
    from dnslib import DNSRecord

    reply = DNSRecord.parse(answer(_query("web"), {"web": ["172.18.0.2"]}.get, _no_forward))
    assert [str(r.rdata) for r in reply.rr] == ["172.18.0.2"]
    assert reply.header.aa == 1 and reply.header.rcode == 0


def test_dns_knows_the_name_but_has_no_ipv6():
    from dnslib import DNSRecord

    reply = DNSRecord.parse(answer(_query("web", "AAAA"), {"web": ["172.18.0.2"]}.get, _no_forward))
    assert reply.rr == [] and reply.header.rcode == 0


def test_dns_forwards_unknown_names_and_servfails_when_nobody_answers():
    from dnslib import RCODE, DNSRecord

    seen = []

    def forward(query):
        seen.append(query)
        return None

    reply = DNSRecord.parse(answer(_query("example.org"), {}.get, forward))
    assert len(seen) == 1 and reply.header.rcode == RCODE.SERVFAIL
    upstream = DNSRecord.question("example.org").reply()
    assert answer(_query("example.org"), {}.get, lambda q: b"UPSTREAM") == b"UPSTREAM"
    del upstream


def test_dns_drops_garbage_and_replies():
    from dnslib import DNSRecord

    assert answer(b"\x00\x01garbage", {}.get, _no_forward) is None
    reply = DNSRecord.question("web").reply().pack()
    assert answer(reply, {"web": ["1.2.3.4"]}.get, _no_forward) is None
