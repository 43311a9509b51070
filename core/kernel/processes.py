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

from .capabilities import DOCKER_DEFAULT_CAPABILITIES
from .devices import DeviceNode
from .namespaces import DEFAULT_CONTAINER_NAMESPACES, NamespaceKind
from .observe import ProcessInfo
from .seccomp import SeccompFilter


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
    # Namespaces joined instead of created: (kind, host PID of a process in
    # it) -- ``--network container:ID`` joins that container's network
    # namespace (setns(2) before the others are unshared).
    join: tuple[tuple[NamespaceKind, int], ...] = ()


@dataclass(frozen=True)
class MountSpec:
    """A mount the container's first process makes inside its mount namespace.
    ``target`` is the path inside the container ("/proc")."""

    source: str
    target: str
    fstype: str  # "proc", "tmpfs", "sysfs", "devpts", "mqueue", "bind"
    options: tuple[str, ...] = ()  # "ro", "nosuid", "nodev", "noexec", "rbind", "mode=755" ...


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


@dataclass(frozen=True)
class Credentials:
    """Who a process runs as: uid, primary gid and the supplementary groups
    (what setgroups(2) is given; the kernel keeps them sorted)."""

    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()


ROOT = Credentials()


@dataclass(frozen=True)
class Privileges:
    """What a process keeps when it runs the container's program.

    ``capabilities`` becomes the bounding set -- the most any later execve
    can ever give -- and, for uid 0, the effective and permitted sets too (a
    non-root user gets none, as execve would give it).  ``no_new_privs``
    stops setuid programs and file capabilities from adding any.  ``seccomp``
    is the system-call filter, or None for none."""

    capabilities: frozenset[str] = DOCKER_DEFAULT_CAPABILITIES
    no_new_privs: bool = False
    seccomp: SeccompFilter | None = None
    effective: frozenset[str] | None = None  # None: ``capabilities`` for uid 0, none for others


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
    def make_device_nodes(self, nodes: list[DeviceNode], rootfs: str) -> None:
        """mknod each device file under ``rootfs`` (the container's fresh
        tmpfs /dev), with its mode and owner -- runc's createDevices.  In a
        user namespace, where mknod is not allowed, the host's node is
        bind-mounted instead (as runc does)."""

    @abstractmethod
    def make_symlinks(self, links: list[tuple[str, str]], rootfs: str) -> None:
        """symlink(target, path) for each pair, ``path`` under ``rootfs``
        (runc's /dev/fd, /dev/stdin ... /dev/ptmx)."""

    @abstractmethod
    def load_seccomp(self, spec: SeccompFilter) -> None:
        """Install the system-call filter.  Without no_new_privs this needs
        CAP_SYS_ADMIN, so it comes before the capabilities are dropped."""

    @abstractmethod
    def drop_capabilities(
        self, keep: frozenset[str], user: Credentials = ROOT, effective: frozenset[str] | None = None
    ) -> None:
        """runc's finalizeNamespace: shrink the bounding set to ``keep``,
        switch to ``user`` (setgroups, setgid, setuid -- keeping the
        permitted set across the switch), then set the effective and
        permitted sets (``effective``; by default ``keep`` for uid 0, empty
        otherwise) and empty the inheritable and ambient ones.  (execve then
        does its part: a root program gets the bounding set back unless
        no_new_privs is set, any other none.)"""

    @abstractmethod
    def set_no_new_privs(self) -> None:
        """prctl(PR_SET_NO_NEW_PRIVS, 1)."""

    @abstractmethod
    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] | None = None
    ) -> None:
        """execve(2) the command, searched in PATH like execvp.  ``user``
        (uid, gid), if given and not already the process's, is switched to
        first (the user normally comes with :meth:`drop_capabilities`).
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
        self,
        target_pid: int,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        stdio: Stdio,
        *,
        user: Credentials = ROOT,
        privileges: Privileges | None = None,
    ) -> ProcessHandle:
        """``docker exec``: setns(2) into every namespace and the cgroup of
        ``target_pid`` and start ``argv`` there (already exec'd), as ``user``
        and confined by ``privileges`` (None: the kernel's defaults, as
        Docker's 14 capabilities and nothing else).  The process that joins
        the container is non-dumpable from before its first setns until its
        execve, so nothing inside can ptrace it or reach the host's
        interpreter through /proc/PID/exe (the CVE-2019-5736 class)."""

    @abstractmethod
    def reattach(self, record: dict[str, Any]) -> ProcessHandle | None:
        """The handle for a process started earlier, or ``None`` if it is gone."""

    @abstractmethod
    def list(self) -> list[ProcessInfo]:
        """The whole process table as the host sees it."""

    @abstractmethod
    def exists(self, pid: int) -> bool: ...
