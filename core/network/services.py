"""The engine's network services: the userland proxy and the embedded DNS server.

Both are small servers the daemon runs on one asyncio event loop, on a
thread of its own (:class:`ServiceLoop`).  The sockets they serve are opened
by the kernel backend in the right namespace (:meth:`Network.open_socket`)
-- the proxy's in the engine's own, the DNS server's *inside* a container's
-- and handed over here; an asyncio server does not care which namespace a
socket lives in.

**The userland proxy** (Docker's ``docker-proxy``): a published port is a
listening socket on the host, and each connection to it is answered by a
new connection to the container's address, with the bytes copied both
ways.  DNAT rules already forward packets that arrive from outside, so why
a proxy?  Packets to 127.0.0.1 never pass the routing step where DNAT
happens, and the proxy also *holds* the host port, so nothing else can take
it while the container runs -- and a port already taken is found at once.

**The embedded DNS server** (Docker's at 127.0.0.11): containers on a
user-defined network find each other by name.  Queries for a container's
name or alias get its address on the shared network; everything else is
forwarded to the host's nameservers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future

log = logging.getLogger("stepbox.network")

UDP_IDLE = 90.0  # seconds a UDP "connection" (client address) is kept, as docker-proxy
DNS_TTL = 600
FORWARD_TIMEOUT = 2.0


class ServiceLoop:
    """An asyncio loop on a daemon thread, started on first use."""

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                ready: Future = Future()
                self._thread = threading.Thread(
                    target=self._run, args=(ready,), name="stepbox-netsvc", daemon=True
                )
                self._thread.start()
                self._loop = ready.result()
            return self._loop

    def _run(self, ready: Future) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ready.set_result(loop)
        loop.run_forever()
        loop.close()

    def call(self, coroutine_fn, *args):
        """Run ``coroutine_fn(*args)`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine_fn(*args), self.loop).result()

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)


# -- the userland proxy -----------------------------------------------------------------------


class TcpProxy:
    """Serves ``listener``: each connection is relayed to ``connect()``'s socket."""

    def __init__(self, services: ServiceLoop, listener: socket.socket, connect: Callable[[], socket.socket]):
        self.services = services
        self.listener = listener
        self.connect = connect
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        services.call(self._start)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, sock=self.listener)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        loop = asyncio.get_running_loop()
        try:
            try:
                upstream = await loop.run_in_executor(None, self.connect)
            except OSError as e:
                log.info("proxy: cannot reach the container: %s", e)
                return
            upstream.setblocking(False)
            up_reader, up_writer = await asyncio.open_connection(sock=upstream)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)
            up_writer.close()
        finally:
            writer.close()
            self._tasks.discard(task)

    def close(self) -> None:
        async def stop():
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()

        self.services.call(stop)
        self.listener.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close: the other side learns we are done sending
    except (ConnectionError, OSError):
        writer.close()


class UdpProxy:
    """Serves the datagram socket ``listener``: each client address gets its
    own socket to the container, kept while datagrams flow (UDP_IDLE)."""

    def __init__(self, services: ServiceLoop, listener: socket.socket, connect: Callable[[], socket.socket]):
        self.services = services
        self.listener = listener
        self.connect = connect
        self._transport: asyncio.DatagramTransport | None = None
        self._flows: dict[tuple, tuple[asyncio.DatagramTransport, asyncio.TimerHandle]] = {}
        services.call(self._start)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        proxy = self

        class Front(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                loop.create_task(proxy._forward(data, addr))

        self._transport, _ = await loop.create_datagram_endpoint(Front, sock=self.listener)

    async def _forward(self, data: bytes, client: tuple) -> None:
        loop = asyncio.get_running_loop()
        flow = self._flows.get(client)
        if flow is None:
            try:
                upstream = await loop.run_in_executor(None, self.connect)
            except OSError as e:
                log.info("proxy: cannot reach the container: %s", e)
                return
            upstream.setblocking(False)
            front = self._transport

            class Back(asyncio.DatagramProtocol):
                def datagram_received(self, reply, _addr):
                    front.sendto(reply, client)

            transport, _ = await loop.create_datagram_endpoint(Back, sock=upstream)
            flow = (transport, loop.call_later(UDP_IDLE, self._expire, client))
            self._flows[client] = flow
        else:
            flow[1].cancel()
            self._flows[client] = (flow[0], loop.call_later(UDP_IDLE, self._expire, client))
        self._flows[client][0].sendto(data)

    def _expire(self, client: tuple) -> None:
        flow = self._flows.pop(client, None)
        if flow:
            flow[0].close()

    def close(self) -> None:
        async def stop():
            for transport, timer in self._flows.values():
                timer.cancel()
                transport.close()
            self._flows.clear()
            if self._transport is not None:
                self._transport.close()

        self.services.call(stop)
        self.listener.close()


# -- the embedded DNS server -------------------------------------------------------------------


def answer(
    query: bytes, lookup: Callable[[str], list[str] | None], forward: Callable[[bytes], bytes | None]
) -> bytes | None:
    """The reply to one DNS message.  ``lookup(name)``: the addresses of a
    container known by that name, or None if no container is; anything
    else goes to ``forward`` (None from it: SERVFAIL).  None: not a query
    we can even parse (dropped, as a real server does)."""
    from dnslib import QTYPE, RCODE, RR, A, DNSError, DNSRecord

    try:
        request = DNSRecord.parse(query)
    except (DNSError, ValueError, IndexError):
        return None
    if request.header.qr or not request.questions:
        return None
    question = request.q
    name = str(question.qname).rstrip(".").lower()
    addresses = lookup(name) if question.qclass == 1 else None
    if addresses is not None:
        reply = request.reply(ra=1, aa=1)
        if question.qtype in (QTYPE.A, QTYPE.ANY):
            for address in addresses:
                reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=DNS_TTL))
        return reply.pack()  # AAAA and the rest: no data (NOERROR), the name exists
    forwarded = forward(query)
    if forwarded is not None:
        return forwarded
    reply = request.reply(ra=1)
    reply.header.rcode = RCODE.SERVFAIL
    return reply.pack()


class DnsServer:
    """Serves DNS on a UDP socket and a TCP listener (both at 127.0.0.11:53
    in one container's namespace)."""

    def __init__(
        self,
        services: ServiceLoop,
        udp: socket.socket,
        tcp: socket.socket,
        lookup: Callable[[str], list[str] | None],
        forward: Callable[[bytes], bytes | None],
    ):
        self.services = services
        self.udp, self.tcp = udp, tcp
        self.lookup, self.forward = lookup, forward
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._server: asyncio.AbstractServer | None = None
        services.call(self._start)

    async def _reply(self, query: bytes) -> bytes | None:
        # lookup reads the engine's records and forward may wait on the
        # network: both off the loop.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, answer, query, self.lookup, self.forward)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        server = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                async def respond():
                    reply = await server._reply(data)
                    if reply is not None:
                        self.transport.sendto(reply, addr)

                loop.create_task(respond())

        self._udp_transport, _ = await loop.create_datagram_endpoint(Udp, sock=self.udp)
        self._server = await asyncio.start_server(self._serve_tcp, sock=self.tcp)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(2)
                query = await reader.readexactly(int.from_bytes(head, "big"))
                reply = await self._reply(query)
                if reply is None:
                    break
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        async def stop():
            if self._udp_transport is not None:
                self._udp_transport.close()
            if self._server is not None:
                self._server.close()

        self.services.call(stop)
        self.udp.close()
        self.tcp.close()


def forward_to(servers: list[str], send: Callable[[str], socket.socket]) -> Callable[[bytes], bytes | None]:
    """A forwarder asking each server in turn over UDP; ``send(server)`` is
    a connected UDP socket to it (opened in the engine's namespace)."""

    def forward(query: bytes) -> bytes | None:
        for server in servers:
            try:
                s = send(server)
            except OSError:
                continue
            try:
                s.settimeout(FORWARD_TIMEOUT)
                s.send(query)
                return s.recv(65535)
            except OSError:
                continue
            finally:
                s.close()
        return None

    return forward
