"""The system calls: :class:`SimSys`, one per running program.

A simulated program sees the kernel only through the :class:`Sys` object it
is given (see :mod:`.sys_api` for the contract).  Each method here does what
the syscall of the same name does in Linux, *as the calling process*: paths
are resolved from its root and cwd in its mount namespace, PIDs are numbers
in its PID namespace, permission depends on its credentials and
capabilities.  Blocking calls are generators that yield a
:class:`~.scheduler.KBlock` to the scheduler.
"""

from __future__ import annotations

import errno
import math
import signal as _signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import fileinfo, kmsg, seccomp
from .files import DeviceFile, DirFile, InodeFile, PathFile, Pipe, PipeEnd
from .flow import EBADF, ECHILD, EINTR, EPERM, ESRCH, ExecReplace, Killed, ProgramExit, oserror
from .loader import load
from .memfs import InodeKind
from .mounts import parse_mount_options
from .namei import X_OK
from .net.sys_net import NetSyscalls
from .net.unix import UnixSyscalls
from .rlimits import check_setrlimit, fd_limit
from .scheduler import TIMESLICE_USEC, YIELD, Forever, Pause, PipeWait, Sleep, Throttled, WaitChild
from .sys_api import WNOHANG, Termios, WaitResult
from .syscalls_ns import NsSyscalls
from .syscalls_task import TaskSyscalls
from .sysv_ipc import IpcSyscalls
from .tty import Pty
from .vfs import DIR

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

HOST_NAME_MAX = 64
NSIG = 65
# The flags glibc's fork() passes to clone(2): CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD.
CLONE_FORK_FLAGS = 0x01200011


def lowest_free_fd(fds: dict[int, Any], limit: int | None = None) -> int:
    """The lowest fd not in use; EMFILE if it is not below ``limit`` (the
    process's nofile soft limit)."""
    fd = 0
    while fd in fds:
        fd += 1
    if limit is not None and fd >= limit:
        raise oserror(errno.EMFILE)
    return fd


def start_program(
    k: SimKernel, proc: Process, program, argv: list[str], env: dict[str, str], exe: str
) -> Any:
    """What a successful execve leaves behind: a new Sys, argv and env, the
    program's generator; caught signals reset to default (ignored ones stay
    ignored), as execve does."""
    proc.argv = list(argv)
    proc.env = dict(env)
    proc.exe = exe
    proc.comm = exe.rsplit("/", 1)[-1][:15]
    # capabilities(7) for a program without file capabilities: as root it
    # gets the bounding set back as its permitted and effective sets -- unless
    # no_new_privs forbids any gain -- and as anyone else nothing.
    if proc.uid == 0:
        proc.caps = proc.cap_bnd & proc.caps if proc.no_new_privs else proc.cap_bnd
    else:
        proc.caps = frozenset()
    if proc.handlers:
        proc.handlers = {s: h for s, h in proc.handlers.items() if h is _signal.SIG_IGN}
    sys = SimSys(k, proc, proc.argv, proc.env)
    proc.sys = sys
    gen = program(sys)
    if not hasattr(gen, "send"):
        gen = _as_generator(gen)
    proc.gen = gen
    return gen


def _as_generator(result):
    """Wrap a "program" that returned its status without being a generator."""
    return result
    yield  # pragma: no cover - makes this a generator function


class SimSys(NetSyscalls, TaskSyscalls, NsSyscalls, UnixSyscalls, IpcSyscalls):
    """The system-call interface as one process sees it."""

    __slots__ = ("k", "p", "argv", "env")

    def __init__(self, k: SimKernel, proc: Process, argv: list[str], env: dict[str, str]):
        self.k = k
        self.p = proc
        self.argv = argv
        self.env = env

    def __repr__(self) -> str:
        return f"<Sys of pid {self.p.pid}>"

    # -- helpers ----------------------------------------------------------------------
    def _file(self, fd: int):
        f = self.p.fds.get(fd)
        if f is None:
            raise oserror(EBADF)
        return f

    def _alive(self) -> Process:
        p = self.p
        if p.state in "ZX":
            raise Killed(p.exit_raw & 0x7F if p.exit_raw else _signal.SIGKILL)
        return p

    def _seccomp(self, method: str, *args: int) -> None:
        """Ask the process's seccomp filters about this call (see .seccomp)."""
        seccomp.check(self.k, self.p, seccomp.SYSCALL_OF[method], args)

    def _need_cap(self, cap: str) -> None:
        if cap not in self.p.caps:
            raise oserror(EPERM)

    # -- this process ---------------------------------------------------------------------
    def getpid(self) -> int:
        if self.p.seccomp:
            self._seccomp("getpid")
        return self.p.nspids[-1]

    def getppid(self) -> int:
        if self.p.seccomp:
            self._seccomp("getppid")
        parent = self.p.parent
        return parent.pid_in(self.p.pidns) if parent is not None else 0

    def getuid(self) -> int:
        if self.p.seccomp:
            self._seccomp("getuid")
        return self.p.ns.user.uid_from_host(self.p.uid)

    def getgid(self) -> int:
        if self.p.seccomp:
            self._seccomp("getgid")
        return self.p.ns.user.gid_from_host(self.p.gid)

    def getcwd(self) -> str:
        if self.p.seccomp:
            self._seccomp("getcwd")
        return self.k.vfs.getcwd(self.p)

    def chdir(self, path: str) -> None:
        if self.p.seccomp:
            self._seccomp("chdir")
        p = self.p
        vfs = self.k.vfs
        loc = vfs.walk(p, path, True)
        st = vfs.fs_of(p, loc)[0].lstat(loc[1])
        if st.kind is not DIR:
            raise oserror(errno.ENOTDIR, path)
        if not vfs.may(p, st, X_OK):
            raise oserror(errno.EACCES, path)
        p.cwd = loc

    def exit(self, status: int) -> None:
        raise ProgramExit(status)

    def umask(self, mask: int) -> int:
        if self.p.seccomp:
            self._seccomp("umask", mask)
        old, self.p.umask = self.p.umask, mask & 0o777
        return old

    def getrlimit(self, name: str) -> tuple[int, int]:
        if name not in self.p.rlimits:
            raise oserror(errno.EINVAL)
        return self.p.rlimits[name]

    def setrlimit(self, name: str, soft: int, hard: int) -> None:
        p = self.p
        check_setrlimit(p.rlimits.get(name, (0, 0)), name, soft, hard, p.caps)
        p.rlimits = {**p.rlimits, name: (soft, hard)}

    # -- files ----------------------------------------------------------------------------
    def open(self, path: str, flags: int = 0, mode: int = 0o666) -> int:
        if self.p.seccomp:
            self._seccomp("open", -100, 0, flags, mode)  # openat(AT_FDCWD, path, ...)
        p = self.p
        fd = lowest_free_fd(p.fds, fd_limit(p.rlimits))  # EMFILE before the file is opened
        f = self.k.vfs.open(p, path, flags, mode)
        p.fds[fd] = f
        return fd

    def close(self, fd: int) -> None:
        if self.p.seccomp:
            self._seccomp("close", fd)
        f = self.p.fds.pop(fd, None)
        if f is None:
            raise oserror(EBADF)
        f.close(self.k)

    def read(self, fd: int, n: int = 65536):
        if self.p.seccomp:
            self._seccomp("read", fd)
        p = self._alive()
        f = self._file(fd)
        while True:
            data = f.read(self.k, n)
            if data is not None:
                return data
            yield PipeWait(f.pipe)
            if p.interrupted:
                p.interrupted = False
                raise oserror(EINTR)

    def write(self, fd: int, data: bytes) -> int:
        if self.p.seccomp:
            self._seccomp("write", fd)
        p = self._alive()
        f = self._file(fd)
        try:
            return f.write(self.k, bytes(data))
        except BrokenPipeError:
            # No reader: SIGPIPE (which kills unless handled), then EPIPE.
            self.k.signals.send(p, _signal.SIGPIPE, p)
            self._alive()
            raise

    def isatty(self, fd: int) -> bool:
        return getattr(self._file(fd), "kind", "") == "tty"

    def ttyname(self, fd: int) -> str:
        f = self._file(fd)
        if getattr(f, "kind", "") != "tty":
            raise oserror(errno.ENOTTY)
        return f.pty.name

    def _pty(self, fd: int) -> Pty:
        f = self._file(fd)
        if getattr(f, "kind", "") != "tty":
            raise oserror(errno.ENOTTY)
        return f.pty

    def tcgetattr(self, fd: int) -> Termios:
        pty = self._pty(fd)
        return Termios(pty.iflag, pty.oflag, pty.lflag, tuple(sorted(pty.cc.items())))

    def tcsetattr(self, fd: int, modes: Termios) -> None:
        pty = self._pty(fd)
        pty.set_modes(modes.iflag, modes.oflag, modes.lflag, dict(modes.cc))

    def get_winsize(self, fd: int) -> tuple[int, int]:
        return self._pty(fd).window

    def tcflush(self, fd: int) -> None:
        pty = self._pty(fd)
        pty.ready.clear()
        pty.line.clear()

    def poll_in(self, fd: int) -> bool:
        """poll(2) for POLLIN with no timeout: data waits, or a read would
        see end-of-file (a pipe without writers); a regular file always."""
        pipe = getattr(self._file(fd), "pipe", None)
        if pipe is None:
            return True
        if isinstance(pipe, Pty):
            return bool(pipe.ready)
        return bool(pipe.buf) or pipe.writers == 0

    def dup2(self, fd: int, fd2: int) -> int:
        if self.p.seccomp:
            self._seccomp("dup2", fd, fd2)
        p = self.p
        f = self._file(fd)
        if not 0 <= fd2 < fd_limit(p.rlimits):
            raise oserror(EBADF)
        if fd == fd2:
            return fd2
        old = p.fds.get(fd2)
        f.refs += 1
        p.fds[fd2] = f
        if old is not None:
            old.close(self.k)
        return fd2

    def pipe(self) -> tuple[int, int]:
        if self.p.seccomp:
            self._seccomp("pipe")
        p = self.p
        limit = fd_limit(p.rlimits)
        r = lowest_free_fd(p.fds, limit)
        w = lowest_free_fd({**p.fds, r: None}, limit)  # EMFILE unless both fit
        pipe = Pipe()
        p.fds[r] = PipeEnd(pipe, False)
        p.fds[w] = PipeEnd(pipe, True)
        return r, w

    def stat(self, path: str):
        if self.p.seccomp:
            self._seccomp("stat")
        return self.k.vfs.stat(self.p, path)

    def fd_info(self, fd: int) -> tuple[str, int]:
        """What fstat(2) tells about an open file: its type and size."""
        f = self._file(fd)
        if isinstance(f, InodeFile):
            node = f.node
            if node.kind is InodeKind.CHARDEV:
                return "chardev", 0
            return "file", node.size
        if isinstance(f, PathFile):
            try:
                return "file", f.fs.lstat(f.path).size
            except OSError:
                return "file", 0
        if isinstance(f, DirFile):
            return "dir", 4096
        if isinstance(f, DeviceFile):
            return "chardev", 0
        # pipes, and the engine's stdio files, which a container sees as pipes
        return "pipe", 0

    def lseek(self, fd: int, offset: int, whence: int = 0) -> int:
        """lseek(2) on a regular file; ESPIPE on a pipe."""
        f = self._file(fd)
        if not isinstance(f, (InodeFile, PathFile)):
            raise oserror(errno.ESPIPE)
        if whence == 0:
            new = offset
        elif whence == 1:
            new = f.offset + offset
        else:
            new = self.fd_info(fd)[1] + offset
        if new < 0:
            raise oserror(errno.EINVAL)
        f.offset = new
        return new

    def lstat(self, path: str):
        if self.p.seccomp:
            self._seccomp("lstat")
        return self.k.vfs.lstat(self.p, path)

    def listdir(self, path: str) -> list[str]:
        if self.p.seccomp:
            self._seccomp("listdir")
        return self.k.vfs.listdir(self.p, path)

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        if self.p.seccomp:
            self._seccomp("mkdir", 0, mode)
        self.k.vfs.mkdir(self.p, path, mode)

    def rmdir(self, path: str) -> None:
        if self.p.seccomp:
            self._seccomp("rmdir")
        self.k.vfs.rmdir(self.p, path)

    def unlink(self, path: str) -> None:
        if self.p.seccomp:
            self._seccomp("unlink")
        self.k.vfs.unlink(self.p, path)

    def rename(self, src: str, dst: str) -> None:
        if self.p.seccomp:
            self._seccomp("rename")
        self.k.vfs.rename(self.p, src, dst)

    def symlink(self, target: str, path: str) -> None:
        if self.p.seccomp:
            self._seccomp("symlink")
        self.k.vfs.symlink(self.p, target, path)

    def link(self, src: str, dst: str) -> None:
        if self.p.seccomp:
            self._seccomp("link")
        self.k.vfs.link(self.p, src, dst)

    def readlink(self, path: str) -> str:
        if self.p.seccomp:
            self._seccomp("readlink")
        return self.k.vfs.readlink(self.p, path)

    def chmod(self, path: str, mode: int) -> None:
        if self.p.seccomp:
            self._seccomp("chmod", 0, mode)
        self.k.vfs.chmod(self.p, path, mode)

    def file_id(self, path: str, follow: bool = True) -> tuple:
        if self.p.seccomp:
            self._seccomp("file_id")
        return self.k.vfs.file_id(self.p, path, follow)

    def set_comm(self, name: str) -> None:
        if self.p.seccomp:
            self._seccomp("set_comm")
        self._alive().comm = name[:15]

    def utime(self, path: str) -> None:
        if self.p.seccomp:
            self._seccomp("utime")
        self.k.vfs.utime(self.p, path)

    def chown(self, path: str, uid: int, gid: int, follow: bool = True) -> None:
        if self.p.seccomp:
            self._seccomp("chown")
        self.k.vfs.chown(self.p, path, uid, gid, follow)

    def inode_info(self, path: str, follow: bool = True):
        return fileinfo.inode_info(self.k, self.p, path, follow)

    def set_mtime(self, path: str, mtime: float | None, follow: bool = True) -> None:
        fileinfo.set_mtime(self.k, self.p, path, mtime, follow)

    def statfs(self, path: str):
        return fileinfo.statfs(self.k, self.p, path)

    def mknod(self, path: str, mode: int, rdev: int = 0) -> None:
        """mknod(2); ``mode`` carries the file type (S_IFCHR, S_IFREG, ...)."""
        if self.p.seccomp:
            self._seccomp("mknod", -100, 0, mode, rdev)  # mknodat(AT_FDCWD, path, mode, dev)
        fileinfo.make_node(self.k, self.p, path, mode, rdev)

    def chroot(self, path: str) -> None:
        p = self._alive()
        self._need_cap("CAP_SYS_CHROOT")
        vfs = self.k.vfs
        loc = vfs.walk(p, path, True)
        st = vfs.fs_of(p, loc)[0].lstat(loc[1])
        if st.kind is not DIR:
            raise oserror(errno.ENOTDIR, path)
        p.root = loc

    def truncate(self, path: str, size: int) -> None:
        if self.p.seccomp:
            self._seccomp("truncate")
        self.k.vfs.truncate(self.p, path, size)

    def access(self, path: str, mode: int) -> bool:
        if self.p.seccomp:
            self._seccomp("access")
        return self.k.vfs.access(self.p, path, mode)

    # -- processes --------------------------------------------------------------------------
    def fork(self, child: Callable) -> int:
        if self.p.seccomp:
            self._seccomp("fork", CLONE_FORK_FLAGS)
        p = self._alive()
        k = self.k
        new = k.procs.create(p, p.ns.pid_for_children, p.cgroup, like=p)
        new.sys = sys = SimSys(k, new, list(self.argv), dict(self.env))
        new.argv, new.env = sys.argv, sys.env
        gen = child(sys)
        if not hasattr(gen, "send"):
            gen = _as_generator(gen)
        new.gen = gen
        k.sched.start(new)
        return new.pid_in(p.pidns)

    def execve(self, path: str, argv: list[str], env: dict[str, str]):
        if self.p.seccomp:
            self._seccomp("execve")
        p = self._alive()
        k = self.k
        program, exe, argv = load(k, p, path, list(argv))
        if k.tracer.enabled:
            k.tracer.record("execve", _execve_detail(exe, argv, env))
        raise ExecReplace(start_program(k, p, program, argv, env, exe))
        yield  # pragma: no cover - makes this a generator function

    def waitpid(self, pid: int, options: int = 0):
        if self.p.seccomp:
            self._seccomp("waitpid")
        p = self._alive()
        while True:
            if pid > 0:
                matches = [c for c in p.children if c.pid_in(p.pidns) == pid]
            else:
                matches = list(p.children)
            if not matches:
                raise oserror(ECHILD)
            for child in matches:
                if child.state == "Z":
                    assert child.exit_raw is not None  # a zombie's wait status
                    used = child.cpu_usec + child.children_cpu_usec
                    result = WaitResult(child.pid_in(p.pidns), child.exit_raw, used)
                    p.children_cpu_usec += used
                    self.k.procs.release(child)
                    return result
            if options & WNOHANG:
                return None
            yield WaitChild()
            if p.interrupted:
                p.interrupted = False
                raise oserror(EINTR)

    def kill(self, pid: int, sig: int) -> None:
        if self.p.seccomp:
            self._seccomp("kill", pid, sig)
        p = self._alive()
        if not 0 <= sig < NSIG:
            raise oserror(errno.EINVAL)
        ns = p.pidns
        if pid > 0:
            target = ns.tasks.get(pid)
            if target is None or target.state == "X":
                raise oserror(ESRCH)
            targets = [target]
        elif pid == -1:
            # Everyone the caller may signal, except init and itself.
            targets = [
                t
                for t in ns.tasks.values()
                if t is not p and t is not ns.child_reaper and t.state not in "ZX"
            ]
        else:
            # Process groups are not simulated: the group is the process
            # (-pid, or the caller for 0) and its descendants.
            leader = p if pid == 0 else ns.tasks.get(-pid)
            if leader is None:
                raise oserror(ESRCH)
            targets = _with_descendants(leader)
        signals = self.k.signals
        privileged = "CAP_KILL" in p.caps
        for t in targets:
            if not privileged and t.uid != p.uid:
                raise oserror(EPERM)
            signals.send(t, sig, p)
        self._alive()
        if p.pending:
            signals.run_handlers(p)  # a signal to oneself arrives before kill returns
            self._alive()

    def signal(self, sig: int, handler) -> None:
        if self.p.seccomp:
            self._seccomp("signal")
        if sig in (_signal.SIGKILL, _signal.SIGSTOP) or not 0 < sig < NSIG:
            raise oserror(errno.EINVAL)
        if handler is None or handler is _signal.SIG_DFL:
            self.p.handlers.pop(sig, None)
        else:
            self.p.handlers[sig] = handler

    def sleep(self, seconds: float):
        if self.p.seccomp:
            self._seccomp("sleep")
        p = self._alive()
        if seconds <= 0:
            yield YIELD
            return
        if math.isinf(seconds) or seconds > 1e9:
            yield Forever()
        else:
            yield Sleep(self.k.sched.now + max(1, int(seconds * 1_000_000)))
        p.interrupted = False  # a handled signal ends the sleep early

    def pause(self):
        if self.p.seccomp:
            self._seccomp("pause")
        p = self._alive()
        yield Pause()
        p.interrupted = False

    def sched_yield(self):
        if self.p.seccomp:
            self._seccomp("sched_yield")
        yield YIELD

    # -- resources --------------------------------------------------------------------------
    def alloc(self, nbytes: int):
        p = self._alive()
        if nbytes < 0:
            raise oserror(errno.EINVAL)
        self.k.cgroups.charge_memory(p, nbytes)
        return
        yield  # pragma: no cover

    def free(self, nbytes: int) -> None:
        self.k.cgroups.uncharge_memory(self.p, nbytes)

    def burn(self, usec: int):
        """Use ``usec`` of CPU.  The process is preempted (yields) whenever
        its time slice is used up, and throttled when its cgroup's quota
        for the period is."""
        p = self._alive()
        k = self.k
        sched, cgroups = k.sched, k.cgroups
        remaining = int(usec)
        while remaining > 0:
            grant, until = cgroups.cpu_grant(p.cgroup, sched.now, min(remaining, TIMESLICE_USEC))
            if grant:
                sched.charge(p, grant)
                remaining -= grant
                p.slice -= grant
                if p.slice <= 0:
                    yield YIELD  # the time slice is over: others may run
            else:
                yield Throttled(until)
            self._alive()

    # -- the system -------------------------------------------------------------------------
    def gethostname(self) -> str:
        if self.p.seccomp:
            self._seccomp("gethostname")
        return self.p.ns.uts.hostname

    def sethostname(self, name: str) -> None:
        if self.p.seccomp:
            self._seccomp("sethostname")
        self._need_cap("CAP_SYS_ADMIN")
        if len(name.encode()) > HOST_NAME_MAX:
            raise oserror(errno.EINVAL)
        if self.k.tracer.enabled:
            self.k.tracer.record("sethostname", f'"{name}", {len(name)}')
        self.p.ns.uts.hostname = name

    def uname(self) -> tuple[str, str, str, str, str]:
        if self.p.seccomp:
            self._seccomp("uname")
        from .procfs import KERNEL_RELEASE, KERNEL_VERSION

        return ("Linux", self.p.ns.uts.hostname, KERNEL_RELEASE, KERNEL_VERSION, "x86_64")

    def mount(self, source: str, target: str, fstype: str, options: str = "") -> None:
        if self.p.seccomp:
            self._seccomp("mount")
        self._need_cap("CAP_SYS_ADMIN")
        if not fstype:
            # No type: only a bind, a propagation change or a remount means
            # anything; a new mount of no filesystem is EINVAL (do_new_mount).
            _flags, _data, bind, propagation = parse_mount_options(options.split(","))
            if not (bind or propagation or "remount" in options.split(",")):
                raise oserror(errno.EINVAL)
        self.k.mount_as(self.p, source, target, fstype, options.split(","), create=False, start=None)

    def umount(self, target: str) -> None:
        if self.p.seccomp:
            self._seccomp("umount")
        self._need_cap("CAP_SYS_ADMIN")
        if self.k.tracer.enabled:
            self.k.tracer.record("umount2", f'"{target}", 0')
        self.k.vfs.umount(self.p, target)

    def init_module(self, image: bytes, options: str) -> None:
        """The simulated kernel has no loadable modules: it answers as a kernel
        built without CONFIG_MODULES, whose module calls are ENOSYS (before any
        capability check).  In a container the seccomp profile answers first:
        EPERM without CAP_SYS_MODULE."""
        if self.p.seccomp:
            self._seccomp("init_module")
        raise oserror(errno.ENOSYS)

    def delete_module(self, name: str | None, flags: int) -> None:
        if self.p.seccomp:
            self._seccomp("delete_module")
        raise oserror(errno.ENOSYS)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        """EPERM without CAP_SYS_ADMIN, as Linux; moving the root mount itself
        is not modelled (SIMPLIFICATIONS.md): ENOSYS with the capability."""
        if self.p.seccomp:
            self._seccomp("pivot_root")
        self._need_cap("CAP_SYS_ADMIN")
        raise oserror(errno.ENOSYS)

    def time(self) -> float:
        return self.k.sched.now / 1_000_000

    def klogctl(self, action: int, length: int = 0):
        """syslog(2) on the kernel log (see .kmsg): the permission check,
        then READ blocks until there is an unread record."""
        if self.p.seccomp:
            self._seccomp("klogctl", action, length)
        p = self._alive()
        log = self.k.klog
        log.check_permission(p, action)
        if action in (kmsg.READ, kmsg.READ_ALL, kmsg.READ_CLEAR):
            if length < 0:
                raise oserror(errno.EINVAL)
            if action != kmsg.READ:
                return log.read_all(length, clear=action == kmsg.READ_CLEAR)
            if length == 0:
                return b""
            while not log.has_unread():
                yield PipeWait(log)
                if p.interrupted:
                    p.interrupted = False
                    raise oserror(EINTR)
            return log.read(length)
        return log.control(action, length)

    def wall_time(self) -> float:
        return self.k.wall_clock()

    def setuid(self, uid: int) -> None:
        """setuid(2) as root: all three uids change; leaving uid 0 drops
        every capability (no keepcaps)."""
        p = self._alive()
        kuid = p.ns.user.uid_to_host(uid)
        if kuid != p.uid and "CAP_SETUID" not in p.caps:
            raise oserror(EPERM)
        p.uid = kuid
        if kuid != 0:
            p.caps = p.cap_amb = frozenset()

    def setgid(self, gid: int) -> None:
        p = self._alive()
        kgid = p.ns.user.gid_to_host(gid)
        if kgid != p.gid and "CAP_SETGID" not in p.caps:
            raise oserror(EPERM)
        p.gid = kgid

    def setgroups(self, gids: list[int]) -> None:
        """setgroups(2): always needs CAP_SETGID (initgroups for su)."""
        p = self._alive()
        if "CAP_SETGID" not in p.caps:
            raise oserror(EPERM)
        p.groups = tuple(sorted(p.ns.user.gid_to_host(g) for g in gids))


def _with_descendants(proc: Process) -> list[Process]:
    out, todo = [], [proc]
    while todo:
        cur = todo.pop()
        if cur.state not in "ZX":
            out.append(cur)
        todo.extend(cur.children)
    return out


def _execve_detail(exe: str, argv: list[str], env: dict[str, str]) -> str:
    args = ", ".join(f'"{a}"' for a in argv)
    envs = ", ".join(f'"{k}={v}"' for k, v in env.items())
    return f'"{exe}", [{args}], [{envs}]'


__all__ = ["SimSys", "parse_mount_options", "start_program"]
