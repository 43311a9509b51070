"""Which cgroup layout does this host have?

There are three in the wild:

* **v1** -- one hierarchy per controller (or per group of controllers),
  each a ``cgroup`` filesystem mounted under ``/sys/fs/cgroup/<name>``:
  ``memory``, ``pids``, ``cpu,cpuacct``, ``freezer`` ...  Which controllers a
  mount carries is in its *super options* in ``/proc/self/mountinfo``
  (``rw,memory``).
* **v2** -- one unified ``cgroup2`` hierarchy, usually at ``/sys/fs/cgroup``;
  the controllers it offers are listed in its ``cgroup.controllers`` file.
* **hybrid** -- both: the controllers live in v1 hierarchies and a cgroup2
  mount (often ``/sys/fs/cgroup/unified``) carries none or a few of them.
  A controller can only be attached to one hierarchy at a time, so the
  choice per controller is unambiguous: v1 if a v1 mount has it, else v2.

We find all of this by parsing mountinfo rather than guessing paths, as
runc and systemd do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..procfs import CgroupLine, MountInfo, parse_cgroup_file, parse_mountinfo

# The controllers stepbox uses.  cpuacct (v1) reports CPU usage; in v2 the
# cpu controller's cpu.stat does that (and usage_usec is always there).
# devices exists only in v1; on v2 a BPF program does its job (.devices).
CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer", "devices")


@dataclass(frozen=True)
class V1Mount:
    mountpoint: str  # /sys/fs/cgroup/memory
    controllers: tuple[str, ...]  # ("memory",) or ("cpu", "cpuacct") or ("name=systemd",)
    root: str = "/"  # the part of the hierarchy visible at the mountpoint


@dataclass(frozen=True)
class CgroupLayout:
    mode: str  # "v1", "v2", "hybrid" or "none"
    v1: tuple[V1Mount, ...] = ()
    unified: str | None = None  # mountpoint of the cgroup2 fs
    unified_controllers: frozenset[str] = field(default_factory=frozenset)

    def v1_mount_for(self, controller: str) -> V1Mount | None:
        for m in self.v1:
            if controller in m.controllers:
                return m
        return None

    def version_for(self, controller: str) -> int | None:
        """1 or 2: which hierarchy drives ``controller`` here; None if neither.

        The v2 freezer is not a controller at all but a core file
        (``cgroup.freeze``, Linux 5.2), so any cgroup2 mount offers it."""
        if self.v1_mount_for(controller):
            return 1
        if self.unified is None:
            return None
        if controller in self.unified_controllers:
            return 2
        if controller == "freezer":
            return 2
        if controller == "cpuacct" and "cpu" in self.unified_controllers:
            return 2  # v2 cpu.stat carries usage_usec
        return None


def layout_from_mountinfo(entries: list[MountInfo], read_file=None) -> CgroupLayout:
    """Decide the layout from parsed mountinfo.  ``read_file(path) -> str``
    reads the unified mount's ``cgroup.controllers`` (injectable for tests)."""
    read_file = read_file or _read_text
    v1: list[V1Mount] = []
    unified = None
    for e in entries:
        if e.fstype == "cgroup":
            opts = [o for o in e.super_options.split(",") if o not in ("rw", "ro")]
            ctrls = tuple(
                o
                for o in opts
                if o in CONTROLLERS
                or o.startswith("name=")
                or o
                in (
                    "cpuset",
                    "devices",
                    "blkio",
                    "net_cls",
                    "net_prio",
                    "perf_event",
                    "hugetlb",
                    "rdma",
                    "misc",
                )
            )
            # The same hierarchy can be mounted twice (bind mounts); keep the first.
            if not any(m.controllers == ctrls for m in v1):
                v1.append(V1Mount(e.mountpoint, ctrls, e.root))
        elif e.fstype == "cgroup2" and unified is None:
            unified = e.mountpoint
    controllers: frozenset[str] = frozenset()
    if unified is not None:
        try:
            controllers = frozenset(read_file(f"{unified}/cgroup.controllers").split())
        except OSError:
            controllers = frozenset()
    has_v1 = any(set(m.controllers) & set(CONTROLLERS) for m in v1)
    if has_v1 and unified is not None:
        mode = "hybrid"
    elif has_v1:
        mode = "v1"
    elif unified is not None:
        mode = "v2"
    else:
        mode = "none"
    return CgroupLayout(mode=mode, v1=tuple(v1), unified=unified, unified_controllers=controllers)


def detect_layout(mountinfo_path: str = "/proc/self/mountinfo") -> CgroupLayout:
    return layout_from_mountinfo(parse_mountinfo(_read_text(mountinfo_path)))


def own_cgroups(path: str = "/proc/self/cgroup") -> list[CgroupLine]:
    """Where the calling process sits in every hierarchy."""
    return parse_cgroup_file(_read_text(path))


def _read_text(path: str) -> str:
    with open(path) as f:
        return f.read()
