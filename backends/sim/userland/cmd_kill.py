"""``kill``: shared by the shell builtin and the applet.

Signal numbers are Linux's (the simulated kernel is a Linux), not the
host's: on macOS ``signal.SIGUSR1`` is 30, in a container it is 10.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .libc import complain, parse_int, strerror, write_all

SIGNALS = (
    "",
    "HUP",
    "INT",
    "QUIT",
    "ILL",
    "TRAP",
    "ABRT",
    "BUS",
    "FPE",
    "KILL",
    "USR1",
    "SEGV",
    "USR2",
    "PIPE",
    "ALRM",
    "TERM",
    "STKFLT",
    "CHLD",
    "CONT",
    "STOP",
    "TSTP",
    "TTIN",
    "TTOU",
    "URG",
    "XCPU",
    "XFSZ",
    "VTALRM",
    "PROF",
    "WINCH",
    "POLL",
    "PWR",
    "SYS",
)


def signal_number(name: str) -> int | None:
    """ "TERM", "SIGTERM", "15" -> 15 (None if unknown)."""
    if name.isdigit():
        n = int(name)
        return n if 0 <= n < 65 else None
    upper = name.upper()
    if upper.startswith("SIG"):
        upper = upper[3:]
    aliases = {"IO": 29, "IOT": 6, "CLD": 17, "POLL": 29}
    if upper in aliases:
        return aliases[upper]
    return SIGNALS.index(upper) if upper in SIGNALS[1:] else None


def kill(sys: Sys, argv: list[str], prog: str = "kill") -> Generator[Any, Any, int]:
    args = argv[1:]
    sig = 15
    if args and args[0] == "-l":
        if len(args) == 1:
            yield from write_all(sys, 1, "".join(f"{i:2d}) {n}\n" for i, n in enumerate(SIGNALS) if i))
            return 0
        for a in args[1:]:
            n = parse_int(a)
            if n is not None:
                n = n - 128 if n > 128 else n
                yield from write_all(sys, 1, (SIGNALS[n] if 0 < n < len(SIGNALS) else str(n)) + "\n")
            else:
                num = signal_number(a)
                if num is None:
                    yield from complain(sys, prog, f"bad signal name '{a}'")
                    return 1
                yield from write_all(sys, 1, f"{num}\n")
        return 0
    if args and args[0] in ("-s", "-n"):
        if len(args) < 2:
            yield from complain(sys, prog, "you need to specify whom to kill")
            return 1
        num = signal_number(args[1])
        if num is None:
            yield from complain(sys, prog, f"bad signal name '{args[1]}'")
            return 1
        sig, args = num, args[2:]
    elif args and args[0].startswith("-") and args[0] != "--" and parse_int(args[0]) is None:
        num = signal_number(args[0][1:])
        if num is None:
            yield from complain(sys, prog, f"bad signal name '{args[0][1:]}'")
            return 1
        sig, args = num, args[1:]
    elif args and args[0].startswith("-") and args[0] != "--":
        sig, args = int(args[0][1:]), args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        yield from complain(sys, prog, "you need to specify whom to kill")
        return 1
    status = 0
    for a in args:
        pid = parse_int(a)
        if pid is None:
            yield from complain(sys, prog, f"invalid number '{a}'")
            status = 1
            continue
        try:
            sys.kill(pid, sig)
        except OSError as e:
            yield from complain(sys, prog, f"can't kill pid {a}: {strerror(e)}")
            status = 1
    return status
