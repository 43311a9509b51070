"""One network namespace's state: links, addresses, routes, neighbours, sockets.

A new network namespace holds only ``lo``, and it is down (``NetStack()``).
What ``ip`` shows is derived the way Linux derives it: adding an address to
an interface that is up adds the route to its subnet ("proto kernel scope
link"); taking the interface down removes every route through it; the local
addresses are those of interfaces that are up.

Interface indexes are handed out per namespace, lowest first, as the kernel
does; a veth moved into another namespace keeps its index when it is free
there (the kernel tries to), which is why a container's ``eth0`` shows the
host side's peer as ``eth0@if7``.
"""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..flow import oserror

if TYPE_CHECKING:  # pragma: no cover
    from .sockets import Socket

IPv4 = ipaddress.IPv4Address
Net4 = ipaddress.IPv4Network
Iface4 = ipaddress.IPv4Interface

LOOPBACK_NET = Net4("127.0.0.0/8")
LOOPBACK_ADDRESS = Iface4("127.0.0.1/8")  # parsed once: every namespace's lo has it (immutable)
EPHEMERAL = (32768, 60999)  # net.ipv4.ip_local_port_range


class Link:
    """One network interface.  ``kind``: "loopback", "bridge", "veth" or
    "ether" (the host's NIC); ``peer``: the other end of a veth pair;
    ``master``: the bridge a veth end is plugged into."""

    __slots__ = (
        "name",
        "kind",
        "ifindex",
        "mac",
        "mtu",
        "up",
        "master",
        "peer",
        "addrs",
        "stack",
        "rx_bytes",
        "rx_packets",
        "tx_bytes",
        "tx_packets",
        "mac_set",
        "brd",
    )

    def __init__(self, name: str, kind: str, ifindex: int, mac: str, stack: NetStack):
        self.name = name
        self.kind = kind
        self.ifindex = ifindex
        self.mac = mac
        self.mtu = 65536 if kind == "loopback" else 1500
        self.up = False
        self.master: Link | None = None
        self.peer: Link | None = None
        self.addrs: list[Iface4] = []
        self.stack = stack
        self.rx_bytes = self.rx_packets = self.tx_bytes = self.tx_packets = 0
        self.mac_set = False  # a bridge takes its first port's MAC until one is set
        self.brd: set[Iface4] = set()  # addresses added with their broadcast address

    def __repr__(self) -> str:
        return f"<Link {self.name} {self.kind} #{self.ifindex}>"

    @property
    def ports(self) -> list[Link]:
        """A bridge's ports (the links whose master it is), by index."""
        if self.kind != "bridge":
            return []
        return sorted(
            (lk for lk in self.stack.links.values() if lk.master is self), key=lambda lk: lk.ifindex
        )

    @property
    def carrier(self) -> bool:
        """LOWER_UP: a cable is plugged in and the other end is up."""
        if not self.up:
            return False
        if self.kind == "veth":
            return self.peer is not None and self.peer.up
        if self.kind == "bridge":
            return any(p.carrier for p in self.ports)
        return True

    def count_tx(self, nbytes: int) -> None:
        self.tx_bytes += nbytes
        self.tx_packets += 1

    def count_rx(self, nbytes: int) -> None:
        self.rx_bytes += nbytes
        self.rx_packets += 1


@dataclass
class StaticRoute:
    """A route added by hand (``ip route add``): ``dst`` a subnet (0/0 = default)."""

    dst: Net4
    dev: Link
    gateway: IPv4 | None = None


@dataclass(frozen=True)
class RouteEntry:
    """A route as the main table shows it (derived or static)."""

    dst: Net4
    dev: Link
    gateway: IPv4 | None
    src: IPv4 | None  # the preferred source ("src 172.17.0.2"), kernel routes only
    kernel: bool  # "proto kernel scope link": made by adding an address


@dataclass
class NetStack:
    """The state of one network namespace."""

    links: dict[str, Link] = field(default_factory=dict)
    static_routes: list[StaticRoute] = field(default_factory=list)
    neigh: dict[tuple[str, IPv4], str] = field(default_factory=dict)  # (dev, ip) -> MAC
    bound: dict[tuple[str, int], list[Socket]] = field(default_factory=dict)  # (proto, port) -> sockets
    connections: list[Socket] = field(default_factory=list)  # connected TCP sockets (netstat)
    ip_forward: bool = False
    firewall: object | None = None  # the engine's Firewall (core.kernel.network), engine's namespace only
    owner: object | None = None  # who made it (the NetNamespace), for messages

    def __post_init__(self) -> None:
        if not self.links:
            lo = Link("lo", "loopback", 1, "00:00:00:00:00:00", self)
            lo.addrs.append(LOOPBACK_ADDRESS)
            self.links["lo"] = lo

    # -- links ---------------------------------------------------------------------------
    def link(self, name: str) -> Link:
        found = self.links.get(name)
        if found is None:
            raise oserror(errno.ENODEV, name)
        return found

    def by_index(self, ifindex: int) -> Link | None:
        return next((lk for lk in self.links.values() if lk.ifindex == ifindex), None)

    def free_index(self, wanted: int = 0) -> int:
        used = {lk.ifindex for lk in self.links.values()}
        if wanted and wanted not in used:
            return wanted
        i = 1
        while i in used:
            i += 1
        return i

    def add_link(self, link: Link) -> None:
        if link.name in self.links:
            raise oserror(errno.EEXIST, link.name)
        link.stack = self
        self.links[link.name] = link

    def remove_link(self, link: Link) -> None:
        self.links.pop(link.name, None)
        for port in self.links.values():
            if port.master is link:
                port.master = None
        self.static_routes = [r for r in self.static_routes if r.dev is not link]
        self.neigh = {key: mac for key, mac in self.neigh.items() if key[0] != link.name}

    def set_down(self, link: Link) -> None:
        """IFF_UP off: the kernel flushes the routes through it."""
        link.up = False
        self.static_routes = [r for r in self.static_routes if r.dev is not link]
        self.neigh = {key: mac for key, mac in self.neigh.items() if key[0] != link.name}

    # -- addresses and routes -------------------------------------------------------------
    def add_address(self, link: Link, iface: Iface4) -> None:
        if any(a.ip == iface.ip and a.network == iface.network for a in link.addrs):
            raise oserror(errno.EEXIST, str(iface))
        link.addrs.append(iface)

    def local_addresses(self) -> dict[IPv4, Link]:
        """Addresses that are this namespace's own (its local table): those
        of interfaces that are up."""
        found: dict[IPv4, Link] = {}
        for link in self.links.values():
            if link.up:
                for a in link.addrs:
                    found.setdefault(a.ip, link)
        return found

    def is_local(self, ip: IPv4) -> bool:
        lo = self.links.get("lo")
        if ip in LOOPBACK_NET:
            return lo is not None and lo.up
        return ip in self.local_addresses()

    def routes(self) -> list[RouteEntry]:
        """The main table: a subnet route per address of an up interface
        (not lo's: 127/8 lives in the local table), then the static ones."""
        table: list[RouteEntry] = []
        for link in self.links.values():
            if not link.up or link.kind == "loopback":
                continue
            for a in link.addrs:
                if a.network.prefixlen < 32:
                    table.append(RouteEntry(a.network, link, None, a.ip, True))
        for r in self.static_routes:
            table.append(RouteEntry(r.dst, r.dev, r.gateway, None, False))
        return table

    def add_route(self, dst: Net4, dev: Link, gateway: IPv4 | None) -> None:
        if not dev.up:
            raise oserror(errno.ENETDOWN, dev.name)
        if gateway is not None and not any(
            gateway in r.dst and r.gateway is None and r.dev is dev for r in self.routes()
        ):
            raise oserror(errno.ENETUNREACH, str(gateway))  # "Nexthop has invalid gateway"
        if any(r.dst == dst for r in self.static_routes):
            raise oserror(errno.EEXIST, str(dst))
        self.static_routes.append(StaticRoute(dst, dev, gateway))

    def lookup(self, dst: IPv4) -> RouteEntry | None:
        """Longest prefix match in the main table (``ip route get``)."""
        best: RouteEntry | None = None
        for r in self.routes():
            if dst in r.dst and (best is None or r.dst.prefixlen > best.dst.prefixlen):
                best = r
        return best

    def source_for(self, route: RouteEntry, dst: IPv4) -> IPv4 | None:
        """The address a packet leaving by ``route`` is sent from."""
        if route.src is not None:
            return route.src
        for a in route.dev.addrs:
            if route.gateway is not None and route.gateway in a.network:
                return a.ip
        if route.dev.addrs:
            return route.dev.addrs[0].ip
        local = [ip for ip in self.local_addresses() if ip not in LOOPBACK_NET]
        return local[0] if local else None

    # -- ports -------------------------------------------------------------------------------
    def port_in_use(self, proto: str, ip: IPv4, port: int) -> bool:
        for other in self.bound.get((proto, port), ()):
            assert other.local is not None
            other_ip = other.local[0]
            if other_ip == ip or int(other_ip) == 0 or int(ip) == 0:
                return True
        return False

    def ephemeral_port(self, proto: str, ip: IPv4, random) -> int:
        low, high = EPHEMERAL
        start = random.randint(low, high)
        for i in range(high - low + 1):
            port = low + (start - low + i) % (high - low + 1)
            if not self.port_in_use(proto, ip, port):
                return port
        raise oserror(errno.EADDRINUSE)
