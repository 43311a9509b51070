"""setpriv -- after busybox 1.35's util-linux/setpriv.c with FEATURE_SETPRIV_DUMP,
FEATURE_SETPRIV_CAPABILITIES and FEATURE_SETPRIV_CAPABILITY_NAMES, as Debian
builds it: ``--dump``, ``--nnp``, ``--inh-caps``, ``--ambient-caps``, then
exec PROG.  Capability names are libbb's (capability.c: 38 names, then
``cap_N``); the numbers run to CAP_LAST_CAP of the headers busybox was
built with (40), as its ``cap_valid()`` does.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, UsageError, complain, dies, getopt, out, show_usage, strerror
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]

PR_CAPBSET_READ, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 23, 38, 39, 47
AMBIENT_IS_SET, AMBIENT_RAISE, AMBIENT_LOWER = 1, 2, 3
CAP_LAST_CAP = 40  # <linux/capability.h> of Debian 12, which busybox 1.35 was built with

# libbb/capability.c, in bit order
NAMES = (
    "chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable "
    "net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio "
    "sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time "
    "sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog "
    "wake_alarm block_suspend audit_read"
).split()

LONGOPTS = {"dump": "d", "nnp": "\xff", "no-new-privs": "\xff", "inh-caps": "\xfe", "ambient-caps": "\xfd"}


def cap_name(number: int) -> str:
    return NAMES[number] if number < len(NAMES) else f"cap_{number}"


def cap_number(name: str) -> int:
    """libbb's cap_name_to_number: sscanf "cap_%u", else a name (any case)."""
    m = re.match(r"cap_[ \t\n\v\f\r]*([+-]?)(\d+)", name)
    if m:
        value = min(int(m.group(2)), 2**64 - 1)  # strtoul saturates
        if m.group(1) == "-":
            value = -value % 2**64
        number = value & 0xFFFFFFFF
    else:
        number = next((i for i, known in enumerate(NAMES) if known == name.lower()), -1)
        if number < 0 or not name.isascii():
            raise Die(f"unknown capability '{name}'")
    if number > CAP_LAST_CAP:
        raise Die(f"unknown capability '{name}'")
    return number


def _parse_cap(token: str) -> int:
    if token[:1] not in ("+", "-"):
        raise Die(f"invalid capability '{token}'")
    return cap_number(token[1:])


def _tokens(text: str) -> list[str]:
    return [t for t in text.split(",") if t]  # strtok_r: empty fields are skipped


def _set_inheritable(sys: Sys, text: str) -> None:
    effective, permitted, inheritable = sys.capget()
    for token in _tokens(text):
        bit = 1 << _parse_cap(token)
        inheritable = inheritable | bit if token[0] == "+" else inheritable & ~bit
    try:
        sys.capset(effective, permitted, inheritable)
    except OSError as e:
        raise Die(f"capset: {strerror(e)}") from None


def _set_ambient(sys: Sys, text: str) -> Gen:
    for token in _tokens(text):
        number = _parse_cap(token)
        raise_it = token[0] == "+"
        try:
            sys.prctl(PR_CAP_AMBIENT, AMBIENT_RAISE if raise_it else AMBIENT_LOWER, number)
        except OSError as e:  # bb_simple_perror_msg: said, and on to the next
            yield from complain(
                sys, "setpriv", f"cap_ambient_{'raise' if raise_it else 'lower'}: {strerror(e)}"
            )


def _names(numbers: list[int]) -> str:
    return ",".join(cap_name(n) for n in numbers) or "[none]"


def _dump(sys: Sys) -> Gen:
    from .applets_system import _groups

    uid, gid = sys.getuid(), sys.getgid()
    groups = yield from _groups(sys)
    try:
        nnp = sys.prctl(PR_GET_NO_NEW_PRIVS)
    except OSError as e:
        raise Die(f"prctl: GET_NO_NEW_PRIVS: {strerror(e)}") from None
    _eff, _perm, inheritable = sys.capget()
    ambient, bounding = [], []
    for number in range(CAP_LAST_CAP + 1):
        try:
            if sys.prctl(PR_CAP_AMBIENT, AMBIENT_IS_SET, number):
                ambient.append(number)
        except OSError as e:
            raise Die(f"prctl: CAP_AMBIENT_IS_SET: {strerror(e)}") from None
    for number in range(CAP_LAST_CAP + 1):
        try:
            if sys.prctl(PR_CAPBSET_READ, number):
                bounding.append(number)
        except OSError as e:
            raise Die(f"prctl: CAPBSET_READ: {strerror(e)}") from None
    yield from out(
        sys,
        f"uid: {uid}\neuid: {uid}\ngid: {gid}\negid: {gid}\n"
        f"Supplementary groups: {','.join(map(str, groups)) or '[none]'}\n"
        f"no_new_privs: {nnp}\n"
        f"Inheritable capabilities: {_names([n for n in range(CAP_LAST_CAP + 1) if inheritable >> n & 1])}\n"
        f"Ambient capabilities: {_names(ambient)}\n"
        f"Capability bounding set: {_names(bounding)}\n",
    )
    return 0


@applet("setpriv")
@dies("setpriv")
def setpriv_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "d\xfe:\xfd:\xff", permute=False, longopts=LONGOPTS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "setpriv", e.message)
        yield from show_usage(sys, "setpriv")
        return 1
    argv = opts.operands
    if "d" in opts:
        if argv or any(flag in opts for flag in "\xfe\xfd\xff"):
            yield from show_usage(sys, "setpriv")
            return 1
        return (yield from _dump(sys))
    if "\xff" in opts:
        try:
            sys.prctl(PR_SET_NO_NEW_PRIVS, 1)
        except OSError as e:
            raise Die(f"prctl: SET_NO_NEW_PRIVS: {strerror(e)}") from None
    if "\xfe" in opts:
        _set_inheritable(sys, opts.value("\xfe") or "")
    if "\xfd" in opts:
        yield from _set_ambient(sys, opts.value("\xfd") or "")
    if not argv:
        yield from show_usage(sys, "setpriv")
        return 1
    return (yield from exec_or_die(sys, "setpriv", argv))
