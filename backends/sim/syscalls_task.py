"""System calls about a task's settings and the machine that are neither
files nor processes' life and death: CPU affinity, reboot (mixin of
:class:`.syscalls.SimSys`: ``self.k`` is the kernel, ``self.p`` the calling
process)."""

from __future__ import annotations

import errno
import signal
from typing import Any

from .flow import EPERM, ESRCH, oserror

# reboot(2)'s commands (<linux/reboot.h>) and what ends a PID namespace's
# init when a task inside calls it (reboot_pid_ns).
LINUX_REBOOT_CMD_RESTART = 0x01234567
LINUX_REBOOT_CMD_HALT = 0xCDEF0123
LINUX_REBOOT_CMD_POWER_OFF = 0x4321FEDC
LINUX_REBOOT_CMD_RESTART2 = 0xA1B2C3D4
_INIT_DIES_OF = {
    LINUX_REBOOT_CMD_RESTART: signal.SIGHUP,
    LINUX_REBOOT_CMD_RESTART2: signal.SIGHUP,
    LINUX_REBOOT_CMD_HALT: signal.SIGINT,
    LINUX_REBOOT_CMD_POWER_OFF: signal.SIGINT,
}


class TaskSyscalls:
    __slots__ = ()
    k: Any
    p: Any

    _seccomp: Any  # SimSys's
    _alive: Any

    def _task(self, pid: int):
        """find_process_by_pid(): 0 is the caller; a PID of its namespace."""
        if pid == 0:
            return self.p
        if pid < 0:
            raise oserror(errno.EINVAL)
        target = self.p.pidns.tasks.get(pid)
        if target is None or target.state == "X":
            raise oserror(ESRCH)
        return target

    # -- CPU affinity -------------------------------------------------------------------------
    def sched_getaffinity(self, pid: int) -> int:
        if self.p.seccomp:
            self._seccomp("sched_getaffinity", pid)
        return self._task(pid).cpus_allowed & self.k.cpus_online

    def sched_setaffinity(self, pid: int, mask: int) -> None:
        """Linux's __sched_setaffinity: another user's task needs
        CAP_SYS_NICE; the mask is cut to the CPUs the task's cpuset allows
        (every online CPU here) and must keep one."""
        if self.p.seccomp:
            self._seccomp("sched_setaffinity", pid)
        target = self._task(pid)
        if target.uid != self.p.uid and "CAP_SYS_NICE" not in self.p.caps:
            raise oserror(EPERM)
        allowed = mask & self.k.cpus_online
        if not allowed:
            raise oserror(errno.EINVAL)
        if self.k.tracer.enabled:
            self.k.tracer.record("sched_setaffinity", f"{pid}, 8, [{mask:#x}]")
        target.cpus_allowed = allowed

    # -- the machine ----------------------------------------------------------------------------
    def reboot(self, cmd: int) -> None:
        """reboot(2) (with the magic numbers glibc passes).  Needs
        CAP_SYS_BOOT.  Inside a PID namespace it reboots nothing: its init
        is killed and reported as dead of SIGHUP (restart) or SIGINT (halt,
        power off), which ends the namespace -- the caller with it; any
        other command is EINVAL.  The simulated machine itself is never
        rebooted (EPERM): no simulated program runs as the host's init."""
        if self.p.seccomp:
            self._seccomp("reboot", cmd)
        p = self.p
        if "CAP_SYS_BOOT" not in p.caps:
            raise oserror(EPERM)
        ns = p.pidns
        if ns is self.k.init_pidns:
            raise oserror(EPERM)
        sig = _INIT_DIES_OF.get(cmd)
        if sig is None:
            raise oserror(errno.EINVAL)
        if self.k.tracer.enabled:
            self.k.tracer.record("reboot", f"LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, {cmd:#x}")
        self.k.procs.kill_now(ns.child_reaper, sig)
        self._alive()  # the namespace is gone, and the caller with it
