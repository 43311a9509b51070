"""ts and logger -- after busybox 1.35's miscutils/ts.c and sysklogd/logger.c.

ts stamps each line of stdin with the wall clock (``%b %d %H:%M:%S``, or
its argument; a trailing ``%.S``/``%.s`` adds microseconds); with ``-s``
the time since it started, with ``-i`` since the previous line, as UTC.

logger sends its message (the arguments, or each non-empty line of stdin)
to syslog as glibc's syslog(3) does: ``<PRI>Mmm dd hh:mm:ss TAG: MESSAGE``
in one datagram to the AF_UNIX socket /dev/log (syslogd's), silently lost
if nobody is bound there -- as in the busybox image, which runs no
syslogd; ``-s`` copies it to stderr as LOG_PERROR does (``TAG: MESSAGE``);
``-p`` is checked as busybox's pencode checks it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .libc import (
    BufferedOutput,
    Die,
    LineReader,
    UsageError,
    complain,
    dies,
    getopt,
    id_to_name,
    show_usage,
    write_all,
)

Gen = Generator[Any, Any, Any]

FACILITIES = (
    "auth authpriv cron daemon ftp kern lpr mail mark news security syslog user uucp "
    "local0 local1 local2 local3 local4 local5 local6 local7".split()
)
PRIORITIES = "alert crit debug emerg err error info none notice panic warn warning".split()


def _usage_error(sys: Sys, prog: str, e: UsageError) -> Gen:
    if e.message:
        yield from complain(sys, prog, e.message)
    yield from show_usage(sys, prog)
    raise Die(None)


@applet("ts")
@dies("ts")
def ts_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "is")
        if len(opts.operands) > 1:
            raise UsageError(None)
    except UsageError as e:
        yield from _usage_error(sys, "ts", e)
        return 1
    relative = "i" in opts or "s" in opts
    fmt = opts.operands[0] if opts.operands else ("%H:%M:%S" if relative else "%b %d %H:%M:%S")
    frac = fmt.endswith(("%.S", "%.s"))
    if frac:
        fmt = fmt[:-3] + "%" + fmt[-1]
    zone = timefmt.parse_posix_tz("UTC0") if relative else (yield from timefmt.load_zone(sys))
    base = sys.wall_time()
    out = BufferedOutput(sys, 1)
    lines = LineReader(sys, 0)
    while True:
        line = yield from lines.readline()
        if not line:
            break
        now = sys.wall_time()
        sec, usec = int(now), int(round((now - int(now)) * 1e6)) % 1000000
        if relative:
            base_sec, base_usec = int(base), int(round((base - int(base)) * 1e6)) % 1000000
            if "i" in opts:
                base = now
            sec, usec = sec - base_sec, usec - base_usec
            if usec < 0:
                sec, usec = sec - 1, usec + 1000000
        stamp = timefmt.strftime(fmt, timefmt.localtime(zone, sec), sec)
        if frac:
            stamp += f".{usec:06d}"
        out.write(stamp.encode("utf-8", "surrogateescape") + b" " + line)
        yield from out.drain()
    yield from out.flush()
    return 0


def _decode(name: str, names: list[str], codes: list[int]) -> int:
    """syslog's decode: a number (atoi), or a name in any case, or -1."""
    if name[:1].isdigit():
        digits = len(name) - len(name.lstrip("0123456789"))
        return int(name[:digits])
    for known, code in zip(names, codes, strict=True):
        if known == name.lower():
            return code
    return -1


def pencode(text: str) -> int:
    facility = 1 << 3  # LOG_USER
    name, dot, level_name = text.partition(".")
    if dot:
        facility = _decode(name, FACILITIES, _FACILITY_CODES)
        if facility < 0:
            raise Die(f"unknown facility name: {name}")
    else:
        level_name = text
    level = _decode(level_name, PRIORITIES, _PRIORITY_CODES)
    if level < 0:
        raise Die(f"unknown priority name: {text}")
    return (level & 7) | (facility & 0x3F8)


_FACILITY_CODES = [4 << 3, 10 << 3, 9 << 3, 3 << 3, 11 << 3, 0, 6 << 3, 2 << 3, 24 << 3, 7 << 3, 4 << 3]
_FACILITY_CODES += [5 << 3, 1 << 3, 8 << 3] + [(16 + i) << 3 for i in range(8)]
_PRIORITY_CODES = [1, 2, 7, 0, 3, 3, 6, 0x10, 5, 0, 4, 4]


@applet("logger")
@dies("logger")
def logger_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "p:st:")
    except UsageError as e:
        yield from _usage_error(sys, "logger", e)
        return 1
    tag = opts.value("t")
    if tag is None:
        tag = (yield from id_to_name(sys, "/etc/passwd", sys.getuid())) or str(sys.getuid())
    pri = (1 << 3) | 5  # LOG_USER | LOG_NOTICE
    if "p" in opts:
        pri = pencode(opts.value("p") or "")
    messages: list[str] = []
    if not opts.operands:
        lines = LineReader(sys, 0)
        while True:
            line = yield from lines.readline()
            if not line:
                break
            # fgets into busybox's buffer: lines longer than it come in pieces
            for k in range(0, len(line), 1023):
                piece = line[k : k + 1023].decode("utf-8", "surrogateescape")
                if piece and piece != "\n":
                    messages.append(piece)
    else:
        messages.append(" ".join(opts.operands))
    zone = yield from timefmt.load_zone(sys)
    for message in messages:
        text = f"{tag}: {message}"
        if "s" in opts:
            yield from write_all(
                sys, 2, (text if text.endswith("\n") else text + "\n").encode("utf-8", "surrogateescape")
            )
        _send_to_syslogd(sys, pri, zone, text.encode("utf-8", "surrogateescape"))
    return 0


def _send_to_syslogd(sys: Sys, pri: int, zone: Any, text: bytes) -> None:
    """glibc's __vsyslog_internal: the header, then one datagram to /dev/log
    (connect, send; on failure reconnect once); failures are silent
    (busybox's openlog gives no LOG_CONS)."""
    if pri & 0x3F8 == 0:
        pri |= 1 << 3  # LogFacility: LOG_USER
    now = int(sys.wall_time())
    stamp = timefmt.strftime("%h %e %T", timefmt.localtime(zone, now), now)
    datagram = b"<%d>%s %s" % (pri, stamp.encode(), text)
    for _attempt in range(2):
        try:
            fd = sys.socket_unix()  # type: ignore[attr-defined]
        except OSError:
            return
        try:
            sys.connect_unix(fd, "/dev/log")  # type: ignore[attr-defined]
            sys.write(fd, datagram)
            return
        except OSError:
            continue
        finally:
            sys.close(fd)
