"""Sockets: TCP, UDP and ICMP echo, as open files of the simulated kernel.

A :class:`Socket` lives in the network namespace of the process that made
it (a socket keeps its namespace wherever its fd goes).  It is an open file:
``read``/``write`` work on it as on a pipe, and a process blocked reading it
sleeps on the socket's wait queue (the socket *is* its own queue: the
scheduler's :class:`PipeWait` only needs ``waiters``).

What a program sees follows Linux:

* ``bind`` to a port another socket holds: ``EADDRINUSE``; to an address
  the namespace does not have: ``EADDRNOTAVAIL``;
* ``connect`` (TCP): nobody listening there: ``ECONNREFUSED``; no route:
  ``ENETUNREACH``; nobody answers ARP on the way: ``EHOSTUNREACH`` (after 3
  s); a rule or the outside drops it: ``ETIMEDOUT`` after the SYN retries
  (127 s), unless the caller gave up earlier;
* a datagram to a port nobody holds comes back as ICMP port unreachable:
  the *next* call on a connected UDP socket fails with ``ECONNREFUSED``;
* an established connection is a pair of sockets (or a socket and a real
  one outside: :mod:`.outside`); closing one end is EOF for the other.
"""

from __future__ import annotations

import errno
from collections import deque
from typing import TYPE_CHECKING, Any

from ..files import OpenFile
from ..flow import oserror
from ..scheduler import PipeWait
from . import fabric
from .stack import IPv4, NetStack

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import SimKernel

SYN_TIMEOUT_USEC = 127_000_000  # tcp_syn_retries=6: 1+2+4+8+16+32+64 s
ANY = IPv4("0.0.0.0")


class SockWait(PipeWait):
    """Blocked on one socket (or pipe), until ``until`` (µs) at the latest."""

    __slots__ = ("until",)

    def __init__(self, queue, until: int | None = None):
        super().__init__(queue)
        self.until = until

    def park(self, sched, proc):
        super().park(sched, proc)
        if self.until is not None:
            sched.add_timer(self.until, proc, self)


class PollWait(PipeWait):
    """poll(2): blocked on several queues at once."""

    __slots__ = ("queues", "until")

    def __init__(self, queues: list, until: int | None):
        super().__init__(None)
        self.queues = queues
        self.until = until

    def park(self, sched, proc):
        proc.block = self
        proc.state = "S"
        for q in self.queues:
            q.waiters.append(proc)
        if self.until is not None:
            sched.add_timer(self.until, proc, self)


def waits_on(block, queue) -> bool:
    if not isinstance(block, PipeWait):
        return False
    if block.pipe is queue:
        return True
    return isinstance(block, PollWait) and queue in block.queues


class Socket(OpenFile):
    __slots__ = (
        "k",
        "stack",
        "proto",
        "state",
        "local",
        "remote",
        "nat_remote",
        "rbuf",
        "dgrams",
        "backlog",
        "backlog_max",
        "peer",
        "eof",
        "err",
        "shut_wr",
        "waiters",
        "external",
        "bound_here",
        "v6",
    )
    kind = "socket"

    def __init__(self, k: SimKernel, stack: NetStack, proto: str):
        super().__init__(2)  # O_RDWR
        self.k = k
        self.stack = stack
        self.proto = proto  # "tcp", "udp", "icmp"
        self.state = "closed"  # closed, listen, established
        self.local: tuple[IPv4, int] | None = None
        self.remote: tuple[IPv4, int] | None = None
        self.nat_remote: tuple[IPv4, int] | None = None  # the remote after DNAT
        self.rbuf = bytearray()
        self.dgrams: deque[tuple[int, bytes, tuple[IPv4, int]]] = deque()  # (ready_at, data, from)
        self.backlog: deque[Socket] = deque()
        self.backlog_max = 0
        self.peer: Any = None  # the other end: a Socket or an outside carrier
        self.eof = False  # the peer shut its sending side (FIN)
        self.err: int | None = None  # a pending error (SO_ERROR)
        self.shut_wr = False
        self.waiters: list = []
        self.external: Any = None  # a listener served by the real world (outside.py)
        self.bound_here = False
        self.v6 = False  # an AF_INET6 socket on [::] (netstat shows :::PORT)

    def __repr__(self) -> str:
        return f"<Socket {self.proto} {self.state} {self.local} -> {self.remote}>"

    # -- the queue -----------------------------------------------------------------------
    @property
    def pipe(self):  # what Sys.read parks on
        return self

    def wake_readers(self, k) -> None:
        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            if waits_on(proc.block, self):
                k.sched.wake(proc)

    def ready(self) -> bool:
        if self.state == "listen":
            return bool(self.backlog)
        if self.proto == "tcp":
            return bool(self.rbuf) or self.eof or self.err is not None or self.state == "closed"
        return bool(self.dgrams) and self.dgrams[0][0] <= self.k.sched.now or self.err is not None

    def next_ready(self) -> int | None:
        """When the first datagram in flight arrives (µs), if one is."""
        if self.dgrams and self.dgrams[0][0] > self.k.sched.now:
            return self.dgrams[0][0]
        return None

    # -- binding ------------------------------------------------------------------------
    def bind(self, ip: IPv4, port: int) -> None:
        if self.local is not None:
            raise oserror(errno.EINVAL)
        st = self.stack
        if int(ip) != 0 and not ip.is_loopback and ip not in _all_addresses(st):
            raise oserror(errno.EADDRNOTAVAIL)
        if ip.is_loopback and int(ip) != 0x7F000001 and not st.is_local(ip):
            raise oserror(errno.EADDRNOTAVAIL)
        if self.proto == "icmp":
            self.local = (ip, 0)
            return
        if port == 0:
            port = st.ephemeral_port(self.proto, ip, self.k.random)
        elif st.port_in_use(self.proto, ip, port):
            raise oserror(errno.EADDRINUSE)
        self.local = (ip, port)
        st.bound.setdefault((self.proto, port), []).append(self)
        self.bound_here = True

    def unbind(self) -> None:
        if self.bound_here and self.local is not None:
            same = self.stack.bound.get((self.proto, self.local[1]), [])
            if self in same:
                same.remove(self)
            if not same:
                self.stack.bound.pop((self.proto, self.local[1]), None)
        self.bound_here = False

    def autobind(self, src: IPv4 | None) -> None:
        if self.local is None:
            self.bind(ANY, 0)
        if src is not None and self.local is not None and int(self.local[0]) == 0 and self.proto == "tcp":
            self.local = (src, self.local[1])

    def listen(self, backlog: int) -> None:
        if self.proto != "tcp":
            raise oserror(errno.EOPNOTSUPP)
        if self.local is None:
            self.bind(ANY, 0)
        self.state = "listen"
        self.backlog_max = max(1, backlog)

    # -- reading and writing -------------------------------------------------------------------
    def read(self, k, n):
        if self.err is not None:
            e, self.err = self.err, None
            raise oserror(e)
        if self.proto == "tcp":
            if self.state == "listen":
                raise oserror(errno.EINVAL)
            if self.rbuf:
                data = bytes(self.rbuf[:n])
                del self.rbuf[:n]
                return data
            if self.eof or self.state == "closed":
                return b""
            return None
        got = self.take_datagram()
        return None if got is None else got[0][:n]

    def take_datagram(self) -> tuple[bytes, tuple[IPv4, int]] | None:
        if self.dgrams and self.dgrams[0][0] <= self.k.sched.now:
            _, data, frm = self.dgrams.popleft()
            return data, frm
        return None

    def write(self, k, data):
        if self.err is not None:
            e, self.err = self.err, None
            raise oserror(e)
        if self.proto != "tcp":
            if self.remote is None:
                raise oserror(errno.EDESTADDRREQ)
            return self.sendto(data, self.remote)
        if self.state != "established" or self.shut_wr:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        if self.peer is None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        self.peer.receive(data)
        return len(data)

    def receive(self, data: bytes) -> None:
        """The peer sent ``data`` (TCP)."""
        if self.state == "closed":
            return
        self.rbuf += data
        self.stack_count(len(data))
        self.wake_readers(self.k)

    def stack_count(self, n: int) -> None:
        lo = self.stack.links.get("lo")
        if lo is not None and self.remote is not None and self.stack.is_local(self.remote[0]):
            lo.count_rx(n)
            lo.count_tx(n)

    def peer_closed(self) -> None:
        """FIN from the peer: reads see EOF once the buffer is drained."""
        self.eof = True
        self.wake_readers(self.k)

    def peer_reset(self) -> None:
        self.eof = True
        self.err = errno.ECONNRESET
        self.peer = None
        self.wake_readers(self.k)

    def shutdown(self, how: int) -> None:
        """0: no more reads; 1: no more writes (FIN); 2: both."""
        if self.proto == "tcp" and self.state != "established":
            raise oserror(errno.ENOTCONN)
        if how in (1, 2) and not self.shut_wr:
            self.shut_wr = True
            if self.peer is not None:
                self.peer.peer_closed()
        if how in (0, 2):
            self.eof = True

    def release(self, k):
        """The last fd went away: close(2)."""
        self.unbind()
        if self in self.stack.connections:
            self.stack.connections.remove(self)
        if self.state == "listen":
            for pending in self.backlog:
                if pending.peer is not None:
                    pending.peer.peer_reset()
            self.backlog.clear()
            if self.external is not None:
                self.external.close()
        elif self.state == "established" and self.peer is not None:
            if not self.shut_wr:
                self.peer.peer_closed()
            if self.rbuf:  # unread data: the kernel answers with RST
                self.peer.peer_reset()
            self.peer.detach()
        if self.proto == "udp" and self.peer is not None:
            self.peer.close()
        self.peer = None
        self.state = "closed"
        self.wake_readers(k)

    def detach(self) -> None:
        """The peer is gone (closed its fd)."""
        self.peer = None

    # -- datagrams -------------------------------------------------------------------------
    def sendto(self, data: bytes, to: tuple[IPv4, int]) -> int:
        st = self.stack
        dst, dport = to
        self.autobind(None)
        assert self.local is not None
        src = self.local[0] if int(self.local[0]) else None
        result = fabric.send(st, dst, self.proto, dport, src, size=len(data) + 28)
        if isinstance(result, fabric.Lost):
            if result.errno == errno.ENETUNREACH:
                raise oserror(errno.ENETUNREACH)
            if result.errno is not None and self.remote is not None:
                self.err = result.errno  # the ICMP error, reported by the next call
            return len(data)
        now = self.k.sched.now
        if self.proto == "icmp":
            if result.stack is not None and not fabric.reply_path(result.stack, result.src):
                return len(data)
            # The far end answers an echo request; the reply is back after a round trip.
            rtt = 2 * result.usec + 20
            reply = bytes([0, 0]) + data[2:]
            self.dgrams.append((now + rtt, reply, (dst, result.ttl)))
            return len(data)
        if result.stack is None:
            if self.proto == "udp" and (dst, dport) == (fabric.HOST_NAMESERVER, 53):
                # The host's resolver has no way out either: it answers SERVFAIL.
                self.dgrams.append((now + 2 * result.usec + 200, fabric.servfail(data), (dst, 53)))
                self.wake_readers(self.k)
            return len(data)  # the outside: silence
        target = _bound_udp(result.stack, result.dst, result.dport)
        if target is None:
            if self.remote is not None:
                self.err = errno.ECONNREFUSED  # ICMP port unreachable
            return len(data)
        sport = self.local[1]
        if target.external is not None:
            target.external.datagram(self, data)
            return len(data)
        table = _nat_table(self.k)
        # conntrack: the answer to a DNATed datagram comes back from the
        # address it was first sent to.
        frm = table.get((st, result.src, sport, result.dst, result.dport), (result.src, sport))
        if target.remote is not None and target.remote != frm:
            return len(data)  # a connected socket takes only its peer's
        target.dgrams.append((now + result.usec, bytes(data), frm))
        target.wake_readers(self.k)
        if (result.dst, result.dport) != (dst, dport):
            table[(target.stack, result.dst, result.dport, result.src, sport)] = (dst, dport)
        return len(data)


def _all_addresses(stack: NetStack) -> set[IPv4]:
    return {a.ip for link in stack.links.values() for a in link.addrs}


def _nat_table(k) -> dict:
    table = getattr(k, "udp_nat", None)
    if table is None:
        table = k.udp_nat = {}
    return table


def _bound_udp(stack: NetStack, ip: IPv4, port: int) -> Socket | None:
    candidates = stack.bound.get(("udp", port), ())
    exact = next((s for s in candidates if s.local is not None and s.local[0] == ip), None)
    return exact or next((s for s in candidates if s.local is not None and int(s.local[0]) == 0), None)


def find_listener(stack: NetStack, ip: IPv4, port: int) -> Socket | None:
    candidates = [s for s in stack.bound.get(("tcp", port), ()) if s.state == "listen"]
    exact = next((s for s in candidates if s.local is not None and s.local[0] == ip), None)
    return exact or next((s for s in candidates if s.local is not None and int(s.local[0]) == 0), None)


def connect_tcp(sock: Socket, dst: IPv4, dport: int) -> tuple[int, int | None]:
    """The handshake, done at once: (µs it takes, errno or None).  On
    success both ends are established (the server's waits in the listener's
    backlog); ETIMEDOUT means silence -- the caller decides how long it waits."""
    st = sock.stack
    src = sock.local[0] if sock.local is not None and int(sock.local[0]) else None
    result = fabric.send(st, dst, "tcp", dport, src)
    if isinstance(result, fabric.Lost):
        return (
            (result.usec, result.errno) if result.errno is not None else (SYN_TIMEOUT_USEC, errno.ETIMEDOUT)
        )
    rtt = 2 * result.usec + 20
    if result.stack is None:
        return SYN_TIMEOUT_USEC, errno.ETIMEDOUT
    if not fabric.reply_path(result.stack, result.src):
        return SYN_TIMEOUT_USEC, errno.ETIMEDOUT
    listener = find_listener(result.stack, result.dst, result.dport)
    if listener is not None and listener.local is not None and listener.local[0].is_loopback:
        if not result.dst.is_loopback:
            listener = None
    if listener is None:
        return rtt, errno.ECONNREFUSED  # RST
    sock.autobind(result.src if result.stack is st else src or result.src)
    assert sock.local is not None
    sock.remote = (dst, dport)
    if listener.external is not None:
        failed = listener.external.connect(sock)
        if failed is not None:
            return rtt, failed
        _established(sock)
        return rtt, None
    if len(listener.backlog) >= listener.backlog_max + 1:
        return SYN_TIMEOUT_USEC, errno.ETIMEDOUT  # a full backlog drops the SYN
    server = Socket(sock.k, result.stack, "tcp")
    server.local = (result.dst, result.dport)
    server.remote = (result.src, sock.local[1])
    server.state = "established"
    server.peer, sock.peer = sock, server
    _established(sock)
    result.stack.connections.append(server)
    listener.backlog.append(server)
    listener.wake_readers(sock.k)
    return rtt, None


def _established(sock: Socket) -> None:
    sock.state = "established"
    if sock not in sock.stack.connections:
        sock.stack.connections.append(sock)
