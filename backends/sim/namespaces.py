"""Namespaces of the simulated kernel: what a process can *see*.

A namespace is an object that several processes share.  Each process points
at one namespace of every kind through its :class:`NsProxy` (the kernel's
``struct nsproxy``); ``clone(CLONE_NEWUTS)`` gives the child a fresh UTS
namespace and copies the other pointers, so processes that were not asked to
be isolated keep seeing the same objects.  That sharing is also what keeps a
clone cheap: nothing is copied that does not have to be.

Each namespace has an *inode number*, which is how Linux names it in
``/proc/PID/ns/KIND`` (``uts:[4026531838]``).  The namespaces that exist at
boot have fixed numbers (``PROC_UTS_INIT_INO`` ...); later ones are allocated
from the proc inode allocator, so they look like ``4026532xxx``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel.namespaces import NamespaceKind, Namespaces

from .flow import EAGAIN, ENOMEM, oserror

if TYPE_CHECKING:  # pragma: no cover
    from .cgroups import Cgroup
    from .kernel import SimKernel
    from .mounts import MountTable
    from .process_table import Process

# The numbers the kernel gives the initial namespaces (PROC_*_INIT_INO in
# include/linux/proc_ns.h, as on a 6.x kernel: `ls -l /proc/1/ns`).
INITIAL_INODES = {
    "mnt": 0xEFFFFFF8,
    "net": 0xEFFFFFF9,
    "time": 0xEFFFFFFA,
    "cgroup": 0xEFFFFFFB,
    "pid": 0xEFFFFFFC,
    "user": 0xEFFFFFFD,
    "uts": 0xEFFFFFFE,
    "ipc": 0xEFFFFFFF,
}
FIRST_DYNAMIC_INODE = 4026532160  # roughly where a booted system's new ones start

PID_MAX_DEFAULT = 32768  # /proc/sys/kernel/pid_max on a small machine
RESERVED_PIDS = 300  # after wrapping, allocation restarts here


class InodeAllocator:
    """Hands out namespace inode numbers, increasing (see SIMPLIFICATIONS.md:
    the kernel reuses freed numbers, the simulator does not)."""

    def __init__(self, first: int = FIRST_DYNAMIC_INODE):
        self._next = itertools.count(first)

    def __call__(self) -> int:
        return next(self._next)


@dataclass(eq=False)
class Namespace:
    kind: str
    inode: int

    def __repr__(self) -> str:
        return f"{self.kind}:[{self.inode}]"


@dataclass(eq=False, repr=False)
class UtsNamespace(Namespace):
    """hostname(1) and domainname: copied from the parent at clone time, so a
    new UTS namespace starts with the host's name until sethostname."""

    hostname: str = "sim-host"
    domainname: str = "(none)"


@dataclass(eq=False, repr=False)
class NetNamespace(Namespace):
    """A new network namespace holds only the loopback device, and it is
    DOWN: ``ip link set lo up`` is the first thing a runtime does in it."""

    # Interfaces, addresses, routes, sockets (backends/sim/net/stack.py),
    # made on first use: most namespaces of a property test never need them.
    stack: Any = None


@dataclass(eq=False, repr=False)
class IpcNamespace(Namespace):
    """System V IPC objects and POSIX message queues (none are simulated)."""


@dataclass(eq=False, repr=False)
class UserNamespace(Namespace):
    """uid/gid maps: ``(inside, outside, count)`` lines of /proc/PID/uid_map.
    The initial namespace maps everything to itself."""

    parent: UserNamespace | None = None
    uid_map: tuple[tuple[int, int, int], ...] = ((0, 0, 4294967295),)
    gid_map: tuple[tuple[int, int, int], ...] = ((0, 0, 4294967295),)

    def uid_to_host(self, uid: int) -> int:
        return _map_down(self, "uid_map", uid)

    def gid_to_host(self, gid: int) -> int:
        return _map_down(self, "gid_map", gid)

    def uid_from_host(self, kuid: int) -> int:
        return _map_up(self, "uid_map", kuid)

    def gid_from_host(self, kgid: int) -> int:
        return _map_up(self, "gid_map", kgid)


OVERFLOW_ID = 65534  # what an unmapped id shows as ("nobody")


def _map_down(ns: UserNamespace | None, which: str, value: int) -> int:
    while ns is not None and ns.parent is not None:
        for inside, outside, count in getattr(ns, which):
            if inside <= value < inside + count:
                value = outside + value - inside
                break
        else:
            return OVERFLOW_ID
        ns = ns.parent
    return value


def _map_up(ns: UserNamespace, which: str, kvalue: int) -> int:
    chain = []
    while ns is not None and ns.parent is not None:
        chain.append(ns)
        ns = ns.parent
    value = kvalue
    for level in reversed(chain):
        for inside, outside, count in getattr(level, which):
            if outside <= value < outside + count:
                value = inside + value - outside
                break
        else:
            return OVERFLOW_ID
    return value


@dataclass(eq=False, repr=False)
class CgroupNamespace(Namespace):
    """The cgroup a process was in when the namespace was made becomes the
    root of what /proc/PID/cgroup shows inside it ("0::/")."""

    root: Cgroup | None = None


@dataclass(eq=False, repr=False)
class MountNamespace(Namespace):
    """The mount table (see :mod:`.mounts`)."""

    table: MountTable


@dataclass(eq=False, repr=False)
class PidNamespace(Namespace):
    """Process numbering.  A process has a PID in its own PID namespace *and
    in every ancestor*: /proc/PID/status's ``NSpid: 4711 1`` is host PID 4711
    that is PID 1 inside.  The first process in a new namespace is PID 1,
    its *init* (``child_reaper``): orphans are re-parented to it, it ignores
    signals it has no handler for, and when it dies the kernel kills every
    other process of the namespace."""

    parent: PidNamespace | None = None
    level: int = 0
    pid_max: int = PID_MAX_DEFAULT
    tasks: dict[int, Process] = field(default_factory=dict)  # pid here -> process
    last_pid: int = 0
    child_reaper: Process | None = None
    dead: bool = False  # its init has exited: fork() into it fails (ENOMEM)
    levels: tuple = ()  # this namespace and its ancestors, outermost first

    def __post_init__(self) -> None:
        if self.parent is not None:
            self.level = self.parent.level + 1
            self.pid_max = self.parent.pid_max
            self.levels = self.parent.levels + (self,)
        else:
            self.levels = (self,)

    def alloc_pid(self) -> int:
        """The next free number after the last one handed out, wrapping at
        pid_max back to RESERVED_PIDS -- never "the lowest free one", so
        a new process does not get the number of one that just died."""
        if self.dead:
            raise oserror(ENOMEM)
        tasks = self.tasks
        pid = self.last_pid + 1
        low = RESERVED_PIDS if self.last_pid >= RESERVED_PIDS else 1
        for _ in range(self.pid_max):
            if pid >= self.pid_max:
                pid = low
            if pid not in tasks:
                self.last_pid = pid
                return pid
            pid += 1
        raise oserror(EAGAIN)  # every number is taken


class NsProxy:
    """The namespaces a process is in (``struct nsproxy`` plus the user
    namespace).  Immutable once made: a change (setns, unshare, clone with
    flags) builds a new proxy, so processes can share one freely."""

    __slots__ = ("uts", "ipc", "mnt", "pid_for_children", "net", "cgroup", "user")

    def __init__(self, uts, ipc, mnt, pid_for_children, net, cgroup, user):
        self.uts: UtsNamespace = uts
        self.ipc: IpcNamespace = ipc
        self.mnt: MountNamespace = mnt
        self.pid_for_children: PidNamespace = pid_for_children
        self.net: NetNamespace = net
        self.cgroup: CgroupNamespace = cgroup
        self.user: UserNamespace = user

    def replace(self, **changes) -> NsProxy:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return NsProxy(**values)


def namespace_of(proc: Process, kind: str) -> Namespace:
    """The namespace of one kind a process is in (its own PID namespace for
    "pid", not the one its children will get)."""
    if kind == "pid":
        return proc.pidns
    return getattr(proc.ns, kind)


# -- the Namespaces interface -----------------------------------------------------


class SimNamespaces(Namespaces):
    """Looking at the namespaces of simulated processes (by host PID)."""

    def __init__(self, kernel: SimKernel):
        self.k = kernel

    def of(self, pid: int) -> dict[NamespaceKind, int]:
        proc = self.k.procs.get(pid)
        return {kind: namespace_of(proc, kind.value).inode for kind in NamespaceKind}

    def hostname(self, pid: int) -> str:
        return self.k.procs.get(pid).ns.uts.hostname

    def interfaces(self, pid: int) -> dict[str, bool]:
        from .net.network import stack_of_ns

        links = stack_of_ns(self.k.procs.get(pid).ns.net).links.values()
        return {link.name: link.up for link in links}

    def pid_in_namespace(self, pid: int) -> int:
        return self.k.procs.get(pid).nspids[-1]

    def mounts(self, pid: int):
        """/proc/PID/mounts as ``pid`` sees it."""
        return self.k.mounts(pid)
