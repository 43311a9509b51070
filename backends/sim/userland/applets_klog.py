"""dmesg and klogd -- after busybox 1.35's util-linux/dmesg.c and
sysklogd/klogd.c, on the simulated kernel's log (``Sys.klogctl``, syslog(2):
see backends/sim/kmsg.py).

In a Docker container both meet the seccomp profile's EPERM (no
CAP_SYSLOG): dmesg says "dmesg: klogctl: Operation not permitted"; klogd
reports its read error to syslog, not to the terminal, and exits 1.
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .daemonize import daemonize
from .libc import Die, UsageError, complain, dies, getopt, show_usage, strerror, write_all, xatou

Gen = Generator[Any, Any, Any]

# klogctl actions (include/linux/syslog.h)
CLOSE, OPEN, READ, READ_ALL = 0, 1, 2, 3
CONSOLE_ON, CONSOLE_LEVEL, SIZE_BUFFER = 7, 8, 10
INT_MAX = 2**31 - 1
COMMON_BUFSIZE = 1024  # busybox's bb_common_bufsiz1 on x86_64 builds with a small stack
LOG_INFO = 6


def _xatou_range(text: str, lo: int, hi: int) -> int:
    """libbb's xatou_range: an unsigned int -- past UINT_MAX the conversion
    overflows ("invalid number"), else out of lo..hi is "not in range"."""
    try:
        value = xatou(text)
    except Die:
        raise Die(f"invalid number '{text}'") from None
    if not lo <= value <= hi:
        raise Die(f"number {text} is not in {lo}..{hi} range")
    return value


def _usage(sys: Sys, prog: str, e: UsageError) -> Gen:
    if e.message:
        yield from complain(sys, prog, e.message)
    yield from show_usage(sys, prog)


def _klogctl(sys: Sys, action: int, length: int = 0) -> Gen:
    """klogctl(3): the result, or -1 and the errno (as an OSError) -- returned, not raised."""
    try:
        return (yield from sys.klogctl(action, length)), None
    except OSError as e:
        return -1, e


@applet("dmesg")
@dies("dmesg")
def dmesg_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "cs:n:r")
    except UsageError as e:
        yield from _usage(sys, "dmesg", e)
        return 1
    size = _xatou_range(opts.value("s") or "", 0, INT_MAX) if "s" in opts else None
    if "n" in opts:
        level = _xatou_range(opts.value("n") or "", 0, INT_MAX)
        _, error = yield from _klogctl(sys, CONSOLE_LEVEL, level)
        if error is not None:
            raise Die(f"klogctl: {strerror(error)}")
        return 0
    if size is None:
        size, _ = yield from _klogctl(sys, SIZE_BUFFER)
    size = min(max(size, 16 * 1024), 16 * 1024 * 1024)
    data, error = yield from _klogctl(sys, READ_ALL + ("c" in opts), size)
    if error is not None:
        raise Die(f"klogctl: {strerror(error)}")
    if not data:
        return 0
    if "r" in opts:
        yield from write_all(sys, 1, data if data.endswith(b"\n") else data + b"\n")
        return 0
    yield from write_all(sys, 1, _pretty(data))
    return 0


def _pretty(data: bytes) -> bytes:
    """Drop the ``<N>`` at the start of each line, end with a newline."""
    out = bytearray()
    last, i = ord("\n"), 0
    while i < len(data):
        if last == ord("\n") and data[i] == ord("<"):
            end = data.find(b">", i)
            i = len(data) if end < 0 else end + 1
        else:
            last = data[i]
            out.append(last)
            i += 1
    if last != ord("\n"):
        out += b"\n"
    return bytes(out)


@applet("klogd")
@dies("klogd")
def klogd_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "c:n")
    except UsageError as e:
        yield from _usage(sys, "klogd", e)
        return 1
    level = _xatou_range(opts.value("c") or "", 1, 8) if "c" in opts else 0
    if "n" not in opts:
        return (yield from daemonize(sys, lambda child: _klogd(child, level), chdir_root=True))
    return (yield from _klogd(sys, level))


def _syslog(sys: Sys, priority: int, text: str) -> Gen:
    """syslog(3) with openlog("kernel", 0, LOG_KERN): to /dev/log.  The
    simulated kernel has no AF_UNIX sockets (and no syslogd to listen
    there), so the message goes nowhere -- as in a container without a
    syslogd; without LOG_CONS glibc does not fall back to the console."""
    return
    yield  # pragma: no cover


def _klogd(sys: Sys, level: int) -> Gen:
    """klogd_main after the daemonizing: copy the kernel log to syslog
    until a signal; its errors go to syslog too (logmode LOGMODE_SYSLOG)."""
    yield from _klogctl(sys, OPEN)
    if level:
        yield from _klogctl(sys, CONSOLE_LEVEL, level)
    stop: list[int] = []
    sys.signal(signal.SIGHUP, signal.SIG_IGN)
    for sig in (
        signal.SIGINT,
        signal.SIGTERM,
        signal.SIGQUIT,
        signal.SIGPIPE,
        signal.SIGUSR1,
        signal.SIGUSR2,
    ):
        sys.signal(sig, stop.append)
    yield from _syslog(sys, 5, f"klogd started: {BANNER_VERSION}")
    yield from _write_pidfile(sys, "/var/run/klogd.pid")
    pending = b""
    while not stop:
        data, error = yield from _klogctl(sys, READ, COMMON_BUFSIZE - 1 - len(pending))
        if error is not None:
            if error.errno == errno.EINTR:
                continue
            yield from _syslog(sys, 3, f"klogctl(2) error: {strerror(error)}")
            break
        pending += data
        lines = pending.split(b"\n")
        pending = lines.pop()
        if len(pending) >= COMMON_BUFSIZE - 1:
            lines.append(pending)
            pending = b""
        for line in lines:
            priority, text = _priority(line)
            if text:
                yield from _syslog(sys, priority, text.decode("utf-8", "surrogateescape"))
    yield from _klogctl(sys, CONSOLE_ON)
    yield from _klogctl(sys, CLOSE)
    yield from _syslog(sys, 5, "klogd: exiting")
    try:
        sys.unlink("/var/run/klogd.pid")
    except OSError:
        pass
    if stop:
        sys.signal(stop[0], signal.SIG_DFL)
        sys.kill(sys.getpid(), stop[0])
    return 1


def _priority(line: bytes) -> tuple[int, bytes]:
    """klogd's "<N>" prefix: strtoul's digits, then an optional '>'."""
    if not line.startswith(b"<") or len(line) == 1:
        return LOG_INFO, line
    digits = len(line[1:]) - len(line[1:].lstrip(b"0123456789"))
    priority = int(line[1 : 1 + digits]) if digits else 0
    rest = line[1 + digits :]
    return priority, rest[1:] if rest.startswith(b">") else rest


def _write_pidfile(sys: Sys, path: str) -> Gen:
    """write_pidfile: best effort, silently."""
    from ..sys_api import O_CREAT, O_TRUNC, O_WRONLY

    try:
        fd = sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    except OSError:
        return
    try:
        yield from write_all(sys, fd, f"{sys.getpid()}\n")
    finally:
        sys.close(fd)


BANNER_VERSION = "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)"
