"""seccomp in the simulated kernel: every filtered call is asked first.

A process's filters (``Process.seccomp``, inherited by fork and kept across
execve, as in Linux) are consulted at the top of each :class:`SimSys` method
under the name of the Linux system call that method stands for on x86_64 --
the call Debian's static busybox makes for it (``mkdir`` -> mkdir(2),
``open`` -> openat(2), ``fork`` -> clone(2) ...; :data:`SYSCALL_OF`).  Every
filter answers; the most severe answer wins (kill > trap > errno > trace >
log > allow) and among equals the newest filter's, as seccomp(2) specifies.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from .flow import Killed, oserror

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

# SimSys method -> the Linux syscall it stands for (x86_64, glibc 2.36 static busybox).
SYSCALL_OF = {
    "open": "openat",
    "close": "close",
    "read": "read",
    "write": "write",
    "dup2": "dup2",
    "pipe": "pipe2",
    "stat": "newfstatat",
    "lstat": "newfstatat",
    "listdir": "getdents64",
    "mkdir": "mkdir",
    "rmdir": "rmdir",
    "unlink": "unlink",
    "rename": "rename",
    "symlink": "symlink",
    "link": "link",
    "readlink": "readlink",
    "chmod": "chmod",
    "file_id": "newfstatat",
    "set_comm": "prctl",
    "utime": "utimensat",
    "chown": "chown",
    "truncate": "truncate",
    "access": "access",
    "mknod": "mknodat",
    "fork": "clone",
    "execve": "execve",
    "waitpid": "wait4",
    "kill": "kill",
    "signal": "rt_sigaction",
    "sleep": "clock_nanosleep",
    "pause": "pause",
    "sched_yield": "sched_yield",
    "gethostname": "uname",
    "sethostname": "sethostname",
    "uname": "uname",
    "mount": "mount",
    "umount": "umount2",
    "chdir": "chdir",
    "getcwd": "getcwd",
    "umask": "umask",
    "getpid": "getpid",
    "getppid": "getppid",
    "getuid": "getuid",
    "getgid": "getgid",
    "getgroups": "getgroups",
    "unshare": "unshare",
    "klogctl": "syslog",
    "sched_getaffinity": "sched_getaffinity",
    "sched_setaffinity": "sched_setaffinity",
    "reboot": "reboot",
    "capget": "capget",
    "capset": "capset",
    "prctl": "prctl",
    "setns": "setns",
    "init_module": "init_module",
    "delete_module": "delete_module",
    "pivot_root": "pivot_root",
}

_SEVERITY = {
    "SCMP_ACT_KILL_PROCESS": 0,
    "SCMP_ACT_KILL": 1,
    "SCMP_ACT_KILL_THREAD": 1,
    "SCMP_ACT_TRAP": 2,
    "SCMP_ACT_ERRNO": 3,
    "SCMP_ACT_TRACE": 4,
    "SCMP_ACT_LOG": 5,
    "SCMP_ACT_ALLOW": 6,
}


def check(k: SimKernel, proc: Process, name: str, args: tuple[int, ...] = ()) -> None:
    """Raise what the filters answer for this call (OSError for an errno,
    :class:`Killed` after killing the process with SIGSYS), or return."""
    verdict = None
    for spec in reversed(proc.seccomp):  # newest first: it wins a tie
        answer = spec.decide(name, args)
        if verdict is None or _SEVERITY[answer.action] < _SEVERITY[verdict.action]:
            verdict = answer
    if verdict is None or verdict.allowed:
        return
    if verdict.action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        raise oserror(verdict.errno)
    # KILL_*: the kernel kills with SIGSYS; TRAP sends SIGSYS, whose default
    # action (the simulator has no handlers for it in busybox) is to die.
    k.procs.kill_now(proc, signal.SIGSYS)
    raise Killed(signal.SIGSYS)
