"""System calls about a task's settings and the machine that are neither
files nor processes' life and death: CPU affinity, capabilities and
no_new_privs (capget, capset, prctl), reboot (mixin of
:class:`.syscalls.SimSys`: ``self.k`` is the kernel, ``self.p`` the calling
process)."""

from __future__ import annotations

import errno
import signal
from typing import Any

from stepbox.core.kernel.capabilities import CAPABILITIES, capability_mask, capability_names

from .flow import EPERM, ESRCH, oserror

# prctl(2) options the simulated kernel answers (<linux/prctl.h>); any other is EINVAL.
PR_CAPBSET_READ = 23
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_CLEAR_ALL = 1, 2, 3, 4
CAP_LAST_CAP = len(CAPABILITIES) - 1

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

    # -- capabilities and no_new_privs -----------------------------------------------------------
    def capget(self) -> tuple[int, int, int]:
        """capget(2) of the caller: (effective, permitted, inheritable) masks
        (the simulator keeps effective = permitted)."""
        if self.p.seccomp:
            self._seccomp("capget")
        p = self.p
        caps = capability_mask(p.caps)
        return caps, caps, capability_mask(p.cap_inh)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) of the caller, with commoncap's checks: no new permitted
        capability; the effective set equal to the permitted one (the
        simulator has no separate effective set: anything else is EINVAL);
        new inheritable ones only from the permitted set (or, with
        CAP_SETPCAP, from anywhere) and never outside the bounding set.
        Ambient capabilities no longer permitted and inheritable go."""
        if self.p.seccomp:
            self._seccomp("capset")
        p = self.p
        old_perm, old_inh = capability_mask(p.caps), capability_mask(p.cap_inh)
        if "CAP_SETPCAP" not in p.caps and inheritable & ~(old_inh | old_perm):
            raise oserror(EPERM)
        if inheritable & ~(old_inh | capability_mask(p.cap_bnd)):
            raise oserror(EPERM)
        if permitted & ~old_perm or effective & ~permitted:
            raise oserror(EPERM)
        if effective != permitted:
            raise oserror(errno.EINVAL)
        if self.k.tracer.enabled:
            self.k.tracer.record(
                "capset",
                f"{{version=_LINUX_CAPABILITY_VERSION_3}}, {{effective={effective:#x}, "
                f"permitted={permitted:#x}, inheritable={inheritable:#x}}}",
            )
        p.caps = capability_names(permitted)
        p.cap_inh = capability_names(inheritable)
        p.cap_amb = p.cap_amb & p.caps & p.cap_inh

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        """prctl(2): no_new_privs, the bounding set's bits, ambient capabilities."""
        if self.p.seccomp:
            self._seccomp("prctl", option, arg2, arg3)
        p = self.p
        if option == PR_GET_NO_NEW_PRIVS:
            return int(p.no_new_privs)
        if option == PR_SET_NO_NEW_PRIVS:
            if arg2 != 1:
                raise oserror(errno.EINVAL)
            p.no_new_privs = True  # for good: it is inherited and never cleared
            return 0
        if option == PR_CAPBSET_READ:
            if not 0 <= arg2 <= CAP_LAST_CAP:
                raise oserror(errno.EINVAL)
            return int(CAPABILITIES[arg2] in p.cap_bnd)
        if option == PR_CAP_AMBIENT:
            if arg2 == PR_CAP_AMBIENT_CLEAR_ALL:
                p.cap_amb = frozenset()
                return 0
            if not 0 <= arg3 <= CAP_LAST_CAP:
                raise oserror(errno.EINVAL)
            name = CAPABILITIES[arg3]
            if arg2 == PR_CAP_AMBIENT_IS_SET:
                return int(name in p.cap_amb)
            if arg2 == PR_CAP_AMBIENT_RAISE:
                if name not in p.caps or name not in p.cap_inh:
                    raise oserror(EPERM)
                p.cap_amb = p.cap_amb | {name}
                return 0
            if arg2 == PR_CAP_AMBIENT_LOWER:
                p.cap_amb = p.cap_amb - {name}
                return 0
        raise oserror(errno.EINVAL)

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
