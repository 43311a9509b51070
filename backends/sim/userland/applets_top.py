"""top -- busybox 1.35's procps/top.c in batch mode (``top -b``).

Like the real one it learns everything from /proc: two samples of
/proc/stat and of every process's ticks 0.1 s apart (the first screen), the
"Mem:" line from /proc/meminfo, "Load average:" from /proc/loadavg, then
one row per process sorted by %CPU, then VSZ, then CPU time.  The figures
are computed with busybox's own integer arithmetic (its shift-and-scale
percentages, smart_ulltoa5's VSZ).  ``-n N`` screens, ``-d SEC`` between
them; arguments without a dash count as options, as busybox's
make_all_argv_opts makes them.  ``-H`` (threads) shows the same list: the
simulated processes have one thread each.

Not modelled, refused by name: the interactive display (without ``-b``:
the simulator has no terminal, issue 19) and ``-m`` (memory map totals
from /proc/PID/smaps, which the simulated /proc does not have).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .applets_proc import read_processes
from .libc import Die, UsageError, complain, dies, getopt, id_to_name, read_text, show_usage, write_all, xatou

Gen = Generator[Any, Any, Any]
LINE_BUF_SIZE = 512 - 64
U32 = 0xFFFFFFFF


@dataclass
class Jiffies:
    total: int = 0
    busy: int = 0
    fields: tuple[int, ...] = (0,) * 8  # usr nic sys idle iowait irq softirq steal


def _read_jiffies(sys: Sys) -> Gen:
    text = yield from read_text(sys, "/proc/stat")
    first = text.split("\n", 1)[0][: LINE_BUF_SIZE - 1]
    m = re.match(r"cp\S*((?:\s+\d+){4,8})", first)
    if not m:
        raise Die("can't read '/proc/stat'")
    nums = [int(x) for x in m.group(1).split()] + [0] * 8
    f = tuple(nums[:8])
    total = sum(f)
    return Jiffies(total, total - f[3] - f[4], f)


def smart_ulltoa5(ul: int, scale: str = " mgtpezy") -> str:
    """libbb's 5-character number: "12345", " 410m", "92.1m"."""
    idx = 0
    if ul > 99999:
        ul *= 10
        while True:
            ul //= 1024
            idx += 1
            if ul < 100000:
                break
    u, v = ul // 10, ul % 10
    digits, fmt = "0123456789", " 123456789"
    if not idx:
        # "12345": leading zeros are blanks, up to the last two digits
        buf = ""
        for d in (u // 1000, u // 100 % 10, u // 10 % 10, u % 10):
            c = fmt[d]
            buf += c
            if c != " ":
                fmt = digits
        return buf + digits[v]
    if u >= 100:  # " 123m", "1234m"
        c0 = fmt[u // 1000]
        fmt = digits if c0 != " " else fmt
        c1 = fmt[u // 100 % 10]
        fmt = digits if c1 != " " else fmt
        v, u = u % 10, u // 10
        return c0 + c1 + fmt[u % 10] + digits[v] + scale[idx]
    c0 = fmt[u // 10]  # "92.1m"
    fmt = digits if c0 != " " else fmt
    return c0 + fmt[u % 10] + "." + digits[v] + scale[idx]


def _percent_scales(total_memory: int, busy_jifs: int, total_jifs: int, total_pcpu: int):
    """display_process_list's multiply-and-shift factors (unsigned 32-bit)."""
    pmem_shift = 32 - 11
    pmem_scale = (100 * (1 << pmem_shift) // total_memory) & U32 if total_memory else 0
    while pmem_scale >= 512:
        pmem_scale //= 4
        pmem_shift -= 2
    pmem_half = (1 << pmem_shift) // 2
    if total_pcpu < busy_jifs:
        total_pcpu = busy_jifs
    pcpu_shift = 6
    pcpu_scale = (100 * 64 * (busy_jifs & 0xFFFF)) & U32
    if pcpu_scale == 0:
        pcpu_scale = 1
    while pcpu_scale < (1 << 30):
        pcpu_scale *= 4
        pcpu_shift += 2
    tmp = ((total_jifs & 0xFFFF) * total_pcpu) & U32
    if tmp:
        pcpu_scale //= tmp
    while pcpu_scale >= 1024:
        pcpu_scale //= 4
        pcpu_shift -= 2
    pcpu_half = (1 << pcpu_shift) // 2
    return (pmem_scale, pmem_shift, pmem_half), (pcpu_scale, pcpu_shift, pcpu_half)


def _meminfo(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if sep:
            m = re.match(r"\s*(\d+)", rest)
            values[name] = int(m.group(1)) if m else 0
    return values


def _duration(text: str) -> float:
    """parse_duration_str: a number with an optional s/m/h/d suffix."""
    m = re.fullmatch(r"(\d*\.?\d*)([smhd]?)", text)
    if not m or m.group(1) in ("", "."):
        raise Die(f"invalid number '{text}'")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@applet("top")
@dies("top")
def top_main(sys: Sys) -> Gen:
    # make_all_argv_opts: every argument is an option ("top b n 1")
    args = [a if a.startswith("-") else "-" + a for a in sys.argv[1:]]
    try:
        opts = getopt(args, "d:n:bHm", permute=True)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "top", e.message)
        yield from show_usage(sys, "top")
        return 1
    interval = 5.0
    if "d" in opts:
        text = opts.value("d") or ""
        interval = min(_duration(text[1:] if text.startswith("-") else text), 2**31 // 1000)
    iterations = 0
    if "n" in opts:
        text = opts.value("n") or ""
        iterations = xatou(text[1:] if text.startswith("-") else text)
    if "m" in opts:
        raise Die("-m is not modelled in the stepbox simulator (no /proc/PID/smaps)")
    if "b" not in opts:
        raise Die("interactive top is not modelled in the stepbox simulator (no terminal): use -b")
    try:
        sys.chdir("/proc")
    except OSError as e:
        raise Die(f"can't change directory to '/proc': {e.strerror}") from None
    out = []
    users: dict[int, str] = {}
    prev_hist: dict[int, int] | None = None
    cur_jif = Jiffies()
    while True:
        procs = yield from read_processes(sys)
        if not procs:
            yield from complain(sys, "top", "no process info in /proc")
            break
        prev_jif, cur_jif = cur_jif, (yield from _read_jiffies(sys))
        # each process's ticks since the previous sample
        pcpu = {p.pid: p.ticks - prev_hist[p.pid] for p in procs if prev_hist and p.pid in prev_hist}
        total_pcpu = sum(pcpu.values())
        first = prev_hist is None
        prev_hist = {p.pid: p.ticks for p in procs}
        if first:
            yield from sys.sleep(0.1)
            continue
        # mult_lvl_cmp: %CPU, then VSZ, then CPU time, largest first
        procs.sort(key=lambda p: (-pcpu.get(p.pid, 0), -p.vsz_kb, -p.ticks))
        mem = _meminfo((yield from read_text(sys, "/proc/meminfo")))
        out.append(
            (
                f"Mem: {mem.get('MemTotal', 0) - mem.get('MemFree', 0)}K used, {mem.get('MemFree', 0)}K free, "
                f"{mem.get('MemShared', 0) + mem.get('Shmem', 0)}K shrd, {mem.get('Buffers', 0)}K buff, "
                f"{mem.get('Cached', 0)}K cached"
            )[:99]
            + "\n"
        )
        total_diff = (cur_jif.total - prev_jif.total) & U32 or 1
        order = (0, 2, 1, 3, 4, 5, 6)  # usr sys nic idle io irq sirq
        pcts = [100 * ((cur_jif.fields[i] - prev_jif.fields[i]) & U32) // total_diff & U32 for i in order]
        names = ("usr", "sys", "nic", "idle", "io", "irq", "sirq")
        out.append("CPU:" + "".join(f"{v:4d}% {n}" for v, n in zip(pcts, names, strict=True)) + "\n")
        load = yield from read_text(sys, "/proc/loadavg")
        out.append(("Load average: " + load.split("\n", 1)[0])[:99] + "\n")
        out.append("  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND")
        (ms, msh, mh), (cs, csh, ch) = _percent_scales(
            mem.get("MemTotal", 0),
            (cur_jif.busy - prev_jif.busy) & U32,
            (cur_jif.total - prev_jif.total) & U32,
            total_pcpu,
        )
        for p in procs:
            if p.uid not in users:
                users[p.uid] = (yield from id_to_name(sys, "/etc/passwd", p.uid)) or str(p.uid)
            pmem = ((p.vsz_kb * ms + mh) & U32) >> msh
            cpu_pct = ((pcpu.get(p.pid, 0) * cs + ch) & U32) >> csh
            state = p.state[:1] + ("W" if p.vsz_kb == 0 and p.state[:1] != "Z" else " ") + " "
            row = (
                f"\n{p.pid:5d}{p.ppid:6d} {users[p.uid][:8]:<8} {state}  "
                f"{smart_ulltoa5(p.vsz_kb)}{pmem:4d}%{cpu_pct:4d}% "
            )
            room = LINE_BUF_SIZE - len(row) - 1  # read_cmdline's share of line_buf, less the NUL
            out.append(row + p.args[:room] if room > 0 else row[: LINE_BUF_SIZE - 1])
        out.append("\n")
        yield from write_all(sys, 1, "".join(out))
        out = []
        iterations -= 1
        if iterations == 0:
            break
        yield from sys.sleep(interval)
    yield from write_all(sys, 1, "\n")
    return 0
