"""IPAM: subnets from Docker's default pools, addresses lowest-free-first."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.network import ipam
from stepbox.core.network.ipam import AddressError, Pool

N = ipaddress.IPv4Network


def test_default_pools_are_dockers():
    subnets = [str(next(iter(p.subnets()))) for p in ipam.DEFAULT_POOLS]
    assert subnets[0] == "172.17.0.0/16" and subnets[14] == "172.31.0.0/16"
    assert subnets[-1] == "192.168.0.0/20"


def test_first_free_subnet_skips_taken_and_routed():
    pools = ipam.DEFAULT_POOLS
    assert ipam.allocate_subnet(pools, [], []) == N("172.17.0.0/16")
    assert ipam.allocate_subnet(pools, [N("172.17.0.0/16")], []) == N("172.18.0.0/16")
    # a host route overlapping the pool (a LAN, a VPN) is never shadowed by a bridge
    assert ipam.allocate_subnet(pools, [N("172.17.0.0/16")], [N("172.18.5.0/24")]) == N("172.19.0.0/16")
    everything = [N(f"172.{n}.0.0/16") for n in range(17, 32)]
    assert ipam.allocate_subnet(pools, everything, []) == N("192.168.0.0/20")
    assert ipam.allocate_subnet(pools, everything, [N("192.168.0.0/20")]) == N("192.168.16.0/20")


def test_pools_exhausted_says_what_to_do():
    pool = Pool.parse("base=10.9.0.0/24,size=25")
    with pytest.raises(AddressError, match="fully subnetted.*prune"):
        ipam.allocate_subnet([pool], [N("10.9.0.0/25"), N("10.9.0.128/25")], [])


@pytest.mark.parametrize(
    "text,message",
    [
        ("10.0.0.0/8", "expected base=CIDR,size=N"),
        ("base=10.0.0.0/8", "both base and size"),
        ("base=10.0.0.0/16,size=8", "size must be between"),
        ("base=nonsense,size=24", "invalid default address pool"),
        ("base=fd00::/8,size=64", "only IPv4"),
    ],
)
def test_bad_pools_are_refused(text, message):
    with pytest.raises(AddressError, match=message):
        Pool.parse(text)


def test_subnets_must_be_clean_cidrs():
    assert ipam.parse_subnet("172.30.0.0/16") == N("172.30.0.0/16")
    with pytest.raises(AddressError, match="host bits"):
        ipam.parse_subnet("172.30.0.1/16")
    with pytest.raises(AddressError, match="too small"):
        ipam.parse_subnet("10.0.0.0/31")
    with pytest.raises(AddressError, match="not an IPv4 CIDR"):
        ipam.parse_subnet("300.0.0.0/8")


def test_addresses_lowest_free_first_skipping_the_gateway():
    net = N("172.20.0.0/16")
    assert ipam.allocate_address(net, "172.20.0.1", []) == "172.20.0.2"
    assert ipam.allocate_address(net, "172.20.0.1", ["172.20.0.2", "172.20.0.3"]) == "172.20.0.4"
    # a freed address is the next one given out
    assert ipam.allocate_address(net, "172.20.0.1", ["172.20.0.3"]) == "172.20.0.2"
    # a gateway elsewhere in the subnet is skipped where it is
    assert ipam.allocate_address(net, "172.20.0.2", []) == "172.20.0.1"


def test_ip_range_and_requested_addresses():
    net = N("10.5.0.0/24")
    assert ipam.allocate_address(net, "10.5.0.1", [], ip_range=N("10.5.0.128/25")) == "10.5.0.128"
    assert ipam.allocate_address(net, "10.5.0.1", [], requested="10.5.0.77") == "10.5.0.77"
    with pytest.raises(AddressError, match="already in use"):
        ipam.allocate_address(net, "10.5.0.1", ["10.5.0.77"], requested="10.5.0.77")
    with pytest.raises(AddressError, match="already in use"):
        ipam.allocate_address(net, "10.5.0.1", [], requested="10.5.0.1")
    with pytest.raises(AddressError, match="not in the subnet"):
        ipam.allocate_address(net, "10.5.0.1", [], requested="10.6.0.5")
    with pytest.raises(AddressError, match="reserved"):
        ipam.allocate_address(net, "10.5.0.1", [], requested="10.5.0.255")


def test_a_full_subnet_is_an_error():
    net = N("10.5.0.0/30")  # .1 gateway, .2 the only host left
    assert ipam.allocate_address(net, "10.5.0.1", []) == "10.5.0.2"
    with pytest.raises(AddressError, match="no available"):
        ipam.allocate_address(net, "10.5.0.1", ["10.5.0.2"])


def test_mac_from_address():
    assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), max_size=60))
def test_allocation_sequences_never_collide_and_reuse_lowest(ops):
    """Any sequence of allocate / release: addresses are unique, never the
    gateway, network or broadcast, and always the lowest free one."""
    net = N("10.1.0.0/27")
    gateway = "10.1.0.1"
    held: list[str] = []
    for allocate, pick in ops:
        if allocate or not held:
            try:
                address = ipam.allocate_address(net, gateway, held)
            except AddressError:
                assert len(held) == 29  # 32 - network - broadcast - gateway
                continue
            free = [str(ip) for ip in net.hosts() if str(ip) not in held and str(ip) != gateway]
            assert address == free[0]
            held.append(address)
        else:
            held.pop(pick % len(held))
        assert len(set(held)) == len(held)
        assert gateway not in held
