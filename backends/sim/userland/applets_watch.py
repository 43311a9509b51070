"""watch -- after busybox 1.35's procps/watch.c: clear the screen (two
escape sequences, printed whether or not there is a terminal), print the
header unless -t, run the command with system(3) (``/bin/sh -c`` with the
words joined by spaces), sleep, and again, until a signal ends it --
typically SIGPIPE once the reader of its output has gone (``watch ... |
head``) or the one ``timeout`` sends.

The header is as wide as stderr's terminal, or $COLUMNS, or 80 columns;
the time (local, ``%Y-%m-%d %H:%M:%S``) overwrites its last 20 columns.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .applets_run import parse_duration
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, show_usage
from .spawn import wait_status

Gen = Generator[Any, Any, Any]
_TIME_LEN = len("1234-67-90 23:56:89") + 1  # with the NUL


def _terminal_width(sys: Sys) -> int:
    """get_terminal_width(STDERR_FILENO) without a terminal: $COLUMNS if
    atoi makes something in 2..29999 of it, else 80."""
    text = sys.env.get("COLUMNS")
    if text is None:
        return 80
    digits = text.lstrip(" \t\n\v\f\r")
    sign = -1 if digits[:1] == "-" else 1
    digits = digits[1:] if digits[:1] in "+-" else digits
    n = len(digits) - len(digits.lstrip("0123456789"))
    value = sign * int(digits[:n]) if n else 0
    return value if 1 < value < 30000 else 80


def _system(sys: Sys, command: str) -> Gen:
    """glibc's system(3): /bin/sh -c COMMAND in a child, waited for."""

    def child(csys: Sys) -> Gen:
        try:
            yield from csys.execve("/bin/sh", ["sh", "-c", command], dict(csys.env))
        except OSError:
            pass
        return 127

    pid = sys.fork(child)
    return (yield from wait_status(sys, pid))


@applet("watch")
@dies("watch")
def watch_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "dtn:", permute=False)
        if not opts.operands:
            raise UsageError(None)
        period = parse_duration(opts.value("n", "2") or "")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "watch", e.message)
        yield from show_usage(sys, "watch")
        raise Die(None) from None
    command = " ".join(opts.operands)
    width = _terminal_width(sys)
    header = f"Every {float(period):.1f}s: {command:<{width}}"
    zone = None
    out = BufferedOutput(sys, 1)
    while True:
        out.write("\033[H\033[J")
        if "t" not in opts:
            if _TIME_LEN < width:
                if zone is None:
                    zone = yield from timefmt.load_zone(sys)
                now = timefmt.localtime(zone, sys.wall_time())
                stamp = timefmt.strftime("%Y-%m-%d %H:%M:%S", now)
                header = header[: width - _TIME_LEN] + stamp
            out.write(header + "\n\n")
        yield from out.flush()
        yield from _system(sys, command)
        yield from sys.sleep(period)
