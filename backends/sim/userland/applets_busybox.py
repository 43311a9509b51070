"""The multi-call front end: what ``busybox`` itself does.

``busybox APPLET ARGS`` runs an applet; ``busybox --list`` names them;
``busybox`` alone prints the banner, the usage and the applet list (to
stdout, status 0) -- formatted as busybox 1.35 does, wrapped at 77 columns.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import implemented_names, lookup
from .libc import BANNER, basename, err, out
from .spawn import AppletSys

Gen = Generator[Any, Any, int]

_INTRO = (
    "BusyBox is copyrighted by many authors between 1998-2015.\n"
    "Licensed under GPLv2. See source distribution for detailed\n"
    "copyright notices.\n\n"
    "Usage: busybox [function [arguments]...]\n"
    "   or: busybox --list[-full]\n"
    "   or: busybox --install [-s] [DIR]\n"
    "   or: function [arguments]...\n\n"
    "\tBusyBox is a multi-call binary that combines many common Unix\n"
    "\tutilities into a single executable.  Most people will create a\n"
    "\tlink to busybox for each function they wish to use and BusyBox\n"
    "\twill act like whatever it was invoked as.\n\n"
    "Currently defined functions:\n"
)


def _wrapped_list(names: tuple[str, ...]) -> str:
    lines, cur = [], ""
    for i, name in enumerate(names):
        item = name + ("," if i < len(names) - 1 else "")
        if cur and len(cur) + 1 + len(item) > 69:
            lines.append("\t" + cur)
            cur = item
        else:
            cur = f"{cur} {item}" if cur else item
    if cur:
        lines.append("\t" + cur)
    return "\n".join(lines)


def busybox_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    names = implemented_names()
    if not args or args[0] in ("--help",):
        yield from out(sys, BANNER + _INTRO + _wrapped_list(names) + "\n")
        return 0
    if args[0] in ("--list", "--list-full"):
        yield from out(sys, "".join(f"{'bin/' if args[0] == '--list-full' else ''}{n}\n" for n in names))
        return 0
    name = basename(args[0])
    program = lookup(name)
    applet_sys = AppletSys(sys, args)
    if program is None:
        from .applet_table import REAL_APPLETS

        program = not_available if name in REAL_APPLETS else not_found
    return (yield from program(applet_sys))


def not_available(sys: Sys) -> Gen:
    """An applet real busybox has and this simulator does not."""
    name = basename(sys.argv[0]) if sys.argv else "?"
    yield from err(sys, f"{name}: applet not available in the stepbox simulator\n")
    return 127


def not_found(sys: Sys) -> Gen:
    name = basename(sys.argv[0]) if sys.argv else "?"
    yield from err(sys, f"{name}: applet not found\n")
    return 127
