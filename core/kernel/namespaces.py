"""Namespaces: what a process can see.

The seed: "每个容器都有自己的命名空间" -- every container has its own
namespaces, so the programs in it look as if they ran on a system of their own.
A namespace is identified the way the kernel shows it in ``/proc/PID/ns/*``:
a kind and an inode number (``uts:[4026531838]``).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod


class NamespaceKind(enum.StrEnum):
    PID = "pid"  # process IDs: the container's first process is PID 1
    UTS = "uts"  # hostname and domain name
    MNT = "mnt"  # the mount table (and so the root filesystem)
    NET = "net"  # network interfaces, routes, ports
    IPC = "ipc"  # System V IPC, POSIX message queues
    USER = "user"  # uid/gid mappings
    CGROUP = "cgroup"  # the view of the cgroup tree

    @property
    def clone_flag(self) -> str:
        """The clone(2)/unshare(2) flag that creates this kind."""
        return {
            "pid": "CLONE_NEWPID",
            "uts": "CLONE_NEWUTS",
            "mnt": "CLONE_NEWNS",
            "net": "CLONE_NEWNET",
            "ipc": "CLONE_NEWIPC",
            "user": "CLONE_NEWUSER",
            "cgroup": "CLONE_NEWCGROUP",
        }[self.value]


# The kinds Docker gives every container by default (user namespaces are opt-in).
DEFAULT_CONTAINER_NAMESPACES = (
    NamespaceKind.PID,
    NamespaceKind.UTS,
    NamespaceKind.MNT,
    NamespaceKind.NET,
    NamespaceKind.IPC,
    NamespaceKind.CGROUP,
)


class Namespaces(ABC):
    """Inspecting namespaces.  Creating them is part of spawning a process
    (:meth:`Processes.spawn`), as with clone(2)."""

    @abstractmethod
    def of(self, pid: int) -> dict[NamespaceKind, int]:
        """The namespace inode of each kind for host PID ``pid``
        (what ``readlink /proc/PID/ns/KIND`` shows)."""

    @abstractmethod
    def hostname(self, pid: int) -> str:
        """The hostname seen inside ``pid``'s UTS namespace."""

    @abstractmethod
    def interfaces(self, pid: int) -> dict[str, bool]:
        """Network interfaces in ``pid``'s net namespace: name -> is it UP."""

    def host(self) -> dict[NamespaceKind, int]:
        """The namespaces the engine itself runs in -- "outside" for a
        container.  By default those of PID 1; a backend whose PID 1 is not
        readable (a VM's init behind a ptrace check) overrides this."""
        return self.of(1)

    @abstractmethod
    def pid_in_namespace(self, pid: int) -> int:
        """The PID that host PID ``pid`` has inside its own PID namespace
        (the last ``NSpid`` field of ``/proc/PID/status``)."""
