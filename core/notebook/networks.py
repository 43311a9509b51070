"""The network a lab's engine wired, drawn and probed.

* :func:`topology_svg` -- the picture of a :class:`~stepbox.core.kernel.network.Topology`
  (``lab.runtime.topology()``): each container's namespace on top with its
  interfaces, addresses, default route and listening sockets; the engine's
  own namespace below with its bridges; a line for each veth pair, from the
  container's end to the bridge whose subnet its address is in.  Plain data
  in, SVG out: the same picture from either kernel.
* :func:`reachability` -- who reaches whom: every container pings every
  address of every other (``ping -c 1 -W 1``), as the differential tests do.
* :func:`network_picture` -- for a walk: the topology after the steps of the
  network phase that change it.
"""

from __future__ import annotations

import ipaddress

from stepbox.core.kernel.network import NetnsView, Topology

from .diagrams import _clip, _svg, _text
from .tables import code_list

HOST = "host"
BOX_W, GAP = 200, 16
CONTAINER_FILL, CONTAINER_STROKE = "#ddf4ff", "#0969da"
HOST_FILL, HOST_STROKE = "#f6f8fa", "#57606a"
BRIDGE_FILL, BRIDGE_STROKE = "#fff8c5", "#bf8700"
VETH_COLOUR = "#bf3989"  # the net namespace's colour in the process pictures

# The steps of the network phase after which the picture has changed.
NETWORK_STEPS = frozenset({"veth", "veth_move", "interfaces", "route", "publish", "disconnect"})


def _networks(view: NetnsView) -> list[tuple[str, str, ipaddress.IPv4Network]]:
    """(interface, address, subnet) of each IPv4 address outside loopback."""
    found = []
    for interface in view.interfaces:
        if interface.kind == "loopback":
            continue
        for cidr in interface.addresses:
            net = ipaddress.ip_interface(cidr)
            if isinstance(net, ipaddress.IPv4Interface):
                found.append((interface.name, cidr, net.network))
    return found


def _container_lines(view: NetnsView) -> list[str]:
    lines = [f"{name} {cidr}" for name, cidr, _net in _networks(view)]
    if not lines:
        lines.append("lo only: no way out")
    lines += [f"default via {r.gateway}" for r in view.routes if r.destination == "default"]
    lines += [f"listens {s.proto} :{s.port}" for s in view.sockets if s.address not in ("127.0.0.11",)]
    return lines


def topology_svg(topology: Topology, title: str = "") -> str:
    """Containers on top, the engine's namespace and its bridges below, a
    veth line from each container address to the bridge of its subnet."""
    containers = sorted(name for name in topology.namespaces if name != HOST)
    host = topology.namespaces.get(HOST, NetnsView())
    bridges = [i for i in host.interfaces if i.kind == "bridge"]
    others = [i for i in host.interfaces if i.kind not in ("bridge", "veth")]
    veths = [i for i in host.interfaces if i.kind == "veth"]
    columns = max(len(containers), len(bridges), 3)
    width = GAP + columns * (BOX_W + GAP)
    body, y = [], 8
    if title:
        body.append(_text(10, y + 14, title, 14, "600"))
        y += 26
    # containers
    lines = {name: _container_lines(topology.namespaces[name]) for name in containers}
    box_h = 30 + 15 * max([len(v) for v in lines.values()] or [1])
    ends: list[tuple[float, float, ipaddress.IPv4Network, str]] = []  # x, y, subnet, interface
    for index, name in enumerate(containers):
        x = GAP + index * (BOX_W + GAP)
        body.append(
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{box_h}" rx="6" fill="{CONTAINER_FILL}" '
            f'stroke="{CONTAINER_STROKE}" stroke-width="1.5"/>'
        )
        body.append(_text(x + 10, y + 18, _clip(f"container {name}", 26), 13, "600"))
        for row, line in enumerate(lines[name]):
            body.append(_text(x + 10, y + 36 + 15 * row, _clip(line, 28), 11.5, mono=True))
        nets = _networks(topology.namespaces[name])
        for k, (interface, _cidr, net) in enumerate(nets):
            ends.append((x + BOX_W * (k + 1) / (len(nets) + 1), y + box_h, net, interface))
    top_of_host = y + box_h + 70
    # the engine's namespace: its bridges on top (where the veths arrive), the rest below
    bridge_y = top_of_host + 12
    bridge_h = 46
    host_lines = [f"{i.name} {' '.join(i.addresses) or ''}".strip() for i in others]
    host_lines.append(f"{len(veths)} veth ends plugged into the bridges" if veths else "no veths")
    host_h = 12 + bridge_h + 30 + 15 * len(host_lines) + 8
    body.append(
        f'<rect x="8" y="{top_of_host}" width="{width - 16}" height="{host_h}" rx="8" fill="{HOST_FILL}" '
        f'stroke="{HOST_STROKE}" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    body.append(_text(18, bridge_y + bridge_h + 22, "the engine's network namespace (the host)", 13, "600"))
    bridge_at: list[tuple[float, ipaddress.IPv4Network | ipaddress.IPv6Network | None]] = []
    for index, bridge in enumerate(bridges):
        x = GAP + index * (BOX_W + GAP)
        body.append(
            f'<rect x="{x}" y="{bridge_y}" width="{BOX_W}" height="{bridge_h}" rx="6" fill="{BRIDGE_FILL}" '
            f'stroke="{BRIDGE_STROKE}" stroke-width="1.5"/>'
        )
        body.append(_text(x + 10, bridge_y + 18, _clip(f"bridge {bridge.name}", 26), 12.5, "600"))
        body.append(_text(x + 10, bridge_y + 35, " ".join(bridge.addresses) or "no address", 11.5, mono=True))
        subnet = next((ipaddress.ip_interface(a).network for a in bridge.addresses), None)
        bridge_at.append((x + BOX_W / 2, subnet))
    for row, line in enumerate(host_lines):
        body.append(_text(18, bridge_y + bridge_h + 40 + 15 * row, _clip(line, width // 7), 11.5, mono=True))
    # a veth pair from each container address to its bridge
    for end_x, end_y, net, interface in ends:
        target = next((bx for bx, subnet in bridge_at if subnet == net), None)
        if target is None:
            continue
        body.append(
            f'<line x1="{end_x:.0f}" y1="{end_y}" x2="{target:.0f}" y2="{bridge_y}" '
            f'stroke="{VETH_COLOUR}" stroke-width="2"/>'
        )
        body.append(_text(end_x + 4, end_y + 14, interface, 10.5, colour=VETH_COLOUR, mono=True))
    height = top_of_host + host_h + 8
    return _svg(width, height, body, title or "network topology")


def addresses(topology: Topology) -> dict[str, list[str]]:
    """Each container's IPv4 addresses (without their prefix)."""
    return {
        name: [cidr.split("/")[0] for _i, cidr, _n in _networks(view)]
        for name, view in sorted(topology.namespaces.items())
        if name != HOST
    }


def reachability(lab, topology: Topology | None = None) -> dict[tuple[str, str], bool]:
    """(from, to) -> does ``from`` get an answer to a ping of some address of ``to``."""
    topology = topology or lab.runtime.topology()
    where = addresses(topology)
    records = {r.name: r for r in lab.runtime.list()}
    verdict = {}
    for source in where:
        for target, ips in where.items():
            if source == target:
                continue
            script = "; ".join(f"ping -c 1 -W 1 {ip} >/dev/null 2>&1 && echo yes" for ip in ips) or "true"
            out = lab.exec(records[source], "sh", "-c", script)
            verdict[(source, target)] = "yes" in out
    return verdict


def reachability_rows(verdict: dict[tuple[str, str], bool]) -> tuple[list[tuple[str, ...]], tuple[str, ...]]:
    """A table: one row per container, a column per container it pings."""
    names = sorted({a for a, _b in verdict} | {b for _a, b in verdict})
    rows = [
        (source, *("—" if source == target else ("reaches" if verdict[(source, target)] else "no")
                   for target in names))
        for source in names
    ]  # fmt: skip
    return rows, ("from \\ to", *names)


def network_picture(lab, when=NETWORK_STEPS):
    """For a container walk: the topology after the steps that change it
    (the walked container is drawn even before its record says running)."""
    from stepbox.core.network.topology import read_topology

    def draw(ctx, result) -> str:
        if result.step.key not in when or lab.kernel.network is None:
            return ""
        record = ctx.record
        running = [(r.name, r.pid) for r in lab.runtime.list() if r.pid and r.id != record.id]
        if record.pid:
            running.append((record.name, record.pid))
        try:
            return topology_svg(read_topology(lab.kernel.network, running), "the network now")
        except OSError as e:
            return code_list([f"cannot read the network: {e}"])

    return draw


__all__ = ["addresses", "network_picture", "reachability", "reachability_rows", "topology_svg"]
