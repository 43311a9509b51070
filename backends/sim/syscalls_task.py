"""System calls about a task's settings that are neither files nor
processes' life and death: CPU affinity (mixin of :class:`.syscalls.SimSys`:
``self.k`` is the kernel, ``self.p`` the calling process)."""

from __future__ import annotations

import errno
from typing import Any

from .flow import EPERM, ESRCH, oserror


class TaskSyscalls:
    __slots__ = ()
    k: Any
    p: Any

    _seccomp: Any  # SimSys's

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
