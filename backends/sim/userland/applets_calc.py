"""Tables and numbers: ascii, factor, cal -- after busybox 1.35 (cal with
its 1752 reformation, its -j day numbers and the way a year's rows reuse
one line buffer)."""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .libc import BufferedOutput, LineReader, UsageError, complain, dies, getopt, show_usage, xatou

Gen = Generator[Any, Any, Any]


@applet("ascii")
def ascii_main(sys: Sys) -> Gen:
    names = _CTRL
    lines = ["Dec Hex    Dec Hex    Dec Hex  Dec Hex  Dec Hex  Dec Hex   Dec Hex   Dec Hex"]
    for i in range(16):
        last = "DEL" if i + 0x70 == 0x7F else chr(i + 0x70)
        lines.append(
            f"{i:3d} {i:02x} {names[i]}{i + 16:4d} {i + 16:02x} {names[i + 16]}"
            f"{i + 0x20:4d} {i + 0x20:02x} {chr(i + 0x20)}{i + 0x30:4d} {i + 0x30:02x} {chr(i + 0x30)}"
            f"{i + 0x40:4d} {i + 0x40:02x} {chr(i + 0x40)}{i + 0x50:4d} {i + 0x50:02x} {chr(i + 0x50)}"
            f"{i + 0x60:5d} {i + 0x60:02x} {chr(i + 0x60)}{i + 0x70:5d} {i + 0x70:02x} {last}"
        )
    out = BufferedOutput(sys, 1)
    out.write("\n".join(lines) + "\n")
    yield from out.flush()
    return 0


_CTRL = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS ", "HT ", "NL ", "VT ", "FF ", "CR ", "SO ", "SI ",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM ", "SUB", "ESC", "FS ", "GS ", "RS ", "US ",
]  # fmt: skip


# -- factor ------------------------------------------------------------------------------------


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):  # deterministic below 2^64
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _rho(n: int) -> int:
    if n % 2 == 0:
        return 2
    rng = random.Random(n)
    while True:
        x = y = rng.randrange(2, n)
        c = rng.randrange(1, n)
        d = 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = math.gcd(abs(x - y), n)
        if d != n:
            return d


def prime_factors(n: int) -> list[int]:
    """What busybox's wheel of trial divisions prints, found faster."""
    if n < 2:
        return []
    small = []
    for p in (2, 3, 5, 7, 11, 13):
        while n % p == 0:
            small.append(p)
            n //= p
    stack, big = [n] if n > 1 else [], []
    while stack:
        m = stack.pop()
        if _is_prime(m):
            big.append(m)
        else:
            d = _rho(m)
            stack += [d, m // d]
    return small + sorted(big)


def _factor_text(numstr: str) -> str:
    if numstr.startswith("+"):
        numstr = numstr[1:]
    if not numstr[:1].isalnum() or not numstr.isdigit() or int(numstr) >= 2**64:
        raise UsageError(None)
    n = int(numstr)
    factors = prime_factors(n) if n >= 4 else ([n] if n > 1 else [])
    return f"{n}:" + "".join(f" {f}" for f in factors) + "\n"


@applet("factor")
def factor_main(sys: Sys) -> Gen:
    out = BufferedOutput(sys, 1)
    try:
        if len(sys.argv) > 1:
            for arg in sys.argv[1:]:
                out.write(_factor_text(arg.lstrip(" \t\n\v\f\r")))
                yield from out.drain()
        else:
            reader = LineReader(sys, 0)
            while True:
                line = yield from reader.readline()
                if not line:
                    break
                for word in line.decode("latin-1").split():
                    out.write(_factor_text(word))
                yield from out.drain()
    except UsageError:
        yield from out.flush()
        yield from show_usage(sys, "factor")
        return 1
    yield from out.flush()
    return 0


# -- cal ---------------------------------------------------------------------------------------

_DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_SEP1752 = [1, 2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]
SPACE = -1


def _leap(yr: int) -> bool:
    if yr <= 1752:
        return yr % 4 == 0
    return (yr % 4 == 0 and yr % 100 != 0) or yr % 400 == 0


def _leaps_since_1(yr: int) -> int:
    centuries = yr // 100 - 17 if yr > 1700 else 0
    quads = (yr - 1600) // 400 if yr > 1600 else 0
    return yr // 4 - centuries + quads


def day_array(month: int, year: int, weekstart: int, julian: bool) -> list[int]:
    days = [SPACE] * 42
    if month == 9 and year == 1752:
        for i, d in enumerate(_SEP1752):
            days[i + 2 - weekstart] = d + (244 if julian else 0)
        return days
    day = 1
    if month > 2 and _leap(year):
        day += 1
    for i in range(month):
        day += _DAYS_IN_MONTH[i]
    temp = (year - 1) * 365 + _leaps_since_1(year - 1) + day
    dw = (temp - 1 + 6) % 7 if temp < 639787 else (temp - 1 + 6 - 11) % 7
    dw = (dw - weekstart + 7) % 7
    if not julian:
        day = 1
    dm = _DAYS_IN_MONTH[month] + (1 if month == 2 and _leap(year) else 0)
    for _ in range(dm):
        days[dw] = day
        dw += 1
        day += 1
    return days


def _build_row(buf: bytearray, p: int, dp: list[int], julian: bool) -> int:
    buf[p : p + (4 if julian else 3) * 7] = b" " * ((4 if julian else 3) * 7)
    for day in dp:
        if day != SPACE:
            if julian:
                p += 1
                if day >= 100:
                    buf[p] = ord("0")
                    buf[p - 1] = ord("0") + day // 100
                    day %= 100
            if day // 10 > 0:
                buf[p] = ord("0") + day // 10
            p += 1
            buf[p] = ord("0") + day % 10
            p += 2
        else:
            p += 3 + (1 if julian else 0)
    return p


def _trimmed(buf: bytearray) -> bytes:
    """trim_trailing_spaces_and_print: up to the first NUL, trailing blanks
    cut by writing a NUL into the buffer (which the next row may keep)."""
    end = buf.index(0) if 0 in buf else len(buf)
    p = end
    while p > 0:
        p -= 1
        if not chr(buf[p]).isspace():
            buf[p + 1] = 0
            end = p + 1
            break
    return bytes(buf[:end]) + b"\n"


def _center(text: str, width: int, separate: int) -> str:
    n = len(text)
    rest = width - n
    return text.rjust(rest // 2 + n) + " " * (rest // 2 + rest % 2 + separate)


@applet("cal")
@dies("cal")
def cal_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "jmy")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "cal", e.message)
        yield from show_usage(sys, "cal")
        return 1
    julian = "j" in opts
    weekstart = 1 if "m" in opts else 0
    args = opts.operands
    month = 0
    if not args:
        zone = yield from timefmt.load_zone(sys)
        tm = timefmt.localtime(zone, sys.wall_time())
        year = tm.year
        if "y" not in opts:
            month = tm.mon
    else:
        if len(args) > 1:
            if len(args) > 2:
                yield from show_usage(sys, "cal")
                return 1
            if "y" not in opts:
                month = xatou(args[0], 1, 12)
            args = args[1:]
        year = xatou(args[0], 1, 9999)
    names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]  # fmt: skip
    wdays = ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"]
    heading = " ".join((" " if julian else "") + wdays[(i + weekstart) % 7] for i in range(7))
    out = BufferedOutput(sys, 1)
    if month:
        days = day_array(month, year, weekstart, julian)
        line = f"{names[month - 1]} {year}"
        out.write(" " * ((7 * julian + 20 - len(line)) // 2) + line + "\n" + heading + "\n")
        for row in range(6):
            buf = bytearray(30)
            end = _build_row(buf, 0, days[row * 7 : row * 7 + 7], julian)
            buf[end] = 0
            out.write(_trimmed(buf))
    else:
        width = 20 * 3 + 2 * 2 + (julian and (27 * 2 + 2 - (20 * 3 + 2 * 2)))
        out.write(_center(str(year), width, 0) + "\n\n")
        all_days = [day_array(m + 1, year, weekstart, julian) for m in range(12)]
        buf = bytearray(b" " * 79 + b"\0")
        week_len = 27 if julian else 20
        step = 2 if julian else 3
        for m in range(0, 12, step):
            header = _center(names[m], week_len, 2)
            if not julian:
                header += _center(names[m + 1], week_len, 2)
            header += _center(names[m + 2 - julian], week_len, 0)
            out.write(header + "\n" + heading + "  " + heading + ("" if julian else "  " + heading) + "\n")
            for row in range(0, 42, 7):
                for which in range(step):
                    _build_row(buf, which * (week_len + 2), all_days[m + which][row : row + 7], julian)
                out.write(_trimmed(buf))
    yield from out.flush()
    return 0
