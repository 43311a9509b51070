"""``stepbox run`` without click, for the command lines it reads exactly as click does.

``run`` is the hottest verb, and importing click is a good part of its
start-up (issue 18).  So the entry point first offers the command line to
:func:`parse`, which takes only the plain spellings of a few global options
and of ``run``'s most used flags -- ``--rm``, ``-d``, ``-i``, ``-t``,
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
from dataclasses import dataclass, field

BACKENDS = ("auto", "sim", "linux")

# The global options taken here: spelling -> the parameter's name.
GLOBAL_VALUES = {
    "--backend": "backend",
    "--root": "root",
    "-H": "host",
    "--host": "host",
    "-c": "context",
    "--context": "context",
}
GLOBAL_ENV = {
    "backend": "STEPBOX_BACKEND",
    "root": "STEPBOX_ROOT",
    "host": "STEPBOX_HOST",
    "context": "STEPBOX_CONTEXT",
}

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


@dataclass
class LeanRun:
    """A ``run`` command line, read."""

    backend: str = "auto"
    root: str | None = None
    host: str | None = None
    context: str | None = None
    detach: bool = False
    name: str | None = None
    image: str = ""
    command: tuple[str, ...] = ()
    flags: dict = field(default_factory=lambda: dict(RUN_DEFAULTS))


def _value(args: list[str], i: int) -> str | None:
    """The value after option ``args[i]``; None if there is none or it looks
    like a flag (click would take it as the value: its path says so)."""
    if i + 1 >= len(args) or args[i + 1].startswith("-"):
        return None
    return args[i + 1]


def parse_globals(args: list[str], verb: str, environ=os.environ) -> tuple[dict[str, str], int] | None:
    """The global options before ``verb`` (those of GLOBAL_VALUES, then their
    STEPBOX_ variables) and the index after the verb; None if the command
    line has another global option, a bad --backend or is not ``verb``."""
    given: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i] in GLOBAL_VALUES:
        value = _value(args, i)
        if value is None:
            return None
        given[GLOBAL_VALUES[args[i]]] = value
        i += 2
    for name, variable in GLOBAL_ENV.items():
        if name not in given and environ.get(variable):  # click: an empty variable is no value
            given[name] = environ[variable]
    if given.get("backend", "auto") not in BACKENDS:
        return None
    if i >= len(args) or args[i] != verb:
        return None
    return given, i + 1


def parse(args: list[str], environ=os.environ) -> LeanRun | None:
    """``args`` (without the program's name) read as click would read
    them, if they are a ``run`` this module takes; else None."""
    found = LeanRun()
    taken = parse_globals(args, "run", environ)
    if taken is None:
        return None
    given, i = taken
    found.backend = given.get("backend", "auto")
    found.root, found.host, found.context = given.get("root"), given.get("host"), given.get("context")
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
            value = _value(args, i)
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
    from .connection import ClientTLS, Connection
    from .errors import failure_of
    from .run_verb import run_prepared, say

    conn = Connection(lean.backend, lean.root, lean.host, say, lean.context, ClientTLS(), verb="run")
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
