"""unshare(2) and setns(2): a process changing its own namespaces (mixin of
:class:`.syscalls.SimSys`: ``self.k`` is the kernel, ``self.p`` the calling
process).

The simulated kernel has no namespace file descriptors of its own kind:
``open_namespace`` is open(2) of a path that may name a /proc/PID/ns link
(Linux's magic link to an nsfs inode), giving an fd ``setns`` accepts; any
other file opens as open(2) would, and ``setns`` then says EINVAL.

What is modelled: new or joined mount, UTS, IPC, network, PID and cgroup
namespaces, with Linux's checks (CAP_SYS_ADMIN; seccomp first, which
refuses both calls in a default container).  Not modelled: user namespaces
made or joined from inside (CLONE_NEWUSER: EINVAL; see SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import errno
import re
from typing import Any

from .files import OpenFile
from .flow import EPERM, oserror
from .namespaces import PidNamespace, namespace_of
from .rlimits import fd_limit

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
# unshare(2)'s other flags: CLONE_FS, CLONE_FILES, CLONE_SYSVSEM, CLONE_THREAD,
# CLONE_SIGHAND, CLONE_VM, CLONE_NEWTIME -- accepted and, for a single-threaded
# simulated process, nothing to do (CLONE_NEWTIME: the simulator has one clock).
_HARMLESS = 0x00000200 | 0x00000400 | 0x00040000 | 0x00010000 | 0x00000800 | 0x00000100 | 0x00000080
KIND_OF_FLAG = {
    CLONE_NEWNS: "mnt",
    CLONE_NEWCGROUP: "cgroup",
    CLONE_NEWUTS: "uts",
    CLONE_NEWIPC: "ipc",
    CLONE_NEWUSER: "user",
    CLONE_NEWPID: "pid",
    CLONE_NEWNET: "net",
}
FLAG_OF_KIND = {kind: flag for flag, kind in KIND_OF_FLAG.items()}
_NS_LINK = re.compile(r"(\w+):\[(\d+)\]")


class NamespaceFile(OpenFile):
    """An open /proc/PID/ns/KIND: holds the namespace; reading it is EINVAL."""

    __slots__ = ("kind", "ns")

    def __init__(self, kind: str, ns: Any):
        super().__init__(0)
        self.kind, self.ns = kind, ns


class NsSyscalls:
    __slots__ = ()
    k: Any
    p: Any
    _seccomp: Any  # SimSys's
    open: Any
    readlink: Any

    def unshare(self, flags: int) -> None:
        if self.p.seccomp:
            self._seccomp("unshare", flags)
        p = self.p
        known = _HARMLESS | sum(KIND_OF_FLAG)
        if flags & ~known:
            raise oserror(errno.EINVAL)
        if flags & CLONE_NEWUSER:
            raise oserror(errno.EINVAL)  # not modelled (SIMPLIFICATIONS.md, "unshare")
        kinds = {kind for flag, kind in KIND_OF_FLAG.items() if flags & flag}
        if not kinds:
            return
        if "CAP_SYS_ADMIN" not in p.caps:
            raise oserror(EPERM)
        if "pid" in kinds and p.ns.pid_for_children is not p.pidns:
            raise oserror(errno.EINVAL)  # already unshared: children go to a PID namespace not yet entered
        if self.k.tracer.enabled:
            names = "|".join(f"CLONE_NEW{kind.upper()}" for kind in sorted(kinds))
            self.k.tracer.record("unshare", names)
        ns, _pidns = self.k.clone_namespaces(p, kinds)
        if "cgroup" in kinds:
            ns.cgroup.root = p.cgroup
        p.ns = ns

    def open_namespace(self, path: str) -> int:
        """open(path, O_RDONLY), where a /proc/PID/ns/KIND link opens the
        namespace it names (as nsfs does)."""
        try:
            target = self.readlink(path) if path.rstrip("/") == path else ""
        except OSError:
            target = ""
        m = _NS_LINK.fullmatch(target)
        ns = self._namespace_named(m.group(1), int(m.group(2))) if m and "/ns/" in path else None
        if ns is None or m is None:
            return self.open(path)
        from .syscalls import lowest_free_fd

        fd = lowest_free_fd(self.p.fds, fd_limit(self.p.rlimits))  # EMFILE as open(2)
        self.p.fds[fd] = NamespaceFile(m.group(1), ns)
        return fd

    def _namespace_named(self, kind: str, inode: int):
        kind = "pid" if kind == "pid_for_children" else kind
        for proc in self.k.procs.all():
            if not proc.alive:
                continue
            candidates = [namespace_of(proc, kind)] if kind != "time" else []
            if kind == "pid":
                candidates.append(proc.ns.pid_for_children)
            for ns in candidates:
                if ns.inode == inode:
                    return ns
        return None

    def setns(self, fd: int, nstype: int) -> None:
        if self.p.seccomp:
            self._seccomp("setns", fd, nstype)
        p = self.p
        f = p.fds.get(fd)
        if f is None:
            raise oserror(errno.EBADF)
        if not isinstance(f, NamespaceFile):
            raise oserror(errno.EINVAL)
        if nstype and FLAG_OF_KIND.get(f.kind) != nstype:
            raise oserror(errno.EINVAL)
        if f.kind == "user":
            # Joining one's own user namespace is EINVAL on Linux; others
            # are not modelled (SIMPLIFICATIONS.md, "unshare").
            raise oserror(errno.EINVAL)
        if "CAP_SYS_ADMIN" not in p.caps:
            raise oserror(EPERM)
        if self.k.tracer.enabled:
            self.k.tracer.record("setns", f"{fd}, CLONE_NEW{f.kind.upper()}")
        if f.kind == "pid":
            target: PidNamespace = f.ns
            level = p.pidns.level
            if target.level < level or target.levels[level] is not p.pidns:
                raise oserror(errno.EINVAL)  # not the caller's namespace or a descendant
            p.ns = p.ns.replace(pid_for_children=target)
            return
        p.ns = p.ns.replace(**{f.kind: f.ns})
        if f.kind == "mnt":
            # mntns_install: root and working directory become the namespace's root.
            table = f.ns.table
            p.root = p.cwd = table.top(table.root_id)
