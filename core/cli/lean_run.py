"""``stepbox run`` without click, for the command lines it reads exactly as click does.

``run`` is the hottest verb, and importing click is a good part of its
start-up (issue 18).  So the entry point first offers the command line to
:func:`parse`, which takes only the plain spellings of a few global options
(:mod:`.lean_globals`) and of ``run``'s most used flags -- ``--rm``, ``-d``, ``-i``, ``-t``,
``--name NAME``, ``--network NET``, ``-e A=1`` ... -- and answers None for
anything else: an unknown or combined flag (``-it``), ``--opt=value``, a value
that looks like a flag, ``--``, ``--help``, a missing image.  None sends the
command line to click's path (:mod:`.main`), which honours or refuses every
flag by name as before; so does a flag value the body cannot take (click's
path then reports it).  The spellings below are checked against click's own
options by tests/cli/test_lean_run.py, which also checks that both paths make
the same request of the same command lines.

What happens next is the same code for both paths (:mod:`.run_verb`).
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from .lean_globals import LeanGlobals, parse_globals, value_after

# run's flags taken here: spelling -> parameter (each sets it to True) ...
RUN_FLAGS = {
    "--rm": "auto_remove",
    "-d": "detach",
    "--detach": "detach",
    "-i": "interactive",
    "--interactive": "interactive",
    "-t": "tty",
    "--tty": "tty",
    "--init": "init",
    "--read-only": "read_only",
    "--privileged": "privileged",
    "-P": "publish_all",
    "--publish-all": "publish_all",
}
# ... and the ones with a value: spelling -> parameter; those in REPEATED
# may be given more than once (click's multiple=True: a tuple of them all).
RUN_VALUES = {
    "--name": "name",
    "--network": "network",
    "--net": "network",
    "-e": "env",
    "--env": "env",
    "-w": "workdir",
    "--workdir": "workdir",
    "-u": "user",
    "--user": "user",
    "-h": "hostname",
    "--hostname": "hostname",
    "--entrypoint": "entrypoint",
    "-l": "label",
    "--label": "label",
    "-m": "memory",
    "--memory": "memory",
    "--cpus": "cpus",
    "-v": "volume",
    "--volume": "volume",
    "-p": "publish",
    "--publish": "publish",
}
REPEATED = {"env", "label", "volume", "publish"}

# click's defaults of the parameters create_body needs (the rest have its own).
RUN_DEFAULTS = {
    "hostname": "",
    "env": (),
    "workdir": "",
    "user": "",
    "memory": None,
    "pids_limit": None,
    "cpus": None,
    "network": "default",
    "entrypoint": None,
    "auto_remove": False,
    "interactive": False,
    "tty": False,
    "pull": "missing",
    "cidfile": None,
}


class LeanRun(SimpleNamespace):
    """A ``run`` command line, read.  (A SimpleNamespace, not a dataclass:
    importing dataclasses -- with inspect, ast and tokenize -- cost a
    quarter of this path's imports.)"""

    globals: LeanGlobals
    detach: bool
    name: str | None
    image: str
    command: tuple[str, ...]
    flags: dict

    def __init__(self, globals: LeanGlobals | None = None) -> None:
        super().__init__(
            globals=globals if globals is not None else LeanGlobals(),
            detach=False,
            name=None,
            image="",
            command=(),
            flags=dict(RUN_DEFAULTS),
        )


def parse(args: list[str], environ=os.environ) -> LeanRun | None:
    """``args`` (without the program's name) read as click would read
    them, if they are a ``run`` this module takes; else None."""
    taken = parse_globals(args, "run", environ)
    if taken is None:
        return None
    options, i = taken
    found = LeanRun(options)
    flags = found.flags
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in RUN_FLAGS:
            if RUN_FLAGS[arg] == "detach":
                found.detach = True
            else:
                flags[RUN_FLAGS[arg]] = True
            i += 1
        elif arg in RUN_VALUES:
            value = value_after(args, i)
            if value is None:
                return None
            name = RUN_VALUES[arg]
            if name == "name":
                found.name = value
            elif name in REPEATED:
                flags[name] = (*flags.get(name, ()), value)
            else:
                flags[name] = value
            i += 2
        else:
            return None  # not one of ours: click's path reads it
    if i >= len(args):
        return None  # no image: click's path says so
    found.image = args[i]
    found.command = tuple(args[i + 1 :])
    return found


def main(args: list[str]) -> int | None:
    """Run ``args`` if :func:`parse` takes them: the exit status; None if
    click's path must read them (nothing has been done yet then)."""
    lean = parse(args)
    if lean is None:
        return None
    from .run_verb import prepare_run

    try:
        prepared = prepare_run(lean.detach, "", True, lean.image, lean.command, lean.flags)
    except Exception:
        return None  # a value the body cannot take: click's path reports it, as ever
    from .errors import failure_of
    from .run_verb import run_prepared, say

    conn = lean.globals.connection(say, verb="run")
    try:
        return run_prepared(conn, prepared, lean.name, lean.flags)
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)  # as click's main: a new line, then "Aborted!"
        say("Aborted!")
        return 1
    except Exception as e:
        failure = failure_of(e, conn.unreachable)
        if failure is None:
            raise
        say(failure.message)
        return failure.status
