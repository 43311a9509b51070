"""Reading the diagrams' data off a live engine.

Everything here goes through the kernel interfaces (``core.kernel``) and the
image store, so the simulator and the real kernel give the same shapes --
only the numbers (PIDs, inode numbers, bytes) differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from stepbox.core.container.record import ContainerRecord
from stepbox.core.image.store import Image
from stepbox.core.kernel import EntryKind, LayerEntry, NamespaceKind

from .diagrams import CgroupBox, LayerBox, Meter, ProcNode
from .tables import size

# --------------------------------------------------------------------- layers


def entry_line(entry: LayerEntry) -> str:
    """One changeset entry the way `tar tv` or `docker diff` would make you read it."""
    path = entry.path
    if entry.kind is EntryKind.WHITEOUT:
        return f"✗ {path}   (whiteout: deleted below)"
    if entry.kind is EntryKind.DIR:
        return f"{path}/" + ("   (opaque: hides lower layers)" if entry.opaque else "")
    if entry.kind is EntryKind.SYMLINK:
        return f"{path} -> {entry.link}"
    if entry.kind is EntryKind.HARDLINK:
        return f"{path}   (hard link to {entry.link})"
    return f"{path}   {size(entry.size)}"


def summarise(entries: list[LayerEntry]) -> list[str]:
    """A layer's entries as lines; files, whiteouts and opaque dirs before
    plain directories and hard links, which say least."""

    def rank(entry: LayerEntry) -> int:
        if entry.kind is EntryKind.WHITEOUT or entry.opaque:
            return 0
        if entry.kind in (EntryKind.FILE, EntryKind.SYMLINK):
            return 1
        return 2

    return [entry_line(e) for e in sorted(entries, key=rank)]


def _bytes(entries: list[LayerEntry]) -> int:
    return sum(e.size for e in entries if e.kind is EntryKind.FILE)


def image_layer_boxes(images, image: Image, kinds: dict[str, str] | None = None) -> list[LayerBox]:
    """The image's layers top-most first; ``kinds`` may colour some by blob
    digest (the registry notebook: ``{digest: "sent"}``)."""
    boxes = []
    history = [h for h in image.config.get("history", []) if not h.get("empty_layer")]
    count = len(image.layers)
    for index in reversed(range(count)):
        blob = image.layers[index]
        entries = images.layer_entries(blob)
        made_by = history[index].get("created_by", "") if index < len(history) else ""
        label = f"image layer {index + 1}" + (" (base)" if index == 0 else "")
        if made_by:
            label += f" — {made_by[:48]}"
        boxes.append(
            LayerBox(
                label,
                (kinds or {}).get(blob, "image"),
                summarise(entries),
                f"{blob.removeprefix('sha256:')[:12]} · {size(_bytes(entries))}",
            )
        )
    return boxes


def container_layer_boxes(lab, record: ContainerRecord, with_image: bool = True) -> list[LayerBox]:
    """The container's layer stack, as the seed draws it: the merged view on
    top (while mounted), then the read-write layer, the init layer, and the
    image's read-only layers."""
    unionfs = lab.kernel.unionfs
    boxes = []
    if record.mount:
        from stepbox.core.container.plan import mount_of

        try:
            names = sorted(unionfs.merged(mount_of(record.mount)).listdir("/"))
            boxes.append(
                LayerBox("merged view = the container's /", "merged", [" ".join(names)], "overlay mount")
            )
        except OSError:
            pass
    for layer_id, label, kind in (
        (record.rw_layer, "read-write layer (container)", "rw"),
        (record.init_layer, "init layer (container)", "init"),
    ):
        if unionfs.has_layer(layer_id):
            entries = list(unionfs.changes(layer_id))
            boxes.append(LayerBox(label, kind, summarise(entries) or ["(empty)"], f"{len(entries)} entries"))
    if with_image and record.image_id:
        boxes += image_layer_boxes(lab.images, lab.images.resolve(record.image_id))
    return boxes


# ------------------------------------------------------------------ processes


def _own_kinds(namespaces: dict[str, int], host: dict[str, int]) -> list[str]:
    return [
        kind.value
        for kind in NamespaceKind
        if kind.value in namespaces
        and host.get(kind.value) is not None
        and namespaces[kind.value] != host[kind.value]
    ]


def process_nodes(lab, records: list[ContainerRecord]) -> list[ProcNode]:
    """The host's process tree cut down to what matters: each container's
    processes and their ancestors up to the host's PID 1."""
    kernel = lab.kernel
    table = {p.pid: p for p in kernel.processes.list()}
    host = {kind.value: inode for kind, inode in kernel.namespaces.host().items()}
    children: dict[int, list[int]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p.pid)
    keep: set[int] = set()
    container_ns: dict[int, str] = {}
    for record in records:
        if not record.pid or record.pid not in table:
            continue
        pid_ns = table[record.pid].namespaces.get("pid")
        for p in table.values():
            if p.namespaces.get("pid") == pid_ns:
                keep.add(p.pid)
                container_ns[p.pid] = record.name
        ancestor = table[record.pid].ppid
        while ancestor in table and ancestor not in keep:
            keep.add(ancestor)
            ancestor = table[ancestor].ppid
    roots = sorted(pid for pid in keep if table[pid].ppid not in keep)
    nodes: list[ProcNode] = []

    def walk(pid: int, depth: int) -> None:
        p = table[pid]
        nodes.append(
            ProcNode(
                pid,
                p.ns_pid,
                " ".join(p.argv),
                depth,
                container_ns.get(pid, ""),
                _own_kinds(p.namespaces, host),
            )
        )
        for child in sorted(children.get(pid, [])):
            if child in keep:
                walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return nodes


def host_pid(lab) -> int:
    """A process of the host's own namespaces, to ask the kernel what the
    host sees ("outside"): the lowest PID whose namespaces are all the host's."""
    host = {kind.value: inode for kind, inode in lab.kernel.namespaces.host().items()}
    for p in sorted(lab.kernel.processes.list(), key=lambda p: p.pid):
        if p.namespaces and all(p.namespaces.get(kind) == inode for kind, inode in host.items()):
            return p.pid
    raise LookupError("no process in the host's namespaces is visible")


def namespace_rows(lab, record: ContainerRecord) -> list[tuple[str, str, str, str]]:
    """(kind, the host's inode, the container's inode, shared or own)."""
    kernel = lab.kernel
    host = kernel.namespaces.host()
    own = kernel.namespaces.of(record.pid)
    rows = []
    for kind in NamespaceKind:
        if kind in own:
            outside, inside = host.get(kind), own[kind]
            rows.append(
                (
                    kind.value,
                    f"{kind.value}:[{outside}]",
                    f"{kind.value}:[{inside}]",
                    "shared with the host" if outside == inside else "own namespace",
                )
            )
    return rows


# -------------------------------------------------------------------- cgroups


def cgroup_boxes(lab, records: Sequence[ContainerRecord] = ()) -> list[CgroupBox]:
    """stepbox's part of the cgroup tree: ``stepbox/`` and one group per
    running container, each with its processes and limits."""
    cgroups = lab.kernel.cgroups
    by_path = {r.cgroup: r for r in records if r.cgroup}
    paths = sorted(cgroups.list())
    boxes = [
        CgroupBox(
            "/sys/fs/cgroup (the root: every process on the host)",
            0,
            note="the engine and the host's own processes live here or below",
        )
    ]
    parents = sorted({p.rsplit("/", 1)[0] for p in paths if "/" in p} - set(paths))
    for parent in parents:
        boxes.append(CgroupBox(parent + "/", 1, note="stepbox's part of the tree"))
    for path in paths:
        depth = 1 + path.count("/")
        stats = cgroups.stats(path)
        meters = [
            Meter(
                "memory",
                stats.memory_current,
                stats.memory_max,
                f"{size(stats.memory_current)} of {size(stats.memory_max)}",
            ),
            Meter(
                "pids",
                stats.pids_current,
                stats.pids_max,
                f"{stats.pids_current} of {stats.pids_max if stats.pids_max else 'unlimited'}",
            ),
        ]
        record = by_path.get(path)
        note = f"container {record.name}" if record else ""
        if stats.cpu_nr_periods:
            note += f"  ·  cpu: throttled in {stats.cpu_nr_throttled} of {stats.cpu_nr_periods} periods"
        if stats.memory_events.get("oom_kill"):
            note += f"  ·  OOM kills: {stats.memory_events['oom_kill']}"
        boxes.append(
            CgroupBox(
                path.rsplit("/", 1)[-1][:12] + "…" if len(path) > 40 else path,
                depth,
                cgroups.procs(path),
                meters,
                note.strip(" ·"),
            )
        )
    return boxes


__all__ = [
    "cgroup_boxes",
    "container_layer_boxes",
    "entry_line",
    "host_pid",
    "image_layer_boxes",
    "namespace_rows",
    "process_nodes",
    "summarise",
]
