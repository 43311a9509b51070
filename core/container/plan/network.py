"""The network steps of ``start``: how a container gets "its own network configuration".

A new network namespace holds one interface, ``lo``, and it is down: the
container can talk to nobody, not even itself.  Docker's bridge driver
(libnetwork) wires it up in a fixed order, which these steps follow:

1. choose an address on each network the container is on (IPAM);
2. create a **veth pair** -- two interfaces joined like the ends of a cable --
   and plug one end into the network's **bridge** (the virtual switch that
   the host's side of the network is);
3. move the other end into the container's namespace, renamed ``eth0``;
4. give ``eth0`` its address and bring it (and ``lo``) up;
5. add a default route through the gateway -- the bridge's own address --
   so every packet for elsewhere goes to the host, which routes it on
   (masquerading it, as the network's rules say);
6. write ``/etc/hosts`` and ``/etc/resolv.conf`` for it;
7. publish its ports: a proxy holding each host port, and a DNAT rule;
8. on a user-defined network, start the embedded DNS server at 127.0.0.11
   inside its namespace, which answers the other containers' names.

Each step registers its undo as it succeeds, so a failure half-way -- a host
port already in use -- unwinds exactly what was done.  When the container
stops, :func:`release_network` takes it all down again.

The steps are in a container's plan only when it is on a bridge network of
an engine that wires one (a :class:`~stepbox.core.network.manager.
NetworkManager` in ``ctx.networks``, on a kernel with a network: see
:func:`plan_config`); any other container -- ``--network none``, a daemon
with ``--bridge=none``, an in-process engine, the simulator -- gets the one
``LOOPBACK`` step instead: what ``--network none`` gives.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel import Network, ProcessHandle
from stepbox.core.network.etc_files import (
    LOCALHOST,
    ResolvConf,
    parse_extra_host,
    render_hosts,
    render_resolv_conf,
    render_user_network_resolv_conf,
)
from stepbox.core.network.manager import Endpoint, NetworkManager
from stepbox.core.network.ports import PortBinding, bindings_from_api, parse_port_key

from ..config import ContainerConfig
from ..context import LifecycleContext
from ..etc_files import write_etc_file
from ..steps import Phase, Step

if TYPE_CHECKING:
    from ..record import ContainerRecord

log = logging.getLogger("stepbox.network")


def _manager(ctx: LifecycleContext) -> NetworkManager | None:
    manager = ctx.networks
    return manager if manager is not None and manager.wired else None


def _own_netns(ctx: LifecycleContext) -> bool:
    return ctx.record.config.network != "host"


def endpoints(manager: NetworkManager, record: ContainerRecord) -> list[Endpoint]:
    """The container's endpoints that have an address (in attachment order)."""
    found = []
    for network, settings in manager.resolve_attachments(record.networks):
        if network.driver == "bridge" and settings.get("IPAddress"):
            found.append(Endpoint(network, settings, settings["stepbox"]["Interface"]))
    return found


def pending(manager: NetworkManager, record: ContainerRecord) -> list[Endpoint]:
    """Endpoints with an address whose wiring is not finished yet."""
    return [e for e in endpoints(manager, record) if not e.wired]


def wires_a_bridge(record: ContainerRecord, manager: NetworkManager | None) -> bool:
    """Is the container on a bridge network of an engine that can wire it?"""
    if manager is None or not manager.wired or record.config.network == "host":
        return False
    try:
        return any(n.driver == "bridge" for n, _ in manager.resolve_attachments(record.networks))
    except Exception:
        return True  # a network removed meanwhile: the ipam step says so, by name


# The network mode a rootless container on the default network really gets:
# its own namespace with a user-mode network (podman's name for it).
USER_MODE = "slirp4netns"


def plan_config(record: ContainerRecord, manager: NetworkManager | None) -> ContainerConfig:
    """The config the plan's steps are chosen by (``Step.when``): the
    container's, with ``network`` as this engine will really wire it --
    "none" when there is no bridge to put it on (``--network none``, a
    daemon with ``--bridge=none``, an engine or kernel without networks),
    "slirp4netns" when a kernel without bridges gives the default network
    a user-mode one instead (rootless)."""
    config: ContainerConfig = record.config
    if config.network == "host" or config.joined_container or wires_a_bridge(record, manager):
        return config
    user_mode = manager is not None and manager.user_network is not None and config.network == "default"
    network = USER_MODE if user_mode else "none"
    if config.network == network:
        return config  # --network none already: no copy (replace runs every check of the config again)
    unwired: ContainerConfig = dataclasses.replace(config, network=network)
    return unwired


def on_a_bridge(config: ContainerConfig) -> bool:
    """The eight network steps: for a container on a bridge network."""
    return config.network not in ("none", "host", USER_MODE) and not config.joined_container


def joins_a_container(config: ContainerConfig) -> bool:
    """``--network container:X``: the one JOIN step, no wiring of its own."""
    return bool(config.joined_container)


def join_container_network(ctx: LifecycleContext) -> None:
    """Find the container whose network namespace this one joins (it must
    be running: its PID 1 holds the namespace), and take over what goes with
    that namespace, as dockerd does: its hostname, /etc/hosts and
    /etc/resolv.conf.  The spawn step then joins the namespace (setns)
    instead of creating one."""
    from ..errors import BadRequest, Conflict
    from ..record import RUNNING
    from .start import mount_of

    record = ctx.record
    name = record.config.joined_container
    other = ctx.containers.find(name)  # NoSuchContainer: 404, as dockerd
    if other.id == record.id:
        raise BadRequest("cannot join own network")
    if other.state != RUNNING or not other.pid:
        raise Conflict(f"cannot join network of a non running container: {name}")
    ctx.joined_pid = other.pid
    record.config = dataclasses.replace(record.config, hostname=other.hostname)
    if other.mount:
        theirs = ctx.kernel.unionfs.merged(mount_of(other.mount))
        files = ctx.kernel.unionfs.layer_files(record.init_layer)
        for path in ("/etc/hosts", "/etc/resolv.conf"):
            try:
                files.write(path, theirs.read(path))
            except OSError:
                pass  # the other image has none: keep ours


JOIN = Step(
    "join_network",
    "Join another container's network namespace",
    "--network container:X puts this container into X's network namespace instead of a new "
    "one: the same interfaces, addresses, routes and ports -- the two reach each other on "
    "localhost, as the containers of a Kubernetes pod do. It also takes X's hostname and "
    "name-resolution files.",
    "Docker namespace",
    join_container_network,
    when=joins_a_container,
)


def loopback_only(config: ContainerConfig) -> bool:
    """The one "bring up lo" step: for a container with a network namespace and no bridge."""
    return config.network in ("none", USER_MODE)


def on_a_user_mode_network(config: ContainerConfig) -> bool:
    """The slirp4netns step: rootless, on the default network."""
    return config.network == USER_MODE


def bring_up_loopback(ctx: LifecycleContext) -> None:
    _handle(ctx).bring_up_loopback()


def _handle(ctx: LifecycleContext) -> ProcessHandle:
    assert ctx.handle is not None, "spawn runs first"
    return ctx.handle


def _pid(ctx: LifecycleContext) -> int:
    return _handle(ctx).pid


def relays_ports(config: ContainerConfig) -> bool:
    """Loopback only, yet ports to publish: a kernel without bridges that
    relays them (rootless; the runtime refuses them anywhere else)."""
    return loopback_only(config) and bool(config.port_bindings or config.publish_all)


def publish_relayed_ports(ctx: LifecycleContext) -> None:
    manager = ctx.networks
    if manager is None or manager.relay is None:
        return  # an engine without networks: nothing publishes (as publish_ports)
    record = ctx.record
    bindings = wanted_bindings(record)
    if not bindings:
        return
    record.ports = manager.publish_relayed(record, bindings, _pid(ctx))
    ctx.on_undo("unpublish the ports", lambda: _unpublish_relayed(ctx))
    ctx.save()


def _unpublish_relayed(ctx: LifecycleContext) -> None:
    manager = ctx.networks
    assert manager is not None
    manager.unpublish(ctx.record.id)
    ctx.record.ports = {}
    ctx.save()


def attach_user_network(ctx: LifecycleContext) -> None:
    """Start slirp4netns for the container's namespace (it makes and
    configures tap0 there), then point /etc/resolv.conf at its DNS forwarder."""
    manager = ctx.networks
    user_network = manager.user_network if manager is not None else None
    if user_network is None:
        return  # an engine without networks: loopback only (as the plan_config says)
    record = ctx.record
    handle = user_network.attach(_pid(ctx))
    s = user_network.settings
    record.user_network = {
        **handle,
        "Interface": s.interface,
        "IPAddress": s.address,
        "IPPrefixLen": s.prefix_len,
        "Gateway": s.gateway,
        "DNS": s.dns,
        "MTU": s.mtu,
        "HostLoopback": s.host_loopback,
    }
    ctx.on_undo(f"stop {s.tool}", lambda: _detach_user_network(ctx))
    ctx.save()
    config = record.config
    host = manager.relay.host_resolv_conf() if manager is not None and manager.relay is not None else ""
    write_etc_file(
        record,
        "resolv.conf",
        render_user_network_resolv_conf(
            ResolvConf.parse(host), s.dns, list(config.dns), list(config.dns_search), list(config.dns_options)
        ),
    )


def _detach_user_network(ctx: LifecycleContext) -> None:
    """Stop the container's slirp4netns (the start's undo, and its exit)."""
    record, manager = ctx.record, ctx.networks
    handle = record.user_network
    if not handle:
        return
    if handle.get("pid") and manager is not None and manager.user_network is not None:
        manager.user_network.detach(handle)
    # Kept while stopped (inspect names the network), without the process or the address.
    record.user_network = {"tool": handle.get("tool", USER_MODE)}
    ctx.save()


LOOPBACK = Step(
    "network",
    "Bring up the loopback interface",
    "A new network namespace starts with only `lo`, and it is down. A container on no bridge "
    "network (--network none, or a daemon started with --bridge=none) gets nothing more: it "
    "can talk to itself, and to nobody else.",
    "Docker namespace",
    bring_up_loopback,
    when=loopback_only,
)


USER_MODE_NETWORK = Step(
    "user_network",
    "Attach a user-mode network (slirp4netns): tap0, 10.0.2.100",
    "Without root there is no bridge, veth or NAT rule. A user-mode network stack takes their "
    "place, in an ordinary process: slirp4netns enters the container's namespace, makes a TAP "
    "device there (tap0, 10.0.2.100/24, default route via 10.0.2.2) and replays every "
    "connection the container makes with sockets of its own on the host. 10.0.2.3 forwards DNS "
    "to the host's nameservers, so /etc/resolv.conf names it. The process is the container's "
    "network: it is stopped when the container exits.",
    "Docker namespace: 网络",
    attach_user_network,
    when=on_a_user_mode_network,
)


RELAYED_PORTS = Step(
    "publish_relay",
    "Publish ports: relay each host port into the container's namespace",
    "Without root there is no bridge and no DNAT rule: the container has only lo. Rootless "
    "Docker publishes ports anyway (rootlesskit's builtin port driver), and so does this step: "
    "the engine holds the host port, and for each connection opens a socket inside the "
    "container's network namespace -- it is root of the user namespace that owns it, so it may "
    "enter -- connected to the container's 127.0.0.1, and copies bytes both ways.",
    "Docker namespace: 网络",
    publish_relayed_ports,
    when=relays_ports,
)


# --------------------------------------------------------------------- the steps


def allocate_addresses(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    if manager is None or not _own_netns(ctx):
        return
    record = ctx.record
    only = ctx.connect_to  # `network connect`: that one network
    taken = [e.interface for e in endpoints(manager, record)]
    allocated: list[dict[str, Any]] = []
    # Held until the record names the addresses: another container starting
    # now reads them from the saved records, and must not choose the same.
    with manager.lock:
        for network, settings in manager.resolve_attachments(record.networks):
            if network.driver != "bridge" or settings.get("IPAddress") or (only and network.name != only):
                continue
            index = next(i for i in range(len(record.networks) + 1) if f"eth{i}" not in taken)
            taken.append(manager.allocate(record, network, settings, index).interface)
            allocated.append(settings)
        if allocated:
            ctx.save()

    def release() -> None:
        _release_addresses(allocated)
        ctx.save()

    ctx.on_undo("release the addresses", release)


def _release_addresses(attachments: Iterable[dict[str, Any]]) -> None:
    for settings in attachments:
        NetworkManager.release(settings)


def create_veths(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    if manager is None:
        return
    net = manager.net
    for endpoint in pending(manager, ctx.record):
        net.create_veth(endpoint.host_veth, endpoint.peer_veth)
        ctx.on_undo(f"delete {endpoint.host_veth}", _deleter(net, endpoint.host_veth))
        net.set_master(endpoint.host_veth, endpoint.network.bridge)
        net.set_up(endpoint.host_veth)


def _deleter(net: Network, name: str) -> Callable[[], None]:
    return lambda: _delete_link(net, name)


def _delete_link(net: Network, name: str) -> None:
    try:
        net.delete_link(name)
    except OSError as e:
        if e.errno != errno.ENODEV:  # gone with the container's namespace already
            raise


def move_veths(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    if manager is None:
        return
    for endpoint in pending(manager, ctx.record):
        # Deleting the host end later takes this end too, wherever it is.
        manager.net.move_to_netns(endpoint.peer_veth, _pid(ctx), endpoint.interface)


def configure_interfaces(ctx: LifecycleContext) -> None:
    if not _own_netns(ctx):
        return
    manager = _manager(ctx)
    if manager is None:
        _handle(ctx).bring_up_loopback()
        return
    net, pid = manager.net, _pid(ctx)
    if ctx.connect_to is None:
        net.set_up("lo", netns=pid)
    for endpoint in pending(manager, ctx.record):
        net.add_address(endpoint.interface, endpoint.cidr, netns=pid)
        net.set_up(endpoint.interface, netns=pid, mac=endpoint.settings["MacAddress"])


def add_default_route(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    if manager is None:
        return
    outward = [e for e in endpoints(manager, ctx.record) if not e.network.internal]
    # The first network with a way out gets the default route (an internal
    # one has none); a network connected later does not take it over.
    if outward and not outward[0].wired:
        first = outward[0]
        manager.net.add_default_route(first.network.gateway, first.interface, netns=_pid(ctx))
    for endpoint in pending(manager, ctx.record):
        endpoint.settings["stepbox"]["Wired"] = True


def write_etc_files(ctx: LifecycleContext) -> None:
    """/etc/hosts and /etc/resolv.conf: the files in the container's own
    directory that the mounts step bind-mounted over the init layer's
    placeholders (core/container/etc_files.py).  Written in place, so a
    running container sees a rewrite (``network connect``) at once."""
    record, config = ctx.record, ctx.record.config
    manager = _manager(ctx)
    try:
        extra = [parse_extra_host(h) for h in config.extra_hosts]
    except ValueError as e:
        from ..errors import BadRequest

        raise BadRequest(str(e)) from None
    found = endpoints(manager, record) if manager else []
    extra = [(name, found[0].network.gateway if ip == "host-gateway" and found else ip) for name, ip in extra]
    if manager is None and not (extra or config.dns or config.dns_search or config.dns_options):
        return  # what the start wrote there is right
    aliases = [a for e in found for a in (e.settings.get("Aliases") or [])]
    hosts = (
        render_hosts(record.hostname, [e.address for e in found], extra, aliases)
        if found or extra
        else LOCALHOST
    )
    host_conf = manager.host_resolv_conf() if manager else ResolvConf()
    embedded = any(e.network.user_defined for e in found)
    resolv = render_resolv_conf(
        host_conf,
        embedded=embedded,
        dns=list(config.dns),
        dns_search=list(config.dns_search),
        dns_options=list(config.dns_options),
    )
    write_etc_file(record, "hosts", hosts)
    write_etc_file(record, "resolv.conf", resolv)


def wanted_bindings(record: ContainerRecord) -> list[PortBinding]:
    """``-p`` bindings, and with ``-P`` every exposed port (the image's
    EXPOSE and ``--expose``) not bound otherwise, on a free host port."""
    bindings = bindings_from_api(record.config.port_bindings)
    if record.config.publish_all:
        bound = {b.key for b in bindings}
        exposed = list(record.image_config.get("ExposedPorts") or {}) + list(record.config.exposed_ports)
        for key in dict.fromkeys(exposed):
            port, proto = parse_port_key(key)
            if f"{port}/{proto}" not in bound:
                bindings.append(PortBinding(proto, port))
    return bindings


def publish_ports(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    record = ctx.record
    bindings = wanted_bindings(record)
    if not bindings:
        return
    found = endpoints(manager, record) if manager else []
    if not found:
        return  # --network none/host, or no network wiring: nothing to forward to (as Docker)
    assert manager is not None  # found is empty without one
    record.ports = manager.publish(record, bindings, found[0].address)
    ctx.on_undo("unpublish the ports", lambda: _unpublish(ctx))
    ctx.save()  # the rules are computed from the saved records
    manager.apply_firewall()


def _unpublish(ctx: LifecycleContext) -> None:
    manager = ctx.networks
    assert manager is not None
    manager.unpublish(ctx.record.id)
    ctx.record.ports = {}
    ctx.save()
    manager.apply_firewall()


def start_dns(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    if manager is None:
        return
    if manager.serving(ctx.record.id)["dns"]:
        return  # `network connect` to a second user-defined network: it serves already
    if any(e.network.user_defined for e in endpoints(manager, ctx.record)):
        manager.start_dns(ctx.record, _pid(ctx), list(ctx.record.config.dns))
        ctx.on_undo("stop the DNS server", lambda: manager.stop_dns(ctx.record.id))


NETWORK: tuple[Step[LifecycleContext], ...] = (
    Step(
        "ipam",
        "Choose the container's address (IPAM)",
        "Every network has a subnet, and its first address is the gateway -- the bridge. The "
        "container gets the lowest address still free (or the one --ip asks for) and a MAC "
        "address made from it. Nothing touches the kernel yet: this is bookkeeping.",
        "Docker namespace: 网络",
        allocate_addresses,
        when=on_a_bridge,
    ),
    Step(
        "veth",
        "Create a veth pair and plug one end into the bridge",
        "A veth pair is a virtual cable: what goes in one end comes out of the other. One end "
        "is plugged into the network's bridge -- a virtual switch in the host's namespace -- "
        "so it can reach the bridge and every other container plugged into it.",
        "Docker namespace: 网络",
        create_veths,
        when=on_a_bridge,
    ),
    Step(
        "veth_move",
        "Move the other end into the container's namespace (eth0)",
        "An interface lives in exactly one network namespace. Moving the cable's other end "
        "into the container's namespace -- renamed eth0 -- is what gives the container a "
        "network of its own, invisible from the host's `ip link` and from other containers.",
        "Docker namespace: 网络",
        move_veths,
        when=on_a_bridge,
    ),
    Step(
        "interfaces",
        "Bring up lo and eth0 with its address",
        "A new network namespace has only `lo`, and it is down. Inside the container, lo "
        "comes up, and eth0 gets its address and MAC and comes up; the kernel adds the route "
        "to the subnet by itself.",
        "Docker namespace: 网络",
        configure_interfaces,
        when=on_a_bridge,
    ),
    Step(
        "route",
        "Add the default route through the gateway",
        "Packets for anywhere outside the subnet go to the gateway -- the bridge's address on "
        "the host -- which routes them on and masquerades them (outbound NAT) so the answers "
        "find the way back. An internal network gets no default route: it has no way out.",
        "Docker namespace: 网络",
        add_default_route,
        when=on_a_bridge,
    ),
    Step(
        "etc_files",
        "Write /etc/hosts and /etc/resolv.conf",
        "Names are resolved in /etc/hosts first (localhost, --add-host, the container's own "
        "name and address), then by the nameservers /etc/resolv.conf lists: the host's, or on "
        "a user-defined network the embedded DNS server at 127.0.0.11. Both files are the "
        "container's own, in its directory, bind-mounted over the init layer's placeholders: "
        "they are rewritten in place, and never end up in a layer.",
        "init layer",
        write_etc_files,
        when=on_a_bridge,
    ),
    Step(
        "publish",
        "Publish ports: a proxy on each host port, and DNAT rules",
        "The container's address is private to the host. -p 8080:80 makes the host's port "
        "8080 lead to the container's port 80: a DNAT rule rewrites packets arriving from "
        "outside, and a userland proxy holds the host port and relays connections made to "
        "127.0.0.1, which never pass through DNAT.",
        "Docker namespace: 网络",
        publish_ports,
        when=on_a_bridge,
    ),
    Step(
        "dns",
        "Start the embedded DNS server (user-defined networks)",
        "On a network of your own, containers find each other by name: the engine serves DNS "
        "at 127.0.0.11 inside the container's namespace, answers container names and aliases "
        "with their addresses, and forwards every other name to the host's nameservers.",
        "Docker namespace: 网络",
        start_dns,
        when=on_a_bridge,
    ),
)


# --------------------------------------------------------------------- taking it down


def release_network(ctx: LifecycleContext) -> list[str]:
    """The container's PID 1 has ended (or the engine gives up on it): close
    its proxies and DNS server, delete its veths (the namespace's end goes
    with the namespace, but the kernel frees a namespace lazily), free its
    addresses, drop its rules.  What failed, as lines (never raised: the
    exit must be recorded whatever happens)."""
    manager = _manager(ctx)
    record = ctx.record
    failed = []
    if manager is None and ctx.networks is not None:
        ctx.networks.unpublish(record.id)  # relayed ports (rootless): only proxies to close
        try:
            _detach_user_network(ctx)  # and its slirp4netns
        except OSError as e:
            failed.append(f"stop {USER_MODE}: {e}")
    if manager is not None:
        manager.unpublish(record.id)
        manager.stop_dns(record.id)
        for endpoint in endpoints(manager, record):
            try:
                _delete_link(manager.net, endpoint.host_veth)
            except OSError as e:
                failed.append(f"delete {endpoint.host_veth}: {e}")
    had_ports = bool(record.ports)
    record.ports = {}
    _release_addresses(record.networks.values())
    if manager is not None and had_ports:
        ctx.save()
        try:
            manager.apply_firewall()
        except Exception as e:
            failed.append(f"packet rules: {e}")
    for line in failed:
        log.warning("container %s: %s", record.short_id, line)
    return failed


def restore_services(manager: NetworkManager, record: ContainerRecord) -> None:
    """After a daemon restart: what lived in the old daemon's process -- the
    proxies and the DNS server -- is opened again for a running container
    (bridges, veths and rules are in the kernel still)."""
    if not manager.wired and manager.relay is not None and record.ports and record.pid:
        from stepbox.core.network.ports import bindings_from_api

        manager.publish_relayed(record, bindings_from_api(record.ports), record.pid)
        return
    if not manager.wired or record.config.network == "host":
        return
    found = endpoints(manager, record)
    if record.ports and found:
        from stepbox.core.network.ports import bindings_from_api as parse

        manager.publish(record, parse(record.ports), found[0].address)
    if any(e.network.user_defined for e in found):
        manager.start_dns(record, record.pid, list(record.config.dns))


def release_interrupted(manager: NetworkManager, record: ContainerRecord) -> list[str]:
    """After a daemon restart, for a container that is not running: a start
    killed half-way may have left its addresses (and published ports) in
    its record, and a veth in the host's namespace.  Release them (the
    caller saves the record); what was done, a line each."""
    said = []
    for name, settings in record.networks.items():
        if not settings.get("IPAddress"):
            continue
        host_veth = settings.get("stepbox", {}).get("HostVeth", "")
        if host_veth and manager.wired:
            try:
                _delete_link(manager.net, host_veth)
            except OSError as e:
                said.append(f"could not delete {host_veth}: {e}")
        said.append(f"released address {settings['IPAddress']} on network {name}")
        NetworkManager.release(settings)
    if record.ports:
        record.ports = {}
        said.append("released its published ports")
    handle = record.user_network or {}
    if handle.get("pid") and manager.user_network is not None:
        manager.user_network.detach(handle)  # (only if it is still that process)
        record.user_network = {"tool": handle.get("tool", USER_MODE)}
        said.append(f"stopped its {handle.get('tool', USER_MODE)}")
    return said


# --------------------------------------------------------------------- connect / disconnect


CONNECT: Phase[LifecycleContext] = Phase(
    "connect",
    # ``docker network connect`` on a running container: the start's network
    # steps, for the one new network (published ports stay on the first).
    tuple(s for s in NETWORK if s.key != "publish"),
)


def disconnect_endpoint(ctx: LifecycleContext) -> None:
    manager = _manager(ctx)
    record = ctx.record
    name = ctx.disconnect_from
    assert name is not None, "the disconnect plan says which network"
    settings = record.networks.get(name) or {}
    if manager is not None and settings.get("IPAddress"):
        host_veth = settings.get("stepbox", {}).get("HostVeth", "")
        if host_veth:
            _delete_link(manager.net, host_veth)  # takes the container's end with it
        NetworkManager.release(settings)
    record.networks.pop(name, None)
    if manager is not None and record.pid:
        still_named = any(e.network.user_defined for e in endpoints(manager, record))
        if not still_named:
            manager.stop_dns(record.id)
    if record.pid:
        write_etc_files(ctx)


DISCONNECT: Phase[LifecycleContext] = Phase(
    "disconnect",
    (
        Step(
            "disconnect",
            "Disconnect from the network",
            "Deleting the host's end of the veth pair deletes the container's end too: the "
            "interface disappears from the container, its address is free again, and /etc/hosts "
            "no longer names it.",
            "Docker namespace: 网络",
            disconnect_endpoint,
        ),
    ),
)
