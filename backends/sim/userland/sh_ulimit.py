"""busybox ash's ``ulimit`` builtin (shell_common.c): print or set the
shell's resource limits, in busybox's units and words.

``ulimit -n`` prints the soft limit of open files (``-H``: the hard one),
``ulimit -n 100`` sets both, ``-S``/``-H`` only one; ``-a`` lists them all;
a bare ``ulimit`` (or a bare number) means ``-f``.  Options are read twice,
as busybox does: once to count them (more than one: each value printed is
named), once to act on them in order.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from .libc import strerror, write_all

if TYPE_CHECKING:  # pragma: no cover
    from .sh_shell import Shell

# option letter -> (resource, units shift, what -a calls it)
LIMITS: dict[str, tuple[str, int, str]] = {
    "c": ("core", 9, "core file size (blocks)"),
    "d": ("data", 10, "data seg size (kb)"),
    "e": ("nice", 0, "scheduling priority"),
    "f": ("fsize", 9, "file size (blocks)"),
    "i": ("sigpending", 0, "pending signals"),
    "l": ("memlock", 10, "max locked memory (kb)"),
    "m": ("rss", 10, "max memory size (kb)"),
    "n": ("nofile", 0, "open files"),
    "q": ("msgqueue", 0, "POSIX message queues (bytes)"),
    "r": ("rtprio", 0, "real-time priority"),
    "s": ("stack", 10, "stack size (kb)"),
    "t": ("cpu", 0, "cpu time (seconds)"),
    "u": ("nproc", 0, "max user processes"),
    "v": ("as", 10, "virtual memory (kb)"),
    "x": ("locks", 0, "file locks"),
}
INFINITY = -1


def _options(args: list[str]):
    """getopt(3) over ``-HSa`` and the limit letters (each with an optional
    argument glued on), non-options returned as ``("f", arg)`` as getopt's
    leading '-' does.  Yields (letter, glued argument or None, index of the
    next argument); an unknown letter comes out as ("?", letter, ...)."""
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            continue
        if not arg.startswith("-") or arg == "-":
            yield "f", arg, i
            continue
        for pos, letter in enumerate(arg[1:], start=1):
            if letter in "HSa":
                yield letter, None, i
            elif letter in LIMITS:
                rest = arg[pos + 1 :]
                yield letter, rest or None, i
                break
            else:
                yield "?", letter, i
                return


def _value(limits: tuple[int, int], hard: bool, shift: int) -> str:
    value = limits[1] if hard else limits[0]
    return "unlimited" if value == INFINITY else str(value >> shift)


def b_ulimit(sh: Shell, argv: list[str]) -> Generator[Any, Any, int]:
    args = argv[1:]
    hard = soft = False
    count = 0
    for letter, extra, _ in _options(args):
        if letter == "?":
            yield from write_all(sh.sys, 2, f"ulimit: invalid option -- '{extra}'\n")
            return 1
        if letter == "H":
            hard = True
        elif letter == "S":
            soft = True
        elif letter == "a":
            for each, (name, shift, title) in LIMITS.items():
                shown = _value(sh.sys.getrlimit(name), hard and not soft, shift)
                yield from write_all(sh.sys, 1, f"{title:<32}(-{each}) {shown}\n")
            return 0
        else:
            count += 1
    if count == 0:
        args = [*args, "-f"]  # a bare ulimit is ulimit -f
    skip: set[int] = set()
    for letter, extra, after in _options(args):
        if letter in "HSa" or after - 1 in skip:
            continue
        value_text = extra  # glued (-n50), or a bare number standing for -f's
        if value_text is None and after < len(args) and not args[after].startswith("-"):
            value_text = args[after]  # -n 50
            skip.add(after)
        name, shift, title = LIMITS[letter]
        current = sh.sys.getrlimit(name)
        if value_text is None:
            prefix = f"{title:<32}(-{letter}) " if count > 1 else ""
            yield from write_all(sh.sys, 1, prefix + _value(current, hard and not soft, shift) + "\n")
            continue
        if value_text == "unlimited":
            value = INFINITY
        elif value_text.isdigit() and value_text.isascii():
            value = int(value_text) << shift
        else:
            yield from write_all(sh.sys, 2, f"sh: invalid number '{value_text}'\n")
            return 1
        both = not hard and not soft
        new_soft = value if soft or both else current[0]
        new_hard = value if hard or both else current[1]
        try:
            sh.sys.setrlimit(name, new_soft, new_hard)
        except OSError as e:
            yield from write_all(sh.sys, 2, f"sh: error setting limit: {strerror(e.errno or 0)}\n")
            return 1
    return 0
