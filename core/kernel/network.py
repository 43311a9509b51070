"""Network: interfaces, addresses, routes, packet rules and sockets, as the kernel sees them.

The seed gives every container "its own network configuration": a network
namespace starts with nothing but a loopback interface that is down.  What
Docker's bridge driver (moby's libnetwork) adds, and what this interface
lets ``core.network`` ask of a kernel, is the Linux recipe:

* a **bridge** in the engine's own namespace (``stepbox0``, Docker's
  ``docker0``) -- a virtual switch with the network's gateway address;
* a **veth pair** per container -- a virtual cable; one end is plugged into
  the bridge, the other is moved into the container's namespace and renamed
  ``eth0``;
* **addresses and routes** -- ``eth0`` gets an address of the network's
  subnet and a default route via the gateway;
* **packet rules** -- masquerading (outbound NAT) for the subnet, isolation
  between networks, and DNAT for published ports (:class:`Firewall`: a
  description of the rules, which the backend turns into its own form --
  nftables on Linux);
* **sockets** -- the listening sockets of the userland proxy and of the
  embedded DNS server, which the engine opens *inside* a chosen namespace.

Every call names the namespace it acts in by a PID: ``None`` is the engine's
own ("the host" for a container), a PID is the network namespace of that
process (a container's PID 1).  What the backend reports
(:class:`Interface`, :class:`Route`, :class:`SocketInfo`,
:class:`NetnsView`) has one shape on every kernel, so the topology a test
compares or a notebook draws is the same data whichever kernel built it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket  # annotations only: sockets are the backends' to open

# -- what a kernel reports -------------------------------------------------------------------


@dataclass(frozen=True)
class Interface:
    """One network interface (a line of ``ip -d addr``)."""

    name: str
    kind: str  # "loopback", "bridge", "veth", "other"
    up: bool  # IFF_UP: the administrator switched it on
    mac: str = ""  # "02:42:ac:11:00:02"; "" for loopback
    mtu: int = 1500
    master: str = ""  # the bridge it is plugged into, "" if none
    addresses: tuple[str, ...] = ()  # IPv4 "address/prefix", in the order they were added

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    """One route of the main table (``ip route``): ``destination`` is a
    subnet or ``"default"``; ``gateway`` is "" for a directly connected one."""

    destination: str
    device: str
    gateway: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SocketInfo:
    """A listening socket (``ss -ltun``): ``proto`` is "tcp" or "udp"."""

    proto: str
    address: str
    port: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NetnsView:
    """What one network namespace holds: interfaces (by name), main-table
    routes (sorted) and listening sockets (sorted)."""

    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    sockets: tuple[SocketInfo, ...] = ()

    def interface(self, name: str) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "interfaces": [i.to_dict() for i in self.interfaces],
            "routes": [r.to_dict() for r in self.routes],
            "sockets": [s.to_dict() for s in self.sockets],
        }


# -- the packet rules the engine wants -------------------------------------------------------


@dataclass(frozen=True)
class BridgeRules:
    """The rules for one network's bridge.

    ``masquerade``: packets from the subnet leaving through another
    interface get the host's address (outbound NAT), so replies find their
    way back.  ``internal``: the network has no way out at all -- only its
    own containers talk to each other.  Packets between two different
    bridges are always dropped: that is what isolates networks."""

    bridge: str
    subnet: str  # "172.17.0.0/16"
    masquerade: bool = True
    internal: bool = False


@dataclass(frozen=True)
class PortRule:
    """A published port, as a DNAT rule: packets for ``host_ip:host_port``
    (any local address when ``host_ip`` is "0.0.0.0") go to the container.
    Packets from the container's own bridge are left to the userland proxy
    (Docker's hairpin choice with its proxy on)."""

    proto: str  # "tcp" | "udp"
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    bridge: str


@dataclass(frozen=True)
class Firewall:
    """The whole rule set the engine wants, replaced at once by
    :meth:`Network.apply_firewall` (so a rule never outlives what it was for)."""

    bridges: tuple[BridgeRules, ...] = ()
    ports: tuple[PortRule, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.bridges and not self.ports


# -- the interface ---------------------------------------------------------------------------


class Network(ABC):
    """Network operations of one kernel; ``netns=None`` is the engine's own
    namespace, a PID is that process's.  Failures raise ``OSError`` with the
    errno the kernel gives (``EEXIST`` for a name taken, ``ENODEV`` for a
    missing interface, ``EADDRINUSE`` for a port in use)."""

    # links
    @abstractmethod
    def create_bridge(self, name: str, mac: str = "") -> None:
        """``ip link add NAME type bridge`` (left down)."""

    @abstractmethod
    def create_veth(self, name: str, peer: str) -> None:
        """``ip link add NAME type veth peer name PEER``, both in the engine's namespace."""

    @abstractmethod
    def delete_link(self, name: str, netns: int | None = None) -> None:
        """``ip link del NAME``; a veth takes its peer with it."""

    @abstractmethod
    def set_master(self, name: str, bridge: str) -> None:
        """``ip link set NAME master BRIDGE``: plug a veth end into a bridge."""

    @abstractmethod
    def move_to_netns(self, name: str, pid: int, new_name: str) -> None:
        """``ip link set NAME netns PID name NEW_NAME``: move an interface out
        of the engine's namespace into ``pid``'s, renamed on arrival."""

    @abstractmethod
    def set_up(self, name: str, netns: int | None = None, mac: str = "") -> None:
        """``ip link set NAME [address MAC] up``."""

    @abstractmethod
    def add_address(self, name: str, cidr: str, netns: int | None = None) -> None:
        """``ip addr add CIDR dev NAME`` (the kernel adds the subnet's route)."""

    @abstractmethod
    def add_default_route(self, gateway: str, device: str, netns: int | None = None) -> None:
        """``ip route add default via GATEWAY dev DEVICE``."""

    # looking
    @abstractmethod
    def view(self, netns: int | None = None) -> NetnsView:
        """Interfaces, routes and listening sockets of a namespace."""

    @abstractmethod
    def host_resolv_conf(self) -> str:
        """The engine's own ``/etc/resolv.conf``: containers on the default
        bridge get its nameservers, the embedded DNS server forwards to them."""

    # packet rules
    @abstractmethod
    def enable_forwarding(self) -> None:
        """``net.ipv4.ip_forward = 1`` in the engine's namespace: let the
        kernel route packets between the bridges and the outside."""

    @abstractmethod
    def apply_firewall(self, rules: Firewall) -> None:
        """Replace the engine's packet rules by ``rules`` in one transaction
        (an empty Firewall removes them all)."""

    @abstractmethod
    def firewall_text(self) -> str:
        """The rules as the kernel now holds them, in the backend's own
        notation (``nft list table``); "" when there are none."""

    # sockets
    @abstractmethod
    def open_socket(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        """A socket bound to ``address:port`` (port 0: the kernel picks one)
        in the namespace, listening if ``proto`` is "tcp", non-blocking.
        It stays in that namespace wherever it is used from."""

    @abstractmethod
    def connect(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        """A socket in ``netns`` connected to ``address:port`` (blocking, with
        a timeout of a few seconds; ``OSError`` if nobody answers)."""


@dataclass
class Topology:
    """The engine's view of every namespace it wired: ``"host"`` and each
    running container's (by name).  Tests compare it between kernels, the
    notebooks draw it."""

    namespaces: dict[str, NetnsView] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {name: view.to_dict() for name, view in sorted(self.namespaces.items())}
