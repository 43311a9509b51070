"""SVG diagrams: the layer stack, the process/namespace tree, the cgroup tree,
and the client/daemon picture.

Each function takes plain data (the dataclasses below, filled in by
:mod:`.views` from a live kernel) and returns an SVG string, so the drawing
can be tested without a kernel or Jupyter, and the same picture comes out
whichever backend produced the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tables import esc

FONT = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,monospace"

# One colour per kind of layer, the same in every notebook.
LAYER_COLOURS = {
    "merged": ("#ffffff", "#57606a"),  # fill, stroke
    "rw": ("#ffe8cc", "#d9822b"),
    "init": ("#fff8c5", "#bf8700"),
    "image": ("#ddf4ff", "#0969da"),
    "sent": ("#ffd8d3", "#cf222e"),  # registry: this layer travelled
    "kept": ("#dafbe1", "#1a7f37"),  # registry: already there, not sent
    "kernel": ("#eaeef2", "#57606a"),
}


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}" '
        f'class="stepbox-diagram" style="{FONT}">' + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    size: float = 13,
    weight: str = "normal",
    anchor: str = "start",
    colour: str = "#1f2328",
    mono: bool = False,
) -> str:
    style = MONO if mono else FONT
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
        f'text-anchor="{anchor}" fill="{colour}" style="{style}">{esc(text)}</text>'
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------ layer stack


@dataclass
class LayerBox:
    label: str  # "read-write layer", "image layer 1 (base)"
    kind: str = "image"  # a key of LAYER_COLOURS
    lines: list[str] = field(default_factory=list)  # what the layer holds, one entry a line
    note: str = ""  # right-aligned: size, id


def layer_stack_svg(layers: list[LayerBox], title: str = "", max_lines: int = 6, width: int = 560) -> str:
    """Layers top-most first, as the seed draws them: the container's
    read-write and init layers on top of the image's read-only layers."""
    body, y = [], 8
    if title:
        body.append(_text(10, y + 14, title, 14, "600"))
        y += 26
    for layer in layers:
        fill, stroke = LAYER_COLOURS.get(layer.kind, LAYER_COLOURS["image"])
        shown = layer.lines[:max_lines]
        extra = len(layer.lines) - len(shown)
        height = 26 + 15 * (len(shown) + (1 if extra > 0 else 0))
        dash = ' stroke-dasharray="6 4"' if layer.kind == "merged" else ""
        body.append(
            f'<rect x="8" y="{y}" width="{width - 16}" height="{height}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"{dash}/>'
        )
        room = (width - 40 - 7 * len(layer.note)) // 8  # characters left beside the note
        body.append(_text(18, y + 18, _clip(layer.label, room), 13, "600"))
        if layer.note:
            body.append(_text(width - 18, y + 18, layer.note, 12, anchor="end", colour="#57606a"))
        line_y = y + 34
        for line in shown:
            body.append(_text(26, line_y, _clip(line, (width - 50) // 7), 11.5, mono=True))
            line_y += 15
        if extra > 0:
            body.append(_text(26, line_y, f"… {extra} more", 11.5, colour="#57606a"))
        y += height + 6
    return _svg(width, y + 4, body, title or "layer stack")


# ---------------------------------------------------------- process/namespace tree


@dataclass
class ProcNode:
    pid: int  # host PID
    ns_pid: int  # PID inside its own PID namespace
    command: str
    depth: int  # in the drawn tree
    container: str  # the container's name; "" for a host process
    own_namespaces: list[str] = field(default_factory=list)  # kinds that differ from the host's


NAMESPACE_COLOURS = {
    "pid": "#8250df",
    "uts": "#0969da",
    "mnt": "#1a7f37",
    "net": "#bf3989",
    "ipc": "#9a6700",
    "cgroup": "#cf222e",
    "user": "#57606a",
}


def process_tree_svg(nodes: list[ProcNode], title: str = "", width: int = 900) -> str:
    """Host processes (with their host PIDs) and, framed, the container's:
    each shows the PID it has inside, and a chip for every namespace kind in
    which it differs from the host."""
    body, y = [], 8
    if title:
        body.append(_text(10, y + 14, title, 14, "600"))
        y += 26
    row, command_x, chips_x = 30, 330, 640
    # Frame each run of consecutive rows that belong to one container, its
    # name on the frame's top edge (like a fieldset's legend).
    start = 0
    while start < len(nodes):
        end = start
        while end + 1 < len(nodes) and nodes[end + 1].container == nodes[start].container:
            end += 1
        name = nodes[start].container
        if name:
            top, height = y + row * start + 4, row * (end - start + 1)
            legend = f"container {name}"
            body.append(
                f'<rect x="4" y="{top}" width="{width - 8}" height="{height - 2}" rx="8" '
                f'fill="#fbefff" stroke="#8250df" stroke-dasharray="5 3"/>'
            )
            body.append(
                f'<rect x="{width - 24 - 6.5 * len(legend)}" y="{top - 6}" width="{6.5 * len(legend) + 12}" '
                f'height="12" fill="#ffffff"/>'
            )
            body.append(_text(width - 18, top + 4, legend, 10.5, anchor="end", colour="#8250df"))
        start = end + 1
    for index, node in enumerate(nodes):
        cy = y + row * index + row // 2 + 4
        x = 20 + 22 * node.depth
        if node.depth:
            parent_x = x - 22
            body.append(
                f'<path d="M{parent_x + 5} {cy - row + 6} V{cy} H{x - 6}" fill="none" stroke="#8c959f"/>'
            )
        body.append(f'<circle cx="{x}" cy="{cy}" r="5" fill="{"#8250df" if node.container else "#57606a"}"/>')
        label = f"PID {node.pid}" + (f"  (inside: PID {node.ns_pid})" if node.container else "")
        body.append(_text(x + 12, cy + 4, label, 12.5, "600"))
        body.append(_text(command_x, cy + 4, _clip(node.command, 40), 12, mono=True))
        chip_x = chips_x
        for kind in node.own_namespaces:
            chip_w = 8 + 7 * len(kind)
            body.append(
                f'<rect x="{chip_x}" y="{cy - 8}" width="{chip_w}" height="16" rx="8" '
                f'fill="{NAMESPACE_COLOURS.get(kind, "#57606a")}"/>'
            )
            body.append(_text(chip_x + chip_w / 2, cy + 4, kind, 10.5, "600", "middle", "#ffffff"))
            chip_x += chip_w + 4
    return _svg(width, y + row * len(nodes) + 12, body, title or "process tree")


# ------------------------------------------------------------------- cgroup tree


@dataclass
class Meter:
    label: str  # "memory", "pids"
    current: float
    limit: float | None  # None: no limit
    text: str  # what to print: "5.2MB of 16.8MB"


@dataclass
class CgroupBox:
    path: str
    depth: int
    procs: list[int] = field(default_factory=list)
    meters: list[Meter] = field(default_factory=list)
    note: str = ""


def cgroup_tree_svg(nodes: list[CgroupBox], title: str = "", width: int = 600) -> str:
    """The cgroup hierarchy, each group with its processes and a bar per
    limited resource (how full it is)."""
    body, y = [], 8
    if title:
        body.append(_text(10, y + 14, title, 14, "600"))
        y += 26
    for node in nodes:
        x = 10 + 26 * node.depth
        box_w = width - x - 10
        height = 26 + 20 * len(node.meters) + (16 if node.note else 0)
        body.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{height}" rx="6" fill="#f6f8fa" '
            f'stroke="#8c959f"/>'
        )
        if node.depth:
            body.append(f'<path d="M{x - 16} {y - 6} V{y + 13} H{x}" fill="none" stroke="#8c959f"/>')
        body.append(_text(x + 8, y + 17, _clip(node.path, (box_w - 120) // 7), 12.5, "600", mono=True))
        procs = (
            "no processes"
            if not node.procs
            else "procs " + " ".join(map(str, node.procs[:6])) + (" …" if len(node.procs) > 6 else "")
        )
        body.append(_text(x + box_w - 8, y + 17, procs, 11.5, anchor="end", colour="#57606a"))
        meter_y = y + 26
        for meter in node.meters:
            bar_x, bar_w = x + 70, box_w - 250
            body.append(_text(x + 8, meter_y + 11, meter.label, 11.5))
            body.append(
                f'<rect x="{bar_x}" y="{meter_y + 2}" width="{bar_w}" height="11" rx="3" '
                f'fill="#ffffff" stroke="#d0d7de"/>'
            )
            if meter.limit:
                fraction = max(0.0, min(1.0, meter.current / meter.limit))
                colour = "#cf222e" if fraction >= 0.9 else "#1a7f37"
                body.append(
                    f'<rect x="{bar_x}" y="{meter_y + 2}" width="{bar_w * fraction:.1f}" height="11" '
                    f'rx="3" fill="{colour}"/>'
                )
            body.append(_text(bar_x + bar_w + 8, meter_y + 11, meter.text, 11.5))
            meter_y += 20
        if node.note:
            body.append(_text(x + 8, meter_y + 10, node.note, 11.5, colour="#57606a"))
        y += height + 8
    return _svg(width, y + 4, body, title or "cgroup tree")


# ----------------------------------------------------------- client and daemon


def architecture_svg(socket_path: str, backend: str, width: int = 720) -> str:
    """The seed's C/S picture: the CLI sends REST requests over a UNIX
    socket to the daemon, which owns images and containers and asks the
    kernel; a registry stores images for push/pull."""
    body = []

    def box(x, y, w, h, title, lines, fill, stroke):
        body.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.5"/>'
        )
        body.append(_text(x + w / 2, y + 20, title, 13.5, "600", "middle"))
        for i, line in enumerate(lines):
            body.append(_text(x + w / 2, y + 38 + 15 * i, line, 11.5, anchor="middle", colour="#57606a"))

    def arrow(x1, y1, x2, y2, label, below=False):
        body.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#1f2328" stroke-width="1.5" '
            f'marker-end="url(#arrow)"/>'
        )
        body.append(_text((x1 + x2) / 2, (y1 + y2) / 2 + (16 if below else -6), label, 11, anchor="middle"))

    body.append(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#1f2328"/>'
        '</marker></defs>'
    )
    box(10, 30, 150, 80, "Client (CLI)", ["stepbox run / ps / rm", "docker CLI, SDK"], "#ddf4ff", "#0969da")
    box(310, 30, 190, 80, "Daemon (dockerd)", ["REST API server", "images, containers"], "#dafbe1", "#1a7f37")
    box(580, 30, 130, 80, "Registry", ["push / pull", "only missing layers"], "#fff8c5", "#bf8700")
    box(310, 160, 190, 60, f"Kernel ({backend})", ["namespaces, cgroups, UnionFS"], "#eaeef2", "#57606a")
    arrow(160, 70, 310, 70, "REST (HTTP) over a UNIX socket")
    arrow(500, 70, 580, 70, "HTTP")
    body.append(_text(413, 140, "clone, mount, cgroupfs", 11))
    body.append(
        '<line x1="405" y1="110" x2="405" y2="160" stroke="#1f2328" stroke-width="1.5" '
        'marker-end="url(#arrow)"/>'
    )
    body.append(_text(10, 250, f"socket: {_clip(socket_path, 90)}", 11.5, mono=True, colour="#57606a"))
    return _svg(width, 262, body, "client, daemon, registry and kernel")


__all__ = [
    "CgroupBox",
    "LayerBox",
    "Meter",
    "ProcNode",
    "architecture_svg",
    "cgroup_tree_svg",
    "layer_stack_svg",
    "process_tree_svg",
]
