"""Signals: kill(2), default actions, handlers, and the rule that protects init.

What happens to a signal (``kernel/signal.c``):

1. A zombie ignores everything (it is already dead).
2. **Init is protected.**  The init (PID 1) of a PID namespace only gets
   signals it installed a handler for -- *if they come from inside its
   namespace*.  From an ancestor namespace (the host), SIGKILL and SIGSTOP
   always get through, but SIGTERM still does nothing to an init without a
   handler.  That is why ``docker stop`` sends SIGTERM, waits 10 seconds,
   and then sends SIGKILL: a shell or ``sleep`` running as PID 1 never
   handles SIGTERM.
3. SIGKILL kills and SIGSTOP stops; neither can be caught or ignored.
4. A handler set to SIG_IGN drops the signal.
5. A handler (a callable) runs the next time the process is scheduled; a
   process blocked in a call is woken and the call fails with EINTR.
6. Otherwise the *default action*: terminate (TERM, INT, HUP, QUIT, USR1,
   PIPE, ALRM, ...), ignore (CHLD, URG, WINCH, CONT), stop (TSTP, TTIN, TTOU).
"""

from __future__ import annotations

import signal as _signal
from typing import TYPE_CHECKING

from .flow import ProgramExit

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

SIGKILL, SIGSTOP, SIGCONT = _signal.SIGKILL, _signal.SIGSTOP, _signal.SIGCONT
SIG_DFL, SIG_IGN = _signal.SIG_DFL, _signal.SIG_IGN

IGNORED_BY_DEFAULT = frozenset({_signal.SIGCHLD, _signal.SIGURG, _signal.SIGWINCH, SIGCONT})
STOP_BY_DEFAULT = frozenset({SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU})
UNCATCHABLE = frozenset({SIGKILL, SIGSTOP})


def default_action(sig: int) -> str:
    """ "ignore", "stop" or "terminate" (core-dumping signals terminate too)."""
    if sig in IGNORED_BY_DEFAULT:
        return "ignore"
    if sig in STOP_BY_DEFAULT:
        return "stop"
    return "terminate"


class Signals:
    def __init__(self, kernel: SimKernel):
        self.k = kernel

    def send(self, target: Process, sig: int, sender: Process | None) -> None:
        """Post ``sig`` to ``target``.  ``sender`` None means the kernel or
        the host (an ancestor of every PID namespace)."""
        if target.state in "ZX" or sig == 0:
            return
        handler = target.handlers.get(sig, SIG_DFL)
        if target.pidns.child_reaper is target and handler is SIG_DFL:
            # The init rule (sig_task_ignored + SIGNAL_UNKILLABLE).
            from_ancestor = sender is None or (
                sender.pidns is not target.pidns
                and sender.pidns.level < target.pidns.level
                and target.pidns.levels[sender.pidns.level] is sender.pidns
            )
            if not (from_ancestor and sig in UNCATCHABLE):
                return
        if sig == SIGKILL:
            self.k.procs.kill_now(target, SIGKILL)
            return
        if sig == SIGCONT:
            self._continue(target)
        if sig == SIGSTOP:
            self._stop(target)
            return
        if handler is SIG_IGN:
            return
        if handler is SIG_DFL:
            action = default_action(sig)
            if action == "terminate":
                self.k.procs.kill_now(target, sig)
            elif action == "stop":
                self._stop(target)
            return
        target.pending.append(sig)
        if target.block is not None and target.block.interruptible:
            self.k.sched.wake(target, interrupted=True)

    def run_handlers(self, proc: Process) -> None:
        """Called as ``proc`` is about to run: the pending handlers run
        first, as the kernel runs them on the way back to user space."""
        while proc.pending and proc.state not in "ZX":
            sig = proc.pending.pop(0)
            handler = proc.handlers.get(sig, SIG_DFL)
            if handler is SIG_IGN:
                continue
            if handler is SIG_DFL:  # reset since it was posted
                if default_action(sig) == "terminate":
                    self.k.procs.kill_now(proc, sig)
                continue
            try:
                handler(sig)
            except ProgramExit as e:  # a trap that calls exit
                self.k.procs.exit(proc, e.status << 8)

    def _stop(self, proc: Process) -> None:
        if not proc.stopped:
            proc.stopped = True
            proc.state = "T"

    def _continue(self, proc: Process) -> None:
        if proc.stopped:
            proc.stopped = False
            proc.state = "S" if proc.block is not None or proc.gen is None else "R"
            self.k.sched.unpark()
