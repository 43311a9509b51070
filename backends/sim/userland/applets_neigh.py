"""arp and ipneigh -- after busybox 1.35's networking/arp.c and
networking/libiproute/ipneigh.c: the kernel's neighbour (ARP) table, read
from /proc/net/arp (arp) or through netlink (ipneigh).

The simulated table holds what simulated traffic resolved, each entry
complete -- REACHABLE to ipneigh (the simulator has no neighbour timers:
no STALE, DELAY, PROBE, INCOMPLETE or FAILED entries; see
SIMPLIFICATIONS.md).  ``ipneigh flush`` deletes as RTM_DELNEIGH does
(CAP_NET_ADMIN).  ``arp -s``/``-d`` need SIOCSARP/SIOCDARP, which the
simulated kernel lacks: they are refused by name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, read_text, show_usage, strerror
from .net_hostent import LookupError_, gethostbyaddr_name, inet_aton
from .net_resolv import resolve

Gen = Generator[Any, Any, Any]
NetSys = Any  # Sys plus the simulated kernel's netlink() (backends/sim/net/sys_net.py)

# busybox's interface.c hardware types: name -> (ARPHRD type, address length)
HWTYPES = {"unspec": (-1, 0), "loop": (772, 0), "ether": (1, 6), "ppp": (512, 0), "sit": (776, 0)}
HWNAMES = {1: "ether", 772: "loop", 512: "ppp", 776: "sit"}
AFTYPES = ("unspec", "unix", "inet", "inet6")
NUD = {
    "permanent": 0x80,
    "reachable": 0x02,
    "noarp": 0x40,
    "none": 0x00,
    "stale": 0x04,
    "incomplete": 0x01,
    "delay": 0x08,
    "probe": 0x10,
    "failed": 0x20,
}
NUD_ORDER = ["INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"]
SIMULATED_STATE = 0x02  # every simulated entry: REACHABLE


# -- arp ---------------------------------------------------------------------


@applet("arp")
@dies("arp")
def arp_main(sys: NetSys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "A:p:H:t:i:adnDsv")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "arp", e.message)
        yield from show_usage(sys, "arp")
        return 1
    hw, hw_set = "ether", False
    for flag in ("A", "p"):
        if flag in opts:
            protocol = opts.value(flag) or ""
            if protocol not in AFTYPES:
                raise Die(f"{protocol}: unknown address family")
            if protocol != "inet":
                raise Die(f"{protocol}: kernel only supports 'inet'")
    for flag in ("H", "t"):
        if flag in opts:
            hw = opts.value(flag) or ""
            if hw not in HWTYPES:
                raise Die(f"{hw}: unknown hardware type")
            hw_set = True
    if HWTYPES[hw][1] <= 0:
        raise Die(f"{hw}: hardware type without ARP support")
    device = opts.value("i") or ""
    args = opts.operands
    if "d" in opts or "s" in opts:
        if not args:
            raise Die("need host name")
        if "s" in opts:
            return (yield from _arp_set(sys, args))
        return (yield from _arp_del(sys, args, device))
    out = BufferedOutput(sys, 1)
    try:
        yield from _arp_show(
            sys, out, args[0] if args else None, device, HWTYPES[hw][0] if hw_set else None, "n" in opts
        )
    finally:
        yield from out.flush()
    return 0


def _may_change_neighbours(sys: NetSys, call: str) -> None:
    """The ioctls' first check: CAP_NET_ADMIN (an empty RTM_DELNEIGH asks)."""
    try:
        sys.netlink("neigh_flush", entries=[])
    except OSError as e:
        raise Die(f"{call}: {strerror(e)}") from None


def _arp_set(sys: NetSys, args: list[str]) -> Gen:
    """arp -s HOST HWADDR: the host and address checked as busybox does;
    then SIOCSARP, whose permanent entries the simulated table cannot hold."""
    addr = yield from _inet_resolve(sys, args[0])
    if addr is None:
        raise Die(f"{args[0]}: Unknown host")
    if len(args) < 2:
        raise Die("need hardware address")
    if not _ether_address(args[1]):
        raise Die("invalid hardware address")
    _may_change_neighbours(sys, "SIOCSARP")
    raise Die("SIOCSARP: permanent entries are not available in the stepbox simulator")


def _ether_address(text: str) -> bool:
    """in_ether: six hex pairs separated by ':' (each one or two digits)."""
    parts = text.split(":")
    return len(parts) == 6 and all(
        1 <= len(p) <= 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts
    )


def _arp_del(sys: NetSys, args: list[str], device: str) -> Gen:
    """arp -d HOST: SIOCDARP, first without then with ATF_PUBL (the
    simulator has no proxy entries)."""
    host = args[0]
    addr = yield from _inet_resolve(sys, host)
    if addr is None:
        raise Die(f"{host}: Unknown host")
    _may_change_neighbours(sys, "SIOCDARP(priv)")
    ip = ipaddress.IPv4Address(addr)
    if device:
        dev = device
    else:
        try:
            dev = sys.netlink("route_get", dst=str(ip))[2].name
        except OSError as e:
            raise Die(f"SIOCDARP(priv): {strerror(e)}") from None
    keys = [key for key in sys.netlink("neigh") if key[0] == dev and int(key[1]) == addr]
    if not keys:
        # ENXIO: busybox tries again as a proxy entry, which Linux answers ENOENT
        raise Die("SIOCDARP(pub): No such file or directory")
    sys.netlink("neigh_flush", entries=keys)
    return 0


def _inet_resolve(sys: Sys, name: str) -> Gen:
    """INET_resolve: the address of NAME (dotted, or looked up), or None."""
    if name == "default":
        return 0
    addr = inet_aton(name)
    if addr is not None:
        return addr
    found = yield from resolve(sys, name)
    return inet_aton(found[0]) if found else None


def _arp_show(
    sys: Sys, out: BufferedOutput, name: str | None, device: str, hw_type: int | None, numeric: bool
) -> Gen:
    host = None
    if name is not None:
        addr = yield from _inet_resolve(sys, name)
        if addr is None:
            raise Die(f"{name}: Unknown host")
        host = str(ipaddress.IPv4Address(addr))
    try:
        text = yield from read_text(sys, "/proc/net/arp")
    except OSError as e:
        raise Die(f"can't open '/proc/net/arp': {strerror(e)}") from None
    entries = shown = 0
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            break
        ip, type_text, flags_text, hwa = fields[:4]
        dev = fields[5] if len(fields) > 5 else "-"
        entries += 1
        kind, flags = int(type_text, 16), int(flags_text, 16)
        if hw_type is not None and kind != hw_type:
            continue
        if host is not None and ip != host:
            continue
        if device and dev != device:
            continue
        shown += 1
        hostname = "?"
        if not numeric:
            try:
                hostname = yield from gethostbyaddr_name(sys, inet_aton(ip) or 0)
            except LookupError_:
                hostname = ip
            if hostname == ip:
                hostname = "?"
        line_out = f"{hostname} ({ip}) at "
        if not flags & 0x02:  # ATF_COM
            line_out += "* " if flags & 0x08 else "<incomplete> "
        else:
            line_out += f"{hwa} [{HWNAMES.get(kind, 'ether')}] "
        if flags & 0x20:  # ATF_NETMASK
            line_out += f"netmask {fields[4]} "
        marks = [label for bit, label in ((0x04, "PERM"), (0x08, "PUP"), (0x10, "TRAIL")) if flags & bit]
        line_out += " ".join(marks)
        out.write(f"{line_out} on {dev}\n".encode("utf-8", "surrogateescape"))
    if not shown and (hw_type is not None or host is not None or device):
        out.write(f"No match found in {entries} entries\n")


# -- ipneigh -----------------------------------------------------------------


def _substring_index(words: list[str], arg: str) -> int:
    """index_in_substrings: the first word ARG is a prefix of (ARG not empty)."""
    if arg:
        for k, word in enumerate(words):
            if word.startswith(arg):
                return k
    return -1


@applet("ipneigh")
@dies("ipneigh")
def ipneigh_main(sys: NetSys) -> Gen:
    args = sys.argv[1:]
    family = None  # AF_UNSPEC
    while args and args[0].startswith("-"):
        opt = args[0][1:]
        if opt.startswith("-"):
            opt = opt[1:]
            if not opt:
                args = args[1:]
                break
        k = _substring_index(["oneline", "family", "4", "6", "0"], opt)
        if k < 0:
            yield from show_usage(sys, "ipneigh")
            return 1
        args = args[1:]
        if k == 0:
            continue
        if k == 1:
            if not args:
                yield from show_usage(sys, "ipneigh")
                return 1
            if args[0] not in ("inet", "inet6", "link"):
                raise Die(f"invalid argument '{args[0]}' to 'family'")
            family = ("inet", "inet6", "link").index(args[0])
            args = args[1:]
        else:
            family = k - 2
    if not args:
        return (yield from _list_or_flush(sys, [], False, family))
    command = _substring_index(["show", "flush"], args[0])
    if command < 0:
        raise Die(f"invalid argument '{args[0]}' to 'ipneigh'")
    return (yield from _list_or_flush(sys, args[1:], command == 1, family))


def _list_or_flush(sys: NetSys, args: list[str], flush: bool, family: int | None) -> Gen:
    if flush and not args:
        raise Die('"ip neigh flush" requires an argument')
    state = (~(0x80 | 0x40) & 0xFFFFFFFF) if flush else (0xFF & ~0x40)
    state_given = False
    dev = None
    prefix = None
    k = 0
    while k < len(args):
        word = _substring_index(["to", "dev", "nud"], args[k])
        if word in (1, 2):
            if k + 1 >= len(args):
                raise Die('command line is not complete. Try option "help"')
            k += 1
            if word == 1:
                dev = args[k]
            else:
                if not state_given:
                    state_given, state = True, 0
                if args[k] == "all":
                    bits = 0xFFFFFFFF & (~0x40 if flush else 0xFFFFFFFF)
                else:
                    nud = _substring_index(list(NUD), args[k])
                    if nud < 0:
                        raise Die(f"invalid argument '{args[k]}' to 'nud state'")
                    bits = list(NUD.values())[nud]
                state |= bits or 0x100
        else:
            if word == 0:
                if k + 1 >= len(args):
                    raise Die('command line is not complete. Try option "help"')
                k += 1
            prefix = _prefix(args[k])
            if family is None:
                family = 0
        k += 1
    links = sys.netlink("links")
    if dev is not None and dev not in {link.name for link in links}:
        raise Die(f"can't find device '{dev}'")
    table = sys.netlink("neigh")
    rows = []
    for (link_name, ip), mac in sorted(table.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        if family not in (None, 0):
            continue  # no IPv6 (or packet) neighbours in the simulator
        if dev is not None and link_name != dev:
            continue
        if not state & SIMULATED_STATE:
            continue
        if prefix is not None and not _in_prefix(int(ip), prefix):
            continue
        rows.append((link_name, ip, mac))
    out = BufferedOutput(sys, 1)
    try:
        if flush:
            state &= ~0x20
            if not rows or not state & SIMULATED_STATE:
                out.write("Nothing to flush\n")
                return 0
            for link_name, ip, mac in rows:  # shown as they are collected (stats on)
                out.write(_neigh_line(ip, "" if dev is not None else f"dev {link_name} ", mac))
            try:
                sys.netlink("neigh_flush", entries=[(n, ip) for n, ip, _mac in rows])
            except OSError as e:
                yield from out.flush()
                raise Die(f"can't send flush request: {strerror(e)}") from None
            out.write(f"\n*** Round 1, deleting {len(rows)} entries ***\n")
            out.write("*** Flush is complete after 1 round(s) ***\n")
            return 0
        for link_name, ip, mac in rows:
            shown_dev = "" if dev is not None else f"dev {link_name} "
            out.write(_neigh_line(ip, shown_dev, mac))
    finally:
        yield from out.flush()
    return 0


def _neigh_line(ip, shown_dev: str, mac: str) -> str:
    """print_neigh with Debian's statistics: the simulator's entries were
    all just used (no timers), as a real one is right after the traffic."""
    return f"{ip} {shown_dev}lladdr {mac} ref 1 used 0/0/0 probes 4 REACHABLE\n"


def _prefix(text: str) -> tuple[int, int]:
    """get_prefix for inet: (address, bits); "default"/"all"/"any" is 0/0."""
    if text in ("default", "all", "any"):
        return 0, 0
    addr_text, slash, bits_text = text.partition("/")
    addr = _get_addr(addr_text)
    if addr is None:
        raise Die(f'an inet prefix is expected rather than "{text}"')
    bits = 32
    if slash:
        if not bits_text.isdigit() or int(bits_text) > 32:
            raise Die(f'an inet prefix is expected rather than "{text}"')
        bits = int(bits_text)
    return addr, bits


def _get_addr(text: str) -> int | None:
    """get_addr_1 for inet: inet_aton of the text (an incomplete dotted
    form is padded as iproute's get_addr_ipv4 does: "10" is 10.0.0.0)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        return None
    value = 0
    for k, part in enumerate(parts):
        value |= int(part) << (24 - 8 * k)
    return value


def _in_prefix(addr: int, prefix: tuple[int, int]) -> bool:
    base, bits = prefix
    mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF if bits else 0
    return (addr & mask) == (base & mask)
