"""The daemon's networks: what exists, who is on which, and what the kernel must hold for it.

:class:`NetworkManager` is the bookkeeping half of Docker's libnetwork: it
creates and removes networks (a record and a bridge), hands out addresses
(:mod:`.ipam`), decides which packet rules must exist (:meth:`firewall`),
and runs the services that published ports and name resolution need
(:mod:`.services`).  The other half -- wiring one container, step by step
-- is in the container's plan (``core/container/plan/network.py``), which
calls the kernel and this manager's bookkeeping.

Which containers are on a network is read from the container records
(their ``networks`` attachments), never stored twice; the manager is given
a function that lists them.  Everything here goes through
:class:`~stepbox.core.kernel.network.Network`, so the same manager drives
the real kernel and the simulator.

Containers start, stop and connect in parallel (each under its own lock,
see core/engine/engine.py), so the manager has one lock of its own,
:attr:`NetworkManager.lock`, for what all of them share: the network
records, the packet rules (computed from the saved records and replaced
as a whole: two computations must not cross) and address allocation (a
start holds it from choosing an address until its record, which names
the address, is saved).  It is the innermost lock: held, it takes no
container's.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from stepbox.core.kernel.network import BridgeRules, Firewall, Network, PortRule
from stepbox.core.kernel.user_network import UserNetwork

from . import ipam
from .etc_files import ResolvConf, upstream_nameservers
from .ports import PortBinding
from .store import (
    DEFAULT_BRIDGE,
    InvalidNetwork,
    NetworkConflict,
    NetworkRecord,
    NetworkStore,
    NoSuchNetwork,
    new_network_id,
)

if TYPE_CHECKING:
    import socket  # annotations only

    # The proxies and the DNS server (asyncio on a thread of their own) are imported
    # when a port is published or a DNS server started: an engine that does neither
    # -- a lab on the simulator, also under Pyodide, where no thread can start --
    # never loads them.
    from .services import DnsServer, ServiceLoop, TcpProxy, UdpProxy

log = logging.getLogger("stepbox.network")
T = TypeVar("T")

PREDEFINED = ("bridge", "host", "none")
BRIDGE_OPTION_NAME = "com.docker.network.bridge.name"
BRIDGE_OPTION_MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
# Driver options stepbox acts on; any other is refused by name, not ignored.
KNOWN_OPTIONS = {
    BRIDGE_OPTION_NAME,
    BRIDGE_OPTION_MASQUERADE,
    "com.docker.network.bridge.enable_icc",  # only "true": containers on one bridge always talk
    "com.docker.network.bridge.host_binding_ipv4",  # only "0.0.0.0"
    "com.docker.network.driver.mtu",  # only "1500"
}
ONLY_VALUE = {
    "com.docker.network.bridge.enable_icc": "true",
    "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
    "com.docker.network.driver.mtu": "1500",
}


class PortInUse(NetworkConflict):
    pass


class NetworkUnavailable(InvalidNetwork):
    pass


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class BridgeSettings:
    """The daemon's options for its default network (dockerd's --bridge,
    --bip, --default-address-pool)."""

    bridge: str = DEFAULT_BRIDGE  # "none": no default bridge network at all
    bip: str = ""  # "172.17.0.1/16": the bridge's address, and so its subnet
    pools: tuple[ipam.Pool, ...] = ipam.DEFAULT_POOLS

    @property
    def disabled(self) -> bool:
        return self.bridge == "none"

    def check(self) -> None:
        if self.bip:
            try:
                iface = ipaddress.IPv4Interface(self.bip)
            except ValueError:
                raise InvalidNetwork(
                    f"invalid --bip {self.bip}: expected ADDRESS/PREFIX, e.g. 172.17.0.1/16"
                ) from None
            if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
                raise InvalidNetwork(f"invalid --bip {self.bip}: the address must be a host of the subnet")
        if not self.disabled and (len(self.bridge) > 15 or not self.bridge or "/" in self.bridge):
            raise InvalidNetwork(
                f"invalid --bridge {self.bridge}: an interface name of at most 15 characters"
            )


@dataclass
class Endpoint:
    """One container's place on one network, as the steps need it."""

    network: NetworkRecord
    settings: dict  # the container record's Docker-shaped EndpointSettings (updated in place)
    interface: str  # eth0, eth1 ... inside the container

    @property
    def address(self) -> str:
        return self.settings.get("IPAddress", "")

    @property
    def cidr(self) -> str:
        return f"{self.settings['IPAddress']}/{self.settings['IPPrefixLen']}"

    @property
    def wired(self) -> bool:
        return bool(self.settings.get("stepbox", {}).get("Wired"))

    @property
    def host_veth(self) -> str:
        return self.settings.get("stepbox", {}).get("HostVeth", "")

    @property
    def peer_veth(self) -> str:
        return self.settings.get("stepbox", {}).get("PeerVeth", "")


def new_endpoint_settings(network: NetworkRecord, aliases=(), ip: str = "", mac: str = "") -> dict:
    """Docker's EndpointSettings for a container attached but not yet started."""
    return {
        "IPAMConfig": {"IPv4Address": ip} if ip else None,
        "Links": None,
        "Aliases": list(aliases) or None,
        "MacAddress": mac,
        "DriverOpts": None,
        "NetworkID": network.id,
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": None,
        "stepbox": {"RequestedMac": mac},
    }


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    """``method`` runs holding the manager's lock."""

    @functools.wraps(method)
    def locked(self: NetworkManager, *args: Any, **kwargs: Any) -> T:
        with self.lock:
            return method(self, *args, **kwargs)

    return locked


class NetworkManager:
    def __init__(
        self,
        kernel: Network | None,
        store: NetworkStore,
        settings: BridgeSettings | None = None,
        running: Callable[[], Iterable] = lambda: [],
        unwired_why: str = "",
        relay: Network | None = None,
        user_network: UserNetwork | None = None,
    ):
        """``kernel``: the backend's network (None: a kernel without one,
        where only ``none`` and ``host`` exist; ``unwired_why`` may say why).
        ``running``: the records of the running containers (their
        ``networks`` and ``ports``).  ``relay``: without a network, how
        ports are published into a container's own namespace (the kernel's
        ``port_relay``; see :meth:`publish_relayed`).  ``user_network``:
        without a network, the way out a container's own namespace gets
        (the kernel's ``user_network``: slirp4netns, rootless)."""
        self.kernel = kernel
        self.unwired_why = unwired_why
        self.relay = relay
        self.user_network = user_network
        self.store = store
        self.settings = settings or BridgeSettings()
        self.settings.check()
        self.running = running
        self._services: ServiceLoop | None = None  # made on first use: see `services`
        self._proxies: dict[str, list] = {}  # container id -> its proxies
        self._dns: dict[str, DnsServer] = {}  # container id -> its DNS server
        self._host_resolv: ResolvConf | None = None
        self.lock = threading.RLock()  # see the module docstring

    @property
    def services(self) -> ServiceLoop:
        """The loop the proxies and DNS servers run on (its thread starts on first use)."""
        with self.lock:
            if self._services is None:
                from .services import ServiceLoop

                self._services = ServiceLoop()
            return self._services

    # -- start-up ----------------------------------------------------------------------------
    @property
    def net(self) -> Network:
        """The kernel's network (only used where one is known to be there)."""
        assert self.kernel is not None, "this engine's kernel has no network"
        return self.kernel

    @property
    def wired(self) -> bool:
        """Can this engine build bridges (a kernel network, and a bridge wanted)?"""
        return self.kernel is not None

    @_locked
    def start(self) -> list[str]:
        """Make sure the predefined networks exist and the kernel holds every
        bridge and rule the records say (after a reboot, or a daemon killed
        with -9: what is there already is kept).  Lines to log."""
        said = []
        for name, driver in (("host", "host"), ("none", "null")):
            if self.store.by_name(name) is None:
                self.store.save(NetworkRecord(new_network_id(), name, driver, now(), predefined=True))
        default = self.store.by_name("bridge")
        if self.settings.disabled or self.kernel is None:
            if default is not None:
                self.store.delete(default)
                said.append(f"the default bridge network is disabled: removed its record ({default.bridge})")
        else:
            default = self._ensure_default_bridge(default)
        if self.kernel is not None:
            for record in self.store.all():
                if record.driver == "bridge":
                    if self._ensure_bridge(record):
                        said.append(
                            f"created bridge {record.bridge} ({record.subnet}) for network {record.name}"
                        )
            if any(r.driver == "bridge" for r in self.store.all()):
                self.net.enable_forwarding()
            self.apply_firewall()
        return said

    def _ensure_default_bridge(self, record: NetworkRecord | None) -> NetworkRecord:
        if self.settings.bip:
            iface = ipaddress.IPv4Interface(self.settings.bip)
            subnet, gateway = str(iface.network), str(iface.ip)
        elif record is not None:
            subnet, gateway = record.subnet, record.gateway
        else:
            net = ipam.allocate_subnet(self.settings.pools, self._taken_subnets(), self._routed())
            subnet, gateway = str(net), ipam.default_gateway(net)
        if record is not None and (record.bridge, record.subnet, record.gateway) == (
            self.settings.bridge,
            subnet,
            gateway,
        ):
            return record
        if record is not None:  # the daemon's options changed: the old bridge goes
            self._delete_bridge(record)
        record = record or NetworkRecord(new_network_id(), "bridge", "bridge", now(), predefined=True)
        record.bridge, record.subnet, record.gateway = self.settings.bridge, subnet, gateway
        record.options = {
            "com.docker.network.bridge.default_bridge": "true",
            "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            BRIDGE_OPTION_NAME: self.settings.bridge,
            "com.docker.network.driver.mtu": "1500",
        }
        self.store.save(record)
        return record

    def _routed(self) -> list[ipaddress.IPv4Network]:
        if self.kernel is None:
            return []
        mine = {r.bridge for r in self.store.all() if r.bridge}
        routed = []
        for route in self.net.view().routes:
            if route.destination != "default" and route.device not in mine:
                routed.append(ipaddress.IPv4Network(route.destination, strict=False))
        return routed

    def _taken_subnets(self) -> list[ipaddress.IPv4Network]:
        return [ipaddress.IPv4Network(r.subnet) for r in self.store.all() if r.subnet]

    def _ensure_bridge(self, record: NetworkRecord) -> bool:
        """Create the record's bridge unless it is there; True if created."""
        existing = self.net.view().interface(record.bridge)
        if existing is not None:
            if existing.kind != "bridge":
                raise NetworkConflict(
                    f"cannot use {record.bridge} as network {record.name}'s bridge: "
                    f"an interface of kind {existing.kind} has that name"
                )
            if f"{record.gateway}/{ipaddress.IPv4Network(record.subnet).prefixlen}" not in existing.addresses:
                self.net.add_address(record.bridge, self._gateway_cidr(record))
            if not existing.up:
                self.net.set_up(record.bridge)
            return False
        self.net.create_bridge(record.bridge)
        try:
            self.net.add_address(record.bridge, self._gateway_cidr(record))
            self.net.set_up(record.bridge)
        except BaseException:
            self.net.delete_link(record.bridge)
            raise
        return True

    @staticmethod
    def _gateway_cidr(record: NetworkRecord) -> str:
        return f"{record.gateway}/{ipaddress.IPv4Network(record.subnet).prefixlen}"

    def _delete_bridge(self, record: NetworkRecord) -> None:
        if self.kernel is None or not record.bridge:
            return
        try:
            self.net.delete_link(record.bridge)
        except OSError as e:
            if e.errno != errno.ENODEV:
                raise

    @_locked
    def close(self) -> None:
        """The engine stops: close every proxy and DNS socket of this
        program (the kernel's bridges and rules stay, for the next one)."""
        for cid in list(self._proxies):
            self.unpublish(cid)
        for cid in list(self._dns):
            self.stop_dns(cid)
        if self._services is not None:
            self._services.close()

    # -- networks -----------------------------------------------------------------------------
    def all(self) -> list[NetworkRecord]:
        return self.store.all()

    def find(self, name_or_id: str) -> NetworkRecord:
        return self.store.find(name_or_id)

    @_locked
    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str = "",
        gateway: str = "",
        ip_range: str = "",
        internal: bool = False,
        attachable: bool = False,
        labels: dict | None = None,
        options: dict | None = None,
        ipam_options: dict | None = None,
    ) -> NetworkRecord:
        if not name or not all(c.isalnum() or c in "_.-" for c in name) or not name[0].isalnum():
            raise InvalidNetwork(f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        if name in PREDEFINED:
            raise NetworkConflict(f"{name} is a pre-defined network and cannot be created")
        if self.store.by_name(name) is not None:
            raise NetworkConflict(f"network with name {name} already exists")
        if driver != "bridge":
            raise InvalidNetwork(f"driver {driver!r} is not supported by stepbox (only bridge)")
        if self.kernel is None:
            raise NetworkUnavailable(
                f"this kernel has no network wiring: {self.unwired_why}"
                if self.unwired_why
                else "this kernel backend has no network wiring yet: only --network none and host are available"
            )
        options = dict(options or {})
        for key, value in options.items():
            if key not in KNOWN_OPTIONS:
                raise InvalidNetwork(f"network option {key} is not supported by stepbox")
            if key in ONLY_VALUE and value != ONLY_VALUE[key]:
                raise InvalidNetwork(
                    f"network option {key}={value} is not supported (only {ONLY_VALUE[key]})"
                )
        masquerade = options.get(BRIDGE_OPTION_MASQUERADE, "true")
        if masquerade not in ("true", "false"):
            raise InvalidNetwork(
                f"invalid value {masquerade!r} for {BRIDGE_OPTION_MASQUERADE}: true or false"
            )
        if ipam_options:
            raise InvalidNetwork("IPAM driver options are not supported by stepbox")
        net = self._choose_subnet(subnet)
        if gateway:
            gateway = ipam.check_address_in(net, gateway, "gateway")
        else:
            gateway = ipam.default_gateway(net)
        if ip_range:
            r = ipam.parse_subnet(ip_range)
            if not r.subnet_of(net):
                raise InvalidNetwork(f"invalid ip-range {ip_range}: it is not inside the subnet {net}")
            ip_range = str(r)
        network_id = new_network_id()
        bridge = options.get(BRIDGE_OPTION_NAME) or f"br-{network_id[:12]}"
        if len(bridge) > 15:
            raise InvalidNetwork(f"invalid bridge name {bridge}: at most 15 characters")
        if any(r.bridge == bridge for r in self.store.all()):
            raise NetworkConflict(f"bridge name {bridge} is already used by another network")
        record = NetworkRecord(
            id=network_id,
            name=name,
            driver=driver,
            created=now(),
            subnet=str(net),
            gateway=gateway,
            ip_range=ip_range,
            internal=internal,
            attachable=attachable,
            labels=dict(labels or {}),
            options=options,
            bridge=bridge,
            masquerade=masquerade == "true",
        )
        self._ensure_bridge(record)
        try:
            self.store.save(record)
            self.net.enable_forwarding()
            self.apply_firewall()
        except BaseException:
            self.store.delete(record)
            self._delete_bridge(record)
            raise
        return record

    def _choose_subnet(self, subnet: str) -> ipaddress.IPv4Network:
        try:
            if not subnet:
                return ipam.allocate_subnet(self.settings.pools, self._taken_subnets(), self._routed())
            net = ipam.parse_subnet(subnet)
        except ipam.AddressError as e:
            raise InvalidNetwork(str(e)) from None
        for other in self.store.all():
            if other.subnet and net.overlaps(ipaddress.IPv4Network(other.subnet)):
                raise NetworkConflict(
                    f"Pool overlaps with other one on this address space ({other.name}: {other.subnet})"
                )
        return net

    @_locked
    def remove(self, name_or_id: str) -> NetworkRecord:
        record = self.store.find(name_or_id)
        if record.predefined:
            raise NetworkConflict(f"{record.name} is a pre-defined network and cannot be removed")
        users = self.active_containers(record)
        if users:
            raise NetworkConflict(
                f"error while removing network: network {record.name} id {record.id} has active endpoints "
                f"(containers: {', '.join(sorted(c.name for c in users))})"
            )
        self.store.delete(record)
        self._delete_bridge(record)
        self.apply_firewall()
        return record

    def active_containers(self, record: NetworkRecord) -> list:
        return [c for c in self.running() if _attachment(c, record) is not None]

    # -- addresses ------------------------------------------------------------------------------
    def resolve_attachments(self, networks: dict) -> list[tuple[NetworkRecord, dict]]:
        """The container's attachments with their network records; a
        network removed meanwhile is Docker's 404 ``network X not found``."""
        found = []
        for name, settings in networks.items():
            try:
                record = self.store.find(settings.get("NetworkID") or name)
            except NoSuchNetwork:
                record = self.store.find(name)
            found.append((record, settings))
        return found

    def allocate(
        self, container: Any, record: NetworkRecord, settings: dict[str, Any], index: int
    ) -> Endpoint:
        """Choose the endpoint's address, MAC and veth names (bookkeeping
        only; the steps then make the kernel match)."""
        used: list[str] = [
            s["IPAddress"]
            for c in self.running()
            if c.id != container.id
            for s in [_attachment(c, record)]
            if s and s.get("IPAddress")
        ]
        requested = (settings.get("IPAMConfig") or {}).get("IPv4Address") or ""
        try:
            address = ipam.allocate_address(
                ipaddress.IPv4Network(record.subnet),
                record.gateway,
                used,
                ipaddress.IPv4Network(record.ip_range) if record.ip_range else None,
                requested,
            )
        except ipam.AddressError as e:
            raise NetworkConflict(str(e)) from None
        private = settings.setdefault("stepbox", {})
        mac = private.get("RequestedMac") or ipam.mac_for(address)
        endpoint_id = secrets.token_hex(32)
        settings.update(
            {
                "EndpointID": endpoint_id,
                "IPAddress": address,
                "IPPrefixLen": ipaddress.IPv4Network(record.subnet).prefixlen,
                "Gateway": record.gateway,
                "MacAddress": mac,
                "NetworkID": record.id,
                "DNSNames": self._dns_names(container, record, settings),
            }
        )
        # Docker's host-side name: "veth" + 7 hex digits; the peer's only
        # lives until it is moved into the container and renamed.
        private.update(
            {
                "HostVeth": f"veth{endpoint_id[:7]}",
                "PeerVeth": f"vpeer{endpoint_id[:7]}",
                "Interface": f"eth{index}",
                "Wired": False,  # set once the interface is up in the container
            }
        )
        return Endpoint(record, settings, f"eth{index}")

    @staticmethod
    def _dns_names(container, record: NetworkRecord, settings: dict) -> list[str] | None:
        if not record.user_defined:
            return None
        names = [container.name, *(settings.get("Aliases") or []), container.short_id]
        return list(dict.fromkeys(names))

    @staticmethod
    def release(settings: dict) -> None:
        """The container stopped: its address is free again (Docker shows a
        stopped container with no IPAddress)."""
        settings.update(
            {"EndpointID": "", "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "DNSNames": None}
        )
        private = settings.setdefault("stepbox", {})
        settings["MacAddress"] = private.get("RequestedMac", "")
        for key in ("HostVeth", "PeerVeth", "Interface", "Wired"):
            private.pop(key, None)

    # -- packet rules ----------------------------------------------------------------------------
    def firewall(self) -> Firewall:
        """The rules the records call for: per bridge network, masquerade
        (unless internal or disabled); per published port of a running
        container, a DNAT rule."""
        bridges = tuple(
            BridgeRules(r.bridge, r.subnet, masquerade=r.masquerade and not r.internal, internal=r.internal)
            for r in self.store.all()
            if r.driver == "bridge"
        )
        ports = []
        for container in self.running():
            for key, entries in (getattr(container, "ports", None) or {}).items():
                port, _, proto = key.partition("/")
                primary = self.primary(container)
                if primary is None:
                    continue
                network, settings = primary
                for entry in entries or []:
                    ports.append(
                        PortRule(
                            proto,
                            entry["HostIp"],
                            int(entry["HostPort"]),
                            settings["IPAddress"],
                            int(port),
                            network.bridge,
                        )
                    )
        return Firewall(bridges, tuple(ports))

    @_locked
    def apply_firewall(self) -> None:
        if self.kernel is None:
            return
        rules = self.firewall()
        if rules.empty and not self.net.firewall_text():
            return  # nothing wanted, nothing there: leave the host's rules alone entirely
        self.net.apply_firewall(rules)

    def primary(self, container) -> tuple[NetworkRecord, dict] | None:
        """The first bridge network the running container has an address on."""
        for name, settings in (getattr(container, "networks", None) or {}).items():
            if settings.get("IPAddress"):
                try:
                    return self.store.find(settings.get("NetworkID") or name), settings
                except NoSuchNetwork:
                    continue
        return None

    # -- published ports -------------------------------------------------------------------------
    def publish(self, container, bindings: list[PortBinding], target_ip: str) -> dict:
        """Open a host socket per binding and serve it with a proxy to
        ``target_ip``; Docker's ``NetworkSettings.Ports`` shape.  A port in
        use: :class:`PortInUse`, and nothing stays open."""
        net = self.net
        return self._publish(
            container, bindings, net, lambda proto, port: net.connect(proto, target_ip, port)
        )

    def publish_relayed(self, container, bindings: list[PortBinding], pid: int) -> dict:
        """Without a bridge (rootless): the same host sockets, each
        connection relayed by a socket opened inside the network namespace
        of ``pid`` to its loopback -- rootlesskit's builtin port driver.  A
        server in the container listening on 0.0.0.0 or 127.0.0.1 answers."""
        relay = self.relay
        assert relay is not None, "this engine's kernel has no port relay"
        return self._publish(
            container, bindings, relay, lambda proto, port: relay.connect(proto, "127.0.0.1", port, netns=pid)
        )

    def _publish(
        self,
        container,
        bindings: list[PortBinding],
        net: Network,
        connect_to: Callable[[str, int], socket.socket],
    ) -> dict:
        from .services import TcpProxy, UdpProxy

        proxies: list[TcpProxy | UdpProxy] = []
        ports: dict[str, list[dict[str, str]]] = {}
        try:
            for b in bindings:
                host_ip = b.host_ip or "0.0.0.0"
                try:
                    listener = net.open_socket(b.proto, host_ip, b.host_port)
                except OSError as e:
                    if e.errno == errno.EADDRINUSE:
                        raise PortInUse(
                            f"driver failed programming external connectivity on endpoint {container.name}: "
                            f"Bind for {host_ip}:{b.host_port} failed: port is already allocated"
                        ) from None
                    if e.errno == errno.EACCES and net is self.relay:
                        # Rootless Docker says the same: the host's kernel keeps
                        # ports below ip_unprivileged_port_start for its root.
                        raise NetworkUnavailable(
                            f"cannot expose privileged port {b.host_port} without root: ports below "
                            "net.ipv4.ip_unprivileged_port_start (1024 by default) are the host root's; "
                            "publish a higher host port (-p 8080:80)"
                        ) from None
                    raise
                port = listener.getsockname()[1]

                def connect(proto=b.proto, cport=b.container_port):
                    return connect_to(proto, cport)

                try:
                    if b.proto == "tcp":
                        proxies.append(TcpProxy(self.services, listener, connect))
                    else:
                        proxies.append(UdpProxy(self.services, listener, connect))
                except BaseException:
                    listener.close()
                    raise
                ports.setdefault(b.key, []).append({"HostIp": host_ip, "HostPort": str(port)})
        except BaseException:
            for proxy in proxies:
                proxy.close()
            raise
        self._proxies.setdefault(container.id, []).extend(proxies)
        return ports

    def unpublish(self, container_id: str) -> None:
        for proxy in self._proxies.pop(container_id, []):
            try:
                proxy.close()
            except Exception as e:  # keep closing the others
                log.warning("closing a proxy of %s: %s", container_id[:12], e)

    # -- the embedded DNS server ----------------------------------------------------------------------
    def host_resolv_conf(self) -> ResolvConf:
        if self._host_resolv is None:
            self._host_resolv = ResolvConf.parse(self.net.host_resolv_conf() if self.kernel else "")
        return self._host_resolv

    def start_dns(self, container, pid: int, dns: list[str]) -> None:
        """Serve DNS at 127.0.0.11:53 inside the container's namespace."""
        udp = self.net.open_socket("udp", "127.0.0.11", 53, netns=pid)
        try:
            tcp = self.net.open_socket("tcp", "127.0.0.11", 53, netns=pid)
        except BaseException:
            udp.close()
            raise
        from .services import DnsServer, forward_to

        servers = upstream_nameservers(self.host_resolv_conf(), dns)
        forward = forward_to(servers, lambda server: self.net.connect("udp", server, 53))
        try:
            self._dns[container.id] = DnsServer(
                self.services, udp, tcp, self.lookup_for(container.id), forward
            )
        except BaseException:
            udp.close()
            tcp.close()
            raise

    def stop_dns(self, container_id: str) -> None:
        server = self._dns.pop(container_id, None)
        if server is not None:
            server.close()

    def serving(self, container_id: str) -> dict:
        """What this program serves for a container (for tests and ``inspect``)."""
        return {"proxies": len(self._proxies.get(container_id, [])), "dns": container_id in self._dns}

    def lookup_for(self, container_id: str) -> Callable[[str], list[str] | None]:
        """Name -> addresses, as seen from one container: the running
        containers that share a user-defined network with it, by name,
        alias, or short ID."""

        def lookup(name: str) -> list[str] | None:
            running = list(self.running())
            me = next((c for c in running if c.id == container_id), None)
            if me is None:
                return None
            mine = {s.get("NetworkID") for s in (me.networks or {}).values() if s.get("IPAddress")}
            found = []
            for c in running:
                for settings in (c.networks or {}).values():
                    if settings.get("NetworkID") not in mine or not settings.get("IPAddress"):
                        continue
                    names = [n.lower() for n in settings.get("DNSNames") or []]
                    if name in names and settings["IPAddress"] not in found:
                        found.append(settings["IPAddress"])
            return found or None

        return lookup


def _attachment(container, record: NetworkRecord) -> dict | None:
    for name, settings in (getattr(container, "networks", None) or {}).items():
        if settings.get("NetworkID") == record.id or (not settings.get("NetworkID") and name == record.name):
            return settings
    return None
