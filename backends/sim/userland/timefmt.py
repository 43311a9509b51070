"""Local time as glibc computes it for a static busybox: the zone from
``TZ`` (a POSIX rule string or a TZif file read through the simulated
filesystem, ``/etc/localtime`` when unset), ``localtime``/``mktime``,
``strftime`` (the host's glibc strftime does the formatting, fed a
``struct tm`` with this zone's name and offset) and the part of
``strptime`` busybox's date parser uses; libbb's ``parse_datestr``.

The zone rules follow glibc's tzset: ``TZ=""`` is "Universal"; a name
that is no file is parsed as ``std offset [dst [offset] [,start,end]]``,
an unparsable offset leaves UTC under the name, a name shorter than three
letters leaves UTC with no name, a DST part without rules takes
``M3.2.0,M11.1.0``.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import UTC as DT_UTC
from datetime import datetime, timedelta
from typing import Any

from ..sys_api import Sys
from .libc import _read_small_file

Gen = Generator[Any, Any, Any]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]  # fmt: skip
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


@dataclass
class Tm:
    """``struct tm``, with the year in full and the month 1-12."""

    year: int = 1970
    mon: int = 1
    mday: int = 1
    hour: int = 0
    min: int = 0
    sec: int = 0
    wday: int = 4  # 0 = Sunday
    yday: int = 0
    isdst: int = 0
    gmtoff: int = 0
    zone: str = "UTC"

    def struct_time(self) -> time.struct_time:
        wday = (self.wday - 1) % 7  # Python's Monday = 0
        return time.struct_time(
            (
                self.year,
                self.mon,
                self.mday,
                self.hour,
                self.min,
                self.sec,
                wday,
                self.yday + 1,
                self.isdst,
                self.zone,
                self.gmtoff,
            )  # fmt: skip
        )


# -- zones --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    kind: str  # "M", "J" or "D"
    a: int  # month, or the day
    b: int = 0  # week
    c: int = 0  # weekday
    secs: int = 7200

    def change(self, year: int, gmtoff: int) -> int:
        """glibc's compute_change: the UTC second the rule fires in ``year``.
        Like glibc, a year before 1970 counts from 1970-01-01 (so before
        1970 a POSIX rule never gives daylight time)."""
        t = calendar.timegm((year, 1, 1, 0, 0, 0)) if year > 1970 else 0
        leap = calendar.isleap(year)
        if self.kind == "J":
            t += (self.a - 1) * 86400 + (86400 if leap and self.a >= 60 else 0)
        elif self.kind == "D":
            t += self.a * 86400
        else:
            before = sum(calendar.monthrange(year, m)[1] for m in range(1, self.a))
            mdays = calendar.monthrange(year, self.a)[1]
            dow = (calendar.weekday(year, self.a, 1) + 1) % 7
            d = (self.c - dow) % 7
            for _ in range(1, self.b):
                if d + 7 >= mdays:
                    break
                d += 7
            t += (before + d) * 86400
        return t - gmtoff + self.secs


class Zone:
    """A POSIX TZ rule: standard time, and maybe daylight time with rules."""

    def __init__(self, std: str, std_off: int, dst: str | None = None, dst_off: int = 0,
                 rules: tuple[_Rule, _Rule] | None = None) -> None:  # fmt: skip
        self.std, self.std_off, self.dst, self.dst_off, self.rules = std, std_off, dst, dst_off, rules

    def at(self, t: float) -> tuple[int, str, int]:
        """(gmtoff, name, isdst) at UTC second ``t``."""
        if self.dst is None or self.rules is None:
            return self.std_off, self.std, 0
        year = time.gmtime(_clamp(t)).tm_year
        start = self.rules[0].change(year, self.std_off)
        end = self.rules[1].change(year, self.dst_off)
        if start > end:
            isdst = t < end or t >= start
        else:
            isdst = start <= t < end
        return (self.dst_off, self.dst, 1) if isdst else (self.std_off, self.std, 0)


class FileZone:
    """A TZif file, read through the simulated filesystem."""

    def __init__(self, data: bytes) -> None:
        from zoneinfo import ZoneInfo

        self.zi = ZoneInfo.from_file(io.BytesIO(data))

    def at(self, t: float) -> tuple[int, str, int]:
        d = datetime.fromtimestamp(_clamp(t), DT_UTC).astimezone(self.zi)
        off = d.utcoffset() or timedelta(0)
        dst = d.dst() or timedelta(0)
        return int(off.total_seconds()), d.tzname() or "", int(bool(dst))


UTC = Zone("UTC", 0)


def _clamp(t: float) -> float:
    return max(min(t, 253402300799), -62135596800)


def _parse_name(s: str, i: int) -> tuple[str, int] | None:
    if i < len(s) and s[i] == "<":
        j = s.find(">", i)
        name = s[i + 1 : j] if j > 0 else ""
        if j < 0 or len(name) < 3 or not re.fullmatch(r"[A-Za-z0-9+-]+", name):
            return None
        return name, j + 1
    m = re.compile(r"[A-Za-z]*").match(s, i)
    assert m is not None
    if len(m.group()) < 3:
        return None
    return m.group(), m.end()


def _parse_offset(s: str, i: int) -> tuple[int, int] | None:
    """``[+-]hh[:mm[:ss]]`` -> (seconds EAST of Greenwich, end)."""
    m = re.compile(r"([+-]?)(\d+)(?::(\d+)(?::(\d+))?)?").match(s, i)
    if not m:
        return None
    secs = (
        min(int(m.group(2)), 24) * 3600 + min(int(m.group(3) or 0), 59) * 60 + min(int(m.group(4) or 0), 59)
    )
    return (secs if m.group(1) == "-" else -secs), m.end()


def _parse_rule(s: str, i: int) -> tuple[_Rule, int] | None:
    m = re.compile(r",(?:M(\d+)\.(\d+)\.(\d+)|J(\d+)|(\d+))(?:/([+-]?)(\d+)(?::(\d+)(?::(\d+))?)?)?").match(
        s, i
    )
    if not m:
        return None
    secs = 7200
    if m.group(7) is not None:
        secs = int(m.group(7)) * 3600 + int(m.group(8) or 0) * 60 + int(m.group(9) or 0)
        if m.group(6) == "-":
            secs = -secs
    if m.group(1):
        mon, week, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not (1 <= mon <= 12 and 1 <= week <= 5 and 0 <= day <= 6):
            return None
        return _Rule("M", mon, week, day, secs), m.end()
    if m.group(4):
        return _Rule("J", int(m.group(4)), secs=secs), m.end()
    return _Rule("D", int(m.group(5)), secs=secs), m.end()


_DEFAULT_RULES = (_Rule("M", 3, 2, 0), _Rule("M", 11, 1, 0))


def parse_posix_tz(s: str) -> Zone:
    named = _parse_name(s, 0)
    if named is None:
        return Zone("", 0)
    std, i = named
    off = _parse_offset(s, i)
    if off is None:
        return Zone(std, 0)
    std_off, i = off
    dnamed = _parse_name(s, i) if i < len(s) else None
    if dnamed is None:
        return Zone(std, std_off)
    dst, i = dnamed
    dst_off = std_off + 3600
    if i < len(s) and s[i] != ",":
        doff = _parse_offset(s, i)
        if doff is not None:
            dst_off, i = doff
    rules: tuple[_Rule, _Rule] | None = _DEFAULT_RULES
    if i < len(s) and s[i] == ",":
        r1 = _parse_rule(s, i)
        r2 = _parse_rule(s, r1[1]) if r1 else None
        rules = (r1[0], r2[0]) if r1 and r2 else None
    return Zone(std, std_off, dst, dst_off, rules)


def _is_tzif(data: bytes) -> bool:
    return data[:4] == b"TZif"


def load_zone(sys: Sys) -> Gen:
    """The zone for this process's ``TZ``, as glibc's tzset finds it."""
    tz = sys.env.get("TZ")
    if tz is None:
        data = yield from _read_small_file(sys, "/etc/localtime")
        return FileZone(data) if _is_tzif(data) else UTC
    if tz == "":
        tz = "Universal"
    if tz.startswith(":"):
        tz = tz[1:]
    if tz:
        path = tz if tz.startswith("/") else sys.env.get("TZDIR", "/usr/share/zoneinfo") + "/" + tz
        data = yield from _read_small_file(sys, path)
        if _is_tzif(data):
            try:
                return FileZone(data)
            except Exception:
                pass
    return parse_posix_tz(tz)


# -- struct tm ------------------------------------------------------------------------------


def gmtime(t: float, gmtoff: int = 0, zone: str = "UTC", isdst: int = 0) -> Tm:
    g = time.gmtime(_clamp(int(t // 1) + gmtoff))
    return Tm(g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, (g.tm_wday + 1) % 7,
              g.tm_yday - 1, isdst, gmtoff, zone)  # fmt: skip


def localtime(zone: Any, t: float) -> Tm:
    off, name, isdst = zone.at(t)
    return gmtime(t, off, name, isdst)


def timegm(tm: Tm) -> int:
    """Seconds for the broken-down UTC time, fields out of range carried over."""
    months = tm.year * 12 + (tm.mon - 1)
    year, mon0 = divmod(months, 12)
    days = _days_from_civil(year, mon0 + 1, 1) + tm.mday - 1
    return days * 86400 + tm.hour * 3600 + tm.min * 60 + tm.sec


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def mktime(zone: Any, tm: Tm) -> int:
    """glibc mktime with tm_isdst -1: the UTC second whose local time is
    ``tm`` (normalised)."""
    local = timegm(tm)
    off0 = zone.at(local)[0]
    off1 = zone.at(local - off0)[0]
    # in a spring-forward gap neither guess is consistent: glibc lands on the second
    t = local - off1
    return t


# -- strftime ---------------------------------------------------------------------------------

_SPEC = re.compile(r"%([_\-0^#]*)(\d*)([EO]?)(.)|%$", re.S)


def strftime(fmt: str, tm: Tm, epoch: int | None = None) -> str:
    """glibc strftime.  ``%s`` is the epoch second (glibc calls mktime; the
    caller knows it)."""
    if not fmt:
        return ""
    st = tm.struct_time()

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "%":
            return "%"
        flags, width, conv = m.group(1), m.group(2), m.group(4)
        if conv == "s":
            value = epoch if epoch is not None else timegm(tm) - tm.gmtoff
            # glibc pads %s to the width whatever the flags, with zeros only
            # when '0' is the last flag -- in front of a minus sign, too
            return str(value).rjust(int(width or 0), "0" if flags[-1:] == "0" else " ")
        if conv == "Z" and not tm.zone:
            # glibc would fall back to its own tzname[], which here is the host's
            return ("0" if flags.endswith("0") else " ") * int(width or 0)
        try:
            return time.strftime(m.group(0), st)
        except (ValueError, OverflowError):
            return m.group(0)

    return _SPEC.sub(one, fmt)


def ctime(tm: Tm) -> str:
    """``asctime``'s text (no newline): ``Wed Jun 30 21:49:08 1993``."""
    return (
        f"{DAYS[tm.wday][:3]} {MONTHS[tm.mon - 1][:3]}{tm.mday:3d} "
        f"{tm.hour:02d}:{tm.min:02d}:{tm.sec:02d} {tm.year}"
    )


# -- strptime -----------------------------------------------------------------------------------


class _Fail(Exception):
    pass


def strptime(s: str, fmt: str, tm: Tm) -> tuple[Tm, int] | None:
    """glibc strptime: (the updated tm, characters consumed) or None."""
    out = replace(tm)
    try:
        end = _strptime(s, 0, fmt, out)
    except _Fail:
        return None
    return out, end


def _number(s: str, i: int, lo: int, hi: int, n: int) -> tuple[int, int]:
    while i < len(s) and s[i].isspace():
        i += 1
    if i >= len(s) or not s[i].isdigit():
        raise _Fail
    val = 0
    while True:
        val = val * 10 + int(s[i])
        i += 1
        n -= 1
        if not (n > 0 and val * 10 <= hi and i < len(s) and s[i].isdigit()):
            break
    if not lo <= val <= hi:
        raise _Fail
    return val, i


def _name(s: str, i: int, names: list[str]) -> tuple[int, int]:
    low = s[i:].lower()
    for idx, full in enumerate(names):
        if low.startswith(full.lower()):
            return idx, i + len(full)
    for idx, full in enumerate(names):
        if low.startswith(full[:3].lower()):
            return idx, i + 3
    raise _Fail


def _strptime(s: str, i: int, fmt: str, tm: Tm) -> int:
    j = 0
    while j < len(fmt):
        c = fmt[j]
        if c.isspace():
            while i < len(s) and s[i].isspace():
                i += 1
            j += 1
            continue
        if c != "%":
            if i >= len(s) or s[i] != c:
                raise _Fail
            i += 1
            j += 1
            continue
        j += 1
        while j < len(fmt) and fmt[j] in "EO-_0^#":
            j += 1
        if j >= len(fmt):
            raise _Fail
        conv = fmt[j]
        j += 1
        if conv == "%":
            if i >= len(s) or s[i] != "%":
                raise _Fail
            i += 1
        elif conv in "nt":
            while i < len(s) and s[i].isspace():
                i += 1
        elif conv in "aA":
            tm.wday, i = _name(s, i, DAYS)
        elif conv in "bBh":
            mon, i = _name(s, i, MONTHS)
            tm.mon = mon + 1
        elif conv in "de":
            tm.mday, i = _number(s, i, 1, 31, 2)
        elif conv == "m":
            tm.mon, i = _number(s, i, 1, 12, 2)
        elif conv in "Hk":
            tm.hour, i = _number(s, i, 0, 23, 2)
        elif conv in "Il":
            h, i = _number(s, i, 1, 12, 2)
            tm.hour = h % 12
        elif conv == "M":
            tm.min, i = _number(s, i, 0, 59, 2)
        elif conv == "S":
            tm.sec, i = _number(s, i, 0, 61, 2)
        elif conv == "Y":
            tm.year, i = _number(s, i, 0, 9999, 4)
        elif conv == "y":
            y, i = _number(s, i, 0, 99, 2)
            tm.year = 1900 + y + (100 if y < 69 else 0)
        elif conv == "C":
            cent, i = _number(s, i, 0, 99, 2)
            tm.year = cent * 100 + tm.year % 100
        elif conv == "j":
            yday, i = _number(s, i, 1, 366, 3)
            tm.yday = yday - 1
        elif conv == "p":
            low = s[i : i + 2].upper()
            if low not in ("AM", "PM"):
                raise _Fail
            tm.hour = tm.hour % 12 + (12 if low == "PM" else 0)
            i += 2
        elif conv == "s":
            m = re.compile(r"-?\d+").match(s, i)
            if not m:
                raise _Fail
            g = gmtime(int(m.group()))
            tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec = g.year, g.mon, g.mday, g.hour, g.min, g.sec
            i = m.end()
        elif conv == "z":
            while i < len(s) and s[i] == " ":
                i += 1
            if i < len(s) and s[i] == "Z":
                tm.gmtoff = 0
                i += 1
            else:
                m = re.compile(r"([+-])(\d\d)(?::?(\d\d))?").match(s, i)
                if not m or int(m.group(2)) > 12 or int(m.group(3) or 0) > 59:
                    raise _Fail
                off = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60
                tm.gmtoff = -off if m.group(1) == "-" else off
                i = m.end()
        elif conv == "Z":
            while i < len(s) and (s[i].isalpha() or s[i] in "+-"):  # glibc: ignored
                i += 1
        elif conv in "DRTrFc":
            sub = {"D": "%m/%d/%y", "R": "%H:%M", "T": "%H:%M:%S", "r": "%I:%M:%S %p", "F": "%Y-%m-%d",
                   "c": "%a %b %e %H:%M:%S %Y"}[conv]  # fmt: skip
            i = _strptime(s, i, sub, tm)
        else:
            raise _Fail
    return i


# -- libbb ---------------------------------------------------------------------------------

_DESKTOP_FORMATS = ["%R", "%T", "%m.%d-%R", "%m.%d-%T", "%Y.%m.%d-%R", "%Y.%m.%d-%T", "%b %d %T %Y",
                    "%Y-%m-%d %R", "%Y-%m-%d %T", "%Y-%m-%d %R %z", "%Y-%m-%d %T %z", "%Y-%m-%d %H",
                    "%Y-%m-%d"]  # fmt: skip


class BadDate(Exception):
    pass


def parse_datestr(zone: Any, text: str, tm: Tm) -> tuple[Tm, bool] | int:
    """libbb's parse_datestr (as a DESKTOP build has it).  Returns (tm,
    check_dst) or, for ``@N`` and ``... %z`` forms, the UTC second itself.
    Raises BadDate."""
    for fmt in _DESKTOP_FORMATS:
        got = strptime(text, fmt, tm)
        if got is not None and got[1] == len(text):
            if "z" in fmt:
                return timegm(got[0]) - got[0].gmtoff
            return got[0], True
    if text.startswith("@"):
        if not re.fullmatch(r"-?\d+", text[1:]) or abs(int(text[1:])) >= 1 << 63:
            raise BadDate
        return int(text[1:])
    tm = replace(tm)
    cur_year = tm.year - 1900
    head, dot, secs = text.partition(".")
    if not head.isdigit() and head:
        raise BadDate
    two = [int(head[k : k + 2]) for k in range(0, len(head), 2)]  # head is digits (or empty)
    n = len(head)
    if n == 2:
        tm.min = two[0]
    elif n == 4:
        tm.hour, tm.min = two[0], two[1]
    elif n == 6:
        tm.mday, tm.hour, tm.min = two[0], two[1], two[2]
    elif n == 8:
        tm.mon, tm.mday, tm.hour, tm.min = two[0], two[1], two[2], two[3]
    elif n == 10:
        yy = two[0]
        tm.mon, tm.mday, tm.hour, tm.min = two[1], two[2], two[3], two[4]
        year = yy
        if cur_year >= 50:
            year += (cur_year // 100) * 100
            if year < cur_year - 50:
                year += 100
            if year > cur_year + 50:
                year -= 100
        tm.year = year + 1900
    elif n == 12:
        tm.year = int(head[:4])
        tm.mon, tm.mday, tm.hour, tm.min = two[2], two[3], two[4], two[5]
    else:
        raise BadDate
    tm.sec = 0
    if dot:
        m = re.fullmatch(r"\s*\+?(\d+)", secs)
        if not m:
            raise BadDate
        tm.sec = int(m.group(1))
    if tm.sec > 60 or tm.min > 59 or tm.hour > 23 or tm.mday > 31 or tm.mon - 1 > 11:
        raise BadDate
    return tm, True


def resolve(zone: Any, parsed: tuple[Tm, bool] | int) -> int:
    """parse_datestr's result as a UTC second (validate_tm_time's mktime).
    Raises BadDate for -1."""
    if isinstance(parsed, int):
        t = parsed
    else:
        tm, check_dst = parsed
        if check_dst:
            tm = replace(tm, isdst=-1)
        t = mktime(zone, tm)
    if t == -1:  # mktime's error value, whatever the date
        raise BadDate
    return t
