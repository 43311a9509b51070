"""Control groups of the simulated kernel: what a group of processes may use.

The simulator presents the cgroup-v2 *unified* hierarchy (one tree at
``/sys/fs/cgroup``, every controller in it), whatever host it runs on.  Each
:class:`Cgroup` keeps the counters the kernel keeps, and the rest of the
simulated kernel calls in at the moments the real one does:

* memory -- :meth:`SimCgroups.charge_memory` on every ``Sys.alloc``: the charge
  goes to the process's cgroup *and every ancestor* (limits are
  hierarchical); over ``memory.max`` the OOM killer picks the task using the
  most memory *in that cgroup* and SIGKILLs it (``memory.events``: ``oom``
  and ``oom_kill`` go up by one) -- so a container's OOM never kills a
  process outside it;
* pids -- :meth:`SimCgroups.charge_fork` on every fork: over ``pids.max`` the
  fork fails with EAGAIN and ``pids.events max`` counts it (a fork bomb
  stops here);
* cpu -- :meth:`SimCgroups.cpu_grant` whenever a process wants to burn CPU:
  in each period of ``cpu_period_us`` the group may use ``cpu_quota_us``;
  after that its tasks are *throttled* until the next period (``cpu.stat``:
  ``nr_periods``, ``nr_throttled``, ``throttled_usec``);
* freezer -- ``cgroup.freeze``: the scheduler does not run frozen tasks;
* devices -- as on a real cgroup-v2 host, a device "program" attached to the
  group (:meth:`SimCgroups.set_devices`): :meth:`SimCgroups.device_permits`
  is asked at every open and mknod of a device file, and every group up the
  chain that has one must allow it (programs attached with BPF_F_ALLOW_MULTI).
"""

from __future__ import annotations

import errno
import functools
import signal
from typing import TYPE_CHECKING

from stepbox.core.kernel.cgroups import CgroupLimits, Cgroups, CgroupStats
from stepbox.core.kernel.devices import DeviceAllowlist, DeviceRule
from stepbox.core.kernel.errors import KernelError

from .flow import EAGAIN, ENOMEM, Killed, oserror
from .kmsg import KERN_ERR

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

CGROUP_ROOT = "/sys/fs/cgroup"


class CgroupBusy(KernelError, OSError):
    """rmdir of a cgroup that still has processes: EBUSY.  Both a
    :class:`KernelError` (what the Linux backend raises after retrying) and
    an :class:`OSError` with ``errno.EBUSY``."""


class Cgroup:
    """One directory of the cgroup tree and its counters."""

    __slots__ = (
        "name",
        "path",
        "parent",
        "children",
        "chain",
        "procs",
        "limits",
        "memory_current",
        "memory_events",
        "pids_current",
        "pids_events_max",
        "cpu_usage_usec",
        "nr_periods",
        "nr_throttled",
        "throttled_usec",
        "window",
        "used_in_window",
        "throttled_in_window",
        "freeze",
        "frozen_eff",
        "removed",
        "devices",
    )

    def __init__(self, name: str, parent: Cgroup | None):
        self.name = name
        self.parent = parent
        self.path: str = f"{parent.path}/{name}".lstrip("/") if parent else ""
        # self first, then every ancestor up to the root: what a charge walks.
        self.chain: tuple[Cgroup, ...] = (self,) + parent.chain if parent else (self,)
        self.children: dict[str, Cgroup] = {}
        self.procs: dict[Process, None] = {}  # live tasks, in order of arrival
        self.limits = CgroupLimits()
        self.memory_current = 0
        self.memory_events = {"oom": 0, "oom_kill": 0}
        self.pids_current = 0  # tasks in this subtree, zombies included
        self.pids_events_max = 0
        self.cpu_usage_usec = 0
        self.nr_periods = 0
        self.nr_throttled = 0
        self.throttled_usec = 0
        self.window = -1  # index of the current cpu period
        self.used_in_window = 0
        self.throttled_in_window = False
        self.freeze = False  # cgroup.freeze as written
        self.frozen_eff: bool = parent.frozen_eff if parent else False  # self or an ancestor
        self.removed = False
        self.devices: DeviceAllowlist | None = None  # the attached device program, if any

    def __repr__(self) -> str:
        return f"<Cgroup /{self.path}>"

    def subtree(self):
        yield self
        for child in list(self.children.values()):
            yield from child.subtree()

    def dir(self) -> str:
        return f"{CGROUP_ROOT}/{self.path}" if self.path else CGROUP_ROOT


class SimCgroups(Cgroups):
    """The :class:`Cgroups` interface over the simulated tree.  Paths are
    relative to the root ("stepbox/ID"); :meth:`list` reports what is below
    ``prefix`` (like the Linux backend)."""

    def __init__(self, kernel: SimKernel, prefix: str = "stepbox"):
        self.k = kernel
        self.root = Cgroup("", None)
        self.prefix = prefix

    # -- finding groups ---------------------------------------------------------------
    def lookup(self, path: str) -> Cgroup | None:
        node = self.root
        for part in path.strip("/").split("/"):
            if part:
                child = node.children.get(part)
                if child is None:
                    return None
                node = child
        return node

    def _get(self, path: str) -> Cgroup:
        node = self.lookup(path)
        if node is None:
            raise oserror(errno.ENOENT, f"{CGROUP_ROOT}/{path.strip('/')}")
        return node

    # -- the interface ----------------------------------------------------------------
    def create(self, path: str) -> None:
        node = self.root
        for part in path.strip("/").split("/"):
            if not part:
                continue
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = Cgroup(part, node)
                if self.k.tracer.enabled:
                    self.k.tracer.record("mkdir", f'"{child.dir()}", 0755')
            node = child

    def set_limits(self, path: str, limits: CgroupLimits) -> None:
        cg = self._get(path)
        cg.limits = limits
        tracer = self.k.tracer
        if tracer.enabled:
            if limits.memory_bytes is not None:
                tracer.record(f"write {cg.dir()}/memory.max", f'"{limits.memory_bytes}"')
            if limits.pids_max is not None:
                tracer.record(f"write {cg.dir()}/pids.max", f'"{limits.pids_max}"')
            if limits.cpu_quota_us is not None:
                tracer.record(f"write {cg.dir()}/cpu.max", f'"{limits.cpu_quota_us} {limits.cpu_period_us}"')
        if limits.memory_bytes is not None and cg.memory_current > limits.memory_bytes:
            # Lowering memory.max below the usage: the kernel reclaims, and
            # what it cannot reclaim (everything, here) the OOM killer frees.
            self._enforce_memory(cg, None)

    def set_devices(self, path: str, rules: list[DeviceRule]) -> None:
        cg = self._get(path)
        allowlist = _allowlist_of(tuple(rules))
        if self.k.tracer.enabled:
            # What the Linux backend does on cgroup v2 (the simulator's layout).
            self.k.tracer.record(
                "bpf",
                "BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, "
                f'insn_cnt={_device_program_length(allowlist)}, license="Apache"}}',
            )
            self.k.tracer.record(
                "bpf",
                f'BPF_PROG_ATTACH, {{target_fd=open("{cg.dir()}"), attach_type=BPF_CGROUP_DEVICE, '
                "BPF_F_ALLOW_MULTI}",
            )
        cg.devices = allowlist

    def device_rules(self, path: str) -> list[str]:
        cg = self._get(path)
        return cg.devices.listing() if cg.devices is not None else []

    @staticmethod
    def device_permits(cg: Cgroup, kind: str, major: int, minor: int, access: str) -> bool:
        """The kernel's check at open(2)/mknod(2) of a device file."""
        for node in cg.chain:
            if node.devices is not None and not node.devices.permits(kind, major, minor, access):
                return False
        return True

    def add_process(self, path: str, pid: int) -> None:
        cg = self._get(path)
        proc = self.k.procs.get(pid)
        if self.k.tracer.enabled:
            self.k.tracer.record(f"write {cg.dir()}/cgroup.procs", f'"{pid}"')
        self.move(proc, cg)

    def procs(self, path: str) -> list[int]:
        return sorted(p.pid for p in self._get(path).procs)

    def stats(self, path: str) -> CgroupStats:
        cg = self._get(path)
        return CgroupStats(
            memory_current=cg.memory_current,
            memory_max=cg.limits.memory_bytes,
            memory_events=dict(cg.memory_events),
            pids_current=cg.pids_current,
            pids_max=cg.limits.pids_max,
            pids_events_max=cg.pids_events_max,
            cpu_usage_usec=cg.cpu_usage_usec,
            cpu_nr_periods=cg.nr_periods,
            cpu_nr_throttled=cg.nr_throttled,
            cpu_throttled_usec=cg.throttled_usec,
            frozen=cg.frozen_eff,
        )

    def freeze(self, path: str) -> None:
        cg = self._get(path)
        if self.k.tracer.enabled:
            self.k.tracer.record(f"write {cg.dir()}/cgroup.freeze", '"1"')
        cg.freeze = True
        self._refreeze(cg)

    def thaw(self, path: str) -> None:
        cg = self._get(path)
        if self.k.tracer.enabled:
            self.k.tracer.record(f"write {cg.dir()}/cgroup.freeze", '"0"')
        cg.freeze = False
        self._refreeze(cg)
        self.k.sched.unpark()

    def remove(self, path: str) -> None:
        cg = self.lookup(path)
        if cg is None or cg is self.root:
            return
        groups = list(cg.subtree())
        for g in groups:
            if g.procs:
                raise CgroupBusy(
                    errno.EBUSY,
                    f"cannot remove cgroup {g.dir()}: it still has processes (rmdir: EBUSY); kill them first",
                )
        for g in reversed(groups):  # deepest first, as rmdir must
            g.removed = True
            # Its own counters go with it; a zombie released later still
            # uncharges the ancestors, so the chain keeps those.  (It began
            # with the cgroup itself: a cycle that left every removed cgroup,
            # with all it holds, to the garbage collector -- the collector's
            # time was ~4% of a simulated lifecycle.)
            g.chain = g.chain[1:]
            del g.parent.children[g.name]
            if self.k.tracer.enabled:
                self.k.tracer.record("rmdir", f'"{g.dir()}"')

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def list(self) -> list[str]:
        top = self.lookup(self.prefix)
        if top is None:
            return []
        return sorted(g.path for g in top.subtree() if g is not top)

    # -- what the rest of the kernel calls ------------------------------------------
    def move(self, proc: Process, cg: Cgroup) -> None:
        """Migrate a task (write to cgroup.procs).  Its pids charge moves
        with it; migration is never refused for pids.max (the kernel only
        checks at fork).  Its memory charge moves too (see SIMPLIFICATIONS)."""
        old = proc.cgroup
        if old is cg:
            return
        old.procs.pop(proc, None)
        for c in old.chain:
            c.pids_current -= 1
            c.memory_current -= proc.mem
        cg.procs[proc] = None
        for c in cg.chain:
            c.pids_current += 1
            c.memory_current += proc.mem
        proc.cgroup = cg

    def charge_fork(self, cg: Cgroup) -> None:
        """A new task in ``cg``: refused with EAGAIN if any level's pids.max
        would be exceeded (that level's ``pids.events max`` counts it)."""
        for c in cg.chain:
            limit = c.limits.pids_max
            if limit is not None and c.pids_current >= limit:
                c.pids_events_max += 1
                raise oserror(EAGAIN)
        for c in cg.chain:
            c.pids_current += 1

    def uncharge_task(self, proc: Process) -> None:
        """A task is released (reaped): its pids charge goes."""
        self.uncharge_task_in(proc.cgroup)

    def uncharge_task_in(self, cg: Cgroup) -> None:
        for c in cg.chain:
            c.pids_current -= 1

    def charge_memory(self, proc: Process, nbytes: int) -> None:
        """``Sys.alloc``: charge, then OOM-kill while some level is over its
        limit.  If the caller is the victim it never returns (Killed)."""
        proc.mem += nbytes
        over = None
        for c in proc.cgroup.chain:
            c.memory_current += nbytes
            limit = c.limits.memory_bytes
            if over is None and limit is not None and c.memory_current > limit:
                over = c
        if over is not None:
            self._enforce_memory(over, proc)

    def uncharge_memory(self, proc: Process, nbytes: int) -> None:
        nbytes = min(nbytes, proc.mem)
        proc.mem -= nbytes
        for c in proc.cgroup.chain:
            c.memory_current -= nbytes

    def _enforce_memory(self, cg: Cgroup, caller: Process | None) -> None:
        """The memory-cgroup OOM killer (mm/memcontrol.c, mm/oom_kill.c)."""
        limit = cg.limits.memory_bytes
        while limit is not None and cg.memory_current > limit:
            for c in cg.chain:
                c.memory_events["oom"] += 1
            victim = None
            for g in cg.subtree():
                for p in g.procs:
                    # Ties go to the task met last, as oom_evaluate_task does.
                    if p.mem > 0 and (victim is None or p.mem >= victim.mem):
                        victim = p
            if victim is None:
                # Nothing to kill frees anything: the allocation itself fails.
                if caller is not None:
                    raise oserror(ENOMEM)
                return
            for c in cg.chain:
                c.memory_events["oom_kill"] += 1
            if self.k.tracer.enabled:
                self.k.tracer.record("oom_kill", f"pid {victim.pid} in /{cg.path}, {victim.mem} bytes")
            victim.oom_killed = True
            self.k.klog.printk(
                KERN_ERR,
                f"Memory cgroup out of memory: Killed process {victim.pid} ({victim.comm}) "
                f"total-vm:{victim.mem // 1024}kB, anon-rss:{victim.mem // 1024}kB, file-rss:0kB, "
                f"shmem-rss:0kB, UID:{victim.uid} pgtables:0kB oom_score_adj:0",
            )
            self.k.procs.kill_now(victim, signal.SIGKILL)
            if victim is caller:
                raise Killed(signal.SIGKILL)

    def cpu_grant(self, cg: Cgroup, now: int, want: int) -> tuple[int, int]:
        """How much of ``want`` µs the group may run now, and if none, until
        when it is throttled (CFS bandwidth control, per period)."""
        grant = want
        for c in cg.chain:
            quota = c.limits.cpu_quota_us
            if quota is None:
                continue
            period = c.limits.cpu_period_us
            window = now // period
            if window != c.window:
                c.window = window
                c.used_in_window = 0
                c.throttled_in_window = False
                c.nr_periods += 1
            end = (window + 1) * period
            avail = quota - c.used_in_window
            if avail <= 0:
                if not c.throttled_in_window:
                    c.throttled_in_window = True
                    c.nr_throttled += 1
                    c.throttled_usec += end - now
                return 0, end
            grant = min(grant, avail, end - now)
        return grant, 0

    def charge_cpu(self, cg: Cgroup, usec: int) -> None:
        for c in cg.chain:
            c.cpu_usage_usec += usec
            if c.limits.cpu_quota_us is not None:
                c.used_in_window += usec

    def _refreeze(self, cg: Cgroup) -> None:
        for g in cg.subtree():
            g.frozen_eff = g.freeze or (g.parent is not None and g.parent.frozen_eff)


@functools.lru_cache(maxsize=64)
def _allowlist_of(rules: tuple[DeviceRule, ...]) -> DeviceAllowlist:
    """The device program a list of rules makes, made once per list: every
    container of the same confinement attaches the same one (~10 µs of each
    simulated start, issue 18).  Safe to share because an attached program
    is never changed -- set_devices attaches a new one, as the kernel
    replaces a BPF program -- and rules are values (frozen DeviceRule), so
    the same rules always make the same program: nothing to invalidate."""
    return DeviceAllowlist.from_rules(rules)


def _device_program_length(allowlist: DeviceAllowlist) -> int:
    """How many instructions the Linux backend's program for this list has
    (6 to load the context, one block per exception, 2 for the default)."""
    length = 6 + 2
    for rule in allowlist.rules()[1:]:
        length += 3  # type test, answer, exit
        if set(rule.access) != set("rwm"):
            length += 3
        length += (rule.major != -1) + (rule.minor != -1)
    return length
