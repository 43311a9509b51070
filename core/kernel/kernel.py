"""A backend is one :class:`Kernel`: the interfaces, bundled, and the
facts about it that the rest of stepbox must not guess from its name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from .cgroups import Cgroups
from .devices import DeviceNode
from .host_mounts import HostMounts
from .namespaces import Namespaces
from .network import Network
from .observe import MountEntry
from .processes import Processes
from .trace import Tracer
from .unionfs import UnionFS
from .user_network import UserNetwork


@dataclass(frozen=True)
class HostFacts:
    """What confinement depends on besides the container's flags."""

    machine: str  # uname -m: "x86_64"
    release: str  # uname -r: "6.1.0-13-amd64"
    capabilities: frozenset[str]  # what "all capabilities" means here: what the engine holds


class Kernel(ABC):
    name: str  # "linux" or "sim"
    tracer: Tracer
    namespaces: Namespaces
    cgroups: Cgroups
    unionfs: UnionFS
    processes: Processes
    host_mounts: HostMounts  # volumes' mounts and files on the host side
    # None: this kernel has no network wiring (yet) -- containers get only
    # loopback, as under a daemon started with --bridge=none.
    network: Network | None = None
    # Why ``network`` is None, when it is, for the errors that refuse a bridge
    # or a published port ("" : say nothing more).
    no_network_why: str = ""
    # A kernel without network wiring may still publish ports the way
    # rootless Docker does without a bridge (rootlesskit's "builtin" port
    # driver): a socket on the host relays each connection into the
    # container's own network namespace, to its loopback.  This opens those
    # sockets (``open_socket`` on the host, ``connect`` with ``netns``); None:
    # no such relay, and a published port needs a bridge.
    port_relay: Network | None = None
    # A kernel without network wiring may still give a container's own
    # namespace a way out: a user-mode network stack (slirp4netns) started
    # for it, as rootless podman does.  None: loopback only.
    user_network: UserNetwork | None = None
    no_user_network_why: str = ""  # why there is none, where one was wanted (rootless)

    # -- what differs between kernels, declared (core never asks for a name) --
    # Whether several threads may call the kernel at once.  The real one may
    # (two containers start in parallel, exit monitors wait side by side);
    # the simulator is plain Python objects, so the daemon serialises every
    # call to it under one lock (core/kernel/serialised.py).
    thread_safe: bool
    # Whether containers outlive the program that started them: real ones
    # do (their shims hold them, a new daemon re-attaches -- Docker's live
    # restore); simulated processes live inside the program and end with it.
    containers_outlive_program: bool
    storage_driver: str  # what `docker info` shows as Driver
    description: str  # one line for a learner: which kernel runs the containers
    # Docker's SecurityOptions additions in `docker info` ("name=rootless").
    security_options: tuple[str, ...] = ()

    @abstractmethod
    def cgroup_version(self) -> str:
        """``"1"`` or ``"2"``, as ``docker info`` shows CgroupVersion (a
        hybrid host, whose controllers live in v1 hierarchies, is "1")."""

    @abstractmethod
    def mounts(self, pid: int) -> list[MountEntry]:
        """The mount table as ``pid`` sees it (/proc/PID/mounts)."""

    @abstractmethod
    def capabilities(self, pid: int) -> frozenset[str]:
        """The effective capabilities of ``pid``, by name (/proc/PID/status CapEff)."""

    @abstractmethod
    def busybox(self) -> tuple[bytes, list[str]] | None:
        """A busybox binary this kernel can run and its applet names, for the
        bootstrap ``busybox`` image; ``None`` if the host has none.  This is
        the one place where what a base image contains depends on the host:
        the real kernel needs a real (static) binary, the simulator runs the
        real binary's applets or, without one, its own stand-in."""

    @abstractmethod
    def host_facts(self) -> HostFacts:
        """The machine, kernel release and the capabilities a container can be given."""

    @abstractmethod
    def host_devices(self, path: str) -> list[DeviceNode]:
        """The device files at a host path (one device, or every device in a
        directory tree), as ``--device`` and ``--privileged`` see them; [] if none."""

    @abstractmethod
    def docker_init(self) -> str | None:
        """``docker run --init``: the path, on this kernel's host, of a static
        init to bind at /sbin/docker-init (tini), or None if there is none."""

    @abstractmethod
    def close(self) -> None:
        """Release what the backend holds in this program (not containers)."""
