"""``LinuxCgroups``: the :class:`Cgroups` interface on whatever layout the host has.

For every controller stepbox uses it picks the hierarchy that drives it
(v1 or v2, see :mod:`.detect`) and the matching file driver (:mod:`.v1`,
:mod:`.v2`).  A group is created in *every* hierarchy in use, and a process
is moved into all of them -- on the hybrid layout that includes the cgroup2
mount even though it carries no controllers, so that the ``0::`` line of
``/proc/PID/cgroup`` names the container's group, as runc does.
"""

from __future__ import annotations

from stepbox.core.kernel.cgroups import CgroupLimits, Cgroups, CgroupStats
from stepbox.core.kernel.devices import DeviceRule
from stepbox.core.kernel.errors import NotSupported
from stepbox.core.kernel.trace import Tracer

from . import devices, v1, v2
from .detect import CONTROLLERS, CgroupLayout, detect_layout
from .fsio import CgroupIO
from .hierarchy import Hierarchy

_DRIVERS = {1: v1, 2: v2}
_V2_WANTED = frozenset({"memory", "pids", "cpu"})


class LinuxCgroups(Cgroups):
    """Cgroups on real cgroupfs.

    ``base`` is where stepbox's part of each hierarchy starts ("" = the
    hierarchy root, like Docker's cgroupfs driver); ``prefix`` is the first
    component of the paths the engine uses ("stepbox/ID") and what
    :meth:`list` reports."""

    def __init__(
        self,
        layout: CgroupLayout | None = None,
        tracer: Tracer | None = None,
        base: str = "",
        prefix: str = "stepbox",
    ):
        self.layout = layout or detect_layout()
        self.io = CgroupIO(tracer)
        self.base = base.strip("/")
        self.base_is_ours = True  # False for a subtree delegated to us: never removed
        self.prefix = prefix
        self.hierarchies: list[Hierarchy] = []
        self.controller: dict[str, Hierarchy] = {}
        by_mount: dict[str, Hierarchy] = {}
        for ctrl in CONTROLLERS:
            version = self.layout.version_for(ctrl)
            if version == 1:
                mount = self.layout.v1_mount_for(ctrl)
                assert mount is not None  # version 1: the controller has a v1 mount
                h = by_mount.get(mount.mountpoint)
                if h is None:
                    h = by_mount[mount.mountpoint] = v1.V1Hierarchy(mount.mountpoint, self.base, self.io)
                self.controller[ctrl] = h
            elif version == 2:
                self.controller[ctrl] = self._unified(by_mount)
        if self.layout.unified is not None:
            self._unified(by_mount)  # the tracking hierarchy on hybrid hosts
        self.hierarchies = list(by_mount.values())

    def _unified(self, by_mount: dict[str, Hierarchy]) -> Hierarchy:
        mp = self.layout.unified
        assert mp is not None  # asked only when there is a cgroup2 mount
        if mp not in by_mount:
            by_mount[mp] = v2.V2Hierarchy(
                mp, self.base, self.io, controllers=_V2_WANTED & self.layout.unified_controllers
            )
        return by_mount[mp]

    # -- helpers ---------------------------------------------------------------------
    def _driver(self, ctrl: str):
        h = self.controller.get(ctrl)
        if h is None:
            return None, None
        return _DRIVERS[h.version], h

    def _require(self, ctrl: str, what: str):
        module, h = self._driver(ctrl)
        if module is None:
            raise NotSupported(
                f"cannot set {what}: the {ctrl} cgroup controller is not available on this "
                f"host (cgroup layout: {self.layout.mode})"
            )
        return module, h

    def procs_files(self, path: str) -> list[str]:
        """The cgroup.procs file of ``path`` in every hierarchy: writing "0"
        to each moves the writing process in (used by a child to join its
        cgroup itself before it does anything else)."""
        return [h.procs_file(path) for h in self.hierarchies]

    def controller_dir(self, ctrl: str, path: str) -> str | None:
        h = self.controller.get(ctrl)
        return h.dir(path) if h else None

    # -- the interface -------------------------------------------------------------------
    def create(self, path: str) -> None:
        for h in self.hierarchies:
            h.create(path)

    def set_limits(self, path: str, limits: CgroupLimits) -> None:
        if limits.memory_bytes is not None:
            module, h = self._require("memory", "a memory limit")
            module.set_memory(h, path, limits.memory_bytes)
        if limits.pids_max is not None:
            module, h = self._require("pids", "a pids limit")
            module.set_pids(h, path, limits.pids_max)
        if limits.cpu_quota_us is not None:
            module, h = self._require("cpu", "a CPU quota")
            module.set_cpu(h, path, limits.cpu_quota_us, limits.cpu_period_us)

    def set_devices(self, path: str, rules: list[DeviceRule]) -> None:
        h = self.controller.get("devices")
        if h is not None and h.version == 1:
            devices.set_devices_v1(h, path, rules)
        elif self.layout.unified is not None:
            devices.set_devices_v2(self._unified_hierarchy(), path, rules)
        else:
            raise NotSupported(f"no device cgroup on this host (cgroup layout: {self.layout.mode})")

    def device_rules(self, path: str) -> list[str]:
        h = self.controller.get("devices")
        if h is not None and h.version == 1:
            return devices.read_devices_v1(h, path)
        if self.layout.unified is not None:
            return devices.read_devices_v2(self._unified_hierarchy(), path)
        return []

    def _unified_hierarchy(self) -> Hierarchy:
        return next(h for h in self.hierarchies if h.version == 2)

    def add_process(self, path: str, pid: int) -> None:
        for h in self.hierarchies:
            h.add(path, pid)

    def procs(self, path: str) -> list[int]:
        pids: set[int] = set()
        for h in self.hierarchies:
            pids.update(h.procs(path))
        return sorted(pids)

    def stats(self, path: str) -> CgroupStats:
        stats = CgroupStats()
        for ctrl, reader in (
            ("memory", "read_memory"),
            ("pids", "read_pids"),
            ("cpu", "read_cpu"),
            ("cpuacct", "read_cpuacct"),
        ):
            module, h = self._driver(ctrl)
            if module is not None:
                getattr(module, reader)(h, path, stats)
        module, h = self._driver("freezer")
        if module is not None:
            stats.frozen = module.is_frozen(h, path)
        return stats

    def freeze(self, path: str) -> None:
        module, h = self._require("freezer", "the freezer state")
        module.freeze(h, path)

    def thaw(self, path: str) -> None:
        module, h = self._require("freezer", "the freezer state")
        module.thaw(h, path)

    def remove(self, path: str) -> None:
        for h in self.hierarchies:
            h.remove(path)

    def exists(self, path: str) -> bool:
        return any(h.exists(path) for h in self.hierarchies)

    def list(self) -> list[str]:
        found: set[str] = set()
        for h in self.hierarchies:
            found.update(p for p in h.walk(self.prefix) if p != self.prefix)
        return sorted(found)

    def remove_base(self) -> None:
        """rmdir stepbox's own part of the tree (``base/prefix`` and ``base``)
        when nothing is left in it.  Only for a private ``base`` (tests): the
        shared hierarchy root is never touched."""
        if not self.base or not self.base_is_ours:
            return
        for h in self.hierarchies:
            for rel in (self.prefix, ""):
                d = h.dir(rel)
                if h.exists(rel) and not h._subdirs(d):
                    h.io.rmdir(d)
