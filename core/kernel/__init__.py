"""The kernel interfaces every backend implements.

A *backend* is one :class:`Kernel`: a bundle of the interfaces the
container lifecycle needs --

* :class:`Namespaces` -- what a process can *see* (pid, uts, mnt, net, ipc, user, cgroup);
* :class:`Cgroups`    -- what a process group may *use* (memory, pids, cpu, freezer);
* :class:`UnionFS`    -- the layered root filesystem (overlayfs semantics);
* :class:`Processes`  -- starting, stepping, signalling and waiting for processes;
* :class:`Network`    -- interfaces, addresses, routes, packet rules, sockets (optional).
* :class:`HostMounts` -- the host's side of volumes and bind mounts.

``core`` only ever talks to these classes; ``backends/linux`` implements them
with real syscalls and ``backends/sim`` with a kernel written in Python.  The
observable state both report (:mod:`.observe`) has one shape so that tests,
notebooks and the CLI render the same thing whichever kernel produced it.
"""

# The names below are imported when first asked for (PEP 562), not when the
# package is: a client command that needs one module of it -- ``build``
# reads its context through ``.contents`` -- does not pay ~14 ms CPU for
# the processes, networks and cgroups modules it never uses (issue 18).
# Type checkers see the imports as they are.
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .capabilities import ALL_CAPABILITIES, CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES, capability_mask
    from .cgroups import CgroupLimits, Cgroups, CgroupStats
    from .contents import Contents
    from .errors import BackendUnavailable, ExecFailed, KernelError, NotSupported
    from .host_mounts import HostMounts
    from .kernel import HostFacts, Kernel
    from .namespaces import NamespaceKind, Namespaces
    from .network import (
        BridgeRules,
        Firewall,
        Interface,
        NetnsView,
        Network,
        PortRule,
        Route,
        SocketInfo,
        Topology,
    )
    from .observe import CgroupNode, MountEntry, ProcessInfo
    from .processes import (
        RLIM_INFINITY,
        RLIMIT_NAMES,
        ROOT,
        Credentials,
        ExitStatus,
        MountSpec,
        NoInput,
        Privileges,
        Processes,
        ProcessHandle,
        ProcessSettings,
        Rlimit,
        SpawnSpec,
        Stdio,
    )
    from .trace import KernelOp, Tracer
    from .unionfs import EntryKind, FileMeta, FileOps, LayerEntry, StatResult, UnionFS, UnionMount
    from .user_network import UserNetwork, UserNetworkSettings

# name -> the module of this package that defines it
_HOMES = {
    name: module
    for module, names in {
        "capabilities": (
            "ALL_CAPABILITIES",
            "CAPABILITIES",
            "DOCKER_DEFAULT_CAPABILITIES",
            "capability_mask",
        ),
        "cgroups": ("CgroupLimits", "Cgroups", "CgroupStats"),
        "contents": ("Contents",),
        "errors": ("BackendUnavailable", "ExecFailed", "KernelError", "NotSupported"),
        "host_mounts": ("HostMounts",),
        "kernel": ("HostFacts", "Kernel"),
        "namespaces": ("NamespaceKind", "Namespaces"),
        "network": (
            "BridgeRules",
            "Firewall",
            "Interface",
            "NetnsView",
            "Network",
            "PortRule",
            "Route",
            "SocketInfo",
            "Topology",
        ),
        "observe": ("CgroupNode", "MountEntry", "ProcessInfo"),
        "processes": (
            "RLIM_INFINITY",
            "RLIMIT_NAMES",
            "ROOT",
            "Credentials",
            "ExitStatus",
            "MountSpec",
            "NoInput",
            "Privileges",
            "Processes",
            "ProcessHandle",
            "ProcessSettings",
            "Rlimit",
            "SpawnSpec",
            "Stdio",
        ),
        "trace": ("KernelOp", "Tracer"),
        "unionfs": ("EntryKind", "FileMeta", "FileOps", "LayerEntry", "StatResult", "UnionFS", "UnionMount"),
        "user_network": ("UserNetwork", "UserNetworkSettings"),
    }.items()
    for name in names
}


def __getattr__(name: str) -> object:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "UserNetwork",
    "UserNetworkSettings",
    "Contents",
    "ALL_CAPABILITIES",
    "CAPABILITIES",
    "DOCKER_DEFAULT_CAPABILITIES",
    "ROOT",
    "Credentials",
    "HostFacts",
    "MountSpec",
    "Privileges",
    "BackendUnavailable",
    "CgroupLimits",
    "CgroupNode",
    "CgroupStats",
    "Cgroups",
    "EntryKind",
    "ExecFailed",
    "ExitStatus",
    "FileMeta",
    "FileOps",
    "HostMounts",
    "Kernel",
    "KernelError",
    "KernelOp",
    "LayerEntry",
    "MountEntry",
    "NamespaceKind",
    "NoInput",
    "Namespaces",
    "NetnsView",
    "Network",
    "BridgeRules",
    "Firewall",
    "Interface",
    "PortRule",
    "Route",
    "SocketInfo",
    "Topology",
    "NotSupported",
    "ProcessHandle",
    "Rlimit",
    "RLIMIT_NAMES",
    "RLIM_INFINITY",
    "ProcessInfo",
    "Processes",
    "ProcessSettings",
    "SpawnSpec",
    "StatResult",
    "Stdio",
    "Tracer",
    "UnionFS",
    "UnionMount",
    "capability_mask",
]
