"""``mknod``: make a device file -- what the device cgroup is there to watch.

In a container, ``mknod /tmp/mem c 1 1`` succeeds (Docker allows mknod of
any device) but opening the node fails with EPERM: the device cgroup allows
the open of a short list only.  The simulator's filesystems hold character
devices only; ``b`` (block) and ``p`` (named pipe) are refused as not
modelled (see SIMPLIFICATIONS.md).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .applets_owners import parse_mode
from .libc import complain, parse_options, show_usage, strerror

Gen = Generator[Any, Any, int]


def makedev(major: int, minor: int) -> int:
    """glibc's makedev: the rdev the kernel keeps."""
    return ((major & 0xFFF) << 8) | (minor & 0xFF) | ((minor & ~0xFF) << 12) | ((major & ~0xFFF) << 32)


@applet("mknod")
def mknod_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mknod", "m:")
    if opts is None:
        return 1
    args = opts.operands
    if len(args) not in (2, 4) or args[1] not in ("b", "c", "u", "p") or (args[1] == "p") != (len(args) == 2):
        yield from show_usage(sys, "mknod")
        return 1
    name, kind = args[0], args[1]
    mode = 0o666
    umask = None
    if "m" in opts:
        parsed = parse_mode(opts.value("m") or "", 0o666)
        if parsed is None:
            yield from complain(sys, "mknod", f"invalid mode '{opts.value('m')}'")
            return 1
        mode = parsed
        umask = sys.umask(0)  # an explicit mode is taken as it is
    try:
        if kind in ("b", "p"):
            yield from complain(
                sys,
                "mknod",
                f"{name}: {'block devices' if kind == 'b' else 'named pipes'} are not modelled by the stepbox simulator",
            )
            return 1
        try:
            major, minor = int(args[2], 0), int(args[3], 0)
        except ValueError:
            yield from complain(
                sys, "mknod", f"invalid number '{args[2] if not args[2].isdigit() else args[3]}'"
            )
            return 1
        try:
            sys.mknod(name, mode, makedev(major, minor))
        except OSError as e:
            yield from complain(sys, "mknod", f"{name}: {strerror(e)}")
            return 1
        return 0
    finally:
        if umask is not None:
            sys.umask(umask)
