"""nameif, vconfig, tunctl -- after busybox 1.35's networking/nameif.c,
vconfig.c and tunctl.c: renaming an interface found by its MAC, and the
two kinds of interface the simulated kernel does not have.

* nameif renames through SIOCSIFNAME (CAP_NET_ADMIN); Linux 6.x renames an
  interface that is up, as the simulator does.
* vconfig's SIOCSIFVLAN reaches the 802.1Q code only if the kernel has it;
  the simulated kernel is built without it (as the CI's kernel: no 8021q,
  no loadable modules), so every request ends in ENOPKG, after busybox's own
  argument checks.
* tunctl needs /dev/net/tun, which a default container lacks; any other
  file answers TUNSETIFF with ENOTTY.  A simulated /dev/net/tun does not
  exist: a TUN device given some other way is refused by name.
"""

from __future__ import annotations

import errno
from typing import Any

from ..sys_api import O_RDONLY, O_RDWR
from .applet_table import applet
from .libc import Die, Gen, UsageError, complain, dies, getopt, read_all, show_usage, strerror, xatou

NetSys = Any  # Sys plus the simulated kernel's netlink() (backends/sim/net/sys_net.py)
IFNAMSIZ = 16


# -- nameif --------------------------------------------------------------------------------------


def ether_aton(text: str) -> str | None:
    """glibc's ether_aton_r: six 1-2 digit hex bytes joined by ':'; after
    a one-digit last byte only the end or a blank may follow."""
    octets, k = [], 0
    for cnt in range(6):
        ch = text[k : k + 1].lower()
        k += 1
        if not ch or ch not in "0123456789abcdef":
            return None
        number = int(ch, 16)
        ch = text[k : k + 1].lower()
        if (cnt < 5 and ch != ":") or (cnt == 5 and ch not in ("", " ", "\t", "\n", "\v", "\f", "\r")):
            k += 1
            if not ch or ch not in "0123456789abcdef":
                return None
            number = number * 16 + int(ch, 16)
            if cnt < 5 and text[k : k + 1] != ":":
                return None
        octets.append(number)
        k += 1
    return ":".join(f"{b:02x}" for b in octets)


def _new_entry(name: str, selector: str) -> tuple[str, str]:
    if len(name.encode("utf-8", "surrogateescape")) >= IFNAMSIZ:
        raise Die(f"interface name '{name}' too long")
    selector = selector.lstrip(" \t\n\v\f\r")
    mac = ether_aton(selector[4:] if selector.startswith("mac=") else selector)
    if mac is None:
        raise Die(f"can't parse {selector}")
    return name, mac


def _mactab(text: str) -> tuple[list[tuple[str, str]], str | None]:
    """config_read(parser, token, 2, 2, "# \\t", PARSE_NORMAL): comments cut,
    blank lines skipped, the second token is the rest of the line.  The
    entries, and the warning a short line gives (it ends the reading)."""
    entries: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.split("#", 1)[0].strip(" \t")
        if not line:
            continue
        first, _, rest = line.replace("\t", " ").partition(" ")
        rest = rest.strip(" ")
        if not rest:  # a warning; parsing stops there
            return entries, f"bad line {lineno}: 1 tokens found, 2 needed"
        entries.append(_new_entry(first, line[len(first) :].strip(" \t")))
    return entries, None


@applet("nameif")
@dies("nameif")
def nameif_main(sys: NetSys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "sc:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "nameif", e.message)
        yield from show_usage(sys, "nameif")
        return 1
    args = opts.operands
    wanted: list[tuple[str, str]] = []
    if args:
        for k in range(0, len(args), 2):
            if k + 1 >= len(args):
                yield from show_usage(sys, "nameif")
                return 1
            wanted.insert(0, _new_entry(args[k], args[k + 1]))
    else:
        path = opts.value("c", "/etc/mactab") or ""
        try:
            fd = sys.open(path, O_RDONLY)
        except OSError as e:
            yield from complain(sys, "nameif", f"{path}: {strerror(e)}")  # fopen_or_warn
        else:
            try:
                data = yield from read_all(sys, fd)
            finally:
                sys.close(fd)
            entries, warning = _mactab(data.decode("utf-8", "surrogateescape"))
            for entry in entries:
                wanted.insert(0, entry)
            if warning:
                yield from complain(sys, "nameif", warning)
    for link in sorted(sys.netlink("links"), key=lambda lk: lk.ifindex):  # /proc/net/dev's order
        if not wanted:
            break
        match = next((entry for entry in wanted if entry[1] == link.mac.lower()), None)
        if match is None:
            continue
        if match[0] != link.name:
            try:
                sys.netlink("link_set", dev=link.name, name=match[0])
            except OSError as e:
                raise Die(f"can't change ifname {link.name} to {match[0]}: {strerror(e)}") from None
        wanted.remove(match)
    return 0


# -- vconfig -------------------------------------------------------------------------------------

# command -> the argc it needs (busybox's cmds table)
VCONFIG_COMMANDS = {
    "add": 4,
    "rem": 3,
    "set_flag": 5,
    "set_egress_map": 5,
    "set_ingress_map": 5,
    "set_name_type": 3,
}
NAME_TYPES = ("VLAN_PLUS_VID", "DEV_PLUS_VID", "VLAN_PLUS_VID_NO_PAD", "DEV_PLUS_VID_NO_PAD")


@applet("vconfig")
@dies("vconfig")
def vconfig_main(sys: NetSys) -> Gen:
    args = sys.argv[1:]
    if not args or args[0] not in VCONFIG_COMMANDS or len(sys.argv) != VCONFIG_COMMANDS[args[0]]:
        yield from show_usage(sys, "vconfig")
        return 1
    command = args[0]
    if command == "set_name_type":
        if args[1] not in NAME_TYPES:
            yield from show_usage(sys, "vconfig")
            return 1
    elif command == "set_flag":
        xatou(args[2], 0, 1)
        xatou(args[3], 0, 7)
    elif command == "add":
        xatou(args[2], 0, 4095)
    elif command != "rem":
        xatou(args[2])
        xatou(args[3], 0, 7)
    # SIOCSIFVLAN: the simulated kernel has no 802.1Q support (see the module doc)
    raise Die(f"ioctl error for {command}: {strerror(errno.ENOPKG)}")


# -- tunctl --------------------------------------------------------------------------------------


@applet("tunctl")
@dies("tunctl")
def tunctl_main(sys: NetSys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "f:t:d:u:g:b")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "tunctl", e.message)
        yield from show_usage(sys, "tunctl")
        return 1
    if opts.operands or ("t" in opts and "d" in opts):
        yield from show_usage(sys, "tunctl")
        return 1
    device = opts.value("f", "/dev/net/tun") or ""
    try:
        fd = sys.open(device, O_RDWR)
    except OSError as e:
        raise Die(f"can't open '{device}': {strerror(e)}") from None
    sys.close(fd)
    if device == "/dev/net/tun":
        raise Die("TUN/TAP devices are not available in the stepbox simulator")
    raise Die(strerror(errno.ENOTTY))  # TUNSETIFF on a file that is no TUN device
    yield  # pragma: no cover
