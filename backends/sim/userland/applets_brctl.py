"""brctl -- after busybox 1.35's networking/brctl.c as Debian builds it
(without FEATURE_BRCTL_SHOW and _FANCY: only addbr, delbr, addif, delif),
on the simulated bridges through the bridge ioctls (CAP_NET_ADMIN)."""

from __future__ import annotations

from typing import Any

from .applet_table import applet
from .libc import Die, Gen, dies, show_usage, strerror

NetSys = Any  # Sys plus the simulated kernel's bridge_ioctl() (backends/sim/net/sys_net.py)
KEYWORDS = ("addbr", "delbr", "addif", "delif")


@applet("brctl")
@dies("brctl")
def brctl_main(sys: NetSys) -> Gen:
    args = sys.argv[1:]
    if not args:
        yield from show_usage(sys, "brctl")
        return 1
    try:
        sys.chdir("/sys/class/net")
    except OSError as e:
        raise Die(f"can't change directory to '/sys/class/net': {strerror(e)}") from None
    key = args[0]
    if key not in KEYWORDS:
        raise Die(f"invalid argument '{key}' to 'brctl'")
    if len(args) < 2:
        yield from show_usage(sys, "brctl")
        return 1
    bridge = args[1]
    if key in ("addbr", "delbr"):  # trailing arguments are ignored, as bridge-utils does
        try:
            sys.bridge_ioctl(key, bridge)
        except OSError as e:
            raise Die(f"bridge {bridge}: {strerror(e)}") from None
        return 0
    if len(args) < 3:
        yield from show_usage(sys, "brctl")
        return 1
    port = next((link for link in sys.netlink("links") if link.name == args[2]), None)
    if port is None:  # if_nametoindex
        raise Die(f"iface {args[2]}: No such device")
    try:
        sys.bridge_ioctl(key, bridge, port.ifindex)
    except OSError as e:
        raise Die(f"bridge {bridge}: {strerror(e)}") from None
    return 0
