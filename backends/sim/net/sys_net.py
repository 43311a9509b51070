"""The socket system calls of a simulated process, and its netlink.

Mixed into :class:`~backends.sim.syscalls.SimSys`.  Addresses are
``(ip: str, port: int)`` as Python's socket module has them; blocking calls
are generators and take an optional ``timeout`` (seconds) standing for
``SO_RCVTIMEO``/``poll``'s -- on expiry they raise ``EAGAIN``, as Linux
does for a timed-out ``recv``.

``netlink(request, **args)`` is what ``ip``, ``ifconfig``, ``route`` and
``netstat`` ask the kernel (RTM_GETLINK, RTM_NEWADDR ...), answered as plain
data; changes need CAP_NET_ADMIN, as with the real kernel.
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Any

from ..flow import EBADF, oserror
from .network import stack_of_ns
from .sockets import PollWait, Socket, SockWait, connect_tcp
from .stack import IPv4, Net4, NetStack

PROTOS = ("tcp", "udp", "icmp")


def _ip(text: str) -> IPv4:
    try:
        return IPv4(text)
    except ValueError:
        raise oserror(errno.EINVAL, text) from None


class NetSyscalls:
    """Socket calls (mixin: ``self.k`` is the kernel, ``self.p`` the process)."""

    __slots__ = ()
    k: Any
    p: Any

    def _stack(self) -> NetStack:
        return stack_of_ns(self.p.ns.net)

    def _sock(self, fd: int) -> Socket:
        f = self.p.fds.get(fd)
        if f is None:
            raise oserror(EBADF)
        if not isinstance(f, Socket):
            raise oserror(errno.ENOTSOCK)
        return f

    def _until(self, timeout: float | None) -> int | None:
        return None if timeout is None else self.k.sched.now + max(1, int(timeout * 1_000_000))

    def _interrupted(self) -> None:
        p = self.p
        if p.interrupted:
            p.interrupted = False
            raise oserror(errno.EINTR)

    # -- making and naming ---------------------------------------------------------------------
    def socket(self, proto: str, v6: bool = False) -> int:
        """socket(AF_INET, SOCK_STREAM|SOCK_DGRAM, 0) -- or the ICMP echo
        socket ping uses.  ``proto``: "tcp", "udp" or "icmp".  ``v6``: an
        AF_INET6 socket bound to [::] (it takes IPv4 as well; shown as such)."""
        if proto not in PROTOS:
            raise oserror(errno.EPROTONOSUPPORT)
        from ..syscalls import lowest_free_fd

        fd = lowest_free_fd(self.p.fds)
        sock = Socket(self.k, self._stack(), proto)
        sock.v6 = v6
        self.p.fds[fd] = sock
        return fd

    def bind(self, fd: int, address: tuple[str, int]) -> None:
        s = self._sock(fd)
        port = int(address[1])
        if 0 < port < 1024 and "CAP_NET_BIND_SERVICE" not in self.p.caps:
            raise oserror(errno.EACCES)
        s.bind(_ip(address[0] or "0.0.0.0"), port)

    def listen(self, fd: int, backlog: int = 128) -> None:
        self._sock(fd).listen(backlog)

    def getsockname(self, fd: int) -> tuple[str, int]:
        s = self._sock(fd)
        if s.local is None:
            return ("0.0.0.0", 0)
        return (str(s.local[0]), s.local[1])

    def getpeername(self, fd: int) -> tuple[str, int]:
        s = self._sock(fd)
        if s.remote is None:
            raise oserror(errno.ENOTCONN)
        return (str(s.remote[0]), s.remote[1])

    # -- connecting ------------------------------------------------------------------------------
    def connect(self, fd: int, address: tuple[str, int], timeout: float | None = None):
        """connect(2): the TCP handshake (blocking), or a UDP socket's default peer."""
        s = self._sock(fd)
        dst, port = _ip(address[0]), int(address[1])
        if s.proto != "tcp":
            route_src = self._route_source(s.stack, dst)
            s.autobind(None)
            if s.local is not None and int(s.local[0]) == 0 and route_src is not None:
                s.local = (route_src, s.local[1])
            s.remote = (dst, port)
            return
            yield  # pragma: no cover
        if s.state == "established":
            raise oserror(errno.EISCONN)
        if s.state == "listen":
            raise oserror(errno.EINVAL)
        usec, failed = connect_tcp(s, dst, port)
        now = self.k.sched.now
        until = now + usec
        if timeout is not None:
            until = min(until, now + max(1, int(timeout * 1_000_000)))
        if until > now:
            yield SockWait(_NoWake(), until)
            self._interrupted()
        if failed is not None:
            if failed == errno.ETIMEDOUT and timeout is not None and usec > timeout * 1_000_000:
                raise oserror(errno.EINPROGRESS)  # the caller's own limit ran out first
            raise oserror(failed)

    def _route_source(self, stack: NetStack, dst: IPv4) -> IPv4 | None:
        if stack.is_local(dst):
            return dst
        route = stack.lookup(dst)
        if route is None:
            raise oserror(errno.ENETUNREACH)
        return stack.source_for(route, dst)

    def accept(self, fd: int, timeout: float | None = None):
        """accept(2): the next connection, as (new fd, peer address)."""
        s = self._sock(fd)
        if s.state != "listen":
            raise oserror(errno.EINVAL)
        until = self._until(timeout)
        while not s.backlog:
            if until is not None and self.k.sched.now >= until:
                raise oserror(errno.EAGAIN)
            yield SockWait(s, until)
            self._interrupted()
        conn = s.backlog.popleft()
        from ..syscalls import lowest_free_fd

        new = lowest_free_fd(self.p.fds)
        self.p.fds[new] = conn
        assert conn.remote is not None
        return new, (str(conn.remote[0]), conn.remote[1])

    # -- data -----------------------------------------------------------------------------------------
    def send(self, fd: int, data: bytes) -> int:
        return self.write(fd, data)  # type: ignore[attr-defined]

    def recv(self, fd: int, n: int = 65536, timeout: float | None = None):
        s = self._sock(fd)
        until = self._until(timeout)
        while True:
            data = s.read(self.k, n)
            if data is not None:
                return data
            if until is not None and self.k.sched.now >= until:
                raise oserror(errno.EAGAIN)
            ready = s.next_ready()
            yield SockWait(s, min(t for t in (until, ready) if t is not None) if (until or ready) else None)
            self._interrupted()

    def sendto(self, fd: int, data: bytes, address: tuple[str, int]) -> int:
        s = self._sock(fd)
        if s.proto == "tcp":
            return self.write(fd, data)  # type: ignore[attr-defined]
        return s.sendto(bytes(data), (_ip(address[0]), int(address[1])))

    def recvfrom(self, fd: int, n: int = 65536, timeout: float | None = None):
        """A datagram and who sent it; for an ICMP socket the "port" is the reply's TTL."""
        s = self._sock(fd)
        until = self._until(timeout)
        while True:
            if s.err is not None:
                e, s.err = s.err, None
                raise oserror(e)
            got = s.take_datagram()
            if got is not None:
                data, frm = got
                return data[:n], (str(frm[0]), frm[1])
            if until is not None and self.k.sched.now >= until:
                raise oserror(errno.EAGAIN)
            ready = s.next_ready()
            wake = [t for t in (until, ready) if t is not None]
            yield SockWait(s, min(wake) if wake else None)
            self._interrupted()

    def shutdown(self, fd: int, how: int) -> None:
        self._sock(fd).shutdown(how)

    def poll(self, fds: list[int], timeout: float | None = None):
        """poll(2) for reading: the fds of ``fds`` that are readable (a
        socket with data, a connection or EOF; a pipe with data or no
        writer; any other file always), waiting up to ``timeout``."""
        until = self._until(timeout)
        while True:
            ready, queues, soonest = [], [], []
            for fd in fds:
                f = self.p.fds.get(fd)
                if f is None:
                    ready.append(fd)  # POLLNVAL
                    continue
                if isinstance(f, Socket):
                    if f.ready():
                        ready.append(fd)
                    else:
                        queues.append(f)
                        t = f.next_ready()
                        if t is not None:
                            soonest.append(t)
                elif getattr(f, "kind", "") == "pipe":
                    pipe = f.pipe
                    if pipe.buf or pipe.writers == 0 or f.writable:
                        ready.append(fd)
                    else:
                        queues.append(pipe)
                else:
                    ready.append(fd)
            if ready:
                return ready
            if until is not None and self.k.sched.now >= until:
                return []
            wake = [t for t in (until, *soonest) if t is not None]
            yield PollWait(queues, min(wake) if wake else None)
            self._interrupted()

    def wall_time(self) -> float:
        """clock_gettime(CLOCK_REALTIME): the boot's real time plus the virtual time since."""
        return float(self.k.wall_clock())

    def ping_source(self, dst: str) -> str:
        """The address an echo request to ``dst`` leaves from (ENETUNREACH: no route)."""
        return str(self._route_source(self._stack(), _ip(dst)))

    # -- AF_PACKET (arping) ----------------------------------------------------------------------
    def packet_socket(self) -> None:
        """socket(AF_PACKET, SOCK_DGRAM, 0)'s check: CAP_NET_RAW (EPERM)."""
        if "CAP_NET_RAW" not in self.p.caps:
            raise oserror(errno.EPERM)

    def arp_send(self, dev: str, op: int, sender_ip: str, target_ip: str) -> tuple[str, int] | None:
        """An ARP frame out of ``dev``: who answers (MAC, round trip usec), or None."""
        from .arp import answer

        link = self._stack().link(dev)
        link.count_tx(42)
        return answer(link, op, _ip(sender_ip), _ip(target_ip))

    def bridge_ioctl(self, request: str, bridge: str, ifindex: int = 0) -> None:
        """SIOCBRADDBR/SIOCBRDELBR ("addbr"/"delbr") and SIOCBRADDIF/SIOCBRDELIF
        ("addif"/"delif", the port by index): CAP_NET_ADMIN, then br_if.c's checks."""
        from . import bridge_ioctl

        if "CAP_NET_ADMIN" not in self.p.caps:
            raise oserror(errno.EPERM)
        stack = self._stack()
        if request == "addbr":
            r = self.k.random
            first = (r.randrange(256) & 0xFE) | 0x02  # random, locally administered
            mac = ":".join(f"{b:02x}" for b in [first, *(r.randrange(256) for _ in range(5))])
            bridge_ioctl.add_bridge(stack, bridge, mac)
        elif request == "delbr":
            bridge_ioctl.del_bridge(stack, bridge)
        else:
            bridge_ioctl.change_port(stack, bridge, ifindex, request == "addif")

    # -- netlink --------------------------------------------------------------------------------------
    def netlink(self, request: str, **args) -> Any:
        """RTM_GET*/RTM_NEW*/RTM_DEL* as plain data (see module doc)."""
        stack = self._stack()
        if request in ("link_set", "addr_add", "addr_del", "route_add", "route_del", "neigh_flush"):
            if "CAP_NET_ADMIN" not in self.p.caps:
                raise oserror(errno.EPERM)
        if request == "links":
            return list(stack.links.values())
        if request == "routes":
            return stack.routes()
        if request == "neigh":
            return dict(stack.neigh)
        if request == "neigh_flush":  # RTM_DELNEIGH of each (dev, ip) given
            for key in args["entries"]:
                stack.neigh.pop(key, None)
            return None
        if request == "stack":
            return stack
        if request == "route_get":
            dst = _ip(args["dst"])
            if stack.is_local(dst):
                return ("local", dst, stack.links["lo"], None)
            route = stack.lookup(dst)
            if route is None:
                raise oserror(errno.ENETUNREACH)
            return ("unicast", dst, route.dev, route)
        if request == "link_set":
            link = stack.link(args["dev"])
            if "up" in args:
                if args["up"]:
                    link.up = True
                else:
                    stack.set_down(link)
            if args.get("mtu"):
                link.mtu = int(args["mtu"])
            if args.get("address"):
                link.mac, link.mac_set = args["address"].lower(), True
            if args.get("name"):
                if args["name"] in stack.links:
                    raise oserror(errno.EEXIST)
                stack.links.pop(link.name)
                link.name = args["name"]
                stack.links[link.name] = link
            return None
        if request == "addr_add":
            stack.add_address(stack.link(args["dev"]), ipaddress.IPv4Interface(args["cidr"]))
            return None
        if request == "addr_del":
            link = stack.link(args["dev"])
            iface = ipaddress.IPv4Interface(args["cidr"])
            match = [a for a in link.addrs if a.ip == iface.ip]
            if not match:
                raise oserror(errno.EADDRNOTAVAIL)
            link.addrs.remove(match[0])
            return None
        if request == "route_add":
            net = Net4(args["dst"], strict=False) if args["dst"] != "default" else Net4("0.0.0.0/0")
            gw = _ip(args["via"]) if args.get("via") else None
            dev = stack.link(args["dev"]) if args.get("dev") else None
            if dev is None:
                if gw is None:
                    raise oserror(errno.EINVAL)
                found = stack.lookup(gw)
                if found is None or found.gateway is not None:
                    raise oserror(errno.ENETUNREACH)
                dev = found.dev
            stack.add_route(net, dev, gw)
            return None
        if request == "route_del":
            net = Net4(args["dst"], strict=False) if args["dst"] != "default" else Net4("0.0.0.0/0")
            for r in stack.static_routes:
                if r.dst == net:
                    stack.static_routes.remove(r)
                    return None
            raise oserror(errno.ESRCH)
        raise oserror(errno.EOPNOTSUPP, request)

    def sockets(self) -> list[Socket]:
        """Every socket of this namespace (netstat's /proc/net/tcp and udp)."""
        stack = self._stack()
        seen: list[Socket] = []
        for holders in stack.bound.values():
            seen.extend(holders)
        seen.extend(s for s in stack.connections if s not in seen)
        return seen


class _NoWake:
    """A wait queue nobody wakes: the handshake's round trip is a timer."""

    __slots__ = ("waiters",)

    def __init__(self):
        self.waiters: list = []
