"""Watching the Stepper: which steps run, and what each asks of the kernel.

:class:`StepWatch` listens to every Stepper (``steps.listen``) and to one
kernel's tracer.  It keeps the keys of the steps that ran, the kernel
operations each made, and any operation made outside a step -- which the
house rule (every lifecycle change is steps of the plan) says never happens.
Steps may run in several threads (the daemon's exit monitors): what is
"inside a step" is kept per thread.
"""

from __future__ import annotations

import threading

from stepbox.core.container import steps


class StepWatch:
    def __init__(self, kernel):
        self.keys: list[str] = []
        self.ops: list[tuple[str, list[str]]] = []  # (step key, its kernel operations)
        self.outside: list[str] = []
        self._current = threading.local()
        self._lock = threading.Lock()
        self._tracer = tracer = kernel.tracer
        self._record = tracer.record

        def record(call: str, detail: str = "") -> None:
            step = getattr(self._current, "step", None)
            op = f"{call}({detail})"
            with self._lock:
                if step is None:
                    self.outside.append(op)
                else:
                    self.ops[step][1].append(op)
            self._record(call, detail)

        tracer.record = record
        self._stop = steps.listen(self._heard)

    def _heard(self, ctx, step) -> None:
        if ctx.tracer is not self._tracer:
            return  # another kernel's steps (the listeners are global)
        if step is None:
            self._current.step = None
            return
        with self._lock:
            self.keys.append(step.key)
            self.ops.append((step.key, []))
            self._current.step = len(self.ops) - 1

    def take(self) -> list[str]:
        """The keys of the steps run since the last take."""
        with self._lock:
            keys, self.keys = self.keys, []
        return keys

    def take_ops(self) -> list[tuple[str, list[str]]]:
        """(step key, kernel operations) for the steps run since the last take."""
        with self._lock:
            ops, self.ops = self.ops, []
            self.keys = []
        return ops

    def close(self) -> None:
        self._stop()
        self._tracer.record = self._record
