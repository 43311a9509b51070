"""``stepbox-runc``'s entry point: ``create`` and ``exec`` run from a sealed
copy of the interpreter.

Those two commands make processes that enter a container.  Forked from this
program, their ``/proc/PID/exe`` would be its binary -- the host's python,
writable by root: a process in the container that reaches one of them could
overwrite it (CVE-2019-5736, runc's binary overwritten through
``/proc/PID/exe`` of ``runc init``).  So before the heavy imports the
command asks the backend to re-execute it from a sealed memfd copy of the
interpreter (runc does the same with its ``cloned_binary``); it then forks
the shims itself.  That is cheaper than what an engine does (start a
launcher interpreter from the sealed copy, safe for a threaded program):
one bare interpreter start-up instead of a second interpreter importing the
shim's code.  The other commands make no process and run as they are.
"""

from __future__ import annotations

import sys

SEALED_COMMANDS = ("create", "exec")
_TAKES_VALUE = ("--root", "--log", "--log-format", "--criu", "--rootless")


def command_of(argv: list[str]) -> str | None:
    """The verb of a runc command line: its first word that is neither an
    option nor an option's value."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _TAKES_VALUE:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word
    return None


def run() -> None:
    if command_of(sys.argv[1:]) in SEALED_COMMANDS:
        from stepbox.core.kernel.backend_lookup import load_backend

        try:
            backend = load_backend("linux")
        except Exception:  # the command itself says why the backend is missing
            backend = None
        reexec = getattr(backend, "reexec_sealed", None)
        if reexec is not None:
            reexec()
    from .cli import run as run_cli

    run_cli()
