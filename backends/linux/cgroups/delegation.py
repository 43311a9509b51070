"""cgroups without root: a *delegated* cgroup v2 subtree, or none at all.

A user may manage the cgroups of a v2 subtree that was delegated to it
(``Documentation/admin-guide/cgroup-v2.rst``, "Delegation"): its directory
and its ``cgroup.procs``, ``cgroup.subtree_control`` and ``cgroup.threads``
files are the user's.  systemd delegates ``user@UID.service`` to each user
with a login session.  Below it a rootless engine makes its groups and sets
limits exactly as root does at the top of the tree.

v1 hierarchies cannot be delegated safely, and a v2 tree that nobody
delegated is root's: then a rootless container gets no cgroup of its own,
and every limit asked for is *refused*, saying why -- never dropped in
silence, as Docker's rootless mode does with a warning.
"""

from __future__ import annotations

import os

from stepbox.core.kernel.cgroups import CgroupLimits, Cgroups, CgroupStats
from stepbox.core.kernel.devices import DeviceAllowlist, DeviceRule
from stepbox.core.kernel.errors import NotSupported
from stepbox.core.kernel.trace import Tracer

from ..procfs import parse_cgroup_file
from .detect import CgroupLayout, detect_layout
from .manager import LinuxCgroups

DELEGATED_FILES = ("cgroup.procs", "cgroup.subtree_control")


def _writable(directory: str) -> bool:
    return os.access(directory, os.W_OK | os.X_OK) and all(
        os.access(os.path.join(directory, name), os.W_OK) for name in DELEGATED_FILES
    )


def delegated_subtree(layout: CgroupLayout, own_cgroup: str) -> tuple[str | None, str]:
    """The topmost group on the way up from ``own_cgroup`` (our place in the
    v2 tree, ``/a/b``) that is delegated to us -- as a path relative to the
    cgroup2 mount -- or None and why there is none."""
    if layout.unified is None:
        return None, f"this host has no cgroup v2 tree (cgroup layout: {layout.mode})"
    if layout.mode == "hybrid" and not layout.unified_controllers & {"memory", "pids", "cpu"}:
        return None, (
            "this host's controllers are on cgroup v1 hierarchies (cgroup layout: hybrid), "
            "which cannot be delegated to a user; only a cgroup v2 host can"
        )
    found = None
    parts = [p for p in own_cgroup.strip("/").split("/") if p]
    for depth in range(len(parts), 0, -1):
        rel = "/".join(parts[:depth])
        if not _writable(os.path.join(layout.unified, rel)):
            break
        found = rel
    if found is None:
        where = os.path.join(layout.unified, *parts)
        return None, (
            f"no cgroup v2 subtree is delegated to uid {_host_uid()}: {where} is not writable "
            "(systemd delegates user@UID.service to a user with a login session; "
            "see cgroup-v2.rst, Delegation)"
        )
    top = os.path.join(layout.unified, found)
    try:
        with open(os.path.join(top, "cgroup.procs")) as f:
            busy = bool(f.read().split())
    except OSError:
        busy = True
    if busy:
        return None, (
            f"the delegated group {top} holds processes itself, so it cannot hand controllers "
            "to groups below it (the no-internal-processes rule): start stepbox from a group below it"
        )
    return found, ""


def _host_uid() -> int:
    """Our uid as the host sees it (inside our user namespace we are 0)."""
    try:
        with open("/proc/self/uid_map") as f:
            for line in f:
                inside, outside, _count = (int(x) for x in line.split())
                if inside == os.getuid():
                    return outside
    except (OSError, ValueError):
        pass
    return os.getuid()


def rootless_cgroups(tracer: Tracer | None = None) -> LinuxCgroups | RefusingCgroups:
    """LinuxCgroups on the delegated subtree, or RefusingCgroups saying why there is none."""
    layout = detect_layout()
    with open("/proc/self/cgroup") as f:
        lines = parse_cgroup_file(f.read())
    own = next((line.path for line in lines if line.hierarchy_id == 0), "/")
    subtree, why = delegated_subtree(layout, own)
    if subtree is None:
        return RefusingCgroups(why, layout)
    assert layout.unified is not None  # a subtree was found in it
    with open(os.path.join(layout.unified, subtree, "cgroup.controllers")) as f:
        controllers = frozenset(f.read().split())
    v2_only = CgroupLayout(mode="v2", unified=layout.unified, unified_controllers=controllers)
    cgroups = DelegatedCgroups(v2_only, tracer, base=subtree)
    cgroups.base_is_ours = False
    return cgroups


class _DevicesByTheUserNamespace:
    """Rootless, no device cgroup: v2's device program is BPF, which needs
    CAP_SYS_ADMIN in the host's user namespace, and v1 cannot be delegated.
    None is needed for what the rules keep out: in a user namespace the
    kernel refuses to open a device node on any mount the namespace made
    (SB_I_NODEV), so a container opens only the host's nodes bound in -- the
    defaults and --device ones, which the rules allow -- with the host's own
    permissions on them.  The rules are kept, for device_rules to show."""

    _device_rules: dict[str, DeviceAllowlist]

    def set_devices(self, path: str, rules: list[DeviceRule]) -> None:
        self._device_rules[path] = DeviceAllowlist.from_rules(rules)

    def device_rules(self, path: str) -> list[str]:
        allowlist = self._device_rules.get(path)
        return allowlist.listing() if allowlist is not None else []


class DelegatedCgroups(_DevicesByTheUserNamespace, LinuxCgroups):
    """A cgroup v2 subtree delegated to the user: limits and the freezer as
    root has them, devices as :class:`_DevicesByTheUserNamespace` says."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._device_rules = {}


class RefusingCgroups(_DevicesByTheUserNamespace, Cgroups):
    """No cgroups at all: containers run in the group they were started
    from; every limit and the freezer are refused with ``reason``."""

    def __init__(self, reason: str, layout: CgroupLayout):
        self.reason = reason
        self.layout = layout
        self.controller: dict = {}
        self.hierarchies: list = []
        self.base = ""
        self._device_rules = {}

    def _refuse(self, what: str) -> NotSupported:
        return NotSupported(f"cannot {what} without root here: {self.reason}")

    def create(self, path: str) -> None:
        pass  # nothing to make: the container stays in our group

    def set_limits(self, path: str, limits: CgroupLimits) -> None:
        for value, what in (
            (limits.memory_bytes, "set a memory limit"),
            (limits.pids_max, "set a pids limit"),
            (limits.cpu_quota_us, "set a CPU quota"),
        ):
            if value is not None:
                raise self._refuse(what)

    def add_process(self, path: str, pid: int) -> None:
        raise self._refuse("move a process into a cgroup")

    def procs_files(self, path: str) -> list[str]:
        return []

    def controller_dir(self, ctrl: str, path: str) -> str | None:
        return None

    def procs(self, path: str) -> list[int]:
        return []

    def stats(self, path: str) -> CgroupStats:
        return CgroupStats()

    def freeze(self, path: str) -> None:
        raise self._refuse("freeze a container (pause)")

    def thaw(self, path: str) -> None:
        raise self._refuse("thaw a container (unpause)")

    def remove(self, path: str) -> None:
        pass

    def exists(self, path: str) -> bool:
        return False

    def list(self) -> list[str]:
        return []

    def remove_base(self) -> None:
        pass
