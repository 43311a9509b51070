"""The real world, carried into the simulated one.

The engine's services are real: the userland proxy holds a *real* port on
the host's loopback, the embedded DNS server answers on a *real* socket.
The simulated kernel joins them to its own sockets with **carriers**, which
copy bytes between a real socket and a simulated one:

* :class:`StreamCarrier` -- a TCP connection, one end real, one simulated:
  a connection the proxy makes into a container (``Network.connect``), or
  one a container makes to a simulated listener that the real world serves
  (the DNS server's TCP side, a published port reached from a container);
* :class:`InboundDatagrams` -- the proxy's UDP flow into a container;
* :class:`ExternalUdp` -- a simulated bound UDP socket whose datagrams are
  answered by a real one (the DNS server at 127.0.0.11:53).

Threads: the engine's services call :meth:`Outside.connect` from their own
threads; it only queues the request and waits.  Everything that touches the
simulated kernel happens in :meth:`Outside.poll`, which the scheduler calls
from the thread that runs it (the simulator is one caller at a time).  So
while a simulated program waits on the real world, the virtual clock runs
at the real world's pace: idle, the scheduler waits in ``select`` on the
carriers' sockets instead of jumping to its next timer.

Only loopback sockets are made here, with the standard library's portable
calls (``socketpair``, ``select``): nothing Linux-only.
"""

from __future__ import annotations

import errno
import queue
import select
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from .sockets import Socket, connect_tcp
from .stack import IPv4, NetStack

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import SimKernel

CONNECT_TIMEOUT = 5.0  # seconds a thread waits for the simulator to connect for it
LOOPBACK = "127.0.0.1"


class StreamCarrier:
    """A TCP connection between a real socket and a simulated one."""

    def __init__(self, outside: Outside, real: socket.socket, sim: Socket):
        self.outside = outside
        self.real = real
        self.sim = sim
        real.setblocking(False)
        self.pending = bytearray()  # simulated -> real, not yet taken by the real socket
        self.fin = False  # the simulated side is done sending
        self.closed = False
        sim.peer = self
        outside.carriers.append(self)

    # the simulated socket's peer
    def receive(self, data: bytes) -> None:
        self.pending += data
        self.flush()

    def peer_closed(self) -> None:
        self.fin = True
        self.flush()

    def peer_reset(self) -> None:
        self.close()

    def detach(self) -> None:
        self.fin = True
        self.flush()
        if not self.pending:
            self.close()

    def flush(self) -> None:
        if self.closed:
            return
        try:
            while self.pending:
                n = self.real.send(bytes(self.pending[:65536]))
                del self.pending[:n]
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            if self.sim.peer is self:
                self.sim.peer_reset()
            return
        if self.fin:
            try:
                self.real.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if self.sim.peer is not self:
                self.close()

    # the real socket
    def fileno(self) -> int:
        return self.real.fileno()

    def pump(self) -> bool:
        if self.closed:
            return False
        moved = False
        while True:
            try:
                data = self.real.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data = None
            if not data:
                if self.sim.peer is self:
                    if data is None:
                        self.sim.peer_reset()
                    else:
                        self.sim.peer_closed()
                self.close()
                return True
            self.sim.receive(data)
            moved = True
        self.flush()
        return moved

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.real.close()
            if self in self.outside.carriers:
                self.outside.carriers.remove(self)


class InboundDatagrams:
    """The proxy's UDP flow: datagrams on a real socket go out of a
    simulated one (in the engine's namespace) to the container; its answers
    come back the same way."""

    def __init__(self, outside: Outside, real: socket.socket, sim: Socket):
        self.outside, self.real, self.sim = outside, real, sim
        real.setblocking(False)
        self.closed = False
        outside.carriers.append(self)

    def fileno(self) -> int:
        return self.real.fileno()

    def pump(self) -> bool:
        if self.closed:
            return False
        moved = False
        while True:
            try:
                data = self.real.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return True
            assert self.sim.remote is not None
            try:
                self.sim.sendto(data, self.sim.remote)
            except OSError:
                pass
            moved = True
        while True:
            got = self.sim.take_datagram()
            if got is None:
                break
            try:
                self.real.send(got[0])
            except OSError:
                pass
            moved = True
        self.sim.err = None
        return moved

    def next_ready(self) -> int | None:
        return self.sim.next_ready()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.real.close()
            self.sim.release(self.sim.k)
            if self in self.outside.carriers:
                self.outside.carriers.remove(self)


class ExternalListener:
    """A simulated listening socket whose connections the real world serves
    (at ``address``): each is carried to a new real connection."""

    def __init__(self, outside: Outside, address: tuple[str, int], real: socket.socket):
        self.outside, self.address, self.real = outside, address, real

    def connect(self, client: Socket) -> int | None:
        if self.real.fileno() == -1:
            return errno.ECONNREFUSED  # its real socket was closed meanwhile
        try:
            conn = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
        except OSError as e:
            return e.errno or errno.ECONNREFUSED
        StreamCarrier(self.outside, conn, client)
        return None

    def datagram(self, sender: Socket, data: bytes) -> None:
        pass  # a TCP listener takes no datagrams

    def close(self) -> None:
        pass  # the real socket is its owner's


class ExternalUdp:
    """A simulated bound UDP socket answered by a real one at ``address``:
    each simulated sender gets a real socket of its own, so the answers
    find their way back to it."""

    def __init__(self, outside: Outside, address: tuple[str, int], real: socket.socket, bound: Socket):
        self.outside, self.address, self.real, self.bound = outside, address, real, bound
        self.flows: dict[int, _UdpFlow] = {}

    def connect(self, client: Socket) -> int | None:
        return errno.ECONNREFUSED

    def datagram(self, sender: Socket, data: bytes) -> None:
        if self.real.fileno() == -1:
            return
        flow = self.flows.get(id(sender))
        if flow is None or flow.closed:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LOOPBACK, 0))
            s.connect(self.address)
            flow = self.flows[id(sender)] = _UdpFlow(self.outside, s, sender, self.bound)
        try:
            flow.real.send(data)
        except OSError:
            pass

    def close(self) -> None:
        for flow in self.flows.values():
            flow.close()
        self.flows.clear()


class _UdpFlow:
    def __init__(self, outside: Outside, real: socket.socket, sender: Socket, bound: Socket):
        self.outside, self.real, self.sender, self.bound = outside, real, sender, bound
        real.setblocking(False)
        self.closed = False
        outside.carriers.append(self)

    def fileno(self) -> int:
        return self.real.fileno()

    def pump(self) -> bool:
        if self.closed:
            return False
        if self.sender.state == "closed" and self.sender.local is None or not self.sender.bound_here:
            self.close()
            return False
        moved = False
        while True:
            try:
                data = self.real.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return True
            assert self.bound.local is not None
            k = self.sender.k
            self.sender.dgrams.append((k.sched.now, data, self.bound.local))
            self.sender.wake_readers(k)
            moved = True
        return moved

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.real.close()
            if self in self.outside.carriers:
                self.outside.carriers.remove(self)


class _Request:
    def __init__(self, proto: str, stack_of: Any, ip: IPv4, port: int, inner: socket.socket):
        self.proto, self.stack_of, self.ip, self.port, self.inner = proto, stack_of, ip, port, inner
        self.done = threading.Event()
        self.errno: int | None = None


class Outside:
    """The simulated kernel's carriers and the queue of requests from other threads."""

    def __init__(self, k: SimKernel):
        self.k = k
        self.carriers: list[Any] = []
        self.requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.shadows: list[tuple[socket.socket, Socket]] = []  # real socket, its simulated twin

    # -- from other threads ------------------------------------------------------------------
    def connect(self, proto: str, stack_of, ip: IPv4, port: int) -> socket.socket:
        """A real socket connected into the simulator (to ``ip:port`` from
        the namespace ``stack_of()`` returns).  Any thread."""
        if proto == "tcp":
            outer, inner = socket.socketpair()
        else:
            outer, inner = _udp_pair()
        request = _Request(proto, stack_of, ip, port, inner)
        self.requests.put(request)
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if not request.done.wait(CONNECT_TIMEOUT) or request.errno is not None:
            outer.close()
            if not request.done.is_set():
                request.errno = errno.ETIMEDOUT
                request.done.set()
            code = request.errno or errno.ETIMEDOUT
            raise OSError(code, f"{_strerror(code)} (simulated {proto} {ip}:{port})")
        return outer

    # -- in the simulator's thread ---------------------------------------------------------------
    def _serve_requests(self) -> bool:
        served = False
        while True:
            try:
                request = self.requests.get_nowait()
            except queue.Empty:
                return served
            served = True
            if request.done.is_set():  # the asking thread gave up already
                request.inner.close()
                continue
            try:
                self._open(request)
            except OSError as e:
                request.errno = e.errno or errno.EIO
            if request.errno is not None:
                request.inner.close()
            request.done.set()

    def _open(self, request: _Request) -> None:
        stack: NetStack = request.stack_of()
        sim = Socket(self.k, stack, request.proto)
        if request.proto == "tcp":
            _usec, failed = connect_tcp(sim, request.ip, request.port)
            if failed is not None:
                sim.release(self.k)
                request.errno = failed
                return
            # The real socket takes the place of the simulated client: the
            # carrier becomes the peer of the end the server accepted (a
            # carrier on the client's own end would pour the server's answer
            # back into the client's unread buffer).  The client end is
            # retired quietly -- no FIN, no RST: the connection lives on.
            far = sim.peer
            if not isinstance(far, Socket):  # a listener the real world serves: refuse a loop
                sim.release(self.k)
                request.errno = errno.ECONNREFUSED
                return
            sim.peer = None
            sim.state = "closed"
            sim.release(self.k)
            StreamCarrier(self, request.inner, far)
        else:
            sim.bind(IPv4("0.0.0.0"), 0)
            sim.remote = (request.ip, request.port)
            InboundDatagrams(self, request.inner, sim)

    def prune_shadows(self) -> None:
        """A real socket its owner closed takes its simulated twin along."""
        kept = []
        for real, sim in self.shadows:
            if real.fileno() == -1:
                sim.release(self.k)
            else:
                kept.append((real, sim))
        self.shadows = kept

    def poll(self, wait_usec: int | None) -> bool:
        """Move what the real world sent; True if anything moved.  With
        nothing to move and carriers open, wait up to ``wait_usec`` (None:
        a second at most) of real time for them, moving the virtual clock
        along by what really passed."""
        moved = self._drain_wakeups() | self._serve_requests()
        for carrier in list(self.carriers):
            moved |= carrier.pump()
        if self.shadows:
            self.prune_shadows()
        if moved or wait_usec == 0 or not self.carriers:
            return moved
        # Nothing to move: wait for the real world (in slices of at most a
        # second), up to the next thing the simulator has to do, moving the
        # virtual clock along by the real time that passed.
        soonest = [t for c in self.carriers if hasattr(c, "next_ready") for t in [c.next_ready()] if t]
        limit = wait_usec
        if soonest:
            first = max(0, min(soonest) - self.k.sched.now)
            limit = first if limit is None else min(limit, first)
        waited = 0
        while self.carriers:
            seconds = 1.0 if limit is None else min(1.0, (limit - waited) / 1_000_000)
            started = time.monotonic()
            try:
                ready, _, _ = select.select([*self.carriers, self._wake_r], [], [], max(0.0, seconds))
            except (OSError, ValueError):
                ready = []
            elapsed = max(1, int((time.monotonic() - started) * 1_000_000))
            if limit is not None:
                elapsed = min(elapsed, limit - waited)
            self.k.sched.now += elapsed
            waited += elapsed
            if ready and self.poll(0):
                return True
            if limit is not None and waited >= limit:
                return bool(soonest)
            if limit is None:
                return True  # no timer pending: the caller asks again (it may be done)
        return False

    def _drain_wakeups(self) -> bool:
        got = False
        while True:
            try:
                if not self._wake_r.recv(4096):
                    return got
                got = True
            except (BlockingIOError, InterruptedError, OSError):
                return got

    def close(self) -> None:
        for carrier in list(self.carriers):
            carrier.close()
        self._wake_r.close()
        self._wake_w.close()


def _udp_pair() -> tuple[socket.socket, socket.socket]:
    """Two UDP sockets on loopback, connected to each other (a datagram
    socketpair that every OS has)."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind((LOOPBACK, 0))
    b.bind((LOOPBACK, 0))
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    return a, b


def _strerror(code: int) -> str:
    import os

    return os.strerror(code)
