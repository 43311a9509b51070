"""How a packet finds its way: routes, the bridge as a switch, forwarding, the rules.

:func:`send` follows one packet from a namespace to the namespace that
takes it, hop by hop, the way the kernel does:

1. **local?**  An address of this namespace (or 127/8 with ``lo`` up) is
   delivered here, through the loopback.
2. **route lookup**, longest prefix first; no route is ``ENETUNREACH``.
3. **ARP** on the outgoing link's segment -- the other end of a veth, or
   every port of a bridge and the bridge itself: whoever holds the next hop's
   address (the gateway, or the destination when it is on-link) answers.
   Nobody: after three unanswered probes, ``EHOSTUNREACH``.
4. the namespace that answered takes the packet.  Not its address: it is a
   **router** -- with ``ip_forward`` on, its packet rules decide (Docker's:
   DNAT for a published port, isolation between bridges, internal networks,
   masquerading on the way out) and it routes the packet on, from step 2.

Beyond the engine's ``eth0`` lies the *outside*: a router (10.0.2.2) that
answers ping -- only to the host's own address, so a container's ping gets
its answer only if it was masqueraded -- and drops everything else: a
connection to the outside times out, as to a silent host.
"""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .stack import IPv4, Link, Net4, NetStack

if TYPE_CHECKING:  # pragma: no cover
    pass

MAX_HOPS = 16
HOP_USEC = 40  # a hop through a veth or a bridge
ARP_TIMEOUT_USEC = 3_000_000  # 3 probes, 1 s apart: then "No route to host"

# The outside world beyond the engine's eth0 (QEMU's user network numbers).
OUTSIDE_NET = Net4("10.0.2.0/24")
OUTSIDE_ROUTER = IPv4("10.0.2.2")
HOST_ADDRESS = ipaddress.IPv4Interface("10.0.2.15/24")
HOST_NAMESERVER = IPv4("10.0.2.3")


@dataclass
class Delivery:
    """The packet arrived: in ``stack``, for ``dst:dport``, from ``src`` (as
    rewritten on the way: masquerading changes it), after ``usec``."""

    stack: NetStack | None  # None: the outside world took it
    dst: IPv4
    dport: int
    src: IPv4
    usec: int
    ttl: int
    via: list[Link]  # the links it crossed (counters)


@dataclass
class Lost:
    """Nobody answers: ``errno`` is what the sender learns (an ICMP error,
    or a failed ARP); None means silence -- dropped by a rule or by the
    outside -- which the sender only notices by waiting."""

    errno: int | None
    usec: int


def segment(link: Link) -> list[Link]:
    """The links a frame sent out of ``link`` reaches (the broadcast
    domain, minus ``link`` itself): a veth's other end, or -- if that end
    is a bridge port -- the bridge and every other port's far end."""
    if not link.carrier:
        return []
    reached: list[Link] = []
    if link.kind == "bridge":
        bridge = link
        entry: Link | None = None
    elif link.kind == "veth" and link.peer is not None:
        peer = link.peer
        if peer.master is None:
            return [peer] if peer.up else []
        bridge, entry = peer.master, peer
        if not bridge.up:
            return []
        reached.append(bridge)
    else:
        return []
    for port in bridge.ports:
        if port is entry or not port.up or port.peer is None or not port.peer.up:
            continue
        if port.peer is not link:
            reached.append(port.peer)
    return reached


def _arp(link: Link, next_hop: IPv4) -> Link | None:
    """Who on ``link``'s segment holds ``next_hop`` (and learn its MAC)."""
    for other in segment(link):
        if other.up and any(a.ip == next_hop for a in other.addrs):
            link.stack.neigh[(link.name, next_hop)] = other.mac
            return other
    return None


def send(
    src_stack: NetStack,
    dst: IPv4,
    proto: str,
    dport: int,
    src: IPv4 | None = None,
    size: int = 60,
) -> Delivery | Lost:
    """Follow one packet from ``src_stack`` to where it is taken."""
    stack, usec, ttl = src_stack, 0, 64
    via: list[Link] = []
    arrived_on: Link | None = None  # the link the packet came in by (None: made here)
    for _hop in range(MAX_HOPS):
        if arrived_on is not None:
            dst, dport = _dnat(stack, arrived_on, dst, proto, dport)
        if stack.is_local(dst):
            if src is None:
                src = dst if dst in stack.local_addresses() or dst.is_loopback else dst
            return Delivery(stack, dst, dport, src, usec + 10, ttl, via)
        if arrived_on is not None and not stack.ip_forward:
            return Lost(None, usec)  # a host that does not route drops it
        route = stack.lookup(dst)
        if route is None:
            return Lost(errno.ENETUNREACH, usec)
        if src is None:
            src = stack.source_for(route, dst)
            if src is None:
                return Lost(errno.ENETUNREACH, usec)
        out = route.dev
        if arrived_on is not None:
            if not _forward_allowed(stack, arrived_on, out):
                return Lost(None, usec)
            src = _masquerade(stack, out, src)
            ttl -= 1
        next_hop = route.gateway or dst
        if out.kind == "ether" and next_hop in OUTSIDE_NET and next_hop not in stack.local_addresses():
            return _outside(stack, out, dst, proto, src, usec, ttl, via)
        taker = _arp(out, next_hop)
        if taker is None:
            return Lost(errno.EHOSTUNREACH, usec + ARP_TIMEOUT_USEC)
        out.count_tx(size)
        taker.count_rx(size)
        via += [out, taker]
        usec += HOP_USEC
        stack, arrived_on = taker.stack, taker
    return Lost(None, usec)  # a routing loop: the TTL runs out


def _outside(stack: NetStack, out: Link, dst: IPv4, proto: str, src: IPv4, usec, ttl, via) -> Delivery | Lost:
    """The world beyond eth0: the router answers ping (to the host's own
    address only), the host's nameserver answers DNS (SERVFAIL: it has no
    way further out); everything else is dropped."""
    out.count_tx(60)
    if src not in stack.local_addresses():
        return Lost(None, usec)  # not masqueraded: the answer could never come back
    if (proto == "icmp" and dst == OUTSIDE_ROUTER) or (proto == "udp" and dst == HOST_NAMESERVER):
        return Delivery(None, dst, 0, src, usec + 400, ttl, via)
    return Lost(None, usec)


def servfail(query: bytes) -> bytes:
    """A DNS reply to ``query`` saying SERVFAIL (the question echoed back)."""
    if len(query) < 12:
        return b""
    flags = 0x8000 | (query[2] & 0x01) << 8 | 0x0080 | 2  # QR, RD copied, RA, rcode 2
    return query[:2] + flags.to_bytes(2, "big") + query[4:6] + b"\0\0\0\0\0\0" + query[12:]


def _bridge_of(link: Link) -> str:
    """The bridge a packet came in on or leaves by (the port's master)."""
    if link.master is not None:
        return link.master.name
    return link.name


def _rules(stack: NetStack) -> Any:
    return stack.firewall


def _dnat(stack: NetStack, arrived_on: Link, dst: IPv4, proto: str, dport: int) -> tuple[IPv4, int]:
    """prerouting: a packet for one of the host's addresses and a published
    port goes to the container -- unless it comes from the container's own
    bridge (that is left to the userland proxy, as Docker does)."""
    rules = _rules(stack)
    if rules is None or not rules.ports or dst not in stack.local_addresses():
        return dst, dport
    for p in rules.ports:
        if p.proto != proto or p.host_port != dport or _bridge_of(arrived_on) == p.bridge:
            continue
        if p.host_ip not in ("", "0.0.0.0") and IPv4(p.host_ip) != dst:
            continue
        return IPv4(p.container_ip), p.container_port
    return dst, dport


def _forward_allowed(stack: NetStack, came: Link, out: Link) -> bool:
    """The forward chain: two different bridges never talk; an internal
    network talks to nothing but itself."""
    rules = _rules(stack)
    if rules is None:
        return True
    inb, outb = _bridge_of(came), _bridge_of(out)
    bridges = {b.bridge: b for b in rules.bridges}
    for name, other in ((inb, outb), (outb, inb)):
        b = bridges.get(name)
        if b is not None and b.internal and other != name:
            return False
    return not (inb in bridges and outb in bridges and inb != outb)


def _masquerade(stack: NetStack, out: Link, src: IPv4) -> IPv4:
    """postrouting: from a network's subnet, leaving by another interface:
    the outgoing interface's address."""
    rules = _rules(stack)
    if rules is None:
        return src
    for b in rules.bridges:
        if b.masquerade and src in Net4(b.subnet) and _bridge_of(out) != b.bridge and out.addrs:
            return out.addrs[0].ip
    return src


def reply_path(stack: NetStack, to: IPv4) -> bool:
    """Can ``stack`` answer ``to`` at all (a route back)?  A reply to a
    masqueraded source goes to the host, which undoes the translation."""
    if stack.is_local(to):
        return True
    return stack.lookup(to) is not None
