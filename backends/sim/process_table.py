"""The process table of the simulated kernel.

A :class:`Process` is everything the kernel keeps about a task: its PIDs
(one per PID namespace it is visible in), parent and children, namespaces,
cgroup, credentials, root and working directory, open files, signal
handlers, memory charged, and -- instead of registers and a stack -- the
Python generator that is its program.

:class:`ProcessTable` implements the life of a process the way Linux does:

* **creation** (:meth:`ProcessTable.create`): the pids cgroup is charged
  first (fork fails with EAGAIN over ``pids.max``), then a PID is allocated
  in the process's PID namespace and in every ancestor.  The first process
  of a new PID namespace gets PID 1 and becomes its *init*.
* **exit** (:meth:`ProcessTable.exit`): files are closed, memory uncharged,
  the process becomes a *zombie* (state Z) that keeps its PID until its
  parent reaps it with ``wait``.  Its children become orphans and are
  re-parented to the init of its PID namespace.  If it *was* that init, every
  other process of the namespace is SIGKILLed -- a container lives exactly
  as long as its PID 1.
* **reaping** (:meth:`ProcessTable.release`): the PID numbers are freed (but
  not reused soon: :meth:`PidNamespace.alloc_pid`), and the pids cgroup is
  uncharged -- so a zombie still counts in ``pids.current``, as in Linux.
"""

from __future__ import annotations

import signal as _signal
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel.capabilities import ALL_CAPABILITIES

from .flow import ESRCH, oserror
from .rlimits import DEFAULT_RLIMITS

if TYPE_CHECKING:  # pragma: no cover
    from .cgroups import Cgroup
    from .kernel import SimKernel
    from .mounts import Loc
    from .namespaces import NsProxy, PidNamespace
    from .scheduler import KBlock
    from .syscalls import SimSys
    from .tty import Pty, StdinPipe


class Process:
    """One task.  Plain attributes (``__slots__``, no properties) because
    the scheduler touches them on every step."""

    __slots__ = (
        "pid",
        "nspids",
        "pidns",
        "pidns_levels",
        "parent",
        "children",
        "argv",
        "env",
        "comm",
        "state",
        "ns",
        "cgroup",
        "uid",
        "gid",
        "caps",
        "cap_bnd",
        "cap_inh",
        "cap_amb",
        "groups",
        "no_new_privs",
        "seccomp",
        "cpus_allowed",
        "rlimits",
        "root",
        "cwd",
        "fds",
        "umask",
        "handlers",
        "pending",
        "mem",
        "cpu_usec",
        "children_cpu_usec",
        "gen",
        "sys",
        "block",
        "send_value",
        "interrupted",
        "exit_raw",
        "stopped",
        "start_time",
        "held",
        "oom_killed",
        "waiting_child",
        "exe",
        "exe_data",
        "slice",
        "ctty",
        "stdin",
        "__weakref__",
    )

    def __init__(self) -> None:
        self.pid = 0  # host PID (nspids[0])
        self.nspids: tuple[int, ...] = ()  # outermost namespace first (NSpid)
        # None only until ProcessTable.create fills them in (as it does root,
        # cwd, ns and cgroup): nothing reads them before.
        self.pidns: PidNamespace = None  # type: ignore[assignment]  # the namespace it was born in (innermost)
        self.pidns_levels: tuple = ()  # namespaces, outermost first (parallel to nspids)
        self.parent: Process | None = None
        self.children: dict[Process, None] = {}
        self.argv: list[str] = []
        self.env: dict[str, str] = {}
        self.comm = ""  # /proc/PID/comm: basename of the executable, 15 chars
        self.exe = ""
        self.exe_data = None  # the executable's bytes: /proc/self/exe, even once deleted
        self.state = "S"  # R, S, T, Z; X once reaped
        self.ns: NsProxy = None  # type: ignore[assignment]
        self.cgroup: Cgroup = None  # type: ignore[assignment]
        self.uid = 0  # credentials as the host sees them (kuid)
        self.gid = 0
        self.caps: frozenset[str] = ALL_CAPABILITIES  # effective = permitted
        self.cap_bnd: frozenset[str] = ALL_CAPABILITIES  # the bounding set
        self.cap_inh: frozenset[str] = frozenset()  # inheritable (capset), kept across execve
        self.cap_amb: frozenset[str] = frozenset()  # ambient (prctl PR_CAP_AMBIENT)
        self.groups: tuple[int, ...] = ()  # supplementary groups (host gids), sorted
        self.no_new_privs = False
        self.seccomp: tuple[Any, ...] = ()  # SeccompFilter, oldest first (every one is asked)
        self.cpus_allowed = 1  # CPU affinity mask (.affinity), set by ProcessTable.create
        self.rlimits: dict[str, tuple[int, int]] = DEFAULT_RLIMITS  # replaced, never changed in place
        self.root: Loc = None  # type: ignore[assignment]
        self.cwd: Loc = None  # type: ignore[assignment]
        self.fds: dict[int, Any] = {}  # fd -> vfs.OpenFile (shared after dup/fork)
        self.umask = 0o022
        self.handlers: dict[int, Any] = {}  # signal -> callable | SIG_IGN (absent = SIG_DFL)
        self.pending: list[int] = []  # signals with a handler, to run at next resume
        self.mem = 0  # bytes charged through Sys.alloc
        self.cpu_usec = 0
        self.children_cpu_usec = 0  # of children waited for (getrusage's RUSAGE_CHILDREN)
        self.gen = None  # the program (a generator); None before exec
        self.sys: SimSys | None = None
        self.block: KBlock | None = None  # what it is blocked on
        self.send_value: Any = None  # what the blocking call returns when resumed
        self.interrupted = False  # woken by a signal: the call returns EINTR
        self.exit_raw: int | None = None  # raw wait status once a zombie
        self.stopped = False  # SIGSTOP
        self.start_time = 0  # virtual µs since boot
        self.held = False  # spawned, waiting for exec (runc init's pause)
        self.oom_killed = False
        self.waiting_child = False  # blocked in waitpid
        self.slice = 0  # CPU µs left in this time slice (burn)
        self.ctty: Pty | None = None  # the controlling terminal, inherited by fork
        self.stdin: Pty | StdinPipe | None = None  # what the engine writes to (run -i / -t)

    def __repr__(self) -> str:
        return f"<Process {self.pid} {'/'.join(map(str, self.nspids))} {self.comm} {self.state}>"

    @property
    def is_init(self) -> bool:
        return self.pidns.child_reaper is self

    @property
    def alive(self) -> bool:
        return self.state not in "ZX"

    def pid_in(self, ns: PidNamespace) -> int:
        """This process's PID as seen from ``ns``; 0 if it is not visible
        there (it lives in a sibling or ancestor namespace)."""
        level = ns.level
        if level < len(self.pidns_levels) and self.pidns_levels[level] is ns:
            return self.nspids[level]
        return 0


class ProcessTable:
    """All processes, by host PID, and the rules of their life and death."""

    def __init__(self, kernel: SimKernel, init_ns: PidNamespace):
        self.k = kernel
        self.init_ns = init_ns
        self.by_pid = init_ns.tasks  # host PID -> Process (the same dict)

    # -- lookup ---------------------------------------------------------------------
    def get(self, pid: int) -> Process:
        proc = self.by_pid.get(pid)
        if proc is None:
            raise oserror(ESRCH, f"/proc/{pid}")  # ProcessLookupError
        return proc

    def find(self, pid: int) -> Process | None:
        return self.by_pid.get(pid)

    def all(self) -> list[Process]:
        return list(self.by_pid.values())

    # -- birth ----------------------------------------------------------------------
    def create(
        self, parent: Process | None, pidns: PidNamespace, cgroup: Cgroup, like: Process | None = None
    ) -> Process:
        """fork(2)/clone(2): a new task in ``pidns`` and ``cgroup``, with a
        copy of ``like``'s (usually the parent's) process context.  The
        caller then fills in what differs (namespaces, program ...)."""
        self.k.cgroups.charge_fork(cgroup)  # EAGAIN over pids.max: no PID is used
        try:
            levels = pidns.levels
            nspids = tuple(ns.alloc_pid() for ns in levels)
        except OSError:
            self.k.cgroups.uncharge_task_in(cgroup)
            raise
        proc = Process()
        proc.pid = nspids[0]
        proc.nspids = nspids
        proc.pidns = pidns
        proc.pidns_levels = levels
        for ns, nr in zip(levels, nspids, strict=True):
            ns.tasks[nr] = proc
        if pidns.child_reaper is None:  # the first process: PID 1, init
            pidns.child_reaper = proc
        proc.parent = parent
        if parent is not None:
            parent.children[proc] = None
        proc.cgroup = cgroup
        cgroup.procs[proc] = None
        proc.start_time = self.k.sched.now
        proc.cpus_allowed = like.cpus_allowed if like is not None else self.k.cpus_at_boot
        if like is not None:
            proc.argv = like.argv
            proc.env = like.env
            proc.comm = like.comm
            proc.exe = like.exe
            proc.exe_data = like.exe_data
            proc.ns = like.ns
            proc.uid, proc.gid = like.uid, like.gid
            proc.caps = like.caps
            proc.cap_bnd = like.cap_bnd
            proc.cap_inh, proc.cap_amb = like.cap_inh, like.cap_amb
            proc.groups = like.groups
            proc.no_new_privs = like.no_new_privs
            proc.seccomp = like.seccomp
            proc.rlimits = like.rlimits
            proc.root, proc.cwd = like.root, like.cwd
            proc.umask = like.umask
            proc.ctty = like.ctty
            # Handlers are inherited by fork (and reset by exec).
            proc.handlers = dict(like.handlers) if like.handlers else {}
            fds = dict(like.fds)
            for f in fds.values():
                f.refs += 1
            proc.fds = fds
        return proc

    # -- death ----------------------------------------------------------------------
    def exit(self, proc: Process, raw_status: int) -> None:
        """do_exit(): ``raw_status`` is the wait status (``code << 8`` for a
        normal exit, the signal number for a kill)."""
        if proc.state in "ZX":
            return
        k = self.k
        proc.state = "Z"
        proc.exit_raw = raw_status
        proc.gen = None
        proc.block = None
        proc.held = False
        proc.pending = []
        fds, proc.fds = proc.fds, {}
        for f in fds.values():
            f.close(k)
        if proc.mem:
            k.cgroups.uncharge_memory(proc, proc.mem)
        proc.cgroup.procs.pop(proc, None)
        ns = proc.pidns
        if ns.child_reaper is proc:
            self._zap(ns, proc)
        if proc.children:
            self._reparent_children(proc)
        self._notify_parent(proc)

    def kill_now(self, proc: Process, sig: int) -> None:
        """The process dies of ``sig`` (SIGKILL or a default-terminate signal)."""
        self.exit(proc, sig & 0x7F)

    def _zap(self, ns: PidNamespace, init: Process) -> None:
        """zap_pid_ns_processes(): the init of ``ns`` is exiting, so every
        other process in it is SIGKILLed, and init reaps the ones whose
        parents are inside the namespace."""
        ns.dead = True
        victims = [p for p in ns.tasks.values() if p is not init]
        if not victims:
            return
        if self.k.tracer.enabled:
            self.k.tracer.record("kill", f"-1, SIGKILL  /* init of pid:[{ns.inode}] exited */")
        for v in victims:
            if v.state not in "ZX":
                self.exit(v, _signal.SIGKILL)
        for v in victims:
            if v.state == "Z" and v.parent is not None and v.parent.pid_in(ns):
                self.release(v)

    def _reparent_children(self, proc: Process) -> None:
        reaper = proc.pidns.child_reaper
        if reaper is proc or reaper is None:
            # init's own children: all inside the namespace, killed by _zap
            # and reaped by it; any left over go to the parent namespace's init.
            ns = proc.pidns.parent
            reaper = ns.child_reaper if ns is not None else None
        for child in list(proc.children):
            del proc.children[child]
            child.parent = reaper
            if reaper is not None:
                reaper.children[child] = None
                if child.state == "Z":
                    self._notify_parent(child)

    def _notify_parent(self, proc: Process) -> None:
        parent = proc.parent
        if parent is None or parent.state in "ZX":
            return
        if parent is self.k.init:
            # The host's init (which also plays the engine's shim) reaps its
            # children at once; the exit status stays on the Process object
            # for the engine's handle.
            self.release(proc)
            return
        if parent.handlers.get(_signal.SIGCHLD) is _signal.SIG_IGN:
            # POSIX: a parent ignoring SIGCHLD never sees zombies.
            self.release(proc)
            return
        if _signal.SIGCHLD in parent.handlers:
            self.k.signals.send(parent, _signal.SIGCHLD, None)
        if parent.waiting_child:
            self.k.sched.wake(parent)

    def release(self, proc: Process) -> None:
        """release_task(): the zombie is reaped; its PIDs become free."""
        if proc.state == "X":
            return
        proc.state = "X"
        for ns, nr in zip(proc.pidns_levels, proc.nspids, strict=True):
            if ns.tasks.get(nr) is proc:
                del ns.tasks[nr]
        if proc.parent is not None:
            proc.parent.children.pop(proc, None)
        ns = proc.pidns
        if ns.dead and not ns.tasks:
            # The last task of a namespace whose init has exited is gone: the
            # kernel frees the namespace (put_pid_ns), and nothing can enter
            # it any more (alloc_pid: ENOMEM).  Forgetting its init breaks
            # the cycle init -> namespace -> init, which kept each ended
            # container's whole state (namespaces, mount table, filesystems)
            # for the garbage collector to find, instead of freeing it with
            # its last reference -- the collector's time was ~10% of a
            # simulated lifecycle.
            ns.child_reaper = None
        self.k.cgroups.uncharge_task(proc)
        self.k.processes.reaped(proc)
        proc.sys = None
