"""``core.kernel.Network`` on the simulated kernel.

The same calls the plan's network steps make on Linux (``ip link add ...
type bridge``, a veth pair, ``ip link set ... netns``, addresses, a default
route, the packet rules), performed on the simulated stack, recorded by the
tracer in the same words.  ``netns=None`` is the engine's namespace -- the
simulated host's, where PID 1 (which stands for the engine) lives.

Sockets the engine opens are **real**: a published port is a real port on
the host's loopback (the userland proxy serves it, and carries each
connection into the simulator through :meth:`connect`); the embedded DNS
server's sockets are real loopback sockets too, whose simulated twins sit at
127.0.0.11:53 in the container's namespace.  So ``wget 127.0.0.1:8080`` on
the real host reaches an ``httpd`` in a simulated container.  Port numbers
are the real ones; addresses other than loopback are served on 127.0.0.1
(the simulated host is not the real one: SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import TYPE_CHECKING

from stepbox.core.kernel.network import Firewall, Interface, NetnsView, Network, Route, SocketInfo

from ..flow import oserror
from .outside import LOOPBACK, ExternalListener, ExternalUdp, Outside
from .sockets import Socket
from .stack import IPv4, Link, Net4, NetStack

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import SimKernel

KIND_SHOWN = {"loopback": "loopback", "bridge": "bridge", "veth": "veth"}


def stack_of_ns(netns) -> NetStack:
    """The stack of a NetNamespace (made on first use: most containers of a
    property test never look at their network)."""
    stack = netns.stack
    if stack is None:
        stack = netns.stack = NetStack(owner=netns)
    return stack


class SimNetwork(Network):
    def __init__(self, k: SimKernel):
        self.k = k
        self._outside: Outside | None = None

    # -- helpers ------------------------------------------------------------------------------
    @property
    def outside(self) -> Outside:
        if self._outside is None:
            self._outside = Outside(self.k)
            self.k.sched.io_poll = self._outside.poll
        return self._outside

    def stack(self, netns: int | None = None) -> NetStack:
        if netns is None:
            return stack_of_ns(self.k.host_ns.net)
        proc = self.k.procs.get(netns)  # ESRCH for a PID that is gone
        return stack_of_ns(proc.ns.net)

    def _trace(self, call: str, detail: str) -> None:
        if self.k.tracer.enabled:
            self.k.tracer.record(call, detail)

    def _mac(self) -> str:
        r = self.k.random
        first = (r.randrange(256) & 0xFE) | 0x02  # locally administered, unicast
        return ":".join(f"{b:02x}" for b in [first, *(r.randrange(256) for _ in range(5))])

    def _new_link(self, stack: NetStack, name: str, kind: str) -> Link:
        if name in stack.links:
            raise oserror(errno.EEXIST, name)
        if len(name) > 15 or not name or "/" in name:
            raise oserror(errno.EINVAL, name)
        link = Link(name, kind, stack.free_index(), self._mac(), stack)
        stack.add_link(link)
        return link

    # -- links -----------------------------------------------------------------------------------
    def create_bridge(self, name: str, mac: str = "") -> None:
        self._trace("RTM_NEWLINK", f"ip link add {name} type bridge")
        link = self._new_link(self.stack(), name, "bridge")
        if mac:
            link.mac, link.mac_set = mac, True

    def create_veth(self, name: str, peer: str) -> None:
        self._trace("RTM_NEWLINK", f"ip link add {name} type veth peer name {peer}")
        stack = self.stack()
        if peer in stack.links or name == peer:
            raise oserror(errno.EEXIST, peer)
        b = self._new_link(stack, peer, "veth")  # Linux registers the peer first: it gets the lower index
        a = self._new_link(stack, name, "veth")
        a.peer, b.peer = b, a

    def delete_link(self, name: str, netns: int | None = None) -> None:
        self._trace("RTM_DELLINK", f"ip link del {name}")
        stack = self.stack(netns)
        link = stack.link(name)
        stack.remove_link(link)
        if link.peer is not None:
            other = link.peer
            other.stack.remove_link(other)
            other.peer = link.peer = None

    def set_master(self, name: str, bridge: str) -> None:
        self._trace("RTM_NEWLINK", f"ip link set {name} master {bridge}")
        stack = self.stack()
        link, master = stack.link(name), stack.link(bridge)
        if master.kind != "bridge":
            raise oserror(errno.EOPNOTSUPP, bridge)
        link.master = master
        if not master.mac_set and len(master.ports) == 1:
            master.mac = link.mac  # a bridge without a set MAC takes its first port's

    def move_to_netns(self, name: str, pid: int, new_name: str) -> None:
        self._trace("RTM_NEWLINK", f"ip link set {name} netns {pid} name {new_name}")
        here, there = self.stack(), self.stack(pid)
        link = here.link(name)
        if new_name in there.links:
            raise oserror(errno.EEXIST, new_name)
        here.remove_link(link)
        link.up = False  # moving an interface takes it down and flushes its addresses
        link.addrs = []
        link.master = None
        link.name = new_name
        link.ifindex = there.free_index(link.ifindex)
        there.add_link(link)

    def set_up(self, name: str, netns: int | None = None, mac: str = "") -> None:
        self._trace("RTM_NEWLINK", f"ip link set {name}" + (f" address {mac}" if mac else "") + " up")
        link = self.stack(netns).link(name)
        if mac:
            link.mac, link.mac_set = mac.lower(), True
        link.up = True

    def add_address(self, name: str, cidr: str, netns: int | None = None) -> None:
        iface = ipaddress.IPv4Interface(cidr)
        self._trace("RTM_NEWADDR", f"ip addr add {cidr} brd {iface.network.broadcast_address} dev {name}")
        stack = self.stack(netns)
        link = stack.link(name)
        stack.add_address(link, iface)
        link.brd.add(iface)

    def add_default_route(self, gateway: str, device: str, netns: int | None = None) -> None:
        self._trace("RTM_NEWROUTE", f"ip route add default via {gateway} dev {device}")
        stack = self.stack(netns)
        stack.add_route(Net4("0.0.0.0/0"), stack.link(device), IPv4(gateway))

    # -- looking -----------------------------------------------------------------------------------
    def view(self, netns: int | None = None) -> NetnsView:
        if self._outside is not None:
            self._outside.prune_shadows()
        return view_of(self.stack(netns))

    def host_resolv_conf(self) -> str:
        try:
            return self.k.rootfs.read("/etc/resolv.conf").decode()
        except OSError:
            return ""

    # -- packet rules ---------------------------------------------------------------------------------
    def enable_forwarding(self) -> None:
        self._trace("write /proc/sys/net/ipv4/ip_forward", '"1"')
        self.stack().ip_forward = True

    def apply_firewall(self, rules: Firewall) -> None:
        self._trace("packet rules", f"{len(rules.bridges)} networks, {len(rules.ports)} published ports")
        self.stack().firewall = None if rules.empty else rules

    def firewall_text(self) -> str:
        rules = self.stack().firewall
        return render_rules(rules) if isinstance(rules, Firewall) else ""

    # -- sockets ---------------------------------------------------------------------------------------
    def open_socket(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        """A real socket on the host's loopback, and its simulated twin at
        ``address:port`` in ``netns``: what reaches the twin in the simulator
        is carried to the real socket.  For the engine's namespace (a
        published port) the real port is the one asked for."""
        self._trace("bind", f"{proto} {address}:{port}" + (f" in the netns of pid {netns}" if netns else ""))
        stack = self.stack(netns)
        ip = IPv4(address)
        outside = self.outside
        if stack.port_in_use(proto, ip, port) and port:
            raise oserror(errno.EADDRINUSE, f"{address}:{port}")
        real = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        try:
            if proto == "tcp":
                real.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            real_ip = address if ip.is_loopback and netns is None else LOOPBACK
            real.bind((real_ip, port if netns is None else 0))
            if proto == "tcp":
                real.listen(128)
            real.setblocking(False)
            twin = Socket(self.k, stack, proto)
            twin.bind(ip, real.getsockname()[1] if netns is None else port)
            where = real.getsockname()
            if proto == "tcp":
                twin.listen(128)
                twin.external = ExternalListener(outside, where, real)
            else:
                twin.external = ExternalUdp(outside, where, real, twin)
        except BaseException:
            real.close()
            raise
        outside.shadows.append((real, twin))
        return real

    def connect(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        """A real socket connected to ``address:port`` inside the simulator,
        from ``netns``.  Called by the proxy's and the DNS forwarder's threads."""
        return self.outside.connect(proto, lambda: self.stack(netns), IPv4(address), port)

    def close(self) -> None:
        if self._outside is not None:
            self._outside.close()
            self._outside = None
            self.k.sched.io_poll = None


def view_of(stack: NetStack) -> NetnsView:
    interfaces = []
    for link in stack.links.values():
        interfaces.append(
            Interface(
                name=link.name,
                kind=KIND_SHOWN.get(link.kind, "other"),
                up=link.up,
                mac="" if link.kind == "loopback" else link.mac,
                mtu=link.mtu,
                master=link.master.name if link.master is not None else "",
                addresses=tuple(str(a) for a in link.addrs),
            )
        )
    routes = [
        Route(
            destination="default" if r.dst.prefixlen == 0 else str(r.dst),
            device=r.dev.name,
            gateway=str(r.gateway) if r.gateway else "",
        )
        for r in stack.routes()
    ]
    sockets = []
    for (proto, port), holders in stack.bound.items():
        for s in holders:
            if s.local is None or (proto == "tcp" and s.state != "listen") or (proto == "udp" and s.remote):
                continue
            sockets.append(SocketInfo(proto, "::" if s.v6 else str(s.local[0]), port))
    return NetnsView(
        tuple(sorted(interfaces, key=lambda i: i.name)),
        tuple(sorted(routes, key=lambda r: (r.destination, r.device))),
        tuple(sorted(sockets, key=lambda s: (s.proto, s.address, s.port))),
    )


def render_rules(rules: Firewall) -> str:
    """The rules the simulated host holds, one per line, in words close to
    nftables' (the simulator interprets the Firewall data itself)."""
    lines = []
    names = [b.bridge for b in rules.bridges]
    for b in rules.bridges:
        if b.internal:
            lines.append(f"forward: {b.bridge} <-> anything else: drop (internal network)")
            continue
        others = [n for n in names if n != b.bridge]
        if others:
            lines.append(f"forward: {b.bridge} -> {', '.join(others)}: drop (isolation between networks)")
        if b.masquerade:
            lines.append(f"postrouting: from {b.subnet} out of anything but {b.bridge}: masquerade")
    for p in rules.ports:
        lines.append(
            f"prerouting: {p.proto} to {p.host_ip or '0.0.0.0'}:{p.host_port} not from {p.bridge}: "
            f"dnat to {p.container_ip}:{p.container_port}"
        )
    return "\n".join(lines) + ("\n" if lines else "")
