"""The system-call surface simulated programs use -- the contract between the
simulated kernel (``backends/sim/kernel*``) and its userland
(``backends/sim/userland``).

A simulated program is a *generator function*::

    def main(sys: Sys) -> Generator[Block, None, int]:
        yield from sys.sleep(1.0)        # blocking calls are generators
        sys.write(1, b"hello\\n")        # non-blocking calls are plain
        return 0                         # the exit status

The kernel runs every process as one generator on a scheduler with a virtual
clock.  A blocking call yields a :class:`Block` (what the process waits for)
to the scheduler, which resumes the generator when it can go on -- exactly the
way a real process traps into the kernel and sleeps.  So ``sleep 100`` takes
no real time, and a shell with ``&`` jobs interleaves deterministically.

Conventions (they mirror Linux, so the userland reads like C):

* errors raise :class:`OSError` with the kernel's errno (``ENOENT``,
  ``EAGAIN`` from fork under ``pids.max``, ``ENOTEMPTY`` ...);
* paths are resolved in the process's mount namespace, from its root and cwd;
* fds 0/1/2 are stdin/stdout/stderr; ``/dev/null``, ``/dev/zero`` exist;
* memory a program holds is charged with :meth:`Sys.alloc` (and released
  with :meth:`Sys.free` or at exit); going over the cgroup's memory limit runs
  the OOM killer, which kills the process in that cgroup using the most memory
  (status 137) -- the calling process never sees ``alloc`` return then;
* CPU a program burns is charged with :meth:`Sys.burn`, so ``--cpus`` throttles
  it on the virtual clock; every syscall also costs a little CPU.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

from stepbox.core.kernel.unionfs import StatResult


class Block:
    """Base of the objects a blocking syscall yields to the scheduler.  Only
    the kernel creates and interprets them; programs just ``yield from``."""


Program = Callable[["Sys"], Generator[Block, Any, int]]

# open(2) flags (Linux values, so tests can compare with os.O_*)
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0o100, 0o200, 0o1000, 0o2000
O_DIRECTORY = 0o200000

WNOHANG = 1


@dataclass(frozen=True)
class WaitResult:
    pid: int  # in the caller's PID namespace
    status: int  # raw wait status, decode with the os.WIFEXITED family
    # (os.waitstatus_to_exitcode works on it)
    cpu_usec: int = 0  # wait4's rusage: the child's CPU and that of the children it waited for


@dataclass(frozen=True)
class InodeInfo:
    """What ``stat(2)`` adds to :class:`StatResult` (``Sys.inode_info``)."""

    ino: int
    dev: int  # st_dev: one number per filesystem
    rdev: int  # a device's number (0 otherwise)
    mtime: float  # seconds since the epoch
    blocks: int  # st_blocks, in 512-byte units


@dataclass(frozen=True)
class FsInfo:
    """What ``statfs(2)`` reports (``Sys.statfs``)."""

    type: int  # f_type, the filesystem's magic number
    bsize: int
    blocks: int
    bfree: int
    bavail: int
    files: int
    ffree: int


@dataclass(frozen=True)
class Termios:
    """What tcgetattr(3) gives: the flag words and the special characters
    (index -> byte, as ``c_cc``)."""

    iflag: int
    oflag: int
    lflag: int
    cc: tuple[tuple[int, int], ...]


class Sys(Protocol):
    # -- this process ---------------------------------------------------------
    argv: list[str]
    env: dict[str, str]

    def getpid(self) -> int: ...  # in its own PID namespace
    def getppid(self) -> int: ...  # 0 if the parent is outside the namespace
    def getuid(self) -> int: ...
    def getgid(self) -> int: ...
    def getcwd(self) -> str: ...
    def chdir(self, path: str) -> None: ...
    def exit(self, status: int) -> None: ...  # raises SystemExit-like; never returns
    def umask(self, mask: int) -> int: ...
    def getrlimit(self, name: str) -> tuple[int, int]: ...  # ("nofile") -> (soft, hard), -1 unlimited
    def setrlimit(self, name: str, soft: int, hard: int) -> None: ...  # EINVAL, EPERM as Linux

    # -- files ----------------------------------------------------------------
    def open(self, path: str, flags: int = O_RDONLY, mode: int = 0o666) -> int: ...
    def close(self, fd: int) -> None: ...
    def read(
        self, fd: int, n: int = 65536
    ) -> Generator[Block, Any, bytes]: ...  # b"" at EOF; blocks on an empty pipe
    def write(self, fd: int, data: bytes) -> int: ...  # EPIPE (and SIGPIPE) on a pipe with no reader
    def isatty(self, fd: int) -> bool: ...  # a terminal's slave end (docker run -t)
    def ttyname(self, fd: int) -> str: ...  # "/dev/pts/0"; ENOTTY if not a terminal
    def tcgetattr(self, fd: int) -> Termios: ...  # the terminal's modes; ENOTTY if not a terminal
    def tcsetattr(self, fd: int, modes: Termios) -> None: ...  # TCSANOW; ENOTTY if not a terminal
    def get_winsize(self, fd: int) -> tuple[int, int]: ...  # TIOCGWINSZ: rows, columns; ENOTTY
    def tcflush(self, fd: int) -> None: ...  # TCIFLUSH: typed-ahead input is thrown away; ENOTTY
    def poll_in(self, fd: int) -> bool: ...  # poll(POLLIN, timeout 0): would a read not block?
    def dup2(self, fd: int, fd2: int) -> int: ...
    def pipe(self) -> tuple[int, int]: ...
    def stat(self, path: str) -> StatResult: ...
    def fd_info(self, fd: int) -> tuple[str, int]: ...  # fstat: "file"/"dir"/"chardev"/"pipe", size
    def lseek(self, fd: int, offset: int, whence: int = 0) -> int: ...  # ESPIPE on a pipe
    def lstat(self, path: str) -> StatResult: ...
    def listdir(self, path: str) -> list[str]: ...
    def mkdir(self, path: str, mode: int = 0o777) -> None: ...  # umask applies
    def rmdir(self, path: str) -> None: ...
    def unlink(self, path: str) -> None: ...
    def rename(self, src: str, dst: str) -> None: ...
    def symlink(self, target: str, path: str) -> None: ...
    def link(self, src: str, dst: str) -> None: ...
    def readlink(self, path: str) -> str: ...
    def chmod(self, path: str, mode: int) -> None: ...
    def utime(self, path: str) -> None: ...
    def set_comm(self, name: str) -> None: ...
    def file_id(
        self, path: str, follow: bool = True
    ) -> tuple: ...  # stands in for (st_dev, st_ino)                  # prctl(PR_SET_NAME): /proc/PID/comm                     # utimes(path, NULL): times = now
    def chown(
        self, path: str, uid: int, gid: int, follow: bool = True
    ) -> None: ...  # -1 keeps; lchown if not follow
    def truncate(self, path: str, size: int) -> None: ...
    def inode_info(self, path: str, follow: bool = True) -> InodeInfo: ...
    def set_mtime(self, path: str, mtime: float | None, follow: bool = True) -> None: ...  # None: now
    def statfs(self, path: str) -> FsInfo: ...
    def mknod(self, path: str, mode: int, rdev: int = 0) -> None: ...  # S_IFCHR (CAP_MKNOD) or S_IFREG
    def chroot(self, path: str) -> None: ...  # CAP_SYS_CHROOT
    def access(self, path: str, mode: int) -> bool: ...  # os.X_OK etc.

    # -- processes --------------------------------------------------------------
    def fork(self, child: Program) -> int:
        """Start a child running ``child(child_sys)``; it inherits a copy of
        the fd table, cwd, env and umask.  Returns the child's PID (in the
        caller's namespace).  ``OSError(EAGAIN)`` when pids.max is reached."""

    def execve(self, path: str, argv: list[str], env: dict[str, str]) -> Generator[Block, Any, int]:
        """Replace this program.  Looks ``path`` up in the mount namespace;
        a busybox binary (the real ELF or the simulator's) runs the applet
        named by ``basename(argv[0])``.  Raises ENOENT/EACCES/ENOEXEC if it
        cannot; on success it does not return to the caller's code (the
        kernel switches the process to the new program)."""

    def waitpid(self, pid: int, options: int = 0) -> Generator[Block, Any, WaitResult | None]:
        """pid -1 = any child.  ``None`` with WNOHANG when no child has ended.
        ECHILD when there is no such child."""

    def kill(self, pid: int, sig: int) -> None: ...
    def signal(self, sig: int, handler: Callable[[int], None] | _signal.Handlers | None) -> None:
        """Install (or, with None, reset to default) a handler; the shell's
        ``trap`` uses it.  SIG_IGN is the handler ``signal.SIG_IGN``."""

    def sleep(self, seconds: float) -> Generator[Block, Any, None]: ...
    def pause(self) -> Generator[Block, Any, None]: ...  # until a signal
    def sched_yield(self) -> Generator[Block, Any, None]: ...

    # -- resources --------------------------------------------------------------
    def alloc(self, nbytes: int) -> Generator[Block, Any, None]: ...
    def free(self, nbytes: int) -> None: ...
    def burn(self, usec: int) -> Generator[Block, Any, None]: ...  # use CPU; may be throttled

    # -- the system -------------------------------------------------------------
    def gethostname(self) -> str: ...
    def sethostname(self, name: str) -> None: ...  # EPERM without CAP_SYS_ADMIN
    def uname(self) -> tuple[str, str, str, str, str]: ...  # sysname, nodename, release, version, machine
    def mount(self, source: str, target: str, fstype: str, options: str = "") -> None: ...
    def umount(self, target: str) -> None: ...
    def time(self) -> float: ...  # the virtual clock, seconds
    def wall_time(self) -> float: ...  # CLOCK_REALTIME: seconds since the epoch
    def setuid(self, uid: int) -> None: ...  # CAP_SETUID; a non-zero uid drops every capability
    def setgid(self, gid: int) -> None: ...  # CAP_SETGID
    def setgroups(self, gids: list[int]) -> None: ...  # CAP_SETGID, always
    def klogctl(
        self, action: int, length: int = 0
    ) -> Generator[Block, Any, bytes | int]: ...  # syslog(2): bytes for 2/3/4 (2 blocks), else a number

    # -- task settings (syscalls_task.py) ------------------------------------------
    def sched_getaffinity(self, pid: int) -> int: ...  # 0: the caller; a mask, bit N for CPU N
    def sched_setaffinity(self, pid: int, mask: int) -> None: ...  # EINVAL: no online CPU in mask
    def reboot(self, cmd: int) -> None: ...  # CAP_SYS_BOOT; ends the PID namespace's init
    def capget(self) -> tuple[int, int, int]: ...  # (effective, permitted, inheritable) masks
    def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...
    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int: ...  # NNP, CAPBSET_READ, CAP_AMBIENT

    # -- namespaces (syscalls_ns.py) ----------------------------------------------
    def unshare(self, flags: int) -> None: ...  # CLONE_NEW*: CAP_SYS_ADMIN; CLONE_NEWUSER not modelled
    def open_namespace(self, path: str) -> int: ...  # open(2) that opens a /proc/PID/ns link's namespace
    def setns(self, fd: int, nstype: int) -> None: ...  # EINVAL: not a namespace fd, or another type
    # a kernel built without loadable modules (CONFIG_MODULES=n): ENOSYS
    def init_module(self, image: bytes, options: str) -> None: ...
    def delete_module(self, name: str | None, flags: int) -> None: ...
    def pivot_root(self, new_root: str, put_old: str) -> None: ...  # EPERM without CAP_SYS_ADMIN
