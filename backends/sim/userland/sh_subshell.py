"""Processes the shell makes and waits for: subshells (``( ... )``,
``$(...)``, ``&``, pipeline stages) are forked copies of the shell; every
child is waited for, or reaped later if it ran in the background; signals
that arrive run their ``trap`` action between commands.
A part of :class:`~.sh_shell.Shell`.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ..sys_api import WNOHANG, Sys
from .libc import err, errno_is, read_all, strerror
from .sh_base import ShellBase
from .sh_errors import BreakLoop, ContinueLoop, ReturnFromFunction, ShellExit, ShellFatal
from .sh_expand import Expander

if TYPE_CHECKING:  # pragma: no cover
    from .sh_shell import Shell

Gen = Generator[Any, Any, Any]

# Signals whose death a shell does not announce (the user pressed ^C, or a
# pipe reader went away -- both are expected).
_QUIET_SIGNALS = {2, 13, 3}
_SIGNAL_TEXT = {
    1: "Hangup",
    3: "Quit",
    4: "Illegal instruction",
    5: "Trace/breakpoint trap",
    6: "Aborted",
    7: "Bus error",
    8: "Floating point exception",
    9: "Killed",
    10: "User defined signal 1",
    11: "Segmentation fault",
    12: "User defined signal 2",
    14: "Alarm clock",
    15: "Terminated",
    24: "CPU time limit exceeded",
    25: "File size limit exceeded",
    26: "Virtual timer expired",
    27: "Profiling timer expired",
}


def decode_wait_status(raw: int) -> tuple[int, int | None]:
    """(exit code as $? shows it, killing signal or None) from a raw wait
    status -- by hand, because ``os.WIFSIGNALED`` does not exist on Windows."""
    sig = raw & 0x7F
    if sig == 0:
        return (raw >> 8) & 0xFF, None
    return 128 + sig, sig


class Subshells(ShellBase):
    """Mixin of :class:`~.sh_shell.Shell`."""

    def snapshot(self) -> Shell:
        """A copy of this shell's state for a child about to be forked.  It
        must be taken *at fork time*: the child's code runs later, when the
        parent may already have changed its variables (``for i ...; do
        cmd $i & done``)."""
        shell = self.as_shell()
        sub = type(shell).__new__(type(shell))
        sub.__dict__.update(self.__dict__)
        sub.positional = list(self.positional)
        sub.vars = dict(self.vars)
        sub.exported = set(self.exported)
        sub.readonly = set(self.readonly)
        sub.funcs = dict(self.funcs)
        sub.opts = set(self.opts)
        sub.traps = dict(self.traps)
        sub.pending_signals = []
        sub.jobs = []
        sub.reaped = {}
        sub.local_frames = [dict(f) for f in self.local_frames]
        sub.saved_fds = list(self.saved_fds)
        return sub

    def become_child(self, sys: Sys) -> None:
        """Finish turning a snapshot into the forked child running on ``sys``."""
        parent_traps = self.traps
        self.sys = sys
        self.expand = Expander(self.as_shell())
        # traps are reset in a subshell, but ignored signals stay ignored
        self.traps = {k: v for k, v in parent_traps.items() if v == ""}
        for fd in self.saved_fds:  # the parent's saved copies are not ours
            try:
                sys.close(fd)
            except OSError:
                pass
        self.saved_fds = []
        for sig, action in parent_traps.items():
            if sig:
                try:
                    sys.signal(sig, _signal.SIG_IGN if action == "" else None)
                except (OSError, ValueError):
                    pass

    def spawn(self, body: Callable[[Shell], Gen]) -> Gen:
        """Fork a subshell running ``body(subshell)``; returns its PID.
        A failed fork is fatal to a non-interactive ash, with status 2."""
        yield from self.reap_finished()
        sub = self.snapshot()

        def child(csys: Sys) -> Gen:
            sub.become_child(csys)
            return (yield from sub.run_as_process(body))

        try:
            pid = self.sys.fork(child)
        except OSError as e:
            raise ShellFatal(2, f"can't fork: {strerror(e)}") from None
        self.reaped.pop(pid, None)  # an orphan's status under a reused PID
        return pid

    def run_as_process(self, body: Callable[[Shell], Gen]) -> Gen:
        """Run ``body`` as the whole life of this (sub)shell process."""
        try:
            status = yield from body(self.as_shell())
        except ShellExit as e:
            status = e.status
        except ReturnFromFunction as e:
            status = e.status
        except ShellFatal as e:
            if e.message:
                yield from self.error(e.message)
            status = e.status
        except (BreakLoop, ContinueLoop):
            status = 0
        status = yield from self.run_exit_trap(status)
        return status & 0xFF

    def command_substitution(self, source: str) -> Gen:
        """``$(...)``: run ``source`` in a forked subshell whose stdout is a
        pipe; the result is what it wrote, minus trailing newlines.  Its
        status becomes the status of a command that has no command name
        (``x=$(false)`` sets ``$?`` to 1)."""
        read_end, write_end = self.sys.pipe()

        def body(sub: Shell) -> Gen:
            sub.sys.close(read_end)
            sub.sys.dup2(write_end, 1)
            sub.sys.close(write_end)
            return (yield from sub.run_source(source, exit_after=True, first_line=self.lineno))

        try:
            pid = yield from self.spawn(body)
        finally:
            self.sys.close(write_end)
        try:
            data = yield from read_all(self.sys, read_end)
        finally:
            self.sys.close(read_end)
        status = yield from self.wait_pid(pid)
        self.cmdsub_status = status
        self.status = status
        return data.decode("utf-8", "surrogateescape").rstrip("\n")

    # -- waiting ---------------------------------------------------------------------
    def reap_finished(self) -> Gen:
        """Collect finished background jobs so they do not stay zombies
        (which would count against a pids limit)."""
        if not self.jobs:
            return
        while True:
            try:
                res = yield from self.sys.waitpid(-1, WNOHANG)
            except OSError:
                return
            if res is None:
                return
            self.reaped[res.pid] = res.status

    def reap_others(self) -> Gen:
        while True:
            try:
                res = yield from self.sys.waitpid(-1, WNOHANG)
            except OSError:
                return
            if res is None:
                return
            self.reaped[res.pid] = res.status

    def wait_pid(self, pid: int, announce: bool = True) -> Gen:
        """Wait for one child; returns its status as ``$?`` shows it."""
        raw = self.reaped.pop(pid, None)
        while raw is None:
            try:
                res = yield from self.sys.waitpid(pid, 0)
            except OSError as e:
                if errno_is(e, "EINTR"):
                    yield from self.run_pending_traps()
                    continue
                return 127
            if res is None:
                continue
            raw = res.status
        # ash's dowait reaps whatever child ended (waitpid(-1)), orphans
        # handed to it as init too; here those are collected once the child
        # waited for is done (a fork bomb's zombies then fill pids.max while
        # the shell waits, instead of its churn costing real time)
        yield from self.reap_others()
        if pid in self.jobs:
            self.jobs.remove(pid)
        status, sig = decode_wait_status(raw)
        self.last_signal = sig  # an interactive shell ends a ^C'd job's line (sh_interactive)
        if sig is not None and announce and sig not in _QUIET_SIGNALS:
            yield from err(self.sys, _SIGNAL_TEXT.get(sig, f"Signal {sig}") + "\n")
        self.status = status
        return status

    # -- traps -----------------------------------------------------------------------
    def on_signal(self, sig: int) -> None:
        """The handler given to the kernel: remember the signal; the trap
        action runs at the next safe point, between commands (as in ash)."""
        self.pending_signals.append(sig)

    def run_pending_traps(self) -> Gen:
        while self.pending_signals:
            sig = self.pending_signals.pop(0)
            action = self.traps.get(sig)
            if action:
                saved = self.status
                yield from self.run_source(action)
                self.status = saved

    def run_exit_trap(self, status: int) -> Gen:
        action = self.traps.pop(0, None)
        if action:
            self.status = status
            try:
                yield from self.run_source(action)
            except ShellExit as e:
                return e.status
            except ShellFatal as e:
                if e.message:
                    yield from self.error(e.message)
                return e.status
        return status
