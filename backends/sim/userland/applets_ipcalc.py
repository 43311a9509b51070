"""ipcalc and dnsdomainname -- after busybox 1.35's networking/ipcalc.c and
networking/hostname.c: arithmetic on addresses, and the DNS domain of this
host's name, with no network of their own (name lookups go through
:mod:`.net_hostent`: /etc/hosts, then the nameservers).

``ipcalc [-bnmphs] ADDRESS[/PREFIX] [NETMASK]``: one or two operands;
without -b, -n or -p a NETMASK operand (or no option at all) is a usage
error.  The netmask is the prefix's, the operand's (any inet_aton form,
never checked for contiguity), else the address's class (A, B, C).  -p
counts the mask's set bits; -h is the address's host name, lower-cased;
-s silences the error messages (not the usage).

``dnsdomainname`` is ``hostname -d``: what follows the first dot of the
canonical name gethostbyname gives this host's name (nothing if none).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, show_usage, xatou
from .net_hostent import LookupError_, gethostbyaddr_name, gethostbyname_name, inet_aton, inet_ntoa

Gen = Generator[Any, Any, Any]
IPCALC_LONGOPTS = {
    "netmask": "m",
    "broadcast": "b",
    "network": "n",
    "prefix": "p",
    "hostname": "h",
    "silent": "s",
}


def _usage(sys: Sys, prog: str, message: str | None) -> Gen:
    if message:
        yield from complain(sys, prog, message)
    yield from show_usage(sys, prog)
    return 1


def class_netmask(addr: int) -> int:
    if addr & 0xC0000000 == 0xC0000000:
        return 0xFFFFFF00
    if addr & 0x80000000:
        return 0xFFFF0000
    return 0xFF000000


@applet("ipcalc")
def ipcalc_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "mbnphs", longopts=IPCALC_LONGOPTS)
    except UsageError as e:
        return (yield from _usage(sys, "ipcalc", e.message))
    args = opts.operands
    if not 1 <= len(args) <= 2:
        return (yield from _usage(sys, "ipcalc", None))
    flags = {c for c in "mbnph" if c in opts}
    if not flags & set("bnp") and (not flags or len(args) > 1):
        return (yield from _usage(sys, "ipcalc", None))
    out = BufferedOutput(sys, 1)
    try:
        yield from _ipcalc(sys, out, flags, args)
    except Die as e:
        if "s" not in opts:  # -s: logmode NONE, not even stdout's flush first
            yield from out.flush()
            yield from complain(sys, "ipcalc", e.message or "")
        yield from out.flush()
        return 1
    yield from out.flush()
    return 0


def _ipcalc(sys: Sys, out: BufferedOutput, flags: set[str], args: list[str]) -> Gen:
    ipstr = args[0]
    netmask = None
    slash = ipstr.find("/")
    if slash >= 0:
        prefix = ipstr[slash + 1 :]
        ipstr = ipstr[:slash]
        if prefix:
            bits = xatou(prefix, 0, 32)
            netmask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    addr = inet_aton(ipstr)
    if addr is None:
        raise Die(f"bad IP address: {ipstr}")
    if len(args) > 1:
        if netmask is not None:
            raise Die("use prefix or netmask, not both")
        netmask = inet_aton(args[1])
        if netmask is None:
            raise Die(f"bad netmask: {args[1]}")
    elif netmask is None:
        netmask = class_netmask(addr)
    if "m" in flags:
        out.write(f"NETMASK={inet_ntoa(netmask)}\n")
    if "b" in flags:
        out.write(f"BROADCAST={inet_ntoa((addr & netmask) | (~netmask & 0xFFFFFFFF))}\n")
    if "n" in flags:
        out.write(f"NETWORK={inet_ntoa(addr & netmask)}\n")
    if "p" in flags:
        out.write(f"PREFIX={bin(netmask).count('1')}\n")
    if "h" in flags:
        try:
            name = yield from gethostbyaddr_name(sys, addr)
        except LookupError_ as e:
            raise Die(f"can't find hostname for {ipstr}: {e}") from None
        out.write(f"HOSTNAME={name.lower()}\n".encode("utf-8", "surrogateescape"))


@applet("dnsdomainname")
@dies("dnsdomainname")
def dnsdomainname_main(sys: Sys) -> Gen:
    try:
        getopt(sys.argv[1:], "dfisF:v", longopts={"domain": "d", "fqdn": "f", "file": "F"})
    except UsageError as e:
        return (yield from _usage(sys, "dnsdomainname", e.message))
    name = sys.gethostname()
    try:
        canonical = yield from gethostbyname_name(sys, name)
    except LookupError_ as e:
        raise Die(f"{name}: {e}") from None
    dot = canonical.find(".")
    if dot >= 0:
        out = BufferedOutput(sys, 1)
        out.write(canonical[dot + 1 :].encode("utf-8", "surrogateescape") + b"\n")
        yield from out.flush()
    return 0
