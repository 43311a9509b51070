"""``LinuxNetwork``: bridges, veths, addresses and routes over netlink; rules through nft.

netlink is the socket family through which ``ip`` talks to the kernel
(``RTM_NEWLINK`` creates an interface, ``RTM_NEWADDR`` adds an address ...);
pyroute2 speaks it for us.  A netlink socket acts in the network namespace
it was *created* in, wherever it is used later.  Namespaces belong to
threads, so:

* every operation in the engine's own namespace runs on one worker thread
  that holds one netlink socket (created there, after joining the engine's
  namespace when the backend was told to act in another one -- how tests
  keep everything inside a namespace of their own);
* an operation inside a container runs on a short-lived thread that joins
  the container's namespace (``setns(2)`` on ``/proc/PID/ns/net``), opens a
  netlink socket there, acts and closes it.

Sockets for the proxy and the DNS server are opened the same way, so a
socket the engine serves can live inside a container's namespace (the DNS
server at 127.0.0.11).  Packet rules are an nft script (:mod:`.nftables`)
run by ``nft -f`` from the worker thread, i.e. in the engine's namespace.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import queue
import socket
import subprocess
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.network import Firewall, Interface, NetnsView, Network, Route, SocketInfo
from stepbox.core.kernel.trace import Tracer

from . import libc, nftables

if TYPE_CHECKING:
    from concurrent.futures import Future

CONNECT_TIMEOUT = 5.0


def _run_in_netns(path: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` on a fresh thread that has joined the namespace at ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    box: dict = {}

    def body() -> None:
        try:
            libc.setns(fd, libc.CLONE_NEWNET)
            box["result"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e

    try:
        t = threading.Thread(target=body, name="stepbox-netns")
        t.start()
        t.join()
    finally:
        os.close(fd)
    if "error" in box:
        raise box["error"]
    return box.get("result")


# STEPBOX_NETNS=private: the engine wires its networks in a new network
# namespace of its own (a notebook's lab on the real kernel), not the host's.
PRIVATE_NETNS = "private"


class _Worker:
    """One thread, in one namespace, running what it is handed in order."""

    def __init__(self, netns_path: str | None):
        # Imported here: concurrent.futures (with logging) costs every
        # stepbox-runc command milliseconds, and none of them has a worker.
        from concurrent.futures import Future

        self._jobs: queue.Queue = queue.Queue()
        ready: Future = Future()
        self._thread = threading.Thread(
            target=self._loop, args=(netns_path, ready), name="stepbox-netlink", daemon=True
        )
        self._thread.start()
        ready.result()  # raises if joining the namespace failed

    def _loop(self, netns_path: str | None, ready: Future) -> None:
        try:
            if netns_path == PRIVATE_NETNS:
                # A namespace of this thread's own (namespaces belong to a
                # thread, not the process): nobody else sees its bridges and
                # rules, and it goes when the last thing in it does.
                libc.unshare(libc.CLONE_NEWNET)
                from pyroute2 import IPRoute

                with IPRoute() as ipr:
                    ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
            elif netns_path:
                fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    libc.setns(fd, libc.CLONE_NEWNET)
                finally:
                    os.close(fd)
        except BaseException as e:
            ready.set_exception(e)
            return
        ready.set_result(None)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)

    def call(self, fn: Callable[[], Any]) -> Any:
        if threading.current_thread() is self._thread:
            return fn()
        from concurrent.futures import Future

        future: Future = Future()
        self._jobs.put((fn, future))
        return future.result()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5)


def _netlink_error(e: Exception, what: str) -> OSError:
    code = getattr(e, "code", None) or errno.EIO
    return OSError(code, f"{what}: {os.strerror(code)}")


class LinuxNetwork(Network):
    def __init__(self, tracer: Tracer, netns_path: str | None = None, table: str = nftables.TABLE):
        self.tracer = tracer
        self.netns_path = netns_path
        self.table = table
        self._worker: _Worker | None = None
        self._ipr = None
        self._lock = threading.Lock()

    # -- where calls run ---------------------------------------------------------------
    def _host(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(iproute)`` in the engine's namespace (on the worker)."""
        with self._lock:
            if self._worker is None:
                self._worker = _Worker(self.netns_path)
        return self._worker.call(lambda: fn(self._iproute()))

    def _iproute(self):
        if self._ipr is None:
            from pyroute2 import IPRoute

            self._ipr = IPRoute()  # its socket opens on first use: on the worker
        return self._ipr

    def _in(self, netns: int | None, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(iproute)`` in ``netns`` (None: the engine's)."""
        if netns is None:
            return self._host(fn)

        def inside():
            from pyroute2 import IPRoute

            ipr = IPRoute()
            try:
                return fn(ipr)
            finally:
                ipr.close()

        return _run_in_netns(f"/proc/{netns}/ns/net", inside)

    def _plain(self, netns: int | None, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` (no netlink) in ``netns``."""
        if netns is None:
            return self._host(lambda _ipr: fn())
        return _run_in_netns(f"/proc/{netns}/ns/net", fn)

    @staticmethod
    def _index(ipr, name: str) -> int:
        found = ipr.link_lookup(ifname=name)
        if not found:
            raise OSError(errno.ENODEV, f"no interface named {name}")
        return found[0]

    def _netlink(self, netns: int | None, call: str, detail: str, fn: Callable[[Any], Any]) -> Any:
        self.tracer.record(call, detail)

        def guarded(ipr):
            from pyroute2 import NetlinkError

            try:
                return fn(ipr)
            except NetlinkError as e:
                raise _netlink_error(e, detail) from None

        return self._in(netns, guarded)

    # -- links ------------------------------------------------------------------------------
    def create_bridge(self, name: str, mac: str = "") -> None:
        extra = {"address": mac} if mac else {}
        self._netlink(
            None,
            "RTM_NEWLINK",
            f"ip link add {name} type bridge",
            lambda ipr: ipr.link("add", ifname=name, kind="bridge", **extra),
        )

    def create_veth(self, name: str, peer: str) -> None:
        self._netlink(
            None,
            "RTM_NEWLINK",
            f"ip link add {name} type veth peer name {peer}",
            lambda ipr: ipr.link("add", ifname=name, kind="veth", peer={"ifname": peer}),
        )

    def delete_link(self, name: str, netns: int | None = None) -> None:
        self._netlink(
            netns,
            "RTM_DELLINK",
            f"ip link del {name}",
            lambda ipr: ipr.link("del", index=self._index(ipr, name)),
        )

    def set_master(self, name: str, bridge: str) -> None:
        self._netlink(
            None,
            "RTM_NEWLINK",
            f"ip link set {name} master {bridge}",
            lambda ipr: ipr.link("set", index=self._index(ipr, name), master=self._index(ipr, bridge)),
        )

    def move_to_netns(self, name: str, pid: int, new_name: str) -> None:
        self._netlink(
            None,
            "RTM_NEWLINK",
            f"ip link set {name} netns {pid} name {new_name}",
            lambda ipr: ipr.link("set", index=self._index(ipr, name), net_ns_pid=pid, ifname=new_name),
        )

    def set_up(self, name: str, netns: int | None = None, mac: str = "") -> None:
        extra = {"address": mac} if mac else {}
        self._netlink(
            netns,
            "RTM_NEWLINK",
            f"ip link set {name}{' address ' + mac if mac else ''} up",
            lambda ipr: ipr.link("set", index=self._index(ipr, name), state="up", **extra),
        )

    def add_address(self, name: str, cidr: str, netns: int | None = None) -> None:
        iface = ipaddress.ip_interface(cidr)
        broadcast = str(iface.network.broadcast_address)
        self._netlink(
            netns,
            "RTM_NEWADDR",
            f"ip addr add {cidr} brd {broadcast} dev {name}",
            lambda ipr: ipr.addr(
                "add",
                index=self._index(ipr, name),
                address=str(iface.ip),
                prefixlen=iface.network.prefixlen,
                broadcast=broadcast,
            ),
        )

    def add_default_route(self, gateway: str, device: str, netns: int | None = None) -> None:
        self._netlink(
            netns,
            "RTM_NEWROUTE",
            f"ip route add default via {gateway} dev {device}",
            lambda ipr: ipr.route("add", dst="0.0.0.0/0", gateway=gateway, oif=self._index(ipr, device)),
        )

    # -- looking ----------------------------------------------------------------------------
    def view(self, netns: int | None = None) -> NetnsView:
        def look(ipr):
            links = ipr.get_links()
            names = {link["index"]: link.get("ifname") for link in links}
            addresses: dict[int, list[str]] = {}
            for a in ipr.get_addr(family=socket.AF_INET):
                addresses.setdefault(a["index"], []).append(f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}")
            interfaces = []
            for link in links:
                info = link.get("IFLA_LINKINFO")
                kind = info.get("IFLA_INFO_KIND") if info else None
                name = link.get("ifname")
                if name == "lo":
                    kind = "loopback"
                master = link.get("IFLA_MASTER")
                interfaces.append(
                    Interface(
                        name=name,
                        kind=kind if kind in ("loopback", "bridge", "veth") else "other",
                        up=bool(link["flags"] & 1),
                        mac="" if kind == "loopback" else (link.get("IFLA_ADDRESS") or ""),
                        mtu=link.get("IFLA_MTU") or 0,
                        master=names.get(master, "") if master else "",
                        addresses=tuple(addresses.get(link["index"], ())),
                    )
                )
            routes = []
            for r in ipr.get_routes(family=socket.AF_INET, table=254):
                dst = r.get("RTA_DST")
                routes.append(
                    Route(
                        destination=f"{dst}/{r['dst_len']}" if dst else "default",
                        device=names.get(r.get("RTA_OIF"), ""),
                        gateway=r.get("RTA_GATEWAY") or "",
                    )
                )
            return NetnsView(
                tuple(sorted(interfaces, key=lambda i: i.name)),
                tuple(sorted(routes, key=lambda r: (r.destination, r.device))),
                tuple(sorted(_listening_sockets(), key=lambda s: (s.proto, s.address, s.port))),
            )

        return self._in(netns, look)

    def host_resolv_conf(self) -> str:
        return _read_text("/etc/resolv.conf")

    # -- packet rules ------------------------------------------------------------------------
    def enable_forwarding(self) -> None:
        self.tracer.record("write /proc/sys/net/ipv4/ip_forward", '"1"')
        self._plain(None, _write_ip_forward)

    def apply_firewall(self, rules: Firewall) -> None:
        script = nftables.render(rules, self.table)
        self.tracer.record(
            "nft -f -", f"table {nftables.FAMILY} {self.table}: {len(script.splitlines())} lines"
        )
        self._plain(None, lambda: _nft(["-f", "-"], script))

    def firewall_text(self) -> str:
        def listing():
            try:
                return _nft(["list", "table", nftables.FAMILY, self.table], "")
            except KernelError:
                return ""  # no such table

        return self._plain(None, listing)

    # -- sockets ------------------------------------------------------------------------------
    def open_socket(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        self.tracer.record(
            "bind", f"{proto} {address}:{port}" + (f" in the netns of pid {netns}" if netns else "")
        )

        def make():
            s = socket.socket(socket.AF_INET, kind)
            try:
                if proto == "tcp":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((address, port))
                if proto == "tcp":
                    s.listen(128)
                s.setblocking(False)
            except BaseException:
                s.close()
                raise
            return s

        return self._plain(netns, make)

    def connect(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM

        def make():
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.settimeout(CONNECT_TIMEOUT)
                s.connect((address, port))
            except BaseException:
                s.close()
                raise
            return s

        return self._plain(netns, make)

    def close(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            ipr, self._ipr = self._ipr, None
            if ipr is not None:
                worker.call(ipr.close)
            worker.close()


def _write_ip_forward() -> None:
    # /proc/sys/net/* is the namespace of the task that opens it -- this
    # thread's, so the worker's namespace.
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1")


def _nft(args: list[str], script: str) -> str:
    try:
        out = subprocess.run(["nft", *args], input=script, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise KernelError("the nft command is missing: install the nftables package") from None
    if out.returncode != 0:
        raise KernelError(f"nft {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def _read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _hex_address(text: str) -> tuple[str, int]:
    """``0100007F:1F90`` (/proc/net/tcp) -> ("127.0.0.1", 8080)."""
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 16:  # /proc/net/tcp6: four 32-bit words, each in host (little-endian) order
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        return socket.inet_ntop(socket.AF_INET6, raw), int(port, 16)
    return socket.inet_ntoa(raw[::-1]), int(port, 16)


def _listening_sockets() -> list[SocketInfo]:
    """Listening TCP and bound UDP sockets of the calling thread's namespace
    (IPv6 ones too: busybox's servers listen on [::], shown as "::")."""
    found = []
    for proto, table in (("tcp", "tcp"), ("udp", "udp"), ("tcp", "tcp6"), ("udp", "udp6")):
        text = _read_text(f"/proc/thread-self/net/{table}")
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4:
                continue
            state = fields[3]
            if (proto == "tcp" and state != "0A") or (proto == "udp" and state != "07"):
                continue  # tcp: LISTEN only; udp: unconnected (state 07 = CLOSE)
            address, port = _hex_address(fields[1])
            found.append(SocketInfo(proto, address, port))
    return found
