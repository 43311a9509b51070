"""How a simulated program leaves its normal flow of control.

A real process leaves the code it is running in three ways the kernel takes
care of: it calls ``_exit``, it calls ``execve`` (the old program is thrown
away and a new one starts in the same process), or it is killed by a
signal.  In the simulator a program is a Python generator, so those three
are exceptions that unwind the generator and are caught by the scheduler.

They derive from :class:`BaseException`, not :class:`Exception`, so that a
program's ``except Exception:`` (or ``except OSError:``) cannot swallow them
-- just as no C code can "catch" ``_exit``.
"""

from __future__ import annotations

import errno as _errno
import os


class ProgramExit(BaseException):
    """``_exit(status)``: the process ends now with this exit status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status & 0xFF


class ExecReplace(BaseException):
    """A successful ``execve``: the scheduler swaps the process's program.

    ``gen`` is the new program's generator, already created with the
    process's :class:`Sys`.  The old generator's frames unwind on the way out
    (their ``finally`` blocks run -- a real ``execve`` runs none: see
    SIMPLIFICATIONS.md)."""

    def __init__(self, gen):
        super().__init__()
        self.gen = gen


class Killed(BaseException):
    """The running process was killed (by SIGKILL, the OOM killer, or a
    signal whose default action terminates) while it was inside a syscall.
    The kernel has already made it a zombie; this only unwinds its code."""

    def __init__(self, sig: int):
        super().__init__(sig)
        self.sig = sig


_STRERROR: dict[int, str] = {}


def oserror(code: int, path: str | None = None) -> OSError:
    """An :class:`OSError` shaped like the ones ``os.*`` raise, so a test can
    compare the simulator's errors with the real kernel's."""
    text = _STRERROR.get(code)
    if text is None:
        text = _STRERROR[code] = os.strerror(code)
    if path is None:
        return OSError(code, text)
    return OSError(code, text, path)


EPERM, ENOENT, ESRCH, EINTR, EBADF, ECHILD, EAGAIN, ENOMEM = (
    _errno.EPERM,
    _errno.ENOENT,
    _errno.ESRCH,
    _errno.EINTR,
    _errno.EBADF,
    _errno.ECHILD,
    _errno.EAGAIN,
    _errno.ENOMEM,
)
