"""``stepbox-runc``'s entry point: ``create`` and ``exec`` run from a sealed
copy of the interpreter.

Those two commands make processes that enter a container.  Forked from
this program, their ``/proc/PID/exe`` is this program's binary -- the host's
python, writable by root: a process in the container that reaches one of
them could overwrite it (CVE-2019-5736, runc's own binary overwritten
through ``/proc/PID/exe`` of ``runc init``).  So, before importing anything
of stepbox, the command re-executes itself from a sealed memfd copy of the
interpreter (:func:`.sealed.sealed_interpreter`; runc does the same with
its ``cloned_binary``) and then forks the shims itself
(:class:`.launcher.ForkingLauncher`).  Cheaper than starting the launcher
interpreter (an engine's way, safe for a threaded program): one bare
interpreter start-up and a copy of a small binary, instead of a second
interpreter importing the shim's code.

The other commands (start, state, kill, delete...) make no process and run
as they are.
"""

from __future__ import annotations

import os
import sys

SEALED_COMMANDS = ("create", "exec")


def _command(argv: list[str]) -> str | None:
    """The verb of a runc command line (the first word not an option or an
    option's value)."""
    takes_value = {"--root", "--log", "--log-format", "--criu", "--rootless"}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in takes_value:
            i += 2
            continue
        if not word.startswith("-"):
            return word
        i += 1
    return None


def run() -> None:
    if _command(sys.argv[1:]) in SEALED_COMMANDS:
        from .sealed import running_sealed, sealed_interpreter

        if not running_sealed():
            interpreter = sealed_interpreter()  # close-on-exec: not inherited past the exec
            # argv[0] stays the interpreter's path (Python finds its prefix
            # and venv from it); sys.orig_argv: the script and its arguments.
            os.execv(f"/proc/self/fd/{interpreter}", [sys.executable, *sys.orig_argv[1:]])
    from stepbox.core.runtime.cli import run as runc

    runc()
