"""The global options of the lean verbs (:mod:`.lean_run`, :mod:`.lean_build`), read without click.

Both lean paths begin the same way: ``stepbox [--backend B] [--root R]
[-H/--host H] [-c/--context C] VERB ...``, each option also read from its
STEPBOX_ variable as click reads it.  :func:`parse_globals` reads that part
once for both, into a :class:`LeanGlobals`, and answers None for anything
else (another global option, an attached ``--opt=value``, a value that looks
like a flag, a bad --backend, another verb): click's path reads that.  The
spellings are checked against click's own options by tests/cli/test_lean_run.py.

Only the standard library here: these paths exist for start-up speed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import SimpleNamespace

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


class LeanGlobals(SimpleNamespace):
    """The global options of a command line, read (click's defaults where not
    given).  (A SimpleNamespace, not a dataclass: importing dataclasses --
    with inspect, ast and tokenize -- was a quarter of run's imports.)"""

    backend: str
    root: str | None
    host: str | None
    context: str | None

    def __init__(
        self,
        backend: str = "auto",
        root: str | None = None,
        host: str | None = None,
        context: str | None = None,
    ) -> None:
        super().__init__(backend=backend, root=root, host=host, context=context)

    def connection(self, say, verb: str):
        """The connection click's path would make of these options."""
        from .connection import ClientTLS, Connection

        return Connection(self.backend, self.root, self.host, say, self.context, ClientTLS(), verb=verb)


def value_after(args: list[str], i: int) -> str | None:
    """The value after option ``args[i]``; None if there is none or it looks
    like a flag (click would take it as the value: its path says so)."""
    if i + 1 >= len(args) or args[i + 1].startswith("-"):
        return None
    return args[i + 1]


def parse_globals(
    args: list[str], verb: str, environ: Mapping[str, str] = os.environ
) -> tuple[LeanGlobals, int] | None:
    """The global options before ``verb`` (those of GLOBAL_VALUES, then their
    STEPBOX_ variables) and the index after the verb; None if the command
    line has another global option, a bad --backend or is not ``verb``."""
    given: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i] in GLOBAL_VALUES:
        value = value_after(args, i)
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
    return LeanGlobals(**given), i + 1
