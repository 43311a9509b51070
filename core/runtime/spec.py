"""A bundle's ``config.json`` (the OCI runtime-spec), read and checked.

Every field stepbox honours becomes plain data here; every field it does
not is refused by name with :class:`Unsupported` -- never ignored, so a
container never runs with less confinement (or less of anything) than its
caller asked for.  What is refused today and why is listed in
``docs/oci-runtime.md``; the confinement machinery (seccomp, the device
cgroup) is tracker issue 14's, the pty behind ``terminal`` issue 19's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from stepbox.core.confinement.seccomp_profile import Profile, ProfileError, parse_profile
from stepbox.core.kernel import CgroupLimits, MountSpec, NamespaceKind
from stepbox.core.kernel.capabilities import ALL_CAPABILITIES
from stepbox.core.kernel.devices import WILDCARD, DeviceNode, DeviceRule

# The runtime-spec version stepbox-runc reads and reports (runc 1.1's).
OCI_VERSION = "1.0.2-dev"

NAMESPACE_KINDS = {
    "pid": NamespaceKind.PID,
    "network": NamespaceKind.NET,
    "mount": NamespaceKind.MNT,
    "ipc": NamespaceKind.IPC,
    "uts": NamespaceKind.UTS,
    "user": NamespaceKind.USER,
    "cgroup": NamespaceKind.CGROUP,
}
MOUNT_TYPES = ("bind", "proc", "tmpfs", "devpts", "sysfs", "mqueue", "cgroup")
# Mount options that ask for the kernel's default: honoured by adding no flag.
DEFAULT_MOUNT_OPTIONS = frozenset({"rw", "suid", "dev", "exec", "async", "defaults"})
MOUNT_FLAGS = frozenset(
    {
        "ro",
        "nosuid",
        "nodev",
        "noexec",
        "sync",
        "noatime",
        "nodiratime",
        "relatime",
        "strictatime",
        "bind",
        "rbind",
    }
)
PROPAGATION = frozenset(
    {"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"}
)
RLIMITS = frozenset(
    {
        "RLIMIT_AS",
        "RLIMIT_CORE",
        "RLIMIT_CPU",
        "RLIMIT_DATA",
        "RLIMIT_FSIZE",
        "RLIMIT_LOCKS",
        "RLIMIT_MEMLOCK",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_NOFILE",
        "RLIMIT_NPROC",
        "RLIMIT_RSS",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
        "RLIMIT_SIGPENDING",
        "RLIMIT_STACK",
    }
)
# sysctls that belong to a namespace the container has its own of (runc's list).
NAMESPACED_SYSCTLS = (
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
)
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
SUPPORTED_HOOKS = ("prestart", "createRuntime", "poststart", "poststop")


# A new cgroup's cpu.shares (v1); containerd writes it for privileged containers.
KERNEL_DEFAULT_CPU_SHARES = 1024


class Unsupported(ValueError):
    """A config.json field stepbox-runc does not honour (yet): refused, by name."""


class BadConfig(ValueError):
    """config.json is not what the runtime-spec says it must be."""


@dataclass(frozen=True)
class Hook:
    path: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    timeout: int | None = None


@dataclass(frozen=True)
class ProcessSpec:
    """The ``process`` object: what runs, as whom, with what."""

    args: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    capabilities: frozenset[str] = frozenset()
    rlimits: tuple[tuple[str, int, int], ...] = ()
    no_new_privileges: bool = False
    oom_score_adj: int | None = None
    umask: int | None = None  # process.user.umask (None: the caller's)
    terminal: bool = False  # a pty, its master sent to --console-socket
    console_size: tuple[int, int] | None = None  # (rows, columns) of that pty


@dataclass(frozen=True)
class BundleSpec:
    bundle: str
    root: str  # absolute path of the rootfs
    process: ProcessSpec
    readonly_root: bool = False
    hostname: str = ""
    mounts: tuple[MountSpec, ...] = ()
    namespaces: tuple[NamespaceKind, ...] = ()  # created
    join: tuple[tuple[NamespaceKind, str], ...] = ()  # joined by path
    uid_map: tuple[tuple[int, int, int], ...] = ()
    gid_map: tuple[tuple[int, int, int], ...] = ()
    cgroups_path: str = ""
    limits: CgroupLimits = CgroupLimits()
    devices: tuple[DeviceNode, ...] = ()  # device nodes to make in /dev (besides runc's defaults)
    device_rules: tuple[DeviceRule, ...] | None = None  # the device cgroup's rules; None: none given
    seccomp: Profile | None = None  # linux.seccomp, read as Docker's profile format
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    sysctl: dict[str, str] = field(default_factory=dict)
    hooks: dict[str, tuple[Hook, ...]] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def own_network(self) -> bool:
        """A new network namespace (not joined): only lo, brought up as runc does."""
        return NamespaceKind.NET in self.namespaces


def _empty(value: Any) -> bool:
    """Asks for nothing: absent, zero, false, or made only of such (Docker
    sends ``"blockIO": {"weight": 0}`` for "no weight")."""
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return value in (None, "", [], 0, False)


def _refuse_unknown(obj: dict[str, Any], where: str, known: set[str]) -> None:
    for key, value in obj.items():
        if key not in known and not _empty(value):
            raise Unsupported(f"{where}.{key} is not supported by stepbox-runc")


def _expect(obj: Any, kind: type, where: str) -> Any:
    if not isinstance(obj, kind):
        raise BadConfig(
            f"{where} must be a JSON {kind.__name__.replace('str', 'string').replace('dict', 'object')}"
        )
    return obj


def load_bundle(bundle: str) -> BundleSpec:
    """Read ``BUNDLE/config.json`` and check every field."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise BadConfig(f"JSON specification file {path} not found") from None
    except (OSError, ValueError) as e:
        raise BadConfig(f"cannot read {path}: {e}") from None
    return parse_config(_expect(data, dict, "config.json"), os.path.abspath(bundle))


def parse_config(data: dict[str, Any], bundle: str) -> BundleSpec:
    """The config as stepbox-runc runs it; BadConfig or Unsupported if it cannot."""
    with _malformed("config.json"):
        return _parse_config(data, bundle)


@contextmanager
def _malformed(what: str) -> Iterator[None]:
    """A value of the wrong JSON type anywhere (a string where an object
    belongs...) is the caller's error, said as one: never a traceback."""
    try:
        yield
    except (BadConfig, Unsupported):
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as e:
        raise BadConfig(f"malformed {what}: {type(e).__name__}: {e}") from None


def _parse_config(data: dict[str, Any], bundle: str) -> BundleSpec:
    _expect(data, dict, "config.json")
    _refuse_unknown(
        data,
        "config",
        {"ociVersion", "process", "root", "hostname", "mounts", "hooks", "annotations", "linux"},
    )
    version = str(data.get("ociVersion", ""))
    if not version.startswith("1."):
        raise BadConfig(f"ociVersion {version!r}: stepbox-runc reads runtime-spec 1.x")
    root = _expect(data.get("root"), dict, "root")
    _refuse_unknown(root, "root", {"path", "readonly"})
    root_path = str(root.get("path") or "")
    if not root_path:
        raise BadConfig("root.path is required")
    root_path = os.path.normpath(os.path.join(bundle, root_path))
    if not os.path.isdir(root_path):
        raise BadConfig(f"rootfs ({root_path}) does not exist")
    linux = _expect(data.get("linux") or {}, dict, "linux")
    _refuse_unknown(
        linux,
        "linux",
        {
            "namespaces",
            "uidMappings",
            "gidMappings",
            "devices",
            "cgroupsPath",
            "resources",
            "rootfsPropagation",
            "maskedPaths",
            "readonlyPaths",
            "sysctl",
            "seccomp",
        },
    )
    propagation = linux.get("rootfsPropagation") or ""
    if propagation not in ("", "private", "rprivate"):
        raise Unsupported(f"linux.rootfsPropagation {propagation!r}: stepbox-runc makes every mount private")
    namespaces, join = _namespaces(linux.get("namespaces") or [])
    hostname = str(data.get("hostname") or "")
    if hostname and NamespaceKind.UTS not in namespaces:
        raise BadConfig("unable to set hostname without a private UTS namespace")
    return BundleSpec(
        bundle=bundle,
        root=root_path,
        readonly_root=bool(root.get("readonly")),
        process=_parse_process(_expect(data.get("process"), dict, "process")),
        hostname=hostname,
        mounts=tuple(_mount(m) for m in _expect(data.get("mounts") or [], list, "mounts")),
        namespaces=namespaces,
        join=join,
        uid_map=_id_map(linux.get("uidMappings") or [], "uidMappings"),
        gid_map=_id_map(linux.get("gidMappings") or [], "gidMappings"),
        cgroups_path=_cgroups_path(str(linux.get("cgroupsPath") or "")),
        limits=_resources(linux.get("resources") or {}),
        device_rules=_device_rules((linux.get("resources") or {}).get("devices")),
        seccomp=_seccomp(linux.get("seccomp")),
        devices=tuple(_device(d) for d in linux.get("devices") or []),
        masked_paths=tuple(linux.get("maskedPaths") or ()),
        readonly_paths=tuple(linux.get("readonlyPaths") or ()),
        sysctl=_sysctl(linux.get("sysctl") or {}, namespaces),
        hooks=_hooks(data.get("hooks") or {}),
        annotations={str(k): str(v) for k, v in (data.get("annotations") or {}).items()},
    )


def parse_process(process: dict[str, Any]) -> ProcessSpec:
    """A config's ``process``, or the process.json of ``stepbox-runc exec``."""
    with _malformed("process"):
        return _parse_process(_expect(process, dict, "process"))


def _parse_process(process: dict[str, Any]) -> ProcessSpec:
    _refuse_unknown(
        process,
        "process",
        {
            "terminal",
            "consoleSize",
            "user",
            "args",
            "env",
            "cwd",
            "capabilities",
            "rlimits",
            "noNewPrivileges",
            "oomScoreAdj",
        },
    )
    terminal = _expect(process.get("terminal", False), bool, "process.terminal")
    console_size = None
    if process.get("consoleSize") is not None:
        size = _expect(process["consoleSize"], dict, "process.consoleSize")
        _refuse_unknown(size, "process.consoleSize", {"height", "width"})
        height, width = size.get("height", 0), size.get("width", 0)
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 65535 for n in (height, width)
        ):
            raise BadConfig(f"process.consoleSize {size!r}: height and width are 0 to 65535")
        if height and width:
            console_size = (height, width)
    args = process.get("args") or []
    if not args:
        raise BadConfig("args must not be empty")
    cwd = str(process.get("cwd") or "")
    if not cwd.startswith("/"):
        raise BadConfig(
            "cwd property must not be empty" if not cwd else f"cwd {cwd!r} must be an absolute path"
        )
    user = _expect(process.get("user") or {}, dict, "process.user")
    _refuse_unknown(user, "process.user", {"uid", "gid", "additionalGids", "umask"})
    umask = user.get("umask")
    if umask is not None and (
        not isinstance(umask, int) or isinstance(umask, bool) or not 0 <= umask <= 0o777
    ):
        raise BadConfig(f"process.user.umask {umask!r} is not a file mode mask (0 to 0777)")
    env: dict[str, str] = {}
    for item in process.get("env") or []:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise BadConfig(f"process.env entry {item!r} is not KEY=VALUE")
        env[key] = value
    rlimits = []
    for r in process.get("rlimits") or []:
        kind = str(r.get("type"))
        if kind not in RLIMITS:
            raise BadConfig(f"rlimit type {kind!r} not found")
        rlimits.append((kind, int(r.get("soft", 0)), int(r.get("hard", 0))))
    return ProcessSpec(
        args=tuple(str(a) for a in args),
        env=env,
        cwd=cwd,
        uid=int(user.get("uid", 0)),
        gid=int(user.get("gid", 0)),
        additional_gids=tuple(int(g) for g in user.get("additionalGids") or ()),
        capabilities=_capabilities(process.get("capabilities") or {}, int(user.get("uid", 0))),
        rlimits=tuple(rlimits),
        no_new_privileges=bool(process.get("noNewPrivileges")),
        oom_score_adj=int(process["oomScoreAdj"]) if process.get("oomScoreAdj") is not None else None,
        umask=umask,
        terminal=terminal,
        console_size=console_size,
    )


def _capabilities(caps: dict[str, Any], uid: int) -> frozenset[str]:
    """stepbox keeps one set (bounding = effective = permitted) and clears
    inheritable and ambient, as Docker's default does; other shapes are
    refused.  (For root an ambient set within the bounding set changes
    nothing -- root's execve gets the whole bounding set -- so it passes.)"""
    _refuse_unknown(
        caps, "process.capabilities", {"bounding", "effective", "permitted", "inheritable", "ambient"}
    )
    bounding = _cap_set(caps.get("bounding"))
    for name in ("effective", "permitted"):
        other = _cap_set(caps.get(name))
        if other != bounding:
            raise Unsupported(
                f"process.capabilities.{name} differs from the bounding set: stepbox-runc keeps one "
                "set of capabilities (bounding = effective = permitted)"
            )
    ambient = _cap_set(caps.get("ambient"))
    if uid == 0 and ambient <= bounding:
        ambient = frozenset()
    for name, value in (("inheritable", caps.get("inheritable")), ("ambient", ambient)):
        if value:
            raise Unsupported(
                f"process.capabilities.{name} is not supported by stepbox-runc (it clears them)"
            )
    return bounding


def _cap_set(names: list[str] | None) -> frozenset[str]:
    result = frozenset(n.upper() if n.upper().startswith("CAP_") else "CAP_" + n.upper() for n in names or [])
    unknown = sorted(result - ALL_CAPABILITIES)
    if unknown:
        raise BadConfig(f"unknown capability {unknown[0]!r}")
    return result


def _namespaces(items: list[Any]) -> tuple[tuple[NamespaceKind, ...], tuple[tuple[NamespaceKind, str], ...]]:
    new, join, seen = [], [], set()
    for ns in items:
        kind_name = str(ns.get("type"))
        if kind_name not in NAMESPACE_KINDS:
            raise BadConfig(f"namespace type {kind_name!r} does not exist")
        if kind_name in seen:
            raise BadConfig(f"malformed spec file: duplicated ns {kind_name!r}")
        seen.add(kind_name)
        kind = NAMESPACE_KINDS[kind_name]
        path = str(ns.get("path") or "")
        if not path:
            new.append(kind)
        elif kind in (NamespaceKind.USER, NamespaceKind.MNT):
            raise Unsupported(
                f"joining a {kind_name} namespace by path ({path}) is not supported by stepbox-runc"
            )
        else:
            join.append((kind, path))
    if NamespaceKind.MNT not in new:
        raise Unsupported("a container without a mount namespace of its own is not supported by stepbox-runc")
    return tuple(new), tuple(join)


def _id_map(items: list[Any], where: str) -> tuple[tuple[int, int, int], ...]:
    return tuple((int(m["containerID"]), int(m["hostID"]), int(m["size"])) for m in items)


def _cgroups_path(path: str) -> str:
    if ":" in path:
        raise Unsupported(
            f"linux.cgroupsPath {path!r} is a systemd slice:prefix:name path; stepbox-runc drives "
            "cgroupfs directly (configure the caller without SystemdCgroup)"
        )
    return path.strip("/")


def _mount(m: dict[str, Any]) -> MountSpec:
    _refuse_unknown(m, "mounts[]", {"destination", "type", "source", "options"})
    dest = str(m.get("destination") or "")
    if not dest.startswith("/"):
        raise BadConfig(f"mount destination {dest!r} must be an absolute path")
    options = [str(o) for o in m.get("options") or []]
    kind = str(m.get("type") or "")
    if "bind" in options or "rbind" in options:
        kind = "bind"
    if kind not in MOUNT_TYPES:
        raise Unsupported(f"mount of type {kind!r} at {dest} is not supported by stepbox-runc")
    kept = []
    for opt in options:
        if opt in DEFAULT_MOUNT_OPTIONS:
            continue
        if kind == "bind" and opt not in MOUNT_FLAGS | PROPAGATION:
            raise Unsupported(f"bind mount option {opt!r} at {dest} is not supported by stepbox-runc")
        kept.append(opt)
    source = str(m.get("source") or kind)
    return MountSpec(source, dest, kind, tuple(kept))


def _device(d: dict[str, Any]) -> DeviceNode:
    """A device node made with mknod in the container's /dev, as runc does
    (in a user namespace the backend binds the host's node instead)."""
    path = str(d.get("path") or "")
    if not path.startswith("/dev/"):
        raise Unsupported(f"linux.devices: {path!r}: stepbox-runc provides device nodes under /dev only")
    kind = {"c": "c", "u": "c", "b": "b"}.get(str(d.get("type") or ""))
    if kind is None:
        raise Unsupported(f"linux.devices: {path!r}: type {d.get('type')!r} is not supported (c, u or b)")
    return DeviceNode(
        path,
        kind,
        int(d["major"]),
        int(d["minor"]),
        int(d["fileMode"]) & 0o7777 if d.get("fileMode") is not None else 0o666,
        int(d.get("uid") or 0),
        int(d.get("gid") or 0),
    )


def _device_rules(rules: Any) -> tuple[DeviceRule, ...] | None:
    """linux.resources.devices as the device cgroup's rules, in their order
    (runc's defaults are appended when the cgroup is set up)."""
    if rules is None:
        return None
    result = []
    for i, rule in enumerate(_expect(rules, list, "linux.resources.devices")):
        rule = _expect(rule, dict, f"linux.resources.devices[{i}]")
        _refuse_unknown(rule, f"linux.resources.devices[{i}]", {"allow", "type", "major", "minor", "access"})
        major, minor = rule.get("major"), rule.get("minor")
        try:
            result.append(
                DeviceRule(
                    bool(rule.get("allow")),
                    str(rule.get("type") or "a"),
                    WILDCARD if major is None else int(major),
                    WILDCARD if minor is None else int(minor),
                    str(rule.get("access") or "rwm"),
                )
            )
        except ValueError as e:
            raise BadConfig(f"linux.resources.devices[{i}]: {e}") from None
    return tuple(result)


def _seccomp(seccomp: Any) -> Profile | None:
    """linux.seccomp: the OCI format is Docker's profile format (which
    issue 14's machinery reads) without includes/excludes -- the caller has
    resolved them -- plus flags and a notify listener, refused by name."""
    if seccomp is None:
        return None
    seccomp = dict(_expect(seccomp, dict, "linux.seccomp"))
    if seccomp.pop("flags", None):
        raise Unsupported("linux.seccomp.flags are not supported by stepbox-runc")
    for key in ("listenerPath", "listenerMetadata"):
        if seccomp.pop(key, None):
            raise Unsupported(f"linux.seccomp.{key}: seccomp notify is not supported by stepbox-runc")
    try:
        return parse_profile(json.dumps(seccomp))
    except ProfileError as e:
        raise BadConfig(f"linux.seccomp: {e}") from None


def _resources(res: dict[str, Any]) -> CgroupLimits:
    _refuse_unknown(res, "linux.resources", {"devices", "memory", "cpu", "pids"})
    memory = res.get("memory") or {}
    _refuse_unknown(memory, "linux.resources.memory", {"limit", "swap"})
    limit = memory.get("limit")
    swap = memory.get("swap")
    if swap not in (None, 0, -1) and swap != limit:
        raise Unsupported("linux.resources.memory.swap: a swap limit is not supported by stepbox-runc")
    cpu = dict(res.get("cpu") or {})
    if cpu.get("shares") == KERNEL_DEFAULT_CPU_SHARES:
        del cpu["shares"]  # what a new cgroup has anyway: asks for nothing
    _refuse_unknown(cpu, "linux.resources.cpu", {"quota", "period"})
    pids = res.get("pids") or {}
    _refuse_unknown(pids, "linux.resources.pids", {"limit"})
    quota = cpu.get("quota")
    return CgroupLimits(
        memory_bytes=int(limit) if limit and limit > 0 else None,
        pids_max=int(pids["limit"]) if pids.get("limit") and pids["limit"] > 0 else None,
        cpu_quota_us=int(quota) if quota and quota > 0 else None,
        cpu_period_us=int(cpu.get("period") or 100_000),
    )


def _sysctl(sysctl: dict[str, Any], namespaces: tuple[NamespaceKind, ...]) -> dict[str, str]:
    for key in sysctl:
        if key.startswith("net."):
            if NamespaceKind.NET not in namespaces:
                raise BadConfig(f"sysctl {key!r} is not allowed in the host's network namespace")
        elif key in NAMESPACED_SYSCTLS or key.startswith("fs.mqueue."):
            if NamespaceKind.IPC not in namespaces:
                raise BadConfig(f"sysctl {key!r} is not allowed in the host's IPC namespace")
        else:
            raise BadConfig(f"sysctl {key!r} is not in a separate kernel namespace")
    return {str(k): str(v) for k, v in sysctl.items()}


def _hooks(hooks: dict[str, Any]) -> dict[str, tuple[Hook, ...]]:
    result = {}
    for kind, items in hooks.items():
        if kind not in HOOK_KINDS:
            raise BadConfig(f"unknown hook kind {kind!r}")
        if not items:
            continue
        if kind not in SUPPORTED_HOOKS:
            raise Unsupported(
                f"hooks.{kind}: hooks that run inside the container's namespaces are not supported "
                "by stepbox-runc (prestart, createRuntime, poststart and poststop are)"
            )
        result[kind] = tuple(
            Hook(str(h["path"]), tuple(h.get("args") or ()), tuple(h.get("env") or ()), h.get("timeout"))
            for h in items
        )
    return result
