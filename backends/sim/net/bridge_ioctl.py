"""The bridge ioctls (SIOCBRADDBR, SIOCBRDELBR, SIOCBRADDIF, SIOCBRDELIF)
busybox's brctl uses, with the errors of Linux's net/bridge/br_if.c and
br_ioctl.c.  CAP_NET_ADMIN is checked by the caller (sys_net.py), first.
"""

from __future__ import annotations

import errno

from ..flow import oserror
from .stack import Link, NetStack

IFNAMSIZ = 16


def add_bridge(stack: NetStack, name: str, mac: str) -> None:
    """br_add_bridge: a new bridge, down, without ports; a random MAC.  The
    ioctl copies IFNAMSIZ-1 bytes of the name: a longer one is cut."""
    name = name.encode("utf-8", "surrogateescape")[: IFNAMSIZ - 1].decode("utf-8", "surrogateescape")
    if not name or "/" in name or ":" in name or any(c.isspace() for c in name) or name in (".", ".."):
        raise oserror(errno.EINVAL, name)
    if name in stack.links:
        raise oserror(errno.EEXIST, name)
    stack.add_link(Link(name, "bridge", stack.free_index(), mac, stack))


def del_bridge(stack: NetStack, name: str) -> None:
    """br_del_bridge: ENXIO if there is none, EPERM if not a bridge, EBUSY if up."""
    link = stack.links.get(name)
    if link is None:
        raise oserror(errno.ENXIO, name)
    if link.kind != "bridge":
        raise oserror(errno.EPERM, name)
    if link.up:
        raise oserror(errno.EBUSY, name)
    stack.remove_link(link)


def change_port(stack: NetStack, bridge: str, ifindex: int, add: bool) -> None:
    """dev_ifsioc then add_del_if: the bridge by name, the port by index."""
    master = stack.links.get(bridge)
    if master is None:
        raise oserror(errno.ENODEV, bridge)
    if master.kind != "bridge":
        raise oserror(errno.EOPNOTSUPP, bridge)
    port = stack.by_index(ifindex)
    if port is None:
        raise oserror(errno.EINVAL, bridge)
    if not add:
        if port.master is not master:
            raise oserror(errno.EINVAL, bridge)
        port.master = None
        return
    if port.kind == "loopback":
        raise oserror(errno.EINVAL, bridge)  # only Ethernet-like devices
    if port.kind == "bridge":
        raise oserror(errno.ELOOP, bridge)
    if port.master is not None:
        raise oserror(errno.EBUSY, bridge)
    port.master = master
    if not master.mac_set and len(master.ports) == 1:
        master.mac = port.mac  # a bridge without a set MAC takes its first port's
