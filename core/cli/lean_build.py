"""``stepbox build`` without click, for the command lines it reads exactly as click does.

A fully cached rebuild costs the daemon a few milliseconds; the rest is the
client's start-up, and importing click is a good part of that (issue 18).
So, as :mod:`.lean_run` does for ``run``, the entry point first offers the
command line to :func:`parse`: the plain spellings of the global options
(:mod:`.lean_globals`), then build's own flags -- ``-t/--tag``, ``-f/--file``,
``--build-arg``, ``--no-cache``, ``--target``, ``-q/--quiet`` -- and one
PATH, last.  Anything else (``--tag=x``, ``-qt x``, a value that looks like
a flag, ``-`` for a context on stdin, ``--help``, a flag after PATH, no or
two PATHs) is None: click's path reads it and honours or refuses it by name
as ever.  tests/cli/test_lean_build.py checks these spellings against
click's options and both paths' readings of generated command lines.

Both paths then run :func:`.build_verb.build_image`.
"""

from __future__ import annotations

import os
import sys

from .lean_globals import LeanGlobals, parse_globals, value_after

# build's flags taken here: spelling -> parameter (each sets it to True) ...
BUILD_FLAGS = {
    "--no-cache": "no_cache",
    "-q": "quiet",
    "--quiet": "quiet",
}
# ... and the ones with a value; those in REPEATED may be given more than once.
BUILD_VALUES = {
    "-t": "tags",
    "--tag": "tags",
    "-f": "dockerfile",
    "--file": "dockerfile",
    "--build-arg": "build_args",
    "--target": "target",
}
REPEATED = {"tags", "build_args"}

# click's defaults of build's parameters (what build_image is called with).
BUILD_DEFAULTS = {
    "tags": (),
    "dockerfile": None,
    "build_args": (),
    "no_cache": False,
    "target": None,
    "quiet": False,
}


class LeanBuild:
    """A ``build`` command line, read.  (A plain class: importing dataclasses
    would cost this lean path milliseconds.)"""

    def __init__(self, globals: LeanGlobals | None = None):
        self.globals = globals if globals is not None else LeanGlobals()
        self.params: dict = dict(BUILD_DEFAULTS)  # build_image's, path included


def parse(args: list[str], environ=os.environ) -> LeanBuild | None:
    """``args`` (without the program's name) read as click would read
    them, if they are a ``build`` this module takes; else None."""
    taken = parse_globals(args, "build", environ)
    if taken is None:
        return None
    options, i = taken
    found = LeanBuild(options)
    params = found.params
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in BUILD_FLAGS:
            params[BUILD_FLAGS[arg]] = True
            i += 1
        elif arg in BUILD_VALUES:
            value = value_after(args, i)
            if value is None:
                return None
            name = BUILD_VALUES[arg]
            params[name] = (*params[name], value) if name in REPEATED else value
            i += 2
        else:
            return None  # not one of ours (or "-": the context on stdin): click's path reads it
    if len(args) != i + 1:
        return None  # no PATH, or more after it: click's path says what is wrong
    params["path"] = args[i]
    return found


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(args: list[str]) -> int | None:
    """Build ``args`` if :func:`parse` takes them: the exit status; None if
    click's path must read them (nothing has been done yet then)."""
    lean = parse(args)
    if lean is None:
        return None
    from .build_verb import build_image
    from .errors import failure_of

    conn = lean.globals.connection(say, verb="build")
    try:
        build_image(conn, **lean.params)
        return 0
    except KeyboardInterrupt:
        print(file=sys.stderr)  # as click's main: a new line, then "Aborted!"
        say("Aborted!")
        return 1
    except Exception as e:
        failure = failure_of(e, conn.unreachable)
        if failure is None:
            raise
        say(failure.message)
        return failure.status
