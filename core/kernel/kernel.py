"""A backend is one :class:`Kernel`: the four interfaces, bundled."""

from __future__ import annotations

from abc import ABC, abstractmethod

from .cgroups import Cgroups
from .namespaces import Namespaces
from .observe import MountEntry
from .processes import Processes
from .trace import Tracer
from .unionfs import UnionFS


class Kernel(ABC):
    name: str  # "linux" or "sim"
    tracer: Tracer
    namespaces: Namespaces
    cgroups: Cgroups
    unionfs: UnionFS
    processes: Processes

    @abstractmethod
    def mounts(self, pid: int) -> list[MountEntry]:
        """The mount table as ``pid`` sees it (/proc/PID/mounts)."""

    @abstractmethod
    def busybox(self) -> tuple[bytes, list[str]] | None:
        """A busybox binary this kernel can run and its applet names, for the
        bootstrap ``busybox`` image; ``None`` if the host has none.  This is
        the one place where what a base image contains depends on the host:
        the real kernel needs a real (static) binary, the simulator runs the
        real binary's applets or, without one, its own stand-in."""

    def close(self) -> None:
        """Release what the backend holds in this program (not containers)."""
