"""Applets that run another program: timeout, time, setsid, chroot,
run-parts -- after busybox 1.35.

timeout is busybox's: the process execs PROG itself, after a daemonized
grandchild (stdio on /dev/null, parent init) was left to sleep a second at
a time, then signal it.  time reports the virtual clock and the CPU the
simulated child was charged (all of it as user time).  The simulator has
no sessions or process groups: setsid just runs PROG.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import O_APPEND, O_CREAT, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .cmd_kill import signal_number
from .libc import (
    BufferedOutput,
    Die,
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    show_usage,
    strerror,
    write_all,
    xatou,
)
from .spawn import bb_execvp, exec_or_die, spawn_and_wait

Gen = Generator[Any, Any, Any]

_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """libbb's parse_duration_str (FLOAT_DURATION): ``1.5m``; raises
    UsageError for a bad fraction, Die for a bad number or suffix."""
    if "." in text:
        n = len(text) - len(text.lstrip("0123456789."))
        number, rest = text[:n], text[n:]
        if not re.fullmatch(r"\d*\.?\d*", number) or number in ("", "."):
            raise UsageError(None)
        # busybox puts a '1' before the suffix and scales by what xatoul_sfx makes of it
        return float(number) * xatou("1" + rest, 0, 2**64 - 1, _DURATION)
    return xatou(text, 0, 2**64 - 1, _DURATION)


def _options(sys: Sys, prog: str, spec: str, permute: bool = False) -> Gen:
    try:
        return getopt(sys.argv[1:], spec, permute)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        raise Die(None) from None


# -- timeout ---------------------------------------------------------------------------------


def _timeout_wait(sys: Sys, seconds: int, pid: int) -> Gen:
    while True:
        yield from sys.sleep(1)
        seconds -= 1
        if seconds <= 0:
            return False
        try:
            sys.kill(pid, 0)
        except OSError:
            return True


@applet("timeout")
@dies("timeout")
def timeout_main(sys: Sys) -> Gen:
    opts = yield from _options(sys, "timeout", "s:k:")
    sig_name = opts.value("s", "TERM") or ""
    signo = signal_number(sig_name)
    if signo is None:
        raise Die(f"unknown signal '{sig_name}'")
    try:
        kill_timeout = int(parse_duration(opts.value("k") or "0")) if "k" in opts else 0
        args = opts.operands
        if not args:
            raise UsageError(None)
        timeout = int(parse_duration(args[0]))
        if len(args) < 2:
            raise UsageError(None)
    except UsageError:
        yield from show_usage(sys, "timeout")
        return 1
    prog = args[1:]
    parent = sys.getpid()

    def grandchild(gsys: Sys) -> Gen:
        try:
            fd = gsys.open("/dev/null", O_RDWR)
        except OSError:
            fd = -1
        if fd >= 0:
            for std in (0, 1, 2):
                gsys.dup2(fd, std)
            close_quietly(gsys, fd)
        if (yield from _timeout_wait(gsys, timeout, parent)):
            return 0
        try:
            gsys.kill(parent, signo)
        except OSError:
            return 0
        if kill_timeout > 0:
            if (yield from _timeout_wait(gsys, kill_timeout, parent)):
                return 0
            try:
                gsys.kill(parent, 9)
            except OSError:
                pass
        return 0

    def child(csys: Sys) -> Gen:
        csys.fork(grandchild)
        return 0
        yield  # pragma: no cover

    pid = sys.fork(child)
    while True:
        res = yield from sys.waitpid(pid, 0)
        if res is not None:
            break
    if res.status != 0:
        return 1
    return (yield from exec_or_die(sys, "timeout", prog))


# -- time -----------------------------------------------------------------------------------

_DEFAULT = "real\t%E\nuser\t%u\nsys\t%T"
_POSIX = "real %e\nuser %U\nsys %S"
_LONG = (
    '\tCommand being timed: "%C"\n'
    "\tUser time (seconds): %U\n"
    "\tSystem time (seconds): %S\n"
    "\tPercent of CPU this job got: %P\n"
    "\tElapsed (wall clock) time (h:mm:ss or m:ss): %E\n"
    "\tAverage shared text size (kbytes): %X\n"
    "\tAverage unshared data size (kbytes): %D\n"
    "\tAverage stack size (kbytes): %p\n"
    "\tAverage total size (kbytes): %K\n"
    "\tMaximum resident set size (kbytes): %M\n"
    "\tAverage resident set size (kbytes): %t\n"
    "\tMajor (requiring I/O) page faults: %F\n"
    "\tMinor (reclaiming a frame) page faults: %R\n"
    "\tVoluntary context switches: %w\n"
    "\tInvoluntary context switches: %c\n"
    "\tSwaps: %W\n"
    "\tFile system inputs: %I\n"
    "\tFile system outputs: %O\n"
    "\tSocket messages sent: %s\n"
    "\tSocket messages received: %r\n"
    "\tSignals delivered: %k\n"
    "\tPage size (bytes): %Z\n"
    "\tExit status: %x"
)


def _ms(seconds: int, usec: int) -> str:
    """time's m:s form (h m s from an hour)."""
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m {seconds % 60:02d}s"
    return f"{seconds // 60}m {seconds % 60}.{usec // 10000:02d}s"


def summarize(fmt: str, command: list[str], status: int, elapsed_ms: int, cpu_usec: int) -> str:
    parts = []
    sig = status & 0x7F
    if sig:
        parts.append(f"Command terminated by signal {sig}\n")
    elif status >> 8:
        parts.append(f"Command exited with non-zero status {status >> 8 & 0xFF}\n")
    usec_s, usec_us = divmod(cpu_usec, 1_000_000)
    vv_ms = cpu_usec // 1000
    secs = elapsed_ms // 1000
    values = {
        "C": " ".join(command),
        "E": (
            f"{secs // 3600}h {secs % 3600 // 60}m {secs % 60:02d}s"
            if secs >= 3600
            else f"{secs // 60}m {secs % 60}.{elapsed_ms // 10 % 100:02d}s"
        ),
        "e": f"{secs}.{elapsed_ms // 10 % 100:02d}",
        "U": f"{usec_s}.{usec_us // 10000:02d}",
        "u": _ms(usec_s, usec_us),
        "S": "0.00",
        "T": _ms(0, 0),
        "P": f"{vv_ms * 100 // elapsed_ms}%" if elapsed_ms > 0 else "?%",
        "Z": "4096",
        "x": str(status >> 8 & 0xFF),
    }
    i = 0
    while i < len(fmt):
        m = re.compile(r"[^%\\]+").match(fmt, i)
        if m:
            parts.append(m.group())
            i = m.end()
            continue
        if fmt[i] == "%":
            i += 1
            if i < len(fmt):
                parts.append(values.get(fmt[i], "0" if fmt[i] in "DFIKMORWXckprstw" else ""))
        i += 1  # a backslash escape prints nothing in this build
    parts.append("\n")
    return "".join(parts)


@applet("time")
@dies("time")
def time_main(sys: Sys) -> Gen:
    opts = yield from _options(sys, "time", "vpao:f:")
    if not opts.operands:
        yield from show_usage(sys, "time")
        return 1
    fmt = sys.env.get("TIME") or _DEFAULT
    if "f" in opts:
        fmt = opts.value("f") or ""
    if "v" in opts:
        fmt = _LONG
    if "p" in opts:
        fmt = _POSIX
    out_fd = 2
    if "o" in opts:
        name = opts.value("o") or ""
        flags = O_CREAT | O_WRONLY | (O_APPEND if "a" in opts else O_TRUNC)
        try:
            out_fd = sys.open(name, flags, 0o666)
        except OSError as e:
            raise Die(f"can't open '{name}': {strerror(e)}") from None
    argv = opts.operands
    start = sys.time()
    outcome: dict[str, Any] = {}

    def child(csys: Sys) -> Gen:
        if out_fd > 2:
            close_quietly(csys, out_fd)
        try:
            yield from bb_execvp(csys, argv)
        except OSError as e:
            outcome["error"] = e
        return 111

    pid = sys.fork(child)
    while True:
        res = yield from sys.waitpid(pid, 0)
        if res is not None:
            break
    if "error" in outcome:
        failure = outcome["error"]
        yield from complain(sys, "time", f"can't execute '{argv[0]}': {strerror(failure)}")
        status = (127 if failure.errno == 2 else 126) << 8
    else:
        status = res.status
    # a fork and an exec take the real kernel a millisecond or so; the
    # simulated clock may not have moved at all
    elapsed_ms = max(1, int((sys.time() - start) * 1000))
    text = summarize(fmt, argv, status, elapsed_ms, getattr(res, "cpu_usec", 0))
    out = BufferedOutput(sys, out_fd)
    out.write(text.encode("utf-8", "surrogateescape"))
    yield from out.flush()
    sig = status & 0x7F
    return sig if sig else status >> 8 & 0xFF


# -- setsid, chroot ---------------------------------------------------------------------------


@applet("setsid")
@dies("setsid")
def setsid_main(sys: Sys) -> Gen:
    opts = yield from _options(sys, "setsid", "c")
    if not opts.operands:
        yield from show_usage(sys, "setsid")
        return 1
    return (yield from exec_or_die(sys, "setsid", opts.operands))


@applet("chroot")
@dies("chroot")
def chroot_main(sys: Sys) -> Gen:
    args = sys.argv[1:]
    if not args:
        yield from show_usage(sys, "chroot")
        return 1
    try:
        sys.chroot(args[0])
    except OSError as e:
        raise Die(f"can't change root directory to '{args[0]}': {strerror(e)}") from None
    try:
        sys.chdir("/")
    except OSError as e:
        raise Die(f"can't change directory to '/': {strerror(e)}") from None
    prog = args[1:]
    if not prog:
        shell = sys.env.get("SHELL")
        if not shell:
            entry = yield from _own_entry(sys)
            shell = entry[6] if entry and entry[6] else "/bin/sh"
        prog = [shell, "-i"]
    return (yield from exec_or_die(sys, "chroot", prog))


def _own_entry(sys: Sys) -> Gen:
    from .libc import read_text

    text = yield from read_text(sys, "/etc/passwd")
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == str(sys.getuid()):
            return fields
    return None


# -- run-parts --------------------------------------------------------------------------------

_RP_LONG = {"arg": "a", "umask": "u", "reverse": "\x01", "test": "\x02", "exit-on-error": "\x03"}


@applet("run-parts")
@dies("run-parts")
def run_parts_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "a:u:\x01\x02\x03", True, _RP_LONG)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "run-parts", e.message)
        yield from show_usage(sys, "run-parts")
        return 1
    if len(opts.operands) != 1:
        yield from show_usage(sys, "run-parts")
        return 1
    sys.umask(xatou(opts.value("u", "22") or "", 0, 0o7777, base=8))
    directory = opts.operands[0]
    try:
        st = sys.stat(directory)
    except OSError as e:
        yield from complain(sys, "run-parts", f"{directory}: {strerror(e)}")
        return 0
    names: list[str] = []
    if st.kind.value == "dir":
        try:
            entries = sys.listdir(directory)
        except OSError as e:
            yield from complain(sys, "run-parts", f"can't open '{directory}': {strerror(e)}")
            entries = []
        for entry in entries:
            path = directory + entry if directory.endswith("/") else directory + "/" + entry
            try:
                est = sys.stat(path)
            except OSError:
                continue
            if est.kind.value != "file" or getattr(est, "is_device", False):
                continue
            if not re.fullmatch(r"[A-Za-z0-9_.-]*", entry) or entry.startswith("."):
                continue
            if not sys.access(path, 1):
                continue
            names.append(path)
    names.sort(key=lambda n: n.encode("utf-8", "surrogateescape"), reverse="\x01" in opts)
    extra = opts.values.get("a", [])
    status = 0
    for name in names:
        if "\x02" in opts:
            yield from write_all(sys, 1, name + "\n")
            continue
        try:
            ret = yield from spawn_and_wait(sys, [name, *extra])
        except OSError as e:
            status = 1
            yield from complain(sys, "run-parts", f"can't execute '{name}': {strerror(e)}")
        else:
            if ret == 0:
                continue
            status = 1
            yield from complain(sys, "run-parts", f"{name}: exit status {ret & 0xFF}")
        if "\x03" in opts:
            return 1
    return status
