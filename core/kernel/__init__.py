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
