"""Processes: starting a container's first process and talking to it.

The seed: "容器的实质是进程" -- a container *is* a process, one that lives in
namespaces of its own.  :meth:`Processes.spawn` is clone(2) with the
``CLONE_NEW*`` flags: it returns a :class:`ProcessHandle` to a new process that
waits, before running anything of the image, for the lifecycle to tell it what
to do *from the inside* -- set the hostname, mount ``/proc``, ``pivot_root``,
drop capabilities -- one operation at a time, and finally ``exec`` the
container's command.  That pause is what lets ``stepbox step`` and the
notebooks stop between the steps of a real lifecycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from .namespaces import DEFAULT_CONTAINER_NAMESPACES, NamespaceKind
from .observe import ProcessInfo


@dataclass(frozen=True)
class Stdio:
    """Host files the process's fds 0, 1 and 2 are opened on (the container's
    log files).  ``stdin=None`` means /dev/null."""

    stdout: str
    stderr: str
    stdin: str | None = None


@dataclass(frozen=True)
class SpawnSpec:
    namespaces: tuple[NamespaceKind, ...] = DEFAULT_CONTAINER_NAMESPACES
    cgroup: str | None = None  # joined before the process runs anything
    stdio: Stdio | None = None
    uid_map: tuple[tuple[int, int, int], ...] = ()  # (inside, outside, count), user ns only
    gid_map: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class MountSpec:
    """A mount the container's first process makes inside its mount namespace.
    ``target`` is the path inside the container ("/proc").

    Options are mount(8)'s words.  For ``fstype`` "bind": ``bind`` (this
    mount only) or ``rbind`` (with its submounts); ``ro`` makes only the top
    mount read-only (``MS_REMOUNT|MS_BIND|MS_RDONLY``), ``rro`` every mount
    of the subtree (``mount_setattr(2)``, AT_RECURSIVE); a propagation word
    (``rprivate``, ``rslave``, ``rshared`` ...) is applied after the bind.
    ``remount`` changes the flags of what is already mounted at ``target``
    (``source`` unused): ``MountSpec("", "/", "bind", ("remount", "ro"))``
    is ``--read-only``.  Anything else is passed to the filesystem
    ("mode=755", "size=64m")."""

    source: str
    target: str
    fstype: str  # "proc", "tmpfs", "sysfs", "devpts", "mqueue", "bind"
    options: tuple[str, ...] = ()  # "ro", "nosuid", "nodev", "noexec", "rbind", "mode=755" ...
    # A bind of a path on the host's disk (``-v /home/me/data:/data``, a
    # volume's data): the real kernel binds it like any path; the simulator,
    # whose machine is in memory, shows the real files there, confined to
    # that path.  False for what the kernel itself provides (/dev/null).
    source_on_disk: bool = False


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended, the way Docker reports it: ``code`` is the exit
    status, or 128 + the signal number when a signal killed it."""

    code: int
    signal: int | None = None

    @classmethod
    def exited(cls, code: int) -> ExitStatus:
        return cls(code=code & 0xFF)

    @classmethod
    def killed(cls, sig: int) -> ExitStatus:
        return cls(code=128 + sig, signal=sig)


class ProcessHandle(ABC):
    """A process this backend started.  Until :meth:`exec` it runs no code of
    the image and performs the in-container operations it is asked for."""

    pid: int  # host PID

    # -- operations the process performs on itself, before exec ----------
    @abstractmethod
    def sethostname(self, name: str) -> None: ...

    @abstractmethod
    def make_mounts_private(self) -> None:
        """mount --make-rprivate / : nothing mounted in here propagates out."""

    @abstractmethod
    def mount(self, spec: MountSpec, rootfs: str) -> None:
        """Mount ``spec`` at ``rootfs + spec.target`` (``rootfs`` is the
        union mount's target before pivot_root, "/" after)."""

    @abstractmethod
    def pivot_root(self, new_root: str) -> None:
        """Make ``new_root`` the root and detach the old one, so no path
        leads back to the host's files (unlike chroot)."""

    @abstractmethod
    def mask_paths(self, masked: list[str], readonly: list[str]) -> None:
        """Docker's masked paths (hidden) and read-only paths (under /proc)."""

    @abstractmethod
    def bring_up_loopback(self) -> None:
        """ip link set lo up, in the process's net namespace."""

    @abstractmethod
    def drop_capabilities(self, keep: frozenset[str]) -> None:
        """Drop every capability not in ``keep`` and set no_new_privs."""

    @abstractmethod
    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] = (0, 0)
    ) -> None:
        """execve(2) the command, searched in PATH like execvp.
        Raises :class:`~.errors.ExecFailed` if it cannot be started."""

    # -- from the outside -------------------------------------------------
    @abstractmethod
    def signal(self, sig: int) -> None:
        """kill(2) from the host (so even PID 1 can be signalled)."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> ExitStatus | None:
        """Wait for the process to end; ``None`` if ``timeout`` ran out."""

    @abstractmethod
    def record(self) -> dict[str, Any]:
        """JSON-able data from which :meth:`Processes.reattach` finds this
        process again from another program (a later CLI call)."""


class Processes(ABC):
    @abstractmethod
    def spawn(self, spec: SpawnSpec) -> ProcessHandle:
        """clone(2) a process into new namespaces and ``spec.cgroup``; it
        waits for in-container operations (see :class:`ProcessHandle`)."""

    @abstractmethod
    def exec_in(
        self, target_pid: int, argv: list[str], env: dict[str, str], cwd: str, stdio: Stdio
    ) -> ProcessHandle:
        """``docker exec``: setns(2) into every namespace and the cgroup of
        ``target_pid`` and start ``argv`` there (already exec'd)."""

    @abstractmethod
    def reattach(self, record: dict[str, Any]) -> ProcessHandle | None:
        """The handle for a process started earlier, or ``None`` if it is gone."""

    @abstractmethod
    def list(self) -> list[ProcessInfo]:
        """The whole process table as the host sees it."""

    @abstractmethod
    def exists(self, pid: int) -> bool: ...
