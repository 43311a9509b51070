"""IPAM: which subnet a network gets, and which address each container gets in it.

Docker's rules (moby's libnetwork/ipam and ipamutils), which stepbox follows:

* **Subnets** come from the *default address pools*: 172.17.0.0/16,
  172.18.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/16 cut into /20s.  A
  network without ``--subnet`` gets the first one that overlaps neither
  another network nor a subnet the host already routes (a VPN, the LAN):
  a bridge on top of those would cut the host off from them.  The daemon
  option ``--default-address-pool base=10.10.0.0/16,size=24`` replaces the
  pools.
* **Gateways** are the first address of the subnet (172.17.0.1); it belongs
  to the bridge, the host's side of the network.
* **Addresses** are handed out lowest-free-first in the subnet (or in
  ``--ip-range``), skipping the network and broadcast addresses and the
  gateway; an address is free again as soon as its container stops.

Everything here is arithmetic on what it is given (the taken subnets, the
addresses in use): no state of its own, so the same answer comes out on
every kernel and after every daemon restart.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

Net = ipaddress.IPv4Network


class AddressError(ValueError):
    """A subnet or address cannot be had (the message says why)."""


@dataclass(frozen=True)
class Pool:
    base: Net
    size: int  # prefix length of each subnet cut from ``base``

    @classmethod
    def parse(cls, text: str) -> Pool:
        """``base=10.10.0.0/16,size=24`` (dockerd's --default-address-pool)."""
        fields = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in ("base", "size"):
                raise AddressError(f"invalid default address pool {text!r}: expected base=CIDR,size=N")
            fields[key.strip()] = value.strip()
        if "base" not in fields or "size" not in fields:
            raise AddressError(f"invalid default address pool {text!r}: both base and size are needed")
        try:
            base = ipaddress.ip_network(fields["base"])
            size = int(fields["size"])
        except ValueError as e:
            raise AddressError(f"invalid default address pool {text!r}: {e}") from None
        if not isinstance(base, Net):
            raise AddressError(f"invalid default address pool {text!r}: only IPv4 is supported")
        if not base.prefixlen <= size <= 30:
            raise AddressError(
                f"invalid default address pool {text!r}: size must be between the base's "
                f"prefix length ({base.prefixlen}) and 30"
            )
        return cls(base, size)

    def subnets(self) -> Iterable[Net]:
        return self.base.subnets(new_prefix=self.size)


DEFAULT_POOLS = tuple(
    [Pool(ipaddress.IPv4Network(f"172.{n}.0.0/16"), 16) for n in range(17, 32)]
    + [Pool(ipaddress.IPv4Network("192.168.0.0/16"), 20)]
)


def parse_subnet(text: str) -> Net:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AddressError(f"invalid subnet {text}: not an IPv4 CIDR such as 172.20.0.0/16") from None
    if not isinstance(net, Net):
        raise AddressError(f"invalid subnet {text}: only IPv4 is supported")
    if str(net) != text and "/" in text:
        # Docker refuses host bits as well: 172.20.0.1/16 is not a subnet.
        raise AddressError(f"invalid subnet {text}: it has host bits set (did you mean {net}?)")
    if net.prefixlen > 30:
        raise AddressError(f"invalid subnet {text}: too small for a gateway and a container (at most /30)")
    return net


def allocate_subnet(pools: Iterable[Pool], taken: Iterable[Net], routed: Iterable[Net]) -> Net:
    """The first subnet of the pools that overlaps no taken or routed one."""
    avoid = list(taken) + list(routed)
    for pool in pools:
        for candidate in pool.subnets():
            if not any(candidate.overlaps(other) for other in avoid):
                return candidate
    raise AddressError(
        "all predefined address pools have been fully subnetted "
        "(remove unused networks: stepbox network prune)"
    )


def default_gateway(subnet: Net) -> str:
    return str(subnet.network_address + 1)


def check_address_in(subnet: Net, address: str, what: str) -> str:
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise AddressError(f"invalid {what} {address}: not an IPv4 address") from None
    if ip not in subnet:
        raise AddressError(f"invalid {what} {address}: it is not in the subnet {subnet}")
    if ip in (subnet.network_address, subnet.broadcast_address):
        raise AddressError(
            f"invalid {what} {address}: the subnet's network and broadcast addresses are reserved"
        )
    return str(ip)


def allocate_address(
    subnet: Net, gateway: str, used: Iterable[str], ip_range: Net | None = None, requested: str = ""
) -> str:
    """An address for a new endpoint: ``requested`` if given and free, else
    the lowest free one (of ``ip_range`` if set)."""
    taken = {ipaddress.IPv4Address(a) for a in used} | {ipaddress.IPv4Address(gateway)}
    if requested:
        ip = ipaddress.IPv4Address(check_address_in(subnet, requested, "IP address"))
        if ip in taken:
            raise AddressError(f"Address already in use: {requested} is taken on this network")
        return str(ip)
    space = ip_range or subnet
    for ip in space:  # a range's own first and last addresses are ordinary hosts of the subnet
        if ip in taken or ip in (subnet.network_address, subnet.broadcast_address):
            continue
        return str(ip)
    raise AddressError(f"no available IPv4 addresses on this network's address pools ({space})")


def mac_for(address: str) -> str:
    """Docker's classic MAC for an address: 02:42 and the four address bytes
    (locally administered, unicast), so 172.17.0.2 -> 02:42:ac:11:00:02."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(address).packed)


_MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")


def check_mac(text: str) -> str:
    if not _MAC.match(text):
        raise AddressError(f"{text} is not a valid mac address")
    if int(text[:2], 16) & 1:
        raise AddressError(f"{text} is a multicast address, not one an interface can have")
    return text.lower()
