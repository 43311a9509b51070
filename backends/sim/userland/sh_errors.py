"""Exceptions the shell uses for control flow and for fatal errors.

``break``, ``continue``, ``return`` and ``exit`` unwind the evaluator's
recursion, so they are exceptions caught where the loop, function or shell
they leave is evaluated.  They derive from :class:`ShellControl`, never
caught by the evaluator's error handling.
"""

from __future__ import annotations


class ShellControl(Exception):
    """Base of the non-error unwinding exceptions."""


class BreakLoop(ShellControl):
    def __init__(self, levels: int) -> None:
        super().__init__(levels)
        self.levels = levels


class ContinueLoop(ShellControl):
    def __init__(self, levels: int) -> None:
        super().__init__(levels)
        self.levels = levels


class ReturnFromFunction(ShellControl):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ShellExit(ShellControl):
    """``exit``, or the end of a subshell: leave this shell process."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ShellFatal(Exception):
    """An error that ends a non-interactive shell (ash's "raise_exception"):
    a syntax error, ``${x?}``, a bad arithmetic expression, a failed fork.
    ``message`` is printed after ``sh: `` unless empty."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
