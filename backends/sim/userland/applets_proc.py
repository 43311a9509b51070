"""Applets about processes and resources: ps, kill, sleep, free, nproc.

Like the real ones they learn everything from ``/proc``: ``ps`` lists the
numeric directories of /proc and reads each one's ``stat``, ``status`` and
``cmdline``; ``free`` reads ``/proc/meminfo``.  So in a container with its
own PID namespace and its own /proc, ``ps`` sees only the container.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import Sys
from . import cmd_kill
from .applet_table import applet
from .libc import UsageError, complain, getopt, id_to_name, out, read_text, show_usage

Gen = Generator[Any, Any, Any]

# busybox prints a TIME column only when built with FEATURE_PS_TIME.  The
# busybox 1.35 this simulator is checked against (Debian's) is built without
# it, and the real-kernel backend runs that binary -- so we match it.
PS_SHOWS_TIME = False
CLK_TCK = 100


@dataclass
class ProcEntry:
    pid: int
    ppid: int
    comm: str
    state: str
    uid: int
    ticks: int
    vsz_kb: int
    rss_kb: int
    args: str


def _parse_stat(text: str) -> tuple[str, list[str]] | None:
    """``pid (comm) S ppid ...``: comm may contain spaces and parentheses,
    so split at the *last* ``)``."""
    open_, close = text.find("("), text.rfind(")")
    if open_ < 0 or close < 0:
        return None
    return text[open_ + 1 : close], text[close + 2 :].split()


def _stat_field(rest: list[str], i: int) -> int:
    """A number after the comm of /proc/PID/stat (0 if absent or not a number)."""
    try:
        return int(rest[i])
    except (IndexError, ValueError):
        return 0


def read_processes(sys: Sys) -> Gen:
    try:
        names = sys.listdir("/proc")
    except OSError:
        return []
    procs = []
    for name in sorted((n for n in names if n.isdigit()), key=int):
        stat = yield from read_text(sys, f"/proc/{name}/stat")
        parsed = _parse_stat(stat)
        if parsed is None:
            continue  # it exited while we looked
        comm, rest = parsed
        status = yield from read_text(sys, f"/proc/{name}/status")
        m = re.search(r"^Uid:\s+(\d+)", status, re.M)
        cmdline = yield from read_text(sys, f"/proc/{name}/cmdline")
        # rest[0] is field 3 (state); utime/stime are fields 14/15, vsize 23, rss 24
        procs.append(
            ProcEntry(
                pid=int(name),
                ppid=_stat_field(rest, 1),
                comm=comm,
                state=rest[0] if rest else "?",
                uid=int(m.group(1)) if m else 0,
                ticks=_stat_field(rest, 11) + _stat_field(rest, 12),
                vsz_kb=_stat_field(rest, 20) // 1024,
                rss_kb=_stat_field(rest, 21) * 4,
                args=command_line(cmdline, comm),
            )
        )
    return procs


def command_line(cmdline: str, comm: str) -> str:
    """What ``ps`` shows as COMMAND (libbb's ``read_cmdline``): the argv
    joined by spaces; ``{comm}`` in front when the process renamed itself
    (a NOEXEC applet keeps its shell's command line: ``{ps} sh -c ps``);
    ``[comm]`` when there is none (a kernel thread, or a zombie)."""
    text = cmdline.rstrip("\0")
    if not text:
        return f"[{comm}]"
    argv0 = text.split("\0", 1)[0].split(" ", 1)[0]
    base = argv0.rstrip("/").rsplit("/", 1)[-1] if argv0.rstrip("/") else argv0
    base = base[1:] if base.startswith("-") else base
    shown = "".join(" " if ord(c) < 32 else c for c in text)
    return shown if base.startswith(comm) else f"{{{comm}}} {shown}"


def _time(ticks: int) -> str:
    secs = ticks // CLK_TCK
    return f"{secs // 60}:{secs % 60:02d}"


_COLUMNS = {  # -o name -> (header, width (negative: left-aligned; 0: last/free))
    "pid": ("PID", 5),
    "ppid": ("PPID", 5),
    "user": ("USER", -8),
    "group": ("GROUP", -8),
    "comm": ("COMMAND", -16),
    "args": ("COMMAND", 0),
    "stat": ("STAT", -4),
    "vsz": ("VSZ", 6),
    "rss": ("RSS", 6),
    "time": ("TIME", 6),
    "nice": ("NI", 3),
}


@applet("ps")
def ps_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "o:Twlef")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "ps", e.message)
        yield from show_usage(sys, "ps")
        return 1
    procs = yield from read_processes(sys)
    users: dict[int, str] = {}
    for p in procs:
        if p.uid not in users:
            users[p.uid] = (yield from id_to_name(sys, "/etc/passwd", p.uid)) or str(p.uid)
    if "o" in opts:
        cols = [c.strip() for spec in opts.values["o"] for c in spec.split(",") if c.strip()]
        for c in cols:
            if c.split("=")[0] not in _COLUMNS:
                yield from complain(
                    sys,
                    "ps",
                    f"bad -o argument '{c}', supported arguments: "
                    "user,group,comm,args,pid,ppid,pgid,etime,nice,rss,vsz,time,stat",
                )
                return 1
        lines = []
        header = []
        for i, c in enumerate(cols):
            name, _, title = c.partition("=")
            head, width = _COLUMNS[name]
            # busybox left-aligns every header, whatever the column's alignment.
            header.append(_pad(title or head, -abs(width), i == len(cols) - 1))
        lines.append(" ".join(header).rstrip())
        for p in procs:
            row = []
            for i, c in enumerate(cols):
                name = c.partition("=")[0]
                value = {
                    "pid": str(p.pid),
                    "ppid": str(p.ppid),
                    "user": users[p.uid],
                    "group": str(p.uid),
                    "comm": p.comm,
                    "args": p.args,
                    "stat": p.state,
                    "vsz": str(p.vsz_kb),
                    "rss": str(p.rss_kb),
                    "time": _time(p.ticks),
                    "nice": "0",
                }[name]
                row.append(_pad(value, _COLUMNS[name][1], i == len(cols) - 1))
            lines.append(" ".join(row).rstrip())
        yield from out(sys, "\n".join(lines) + "\n")
        return 0
    if PS_SHOWS_TIME:
        text = "PID   USER     TIME  COMMAND\n" + "".join(
            f"{p.pid:5d} {users[p.uid]:<8.8} {_time(p.ticks):>5} {p.args}\n" for p in procs
        )
    else:
        text = "PID   USER     COMMAND\n" + "".join(
            f"{p.pid:5d} {users[p.uid]:<8.8} {p.args}\n" for p in procs
        )
    yield from out(sys, text)
    return 0


def _pad(text: str, width: int, last: bool) -> str:
    if last or width == 0:
        return text
    return f"{text:>{width}}" if width > 0 else f"{text:<{-width}}"


@applet("kill")
def kill_main(sys: Sys) -> Gen:
    if len(sys.argv) < 2:
        yield from show_usage(sys, "kill")
        return 1
    return (yield from cmd_kill.kill(sys, sys.argv, "kill"))


def _duration(text: str) -> float | None:
    m = re.fullmatch(r"(\d*\.?\d*(?:[eE][-+]?\d+)?|inf|infinity)([smhd]?)", text.strip(), re.I)
    if not m or not m.group(1) or m.group(1) == ".":
        return None
    value = math.inf if m.group(1).lower().startswith("inf") else float(m.group(1))
    return value * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@applet("sleep")
def sleep_main(sys: Sys) -> Gen:
    args = sys.argv[1:]
    if not args:
        yield from show_usage(sys, "sleep")
        return 1
    total = 0.0
    for a in args:
        d = _duration(a)
        if d is None:
            yield from complain(sys, "sleep", f"invalid number '{a}'")
            return 1
        total += d
    yield from sys.sleep(total)
    return 0


@applet("usleep")
def usleep_main(sys: Sys) -> Gen:
    args = sys.argv[1:]
    if not args or not args[0].isdigit():
        yield from show_usage(sys, "usleep")
        return 1
    yield from sys.sleep(int(args[0]) / 1e6)
    return 0


@applet("free")
def free_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "bkmgh")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "free", e.message)
        yield from show_usage(sys, "free")
        return 1
    text = yield from read_text(sys, "/proc/meminfo")
    info = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+)", text, re.M)}
    total, free_ = info.get("MemTotal", 0), info.get("MemFree", 0)
    cache = info.get("Buffers", 0) + info.get("Cached", 0) + info.get("SReclaimable", 0)
    used = total - free_ - cache
    shift = {"b": -10, "k": 0, "m": 10, "g": 20}
    unit = next((u for u in "bkmg" if u in opts), "k")

    def scale(kb: int) -> int:
        s = shift[unit]
        return kb << -s if s < 0 else kb >> s

    rows = [
        "       "
        + "".join(f"{h:>12}" for h in ("total", "used", "free", "shared", "buff/cache", "available")),
        "Mem:   "
        + "".join(
            f"{scale(v):12d}"
            for v in (total, used, free_, info.get("Shmem", 0), cache, info.get("MemAvailable", free_))
        ),
        "Swap:  "
        + "".join(
            f"{scale(v):12d}"
            for v in (
                info.get("SwapTotal", 0),
                info.get("SwapTotal", 0) - info.get("SwapFree", 0),
                info.get("SwapFree", 0),
            )
        ),
    ]
    yield from out(sys, "\n".join(rows) + "\n")
    return 0


@applet("nproc")
def nproc_main(sys: Sys) -> Gen:
    # busybox's: the CPUs of sched_getaffinity, or with --all the cpuN
    # entries of /sys/devices/system/cpu; minus --ignore; at least 1.
    from .applets_taskset import count_cpus

    return (yield from count_cpus(sys))
