"""tty: the name of the terminal on stdin (``/dev/pts/0`` under ``docker run -t``)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import out, parse_options

Gen = Generator[Any, Any, int]


@applet("tty")
def tty_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "tty", "s")
    if opts is None:
        return 2
    try:
        name = sys.ttyname(0)
    except OSError:
        if "s" not in opts:
            yield from out(sys, "not a tty\n")
        return 1
    if "s" not in opts:
        yield from out(sys, name + "\n")
    return 0
