"""Who is who: id, groups, logname, who, w, last -- after busybox 1.35.

Users and groups come from the container's /etc/passwd and /etc/group
(getgrouplist for a named user), the process's own supplementary groups
from /proc/self/status.  A container has no utmp or wtmp: who and w list
nobody, last cannot open /var/log/wtmp, getlogin fails.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    getopt,
    read_text,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]


def _db(sys: Sys, path: str) -> Gen:
    text = yield from read_text(sys, path)
    return [line.split(":") for line in text.splitlines() if line.count(":") >= 2]


def _name(entries: list[list[str]], ident: int) -> str | None:
    for e in entries:
        if len(e) > 2 and e[2] == str(ident):
            return e[0]
    return None


def _own_groups(sys: Sys) -> Gen:
    status = yield from read_text(sys, "/proc/self/status")
    for line in status.splitlines():
        if line.startswith("Groups:"):
            return [int(g) for g in line.split()[1:] if g.isdigit()]
    return []


def _grouplist(groups_db: list[list[str]], user: str, gid: int) -> list[int]:
    """glibc getgrouplist: the given gid first, then each group naming the user."""
    result = [gid]
    for e in groups_db:
        if len(e) >= 4 and e[2].isdigit() and user in e[3].split(","):
            g = int(e[2])
            if g not in result:
                result.append(g)
    return result


def _options(sys: Sys, prog: str, spec: str) -> Gen:
    try:
        return getopt(sys.argv[1:], spec)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return None


@applet("id", "groups")
def id_main(sys: Sys) -> Gen:
    prog = "groups" if sys.argv[0].rsplit("/", 1)[-1] == "groups" else "id"
    if prog == "groups":
        opts = yield from _options(sys, prog, "")
        if opts is None:
            return 1
        flags = set("Gn")
    else:
        opts = yield from _options(sys, prog, "rnugG")
        if opts is None:
            return 1
        flags = set(opts.flags)
        picked = flags & set("ugG")
        if len(opts.operands) > 1 or len(picked) > 1 or (flags & set("rn") and not picked):
            # "?1:u--g:g--u:G--u:u--G:g--G:G--g:r?ugG:n?ugG"
            yield from show_usage(sys, prog)
            return 1
    passwd = yield from _db(sys, "/etc/passwd")
    group_db = yield from _db(sys, "/etc/group")
    username = opts.operands[0] if opts.operands else None
    if username is not None:
        entry = next((e for e in passwd if e[0] == username and len(e) > 3), None)
        if entry is None or not entry[2].isdigit() or not entry[3].isdigit():
            yield from complain(sys, prog, f"unknown user {username}")
            return 1
        uid = euid = int(entry[2])
        gid = egid = int(entry[3])
    else:
        uid = euid = sys.getuid()
        gid = egid = sys.getgid()
    out = BufferedOutput(sys, 1)
    status = 0
    names_only = "n" in flags
    default = not flags

    def common(ident: int, name: str | None, prefix: str | None) -> Gen:
        text = prefix or ""
        if not names_only or name is None:
            text += str(ident)
        if default or names_only:
            if name is not None:
                text += f"({name})" if default else name
            elif not default:
                out.write(text.encode())
                yield from out.flush()
                yield from complain(sys, prog, f"unknown ID {ident}")
                return 1
        out.write(text.encode("utf-8", "surrogateescape"))
        return 0

    def user(ident: int, prefix: str | None) -> Gen:
        return (yield from common(ident, _name(passwd, ident), prefix))

    def grp(ident: int, prefix: str | None) -> Gen:
        return (yield from common(ident, _name(group_db, ident), prefix))

    if default or "G" in flags:
        if default:
            status |= yield from user(uid, "uid=")
            status |= yield from grp(gid, " gid=")
        else:
            status |= yield from grp(gid, None)
        if username is not None:
            groups = _grouplist(group_db, username, gid)
        else:
            groups = yield from _own_groups(sys)
        prefix = " groups="
        for g in groups:
            if not default and g in (gid, egid):
                continue
            status |= yield from grp(g, prefix if default else " ")
            prefix = ","
    elif "u" in flags:
        status |= yield from user(euid, None)
    elif "g" in flags:
        status |= yield from grp(egid, None)
    out.write(b"\n")
    yield from out.flush()
    return status


@applet("logname")
def logname_main(sys: Sys) -> Gen:
    if len(sys.argv) > 1:
        yield from show_usage(sys, "logname")
        return 1
    # getlogin() asks utmp about the controlling terminal: there is none
    yield from complain(sys, "logname", "getlogin: No such device or address")
    return 1


@applet("who", "w")
def who_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    opts = yield from _options(sys, prog, "aH" if prog == "who" else "")
    if opts is None:
        return 1
    if opts.operands:
        yield from show_usage(sys, prog)
        return 1
    if "H" in opts or prog == "w":
        out = BufferedOutput(sys, 1)
        out.write(b"USER\t\tTTY\t\tIDLE\tTIME\t\t HOST\n")
        yield from out.flush()
    return 0  # no utmp in a container: nobody is logged in


@applet("last")
def last_main(sys: Sys) -> Gen:
    if len(sys.argv) > 1:
        yield from show_usage(sys, "last")
        return 1
    path = "/var/log/wtmp"
    try:
        fd = sys.open(path, 0)
    except OSError as e:
        yield from complain(sys, "last", f"can't open '{path}': {strerror(e)}")
        return 1
    close_quietly(sys, fd)
    out = BufferedOutput(sys, 1)
    out.write(f"{'USER':<10} {'TTY':<14} {'HOST':<18} {'LOGIN':<12} TIME\n".encode())
    yield from out.flush()
    return 0  # the records of a wtmp are not read: a container's is empty
