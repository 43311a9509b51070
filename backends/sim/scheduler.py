"""The scheduler: processes as generators on a virtual clock.

A real CPU runs one task until it blocks in a system call or its time slice
ends; the kernel then picks the next runnable task.  Here each process is a
Python generator (see :mod:`.sys_api`): *running* it means ``send``-ing into
it until it yields a :class:`Block` -- the thing it now waits for.  The
scheduler files the process under that block and runs the next one from the
run queue, strictly first-in first-out, so every run is deterministic.

Time is **virtual**: the clock (``now``, in microseconds) advances by the CPU
the processes use -- a small fixed cost per resumption, plus whatever
:meth:`Sys.burn` asks for -- and *jumps* to the next timer when every
process is blocked.  ``sleep 100`` therefore takes no real time at all, yet
a process that burns 1 s of CPU under ``--cpus 0.5`` really takes 2 virtual
seconds, because its cgroup is throttled for half of every period.

A program must yield (call a blocking ``Sys`` method) to let others run: a
generator that loops forever without yielding hangs the whole simulator,
just as a real kernel without preemption would.  There is no way to preempt
a Python generator from outside; every blocking call is a scheduling point.
"""

from __future__ import annotations

import heapq
import signal
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from stepbox.core.kernel.errors import KernelError

from .flow import ExecReplace, Killed, ProgramExit
from .sys_api import Block

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

RESUME_COST_USEC = 2  # CPU used each time a process runs (the syscalls it made)
TIMESLICE_USEC = 4000  # burn() gives the CPU up at least this often (CONFIG_HZ=250)


class KBlock(Block):
    """A kernel-side block: knows how to file the process that yields it.
    ``interruptible`` blocks are ended early by a signal with a handler
    (the blocking call then fails with EINTR, or returns early for sleep)."""

    __slots__ = ()
    interruptible = True

    def park(self, sched: Scheduler, proc: Process) -> None:
        proc.block = self
        proc.state = "S"


class Yield(KBlock):
    """sched_yield(): go to the back of the run queue."""

    __slots__ = ()

    def park(self, sched, proc):
        sched.runq.append(proc)


YIELD = Yield()


class Sleep(KBlock):
    """nanosleep(): a timer wakes the process at ``until`` (µs)."""

    __slots__ = ("until",)

    def __init__(self, until: int):
        self.until = until

    def park(self, sched, proc):
        proc.block = self
        proc.state = "S"
        sched.add_timer(self.until, proc, self)


class Forever(KBlock):
    """Sleeping with no end (``sleep infinity``): no timer at all, so the
    scheduler can tell that nothing will ever wake this process."""

    __slots__ = ()


class Pause(KBlock):
    """pause(): until a signal arrives."""

    __slots__ = ()


class WaitChild(KBlock):
    """wait4(): until a child changes state (exits)."""

    __slots__ = ()

    def park(self, sched, proc):
        proc.block = self
        proc.state = "S"
        proc.waiting_child = True


class PipeWait(KBlock):
    """read() on an empty pipe whose write end is still open."""

    __slots__ = ("pipe",)

    def __init__(self, pipe):
        self.pipe = pipe

    def park(self, sched, proc):
        proc.block = self
        proc.state = "S"
        self.pipe.waiters.append(proc)


class Throttled(KBlock):
    """The process's cgroup used its CPU quota: it runs again when the next
    period starts.  Not a syscall, so signals do not end it early."""

    __slots__ = ("until",)
    interruptible = False

    def __init__(self, until: int):
        self.until = until

    def park(self, sched, proc):
        proc.block = self
        proc.state = "R"  # throttled tasks are runnable, just not run
        sched.add_timer(self.until, proc, self)


class Scheduler:
    """Run queue, timers and the virtual clock."""

    def __init__(self, kernel: SimKernel):
        self.k = kernel
        self.now = 0  # virtual µs since boot
        self.runq: deque[Process] = deque()
        self.timers: list[tuple[int, int, Process, KBlock]] = []
        self._seq = 0
        self.parked: list[Process] = []  # runnable but frozen or stopped
        self.current: Process | None = None  # the kernel's `current`
        # The network's link to the real world (net/outside.py), once the
        # engine opened a real socket: called with how long the system may
        # wait for real I/O (µs, None: no limit); True if anything arrived.
        self.io_poll: Callable[[int | None], bool] | None = None

    # -- making processes runnable ------------------------------------------------
    def start(self, proc: Process) -> None:
        """A process got a program (fork or exec): queue its first run."""
        proc.block = None
        proc.send_value = None
        if proc.state != "T":
            proc.state = "R"
        self.runq.append(proc)

    def wake(self, proc: Process, value=None, interrupted: bool = False) -> None:
        if proc.block is None or proc.state in "ZX":
            return
        proc.block = None
        proc.send_value = value
        proc.interrupted = interrupted
        proc.waiting_child = False
        if proc.state != "T":
            proc.state = "R"
        self.runq.append(proc)

    def add_timer(self, when: int, proc: Process, block: KBlock) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (when, self._seq, proc, block))

    def unpark(self) -> None:
        """Re-queue parked processes that may run again (thaw, SIGCONT)."""
        still = []
        for proc in self.parked:
            if proc.state in "ZX":
                continue
            if proc.stopped or proc.cgroup.frozen_eff:
                still.append(proc)
            else:
                self.runq.append(proc)
        self.parked = still

    def charge(self, proc: Process, usec: int) -> None:
        """``proc`` used ``usec`` of CPU: the (single) CPU's clock moves on."""
        self.now += usec
        proc.cpu_usec += usec
        self.k.cgroups.charge_cpu(proc.cgroup, usec)

    # -- running ----------------------------------------------------------------------
    def _fire_timers(self) -> None:
        timers, now = self.timers, self.now
        while timers and timers[0][0] <= now:
            _, _, proc, block = heapq.heappop(timers)
            if proc.block is block:
                self.wake(proc)

    def run_until(self, done: Callable[[], bool], deadline: int | None = None) -> bool:
        """Run processes until ``done()``; False if it can never become true
        (nothing runnable, no timers) or the virtual ``deadline`` passed."""
        runq = self.runq
        io = self.io_poll
        if io is not None:
            io(0)
        while not done():
            if self.timers and self.timers[0][0] <= self.now:
                self._fire_timers()
            if runq:
                self._run(runq.popleft())
                if deadline is not None and self.now > deadline:
                    return done()
                continue
            if io is not None:
                # Idle: what the real world sends may wake someone.  Wait for
                # it in real time, up to the next timer or the deadline.
                soonest = [t for t in (self.timers[0][0] if self.timers else None, deadline) if t is not None]
                if io(max(0, min(soonest) - self.now) if soonest else None):
                    continue
                if deadline is not None and self.now >= deadline:
                    return done()
            if not self.timers:
                if deadline is not None and self.now < deadline:
                    self.now = deadline
                return False
            when = self.timers[0][0]
            if deadline is not None and when > deadline:
                self.now = max(self.now, deadline)
                return False
            if when > self.now:
                self.now = when
        return True

    def run_for(self, usec: int) -> None:
        """Let the whole system run for ``usec`` of virtual time."""
        deadline = self.now + usec
        self.run_until(lambda: False, deadline)

    def _run(self, proc: Process) -> None:
        gen = proc.gen
        if gen is None or proc.state in "ZX" or proc.block is not None:
            return  # stale queue entry
        if proc.stopped or proc.cgroup.frozen_eff:
            self.parked.append(proc)
            return
        k = self.k
        self.current = proc
        try:
            if proc.pending:
                k.signals.run_handlers(proc)
                if proc.state in "ZX":
                    return
                gen = proc.gen
            value, proc.send_value = proc.send_value, None
            proc.slice = TIMESLICE_USEC
            while True:
                try:
                    block = gen.send(value)
                    break
                except ExecReplace as e:  # execve succeeded: new program
                    gen = proc.gen = e.gen
                    value = None
        except StopIteration as e:
            status = e.value if isinstance(e.value, int) else 0
            k.procs.exit(proc, (status & 0xFF) << 8)
        except ProgramExit as e:
            k.procs.exit(proc, e.status << 8)
        except Killed as e:
            k.procs.kill_now(proc, e.sig)  # normally already dead
        except Exception as e:  # noqa: BLE001 - a bug in the program
            self._crash(proc, e)
        else:
            if proc.state not in "ZX":
                if isinstance(block, KBlock):
                    block.park(self, proc)
                else:
                    self._crash(proc, TypeError(f"program yielded {block!r}; yield only from Sys calls"))
        finally:
            self.current = None
            self.charge(proc, RESUME_COST_USEC)

    def _crash(self, proc: Process, exc: BaseException) -> None:
        """An exception escaped a program: a bug in the simulated userland.
        The kernel's answer to a crashing program is SIGSEGV; the traceback
        goes to the process's stderr so the bug can be found."""
        text = "".join(traceback.format_exception(exc))
        err = proc.fds.get(2)
        if err is not None:
            try:
                err.write(self.k, f"sim: program crashed:\n{text}".encode())
            except Exception:  # noqa: BLE001
                pass
        self.k.procs.kill_now(proc, signal.SIGSEGV)
        if self.k.raise_program_errors:
            raise KernelError(f"simulated program {proc.comm!r} (pid {proc.pid}) crashed") from exc
