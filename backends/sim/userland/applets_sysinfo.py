"""Small questions to the system, and small requests: arch, linux32,
linux64, hostid, tty, uptime, clear, reset, nologin, pidof, killall,
renice, ionice -- after busybox 1.35.

What the simulated kernel does not keep is answered as a container
answers it by default: tty names the terminal on stdin (``/dev/pts/0``
under ``docker run -t``, else "not a tty"), there is no nice
value or I/O priority but the default (renice to a lower value and
ionice -c 1 need CAP_SYS_NICE / CAP_SYS_ADMIN, which a container lacks),
personalities are not simulated (under linux32, uname -m still says
x86_64).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .applets_proc import read_processes
from .cmd_kill import SIGNALS, signal_number
from .libc import (
    Die,
    UsageError,
    complain,
    dies,
    getopt,
    out,
    read_text,
    show_usage,
    strerror,
    xatoi,
    xatou,
)
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]


def _opts(sys: Sys, prog: str, spec: str, permute: bool = True) -> Gen:
    try:
        return getopt(sys.argv[1:], spec, permute)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        raise Die(None) from None


@applet("arch")
def arch_main(sys: Sys) -> Gen:
    yield from out(sys, sys.uname()[4] + "\n")
    return 0


@applet("linux32", "linux64")
@dies("linux32")
def setarch_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    opts = yield from _opts(sys, prog, "R", permute=False)
    argv = opts.operands or ["/bin/sh"]
    # personality(2) is not simulated: under linux32, uname -m still says x86_64
    return (yield from exec_or_die(sys, prog, argv))


@applet("hostid")
def hostid_main(sys: Sys) -> Gen:
    if len(sys.argv) > 1:
        yield from show_usage(sys, "hostid")
        return 1
    yield from out(sys, f"{(yield from gethostid(sys)):08x}\n")
    return 0


def gethostid(sys: Sys) -> Gen:
    """glibc's gethostid: /etc/hostid, else bits of the hostname's IPv4
    address as /etc/hosts gives it, else 0."""
    from .libc import _read_small_file

    data = yield from _read_small_file(sys, "/etc/hostid")
    if len(data) >= 4:
        return struct.unpack("<i", data[:4])[0] & 0xFFFFFFFF
    name = sys.gethostname()
    hosts = yield from read_text(sys, "/etc/hosts")
    for line in hosts.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and name in fields[1:]:
            m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", fields[0])
            if m:
                addr = struct.unpack("<I", bytes(int(x) for x in m.groups()))[0]
                return ((addr << 16) | (addr >> 16)) & 0xFFFFFFFF
    return 0


@applet("tty")
@dies("tty")
def tty_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "tty", "s")
    if opts.operands:
        yield from complain(sys, "tty", "ignoring all arguments")
    try:
        name = sys.ttyname(0)  # /dev/pts/0 under ``docker run -t``
    except OSError:
        if "s" not in opts:
            yield from out(sys, "not a tty\n")
        return 1
    if "s" not in opts:
        yield from out(sys, name + "\n")
    return 0


@applet("uptime")
@dies("uptime")
def uptime_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "uptime", "s")
    up_text = yield from read_text(sys, "/proc/uptime")
    try:
        uptime = int(float(up_text.split()[0]))
    except (IndexError, ValueError):
        uptime = 0
    now = int(sys.wall_time())
    zone = yield from timefmt.load_zone(sys)
    if "s" in opts:
        tm = timefmt.localtime(zone, now - uptime)
        yield from out(
            sys, f"{tm.year:04d}-{tm.mon:02d}-{tm.mday:02d} {tm.hour:02d}:{tm.min:02d}:{tm.sec:02d}\n"
        )
        return 0
    tm = timefmt.localtime(zone, now)
    text = f" {tm.hour:02d}:{tm.min:02d}:{tm.sec:02d} up "
    days = uptime // 86400
    if days:
        text += f"{days} day{'s' if days != 1 else ''}, "
    minutes = uptime // 60
    hours = minutes // 60 % 24
    minutes %= 60
    text += f"{hours:2d}:{minutes:02d}" if hours else f"{minutes} min"
    text += ",  0 users"  # no utmp in a container
    load = (yield from read_text(sys, "/proc/loadavg")).split()[:3]
    loads = [f"{float(x):.2f}" for x in load] + ["0.00"] * (3 - len(load))
    text += f",  load average: {', '.join(loads)}\n"
    yield from out(sys, text)
    return 0


@applet("clear")
def clear_main(sys: Sys) -> Gen:
    yield from out(sys, "\033[H\033[J")
    return 0


@applet("reset")
def reset_main(sys: Sys) -> Gen:
    return 0  # stdout is never a terminal here: nothing to reset
    yield  # pragma: no cover


@applet("nologin")
def nologin_main(sys: Sys) -> Gen:
    """An embedded shell script in busybox: cat /etc/nologin.txt or a
    sentence, sleep 5, exit 1."""
    from .libc import _read_small_file

    data = yield from _read_small_file(sys, "/etc/nologin.txt")
    try:
        sys.stat("/etc/nologin.txt")
        yield from out(sys, data)
    except OSError:
        yield from out(sys, "This account is not available\n")
    yield from sys.sleep(5)
    return 1


# -- processes by name ----------------------------------------------------------------------


def find_pid_by_name(
    procs: list[Any], name: str, cmdlines: dict[int, list[str]], exes: dict[int, str]
) -> list[int]:
    """libbb's find_pid_by_name: comm (15 characters), argv[0]'s basename,
    or the /proc/PID/exe link (a whole path for a name with a slash) -- so
    ``pidof sh`` also finds applets a shell ran through /proc/self/exe."""
    found = []
    for p in procs:
        argv = cmdlines.get(p.pid, [])
        comm_ok = p.comm[:15] == name[:15] and (
            len(p.comm) < 15 or (len(argv) > 1 and argv[1].rsplit("/", 1)[-1] == name)
        )
        argv0_ok = bool(argv) and argv[0].rsplit("/", 1)[-1] == name
        exe = exes.get(p.pid)
        exe_ok = exe is not None and (exe if name.startswith("/") else exe.rsplit("/", 1)[-1]) == name
        if comm_ok or argv0_ok or exe_ok:
            found.append(p.pid)
    return found


def _scan(sys: Sys) -> Gen:
    procs = yield from read_processes(sys)
    cmdlines, exes = {}, {}
    for p in procs:
        text = yield from read_text(sys, f"/proc/{p.pid}/cmdline")
        cmdlines[p.pid] = text.rstrip("\0").split("\0") if text else []
        try:
            exes[p.pid] = sys.readlink(f"/proc/{p.pid}/exe")
        except OSError:
            pass
    return procs, cmdlines, exes


@applet("pidof")
@dies("pidof")
def pidof_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "pidof", "")
    procs, cmdlines, exes = yield from _scan(sys)
    found: list[int] = []
    for name in opts.operands:
        found += list(reversed(find_pid_by_name(procs, name, cmdlines, exes)))
    if found:
        yield from out(sys, " ".join(map(str, found)) + "\n")
    return 0 if found else 1


@applet("killall")
def killall_main(sys: Sys) -> Gen:
    args = sys.argv[1:]
    signo, quiet = 15, False
    if args and args[0].startswith("-"):
        arg = args[0]
        if arg == "-l":
            rest = args[1:]
            if not rest:
                yield from out(sys, "".join(f"{i:2d}) {n}\n" for i, n in enumerate(SIGNALS) if i))
                return 0
            for a in rest:
                if a[:1].isdigit():
                    if not a.isdigit():
                        yield from complain(sys, "killall", f"unknown signal '{a}'")
                        return 1
                    n = int(a) & 0x7F
                    yield from out(sys, (SIGNALS[n] if 0 < n < len(SIGNALS) else str(n)) + "\n")
                else:
                    number = signal_number(a)
                    if number is None:
                        yield from complain(sys, "killall", f"unknown signal '{a}'")
                        return 1
                    yield from out(sys, f"{number}\n")
            return 0
        if arg == "-q":
            quiet = True
            args = args[1:]
            if not args:
                yield from show_usage(sys, "killall")
                return 1
        if args[0].startswith("-"):
            arg = args[0][1:]
            if arg == "-":
                args = args[1:]
            else:
                if arg == "s" and len(args) > 1:
                    args = args[1:]
                    arg = args[0]
                named = signal_number(arg)
                if named is None:
                    yield from complain(sys, "killall", f"bad signal name '{arg}'")
                    return 1
                signo = named
                args = args[1:]
    if not args:
        yield from complain(sys, "killall", "you need to specify whom to kill")
        return 1
    me = sys.getpid()
    errors = 0
    procs, cmdlines, exes = yield from _scan(sys)
    for name in args:
        pids = find_pid_by_name(procs, name, cmdlines, exes)
        if not pids:
            errors += 1
            if not quiet:
                yield from complain(sys, "killall", f"{name}: no process killed")
            continue
        for pid in pids:
            if pid == me:
                continue
            try:
                sys.kill(pid, signo)
            except OSError as e:
                errors += 1
                if not quiet:
                    yield from complain(sys, "killall", f"can't kill pid {pid}: {strerror(e)}")
    return errors


# -- priorities ------------------------------------------------------------------------------


@applet("renice")
@dies("renice")
def renice_main(sys: Sys) -> Gen:
    args = sys.argv[1:]
    relative = False
    if args and args[0].startswith("-n"):
        relative = True
        if args[0] == "-n":
            args = args[1:]
        else:
            args = [args[0][2:]] + args[1:]
    if not args:
        yield from show_usage(sys, "renice")
        return 1
    adjustment = xatoi(args[0], -(2**30), 2**30 - 1)
    which = "p"
    status = 0
    passwd = None
    for arg in args[1:]:
        if arg.startswith("-") and len(arg) > 1 and arg[1] in "pgu":
            which = arg[1]
            if len(arg) == 2:
                continue
            arg = arg[2:]
        if which == "u":
            if passwd is None:
                passwd = yield from read_text(sys, "/etc/passwd")
            if not any(line.split(":")[0] == arg for line in passwd.splitlines()):
                yield from complain(sys, "renice", f"unknown user {arg}")
                status = 1
                continue
        else:
            if not arg.isdigit():
                yield from complain(sys, "renice", f"invalid number '{arg}'")
                status = 1
                continue
            if which == "p":
                who = int(arg) or sys.getpid()
                try:
                    sys.kill(who, 0)
                except OSError as e:
                    yield from complain(sys, "renice", f"{'g' if relative else 's'}etpriority: {strerror(e)}")
                    status = 1
                    continue
        new = adjustment if not relative else adjustment  # every nice value is 0 here
        if new < 0:  # raising the priority needs CAP_SYS_NICE
            yield from complain(sys, "renice", "setpriority: Permission denied")
            status = 1
    return status


_IOCLASS = ["none", "realtime", "best-effort", "idle"]


@applet("ionice")
@dies("ionice")
def ionice_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "ionice", "n:c:p:t", permute=False)
    if "n" in opts:  # a priority is checked, and forgotten: I/O priorities are not simulated
        xatoi(opts.value("n") or "", 0, 2**31 - 1)
    ioclass = xatoi(opts.value("c") or "", 0, 2**31 - 1) if "c" in opts else 0
    pid = xatoi(opts.value("p") or "", 0, 2**31 - 1) if "p" in opts else 0
    argv = opts.operands
    if "c" in opts and ioclass > 3:
        raise Die(f"bad class {ioclass}")
    if "n" not in opts and "c" not in opts:
        if "p" not in opts and argv:
            pid = xatou(argv[0], 0, 2**31 - 1)
        if pid:
            try:
                sys.kill(pid, 0)
            except OSError as e:
                raise Die(f"ioprio_get: {strerror(e)}") from None
        yield from out(sys, "none: prio 0\n")  # nobody's I/O priority was ever set
        return 0
    if ioclass == 1 and "t" not in opts:  # the realtime class needs CAP_SYS_ADMIN
        raise Die("ioprio_set: Operation not permitted")
    if argv:
        return (yield from exec_or_die(sys, "ionice", argv))
    return 0
