"""The numbers of bc and dc -- busybox 1.35's miscutils/bc.c (Gavin Howard's
bc): arbitrary-precision decimals, each with its own scale (``rdx``, the
digits after the point), and the scale rules of every operation:

* ``+ -``: exact, the larger scale (a zero operand: the other's, as is);
* ``*``: min(ra + rb, max(scale, ra, rb)) digits, truncated;
* ``/``: ``scale`` digits, truncated toward zero;
* ``%``: a - (a / b) * b computed with max(scale + rb, ra) digits;
* ``^``: an integer exponent, by squaring with busybox's intermediate scales;
* ``sqrt``: max(scale, ra) digits, truncated.

A value is an int ``m`` and ``rdx``: m / 10**rdx.  Zero has no sign and
prints "0" whatever its scale.  :class:`Printer` writes numbers in any
output base with busybox's line breaking (a backslash-newline once a line
holds ``width - 1`` characters).
"""

from __future__ import annotations

import math
from collections.abc import Callable


class XcError(Exception):
    """bc_error: a message; the applet prints "bc: MESSAGE" and exits 1."""


class Num:
    __slots__ = ("m", "rdx")

    def __init__(self, m: int = 0, rdx: int = 0) -> None:
        self.m, self.rdx = m, rdx

    @property
    def length(self) -> int:
        """BcNum.len: stored digits (0 for zero; at least rdx otherwise)."""
        if not self.m:
            return 0
        return max(len(str(abs(self.m))), self.rdx)

    @property
    def int_digits(self) -> int:
        return self.length - self.rdx if self.m else 0

    def is_one(self) -> bool:
        """BC_NUM_ONE: a single digit 1 without fraction digits (either sign)."""
        return self.rdx == 0 and abs(self.m) == 1

    def __repr__(self) -> str:  # for debugging
        return f"Num({self.m}, {self.rdx})"


def fit(n: Num, scale: int) -> Num:
    """bc_num_retireMul's extend/truncate to exactly ``scale`` digits."""
    if n.rdx < scale:
        return Num(n.m * 10 ** (scale - n.rdx), scale)
    if n.rdx > scale:
        q = abs(n.m) // 10 ** (n.rdx - scale)
        return Num(-q if n.m < 0 else q, scale)
    return Num(n.m, n.rdx)


def truncate_to(n: Num, scale: int) -> Num:
    return fit(n, scale) if n.rdx > scale else n


def add(a: Num, b: Num, sub: bool = False) -> Num:
    if not a.m:
        return Num(-b.m if sub else b.m, b.rdx)
    if not b.m:
        return Num(a.m, a.rdx)
    r = max(a.rdx, b.rdx)
    bm = -b.m if sub else b.m
    return Num(a.m * 10 ** (r - a.rdx) + bm * 10 ** (r - b.rdx), r)


def mul(a: Num, b: Num, scale: int) -> Num:
    scale = min(a.rdx + b.rdx, max(scale, a.rdx, b.rdx))
    return fit(Num(a.m * b.m, a.rdx + b.rdx), scale)


def div(a: Num, b: Num, scale: int) -> Num:
    if not b.m:
        raise XcError("divide by zero")
    if not a.m:
        return Num(0, scale)
    num = abs(a.m) * 10 ** (b.rdx + scale)
    den = abs(b.m) * 10**a.rdx
    q = num // den
    return Num(-q if (a.m < 0) != (b.m < 0) else q, scale)


def rem(a: Num, b: Num, scale: int) -> Num:
    ts = max(scale + b.rdx, a.rdx)
    if not b.m:
        raise XcError("divide by zero")
    if not a.m:
        return Num(0, ts)
    q = div(a, b, scale)
    temp = mul(q, b, ts if scale else 0)
    return fit(add(a, temp, sub=True), ts)


def to_ulong(n: Num, absolute: bool = False) -> int:
    """zbc_num_ulong: the integer part; "negative number", "overflow"."""
    if n.m < 0 and not absolute:
        raise XcError("negative number")
    value = abs(n.m) // 10**n.rdx
    if value >= 2**64:
        raise XcError("overflow")
    return value


def power(a: Num, b: Num, scale: int) -> Num:
    if b.m % 10**b.rdx:
        raise XcError("not an integer")
    if not b.m:
        return Num(1, 0)
    if not a.m:
        return Num(0, scale)
    if b.is_one():
        return Num(a.m, a.rdx) if b.m > 0 else div(Num(1, 0), a, scale)
    neg = b.m < 0
    pw = to_ulong(b, absolute=True)
    copy = Num(a.m, a.rdx)
    a_rdx = a.rdx
    if not neg:
        if a_rdx > scale:
            scale = a_rdx
        new_scale = a_rdx * pw
        if new_scale < scale:
            scale = new_scale
    powrdx = a_rdx
    while not pw & 1:
        powrdx <<= 1
        copy = mul(copy, copy, powrdx)
        pw >>= 1
    c = Num(copy.m, copy.rdx)
    resrdx = powrdx
    pw >>= 1
    while pw:
        powrdx <<= 1
        copy = mul(copy, copy, powrdx)
        if pw & 1:
            resrdx += powrdx
            c = mul(c, copy, resrdx)
        pw >>= 1
    if neg:
        c = div(Num(1, 0), c, scale)
    if c.rdx > scale:
        c = fit(c, scale)
    if not c.m:
        return Num(0, scale)
    return c


def sqrt(a: Num, scale: int) -> Num:
    if not a.m:
        if a.rdx >= 2:
            # busybox sizes the result with (len - rdx + 1) / 2 in size_t:
            # for a zero with 2+ fraction digits (0^2 at scale 3) that is
            # about 2**63 digits, and it runs out of memory
            raise XcError("out of memory")
        return Num(0, scale)
    if a.m < 0:
        raise XcError("negative number")
    if a.is_one():
        return Num(10**scale, scale)
    scale = max(scale, a.rdx)
    # floor(sqrt(a) * 10**scale): what busybox's Newton iteration, run
    # with extra digits and then truncated, arrives at
    shift = 2 * scale - a.rdx
    value = a.m * 10**shift if shift >= 0 else a.m // 10**-shift
    return Num(math.isqrt(value), scale)


def compare(a: Num, b: Num) -> int:
    r = max(a.rdx, b.rdx)
    x, y = a.m * 10 ** (r - a.rdx), b.m * 10 ** (r - b.rdx)
    return (x > y) - (x < y)


def parse(text: str, base: int) -> Num:
    """zxc_num_parse of a lexed number (digits 0-9 A-Z, one '.')."""
    text = text.lstrip("0")
    if not text.strip(".0"):
        return Num(0, 0)
    if base == 10 or len(text) == 1:
        if len(text) == 1:
            return Num(int(text, 36), 0)
        whole, _, frac = text.partition(".")
        digits = "".join(c if c.isdigit() else "9" for c in whole + frac)
        return Num(int(digits), len(frac))
    whole, _, frac = text.partition(".")

    def value(c: str) -> int:
        return min(int(c, 36), base - 1)

    n = 0
    for c in whole:
        n = n * base + value(c)
    result = Num(n, 0)
    if not frac:
        return result
    num = 0
    for c in frac:
        num = num * base + value(c)
    f = div(Num(num, 0), Num(base ** len(frac), 0), len(frac))
    return add(result, f) if n else f


class Printer:
    """Numbers and strings onto an output, counting the line's characters
    (G.prog.nchars) to break long numbers as busybox does."""

    def __init__(self, write: Callable[[str], None], width: int) -> None:
        self.write = write
        self.width = width
        self.nchars = 0

    def _newline_check(self) -> None:
        if self.nchars == self.width - 1:
            self.write("\\\n")
            self.nchars = 0

    def _hex(self, digit: int, width: int, radix: bool) -> None:
        if radix:
            self._newline_check()
            self.write(".")
            self.nchars += 1
        self._newline_check()
        self.write("0123456789ABCDEF"[digit])
        self.nchars += width

    def _digits(self, digit: int, width: int, radix: bool) -> None:
        self._newline_check()
        self.write("." if radix else " ")
        self.nchars += 1
        self._newline_check()
        text = f"{digit:0{width}d}"[-width:]
        for ch in text:
            self._newline_check()
            self.write(ch)
            self.nchars += 1

    def number(self, n: Num, obase: int, newline: bool) -> None:
        self._newline_check()
        if not n.m:
            self.write("0")
            self.nchars += 1
        elif obase == 10:
            if n.m < 0:
                self.write("-")
                self.nchars += 1
            digits = str(abs(n.m)).rjust(n.length, "0")
            for i, ch in enumerate(digits):
                self._hex(int(ch), 1, len(digits) - i == n.rdx)
        else:
            self._base(n, obase)
        if newline:
            self.write("\n")
            self.nchars = 0

    def _base(self, n: Num, obase: int) -> None:
        if n.m < 0:
            self.write("-")
            self.nchars += 1
        if obase <= 16:
            width, emit = 1, self._hex
        else:
            width, emit = len(str(obase - 1)), self._digits
        mag = abs(n.m)
        intp = mag // 10**n.rdx
        stack = []
        while intp:
            stack.append(intp % obase)
            intp //= obase
        for digit in reversed(stack):
            emit(digit, width, False)
        if not n.rdx:
            return
        fracp = Num(mag % 10**n.rdx, n.rdx)
        frac_len = 1
        radix = True
        while len(str(frac_len)) <= n.rdx:
            fracp = mul(fracp, Num(obase, 0), n.rdx)
            digit = fracp.m // 10**fracp.rdx
            fracp = Num(fracp.m - digit * 10**fracp.rdx, fracp.rdx)
            emit(digit, width, radix)
            frac_len *= obase
            radix = False

    def raw_string(self, text: str) -> None:
        """A string statement: as it is; the count restarts after its last newline."""
        self.write(text)
        nl = text.rfind("\n")
        self.nchars = len(text) - nl - 1 if nl >= 0 else self.nchars + len(text)

    def escaped_string(self, text: str) -> None:
        """xc_program_printString (bc's print, dc's P/n): \\n \\t ... escapes."""
        out = []
        i = 0
        while i < len(text):
            c = text[i]
            i += 1
            if c == "\\":
                c = text[i] if i < len(text) else ""
                i += 1
                k = "nabfrte\\".find(c) if c else -1
                if k < 0:
                    out.append("\\")
                    self.nchars += 1
                    if not c:
                        break
                else:
                    if k == 0:
                        self.nchars = -1
                    c = "\n\a\b\f\r\t\\\\"[k]
            out.append(c)
            self.nchars += 1
        self.write("".join(out))
