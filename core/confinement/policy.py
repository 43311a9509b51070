"""One container's confinement, decided from its flags and the host.

:class:`ConfinementFlags` is what a user asked for (``--cap-add``,
``--privileged``, ``--security-opt``, ``--device`` ...), validated when the
container is created; :func:`decide` turns it into a :class:`Confinement` when
the container starts -- the moment Docker builds its OCI spec -- because some
of it depends on the host: which capabilities "all" means, the host's device
files behind ``--device``, the architecture and kernel version the seccomp
profile's conditions ask about.

``--privileged`` is Docker's: every capability, every device (the host's
device files made in the container's /dev), no masked or read-only paths,
no seccomp.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from stepbox.core.kernel.devices import DeviceNode, DeviceRule
from stepbox.core.kernel.kernel import HostFacts
from stepbox.core.kernel.seccomp import SeccompFilter

from .capabilities import container_capabilities, normalize
from .devices import (
    ALLOW_ALL,
    DEFAULT_DEVICE_NODES,
    DEFAULT_DEVICE_RULES,
    DOCKER_DEVICE_RULES,
    RUNC_DEVICE_RULES,
    DeviceMapping,
    InvalidDevice,
    parse_cgroup_rule,
)
from .docker_default_profile import DOCKER_DEFAULT_PROFILE
from .seccomp_profile import Host, resolve
from .security_opts import SecurityOptions, parse_security_opts

# What Docker hides from a container (moby oci/defaults.go, plus the powercap
# directory newer Docker masks too) and makes read-only.
MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


_SEQUENCE_FLAGS = (
    "cap_add",
    "cap_drop",
    "security_opt",
    "devices",
    "device_cgroup_rules",
    "masked_paths",
    "readonly_paths",
)


@dataclass(frozen=True)
class ConfinementFlags:
    """What was asked for, as the Engine API carries it (HostConfig)."""

    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    security_opt: tuple[str, ...] = ()
    devices: tuple[DeviceMapping, ...] = ()
    device_cgroup_rules: tuple[str, ...] = ()
    masked_paths: tuple[str, ...] | None = None  # None: Docker's
    readonly_paths: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Tuples whatever a caller passed (a list from JSON, say): the
        # flags are a value, compared and hashed by content (decide's cache).
        for name in _SEQUENCE_FLAGS:
            value = getattr(self, name)
            if value is not None and value.__class__ is not tuple:
                object.__setattr__(self, name, tuple(value))

    def check(self) -> None:
        """Refuse what can be refused before the container exists (Docker's
        wording); raises ValueError subclasses."""
        normalize(self.cap_add, "CapAdd")
        normalize(self.cap_drop, "CapDrop")
        parse_security_opts(list(self.security_opt))
        for rule in self.device_cgroup_rules:
            parse_cgroup_rule(rule)

    def to_dict(self) -> dict:
        return {
            "cap_add": list(self.cap_add),
            "cap_drop": list(self.cap_drop),
            "privileged": self.privileged,
            "security_opt": list(self.security_opt),
            "devices": [d.to_api() for d in self.devices],
            "device_cgroup_rules": list(self.device_cgroup_rules),
            "masked_paths": None if self.masked_paths is None else list(self.masked_paths),
            "readonly_paths": None if self.readonly_paths is None else list(self.readonly_paths),
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> ConfinementFlags:
        if not data:
            return cls()
        return cls(
            cap_add=tuple(data.get("cap_add", ())),
            cap_drop=tuple(data.get("cap_drop", ())),
            privileged=bool(data.get("privileged")),
            security_opt=tuple(data.get("security_opt", ())),
            devices=tuple(
                DeviceMapping(d["PathOnHost"], d["PathInContainer"], d["CgroupPermissions"])
                for d in data.get("devices", ())
            ),
            device_cgroup_rules=tuple(data.get("device_cgroup_rules", ())),
            masked_paths=None if data.get("masked_paths") is None else tuple(data["masked_paths"]),
            readonly_paths=None if data.get("readonly_paths") is None else tuple(data["readonly_paths"]),
        )


@dataclass(frozen=True)
class Confinement:
    """What the start steps apply to the container's first process (and to
    every ``exec``'d one)."""

    capabilities: frozenset[str]  # the bounding set; effective/permitted too when the user is root
    no_new_privs: bool = False
    seccomp: SeccompFilter | None = None
    device_rules: tuple[DeviceRule, ...] = DEFAULT_DEVICE_RULES
    device_nodes: tuple[DeviceNode, ...] = DEFAULT_DEVICE_NODES
    masked_paths: tuple[str, ...] = MASKED_PATHS
    readonly_paths: tuple[str, ...] = READONLY_PATHS
    privileged: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)  # warnings, as dockerd logs them


def _options(flags: ConfinementFlags) -> SecurityOptions:
    """The flags' --security-opt, parsed; none (nearly every container) is
    the defaults, without the parse: these are asked for each plan made."""
    return parse_security_opts(list(flags.security_opt)) if flags.security_opt else _NO_OPTIONS


_NO_OPTIONS = SecurityOptions()  # what parse_security_opts([]) gives


def loads_seccomp(flags: ConfinementFlags) -> bool:
    """Will the container have a seccomp filter (unless its profile is ``{}``)?"""
    return not flags.privileged and not _options(flags).seccomp_unconfined


def sets_no_new_privs(flags: ConfinementFlags) -> bool:
    return _options(flags).no_new_privileges


def seccomp_filter(
    flags: ConfinementFlags, host: HostFacts, capabilities: frozenset[str]
) -> SeccompFilter | None:
    """The filter of a container with these flags and this bounding set on
    this host (None: no seccomp).  The same every time it is asked, so an
    ``exec`` computes its container's filter again instead of storing it."""
    options = _options(flags)
    if flags.privileged or options.seccomp_unconfined:
        return None
    profile = options.profile or DOCKER_DEFAULT_PROFILE
    host_key = Host.from_uname(host.machine, host.release)
    if profile is DOCKER_DEFAULT_PROFILE:
        return _resolve_default(host_key, frozenset(capabilities))
    return resolve(profile, host_key, frozenset(capabilities))


@functools.lru_cache(maxsize=64)
def _resolve_default(host: Host, capabilities: frozenset[str]) -> SeccompFilter | None:
    """Docker's default profile, resolved: what nearly every container asks
    for.  resolve() is cached too, but its key hashes the whole profile
    (every rule, recursively) at each start; this key is two small values."""
    return resolve(DOCKER_DEFAULT_PROFILE, host, capabilities)


def decide(
    flags: ConfinementFlags,
    host: HostFacts,
    host_devices: Callable[[str], list[DeviceNode]],
) -> Confinement:
    """The confinement of a container started now on this host.
    ``host_devices(path)`` lists the device files at a host path (a device,
    or a directory of them); it raises ``InvalidDevice`` if there are none."""
    if flags.privileged or flags.devices:
        return _decide(flags, host, host_devices)  # reads the host's /dev now: never cached
    return _decide_from_values(flags, host)


def _no_host_devices(path: str) -> list[DeviceNode]:
    raise AssertionError(f"host_devices({path!r}) asked for without --privileged or --device")


@functools.lru_cache(maxsize=256)
def _decide_from_values(flags: ConfinementFlags, host: HostFacts) -> Confinement:
    """decide() for a container that takes none of the host's device files:
    then the confinement follows from two values alone (frozen, compared by
    content: a profile given by --security-opt is its JSON text), so the
    answer for the same two is the same -- nothing to invalidate -- and a
    Confinement is immutable, so one may be shared.  Each start asked anew
    (~10 µs of a simulated lifecycle, issue 18).  Errors are not cached:
    bad flags raise every time."""
    return _decide(flags, host, _no_host_devices)


def _decide(
    flags: ConfinementFlags,
    host: HostFacts,
    host_devices: Callable[[str], list[DeviceNode]],
) -> Confinement:
    capabilities = container_capabilities(flags.cap_add, flags.cap_drop, flags.privileged, host.capabilities)
    options = parse_security_opts(list(flags.security_opt))
    seccomp = seccomp_filter(flags, host, capabilities)
    nodes: dict[str, DeviceNode] = {node.path: node for node in DEFAULT_DEVICE_NODES}
    notes = []
    if flags.privileged:
        rules: tuple[DeviceRule, ...] = ALLOW_ALL
        for node in host_devices("/dev"):
            nodes.setdefault(node.path, node)
        for mapping in flags.devices:
            if mapping.cgroup_permissions != "rwm":
                notes.append(
                    f"custom {mapping.cgroup_permissions} permissions for device {mapping.path_on_host} "
                    "are ignored in privileged mode"
                )
            if mapping.path_on_host != mapping.path_in_container:
                for node in _mapped(mapping, host_devices):
                    nodes[node.path] = node
        masked: tuple[str, ...] = ()
        readonly: tuple[str, ...] = ()
    else:
        added: list[DeviceRule] = []
        for mapping in flags.devices:
            for node in _mapped(mapping, host_devices):
                nodes[node.path] = node
                added.append(DeviceRule(True, node.kind, node.major, node.minor, mapping.cgroup_permissions))
        added += [parse_cgroup_rule(rule) for rule in flags.device_cgroup_rules]
        rules = DOCKER_DEVICE_RULES + tuple(added) + RUNC_DEVICE_RULES
        masked = MASKED_PATHS if flags.masked_paths is None else flags.masked_paths
        readonly = READONLY_PATHS if flags.readonly_paths is None else flags.readonly_paths
    return Confinement(
        capabilities=capabilities,
        no_new_privs=options.no_new_privileges,
        seccomp=seccomp,
        device_rules=rules,
        device_nodes=tuple(nodes.values()),
        masked_paths=masked,
        readonly_paths=readonly,
        privileged=flags.privileged,
        notes=tuple(notes),
    )


def _mapped(mapping: DeviceMapping, host_devices: Callable[[str], list[DeviceNode]]) -> list[DeviceNode]:
    """The host's device file(s) at ``path_on_host``, renamed into the container."""
    found = host_devices(mapping.path_on_host)
    if not found:
        raise InvalidDevice(
            f'error gathering device information while adding custom device "{mapping.path_on_host}": '
            "no such file or directory"
        )
    root = mapping.path_on_host.rstrip("/")
    out = []
    for node in found:
        inside = (
            mapping.path_in_container + node.path[len(root) :]
            if node.path != root
            else mapping.path_in_container
        )
        out.append(DeviceNode(inside, node.kind, node.major, node.minor, node.mode, node.uid, node.gid))
    return out
