"""Applets about time: date, cal, uptime, time, timeout, ts.

Local time comes from :mod:`timefmt` (glibc's zone rules, strftime and
strptime); the clock from ``Sys.wall_time``.  Setting the clock (``date
-s``, ``date MMDDhhmm``) fails as it does in a container without
CAP_SYS_TIME.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import replace
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .libc import complain, full_stat, out, parse_options, show_usage, strerror

Gen = Generator[Any, Any, int]

_DATE_LONG = {"rfc-822": "R", "rfc-2822": "R", "set": "s", "utc": "u", "date": "d", "reference": "r"}
_ISO = ["date", "hours", "minutes", "seconds", "ns"]


@applet("date")
def date_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "date", "Rs:ud:r:I::D:", longopts=_DATE_LONG)
    if opts is None:
        return 1
    if ("d" in opts and "s" in opts) or ("R" in opts and "I" in opts):
        yield from show_usage(sys, "date")
        return 1
    isofmt = -1
    if "I" in opts:
        arg = opts.value("I")
        isofmt = 0
        if arg is not None:
            if arg not in _ISO:
                yield from show_usage(sys, "date")
                return 1
            isofmt = _ISO.index(arg)
    args = list(opts.operands)
    fmt = None
    if args and args[0].startswith("+"):
        fmt = args.pop(0)[1:]
    setting = "s" in opts
    date_str = opts.value("d") if "d" in opts else opts.value("s")
    if "s" not in opts and "d" not in opts:
        setting = True
        date_str = args.pop(0) if args else None
        if date_str is not None:
            digits = len(date_str) - len(date_str.lstrip("0123456789"))
            rest = date_str[digits:]
            if rest == "" or re.fullmatch(r"\.\d\d", rest):
                n = digits - 8
                if n < 0 or n > 4 or n & 1:
                    yield from complain(sys, "date", f"invalid date '{date_str}'")
                    return 1
                if n:
                    date_str = date_str[8 : 8 + n] + date_str[:8] + date_str[8 + n :]
    if args:
        yield from show_usage(sys, "date")
        return 1
    zone = timefmt.parse_posix_tz("UTC0") if "u" in opts else (yield from timefmt.load_zone(sys))
    if "r" in opts:
        try:
            st = full_stat(sys, opts.value("r") or "")
        except OSError as e:
            yield from complain(sys, "date", f"can't stat '{opts.value('r')}': {strerror(e)}")
            return 1
        now = st.mtime
    else:
        now = sys.wall_time()
    secs, nsec = int(now // 1), 0  # built without FEATURE_DATE_NANO: %N is glibc's (nothing)
    tm = timefmt.localtime(zone, secs)
    if date_str is not None:
        tm = replace(tm, hour=0, min=0, sec=0)
        try:
            if "D" in opts:
                got = timefmt.strptime(date_str, opts.value("D") or "", tm)
                if got is None:
                    raise timefmt.BadDate
                parsed: Any = (got[0], True)
            else:
                parsed = timefmt.parse_datestr(zone, date_str, tm)
            secs = timefmt.resolve(zone, parsed)
        except timefmt.BadDate:
            yield from complain(sys, "date", f"invalid date '{date_str}'")
            return 1
        tm = timefmt.localtime(zone, secs)
        if setting:
            yield from complain(sys, "date", "can't set date: Operation not permitted")
    if fmt is None:
        if isofmt >= 0:
            fmt = "%Y-%m-%dT%H:%M:%S"[: 8 + 3 * isofmt] if isofmt < 4 else "%Y-%m-%dT%H:%M:%S"
            if isofmt == 4:
                fmt += f",{nsec:09d}"
            if isofmt:
                z = timefmt.strftime("%z", tm)
                fmt += z[:3] + ":" + z[3:] if len(z) == 5 and z[0] in "+-" else z
        elif "R" in opts:
            fmt = "%a, %d %b %Y %H:%M:%S %z"
        else:
            fmt = "%a %b %e %H:%M:%S %Z %Y"
    yield from out(sys, timefmt.strftime(fmt, tm, secs) + "\n")
    return 0
