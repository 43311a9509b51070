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

import builtins
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from .capabilities import DOCKER_DEFAULT_CAPABILITIES
from .devices import DeviceNode
from .errors import KernelError
from .namespaces import DEFAULT_CONTAINER_NAMESPACES, NamespaceKind
from .observe import ProcessInfo
from .seccomp import SeccompFilter


@dataclass(frozen=True)
class Stdio:
    """Where the process's fds 0, 1 and 2 lead.

    Output goes to host files (the container's log files, written by the
    backend's shim).  Input is one of: a host file (``stdin``); a pipe the
    engine writes through the handle (``open_stdin``, ``docker run -i``);
    or /dev/null.  With ``tty`` the process gets a pseudo-terminal instead
    (``docker run -t``): fds 0, 1 and 2 are its slave side, its output
    (echo included) goes to ``stdout``, and what the engine writes is typed
    on its keyboard.  For a container's first process the terminal is made
    by a step (:meth:`ProcessHandle.open_terminal`, once /dev/pts is
    mounted); an exec gets one at once."""

    stdout: str
    stderr: str
    stdin: str | None = None
    open_stdin: bool = False
    tty: bool = False
    window: tuple[int, int] | None = None  # (rows, columns) of a tty, if the client said


# setrlimit(2)'s resources by the names ``docker run --ulimit`` uses for them.
RLIMIT_NAMES = (
    "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
    "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
)  # fmt: skip
RLIM_INFINITY = -1  # "unlimited", as the Engine API and Python's resource module write it


@dataclass(frozen=True)
class Rlimit:
    """One resource limit: ``nofile`` 100 (soft), 200 (hard)."""

    name: str  # one of RLIMIT_NAMES
    soft: int
    hard: int


class NoInput(KernelError):
    """The process was started without an input the engine could write to."""


@dataclass(frozen=True)
class SpawnSpec:
    namespaces: tuple[NamespaceKind, ...] = DEFAULT_CONTAINER_NAMESPACES
    cgroup: str | None = None  # joined before the process runs anything
    stdio: Stdio | None = None
    uid_map: tuple[tuple[int, int, int], ...] = ()  # (inside, outside, count), user ns only
    gid_map: tuple[tuple[int, int, int], ...] = ()
    # Namespaces to join instead of creating them: (kind, path of a
    # /proc/PID/ns/KIND or a bind-mounted namespace file) -- an OCI runtime's
    # caller asks for them, and ``--network container:ID`` joins that
    # container's /proc/PID/ns/net (setns(2) before the others are unshared).
    join: tuple[tuple[NamespaceKind, str], ...] = ()
    # -- what an OCI runtime's caller (containerd's shim, conmon) asks for --
    # fds 0, 1 and 2 are the caller's own (its pipes), not files by path.
    inherit_stdio: bool = False
    # Nobody of ours waits for the process: the caller (a subreaper) reaps it.
    detach: bool = False
    # A FIFO the backend makes at this host path; the process's exec waits
    # until someone writes to it (``exec_on_start``, runc's exec.fifo).
    start_gate: str = ""
    # A UNIX socket (host path) the caller listens on (``runc create
    # --console-socket``): the terminal's master goes there, over SCM_RIGHTS,
    # once :meth:`ProcessHandle.open_terminal` has made it.
    console_socket: str = ""
    # ``runc create --preserve-fds N``: the caller's fds 3 .. 3+N-1 are the
    # process's fds 3 .. 3+N-1 at exec (socket activation, LISTEN_FDS style).
    preserve_fds: int = 0


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


@dataclass(frozen=True)
class ProcessSettings:
    """How a command runs beyond argv, env and cwd -- an OCI config's
    ``process`` object (``user``, ``rlimits``, ``oomScoreAdj``...)."""

    user: tuple[int, int] = (0, 0)  # uid, gid
    additional_gids: tuple[int, ...] | None = None  # None: no setgroups(2) for root
    rlimits: tuple[tuple[str, int, int], ...] = ()  # ("RLIMIT_NOFILE", soft, hard)
    oom_score_adj: int | None = None
    # For a process entering a running container (``exec_in``): the
    # capabilities it keeps (None: Docker's default set) and no_new_privs.
    capabilities: frozenset[str] | None = None
    no_new_privileges: bool = True
    seccomp: SeccompFilter | None = None  # the system-call filter, or None for none
    umask: int | None = None  # the file mode creation mask (None: inherited)
    # ``runc exec --console-socket``: a pty from the container's /dev/pts is
    # the process's fds 0-2 and controlling terminal; its master goes to
    # this UNIX socket (a host path) over SCM_RIGHTS.
    console_socket: str = ""

    def credentials(self) -> Credentials:
        return Credentials(self.user[0], self.user[1], tuple(self.additional_gids or ()))

    def privileges(self) -> Privileges:
        caps = DOCKER_DEFAULT_CAPABILITIES if self.capabilities is None else self.capabilities
        return Privileges(capabilities=caps, no_new_privs=self.no_new_privileges, seccomp=self.seccomp)


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
    def set_rlimits(self, limits: tuple[Rlimit, ...]) -> None:
        """setrlimit(2) for each, before exec (which keeps them): what
        ``--ulimit`` asks for.  Done before capabilities are dropped, as
        raising a hard limit needs CAP_SYS_RESOURCE."""

    @abstractmethod
    def open_terminal(self, window: tuple[int, int] | None = None) -> None:
        """Allocate a pseudo-terminal in the container's own /dev/pts (runc
        opens /dev/ptmx there too), bind its slave on /dev/console, and
        make the slave fds 0, 1 and 2 -- and the controlling terminal -- of
        the command at exec.  The master side stays outside, with the
        backend, which copies its output to the stdout log and types what
        :meth:`write_stdin` gets.  Needs ``Stdio(tty=True)`` at spawn."""

    @abstractmethod
    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] | None = None
    ) -> None:
        """execve(2) the command, searched in PATH like execvp.  ``user``
        (uid, gid), if given and not already the process's, is switched to
        first (the user normally comes with :meth:`drop_capabilities`).
        Raises :class:`~.errors.ExecFailed` if it cannot be started."""

    # -- the process's input, from the outside (also on a reattached handle) --
    @abstractmethod
    def write_stdin(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin pipe, or type it on its
        terminal.  Raises :class:`NoInput` if it has neither."""

    @abstractmethod
    def close_stdin(self) -> None:
        """End of input: the process reads end-of-file from its stdin pipe.
        (A terminal has no end: nothing happens.)"""

    @abstractmethod
    def resize_terminal(self, rows: int, columns: int) -> None:
        """TIOCSWINSZ on the terminal: the foreground job gets SIGWINCH."""

    def set_sysctl(self, name: str, value: str) -> None:
        """Write a namespaced kernel parameter (``net.ipv4.ip_forward``) as
        the process sees it -- in its own namespaces."""
        from .errors import NotSupported

        raise NotSupported(f"the {type(self).__name__} cannot set sysctls (needed by stepbox-runc)")

    def move_root(self, new_root: str) -> None:
        """``runc --no-pivot``: move the mount at ``new_root`` onto ``/``
        (MS_MOVE) and chroot into it -- for a root pivot_root cannot take
        (a ramdisk's).  Weaker than :meth:`pivot_root`: the host's mounts
        stay in the namespace, below the new root, and a process with
        CAP_SYS_CHROOT can climb out of a chroot."""
        from .errors import NotSupported

        raise NotSupported(
            f"the {type(self).__name__} cannot move the root (needed by stepbox-runc --no-pivot)"
        )

    def exec_on_start(
        self, argv: list[str], env: dict[str, str], cwd: str, settings: ProcessSettings
    ) -> None:
        """Prepare the exec -- the command is looked up now, so a missing one
        fails here -- then let go: the process waits on the spawn's
        ``start_gate`` and execs when someone writes to it (the OCI
        runtime's ``create`` ends here, its ``start`` opens the gate).
        Raises :class:`~.errors.ExecFailed` if the command cannot be found."""
        from .errors import NotSupported

        raise NotSupported(f"the {type(self).__name__} cannot wait for a start gate (needed by stepbox-runc)")

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
        stdio: Stdio | None,
        *,
        user: Credentials = ROOT,
        privileges: Privileges | None = None,
        rlimits: tuple[Rlimit, ...] = (),
        settings: ProcessSettings | None = None,
        detach: bool = False,
    ) -> ProcessHandle:
        """``docker exec``: setns(2) into every namespace and the cgroup of
        ``target_pid`` and start ``argv`` there (already exec'd), as ``user``
        and confined by ``privileges`` (None: the kernel's defaults, as
        Docker's 14 capabilities and nothing else), with the container's
        ``--ulimit`` limits (docker's exec inherits its spec's).  The process
        that joins the container is non-dumpable from before its first setns
        until its execve, so nothing inside can ptrace it or reach the host's
        interpreter through /proc/PID/exe (the CVE-2019-5736 class).
        ``stdio=None``: the caller's own fds 0-2 (``runc exec``);
        ``settings`` (an OCI ``process``): its user, capabilities, rlimits
        and OOM score, instead of ``user``, ``privileges`` and ``rlimits``;
        ``detach``: the caller (a subreaper) reaps it."""

    def open_start_gate(self, path: str) -> None:
        """Let the process waiting at the start gate ``path`` exec (see
        :meth:`ProcessHandle.exec_on_start`).  Raises ProcessLookupError if
        nobody waits there any more."""
        from .errors import NotSupported

        raise NotSupported(f"the {type(self).__name__} has no start gates (needed by stepbox-runc)")

    @abstractmethod
    def reattach(self, record: dict[str, Any]) -> ProcessHandle | None:
        """The handle for a process started earlier, or ``None`` if it is gone."""

    @abstractmethod
    def list(self) -> list[ProcessInfo]:
        """The whole process table as the host sees it."""

    @abstractmethod
    def exists(self, pid: int) -> bool: ...

    @abstractmethod
    def live_inits(self) -> builtins.list[ProcessHandle]:
        """A handle (for ``wait`` and ``signal``) on every container init this
        backend spawned that has exec'd its command and still runs -- execs
        not included -- whether or not anyone recorded it.  Crash recovery
        compares them with the records: a program killed after the exec and
        before it saved the record leaves one that no record names
        (containerd finds such leftovers the same way, from the shims' state
        directories).  An init not yet exec'd is left out: it waits for the
        program stepping it (``stepbox step`` in another process), and ends
        by itself when that program does."""
