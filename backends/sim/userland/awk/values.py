"""awk's values: variables that are numbers, strings or both, arrays kept
in busybox's own hash table, and the C library pieces awk leans on
(``strtod``, ``printf`` formats, ``random()``).

A :class:`Var` carries busybox's type flags, because they decide what
awk prints and compares: a string read from input that looks like a
number (``VF_USER``) compares as a number, a variable never assigned
(not ``VF_DIRTY``) is numeric zero, a number shown as text uses
``CONVFMT`` unless it is integral.  Strings are ``str`` holding one
character per byte (latin-1), as busybox sees bytes in the C locale.
"""

from __future__ import annotations

import math
import re

from ..cprintf import cformat

VF_NUMBER = 0x0001
VF_ARRAY = 0x0002
VF_CACHED = 0x0100
VF_USER = 0x0200
VF_SPECIAL = 0x0400
VF_WALK = 0x0800
VF_CHILD = 0x2000
VF_DIRTY = 0x4000
VF_DONTTOUCH = VF_ARRAY | VF_SPECIAL | VF_WALK | VF_CHILD | VF_DIRTY

LLONG_MIN = -(2**63)
INT_MIN = -(2**31)


class AwkError(Exception):
    """``syntax_error()``: "awk: PROG:LINE: MESSAGE", exit 1."""


class Var:
    __slots__ = ("type", "number", "string", "array", "parent", "walkers", "aidx")

    def __init__(self) -> None:
        self.type = 0
        self.number = 0.0
        self.string: str | None = None
        self.array: AwkHash | None = None
        self.parent: Var | None = None
        self.walkers: list[list[str]] | None = None
        self.aidx = 0  # a function's parameter number (parse time only)

    def __repr__(self) -> str:
        return f"<Var {self.type:#x} {self.number!r} {self.string!r}>"


class AwkHash:
    """busybox's ``xhash``: chained buckets, new names at the head of their
    chain, grown (and so reordered) when it holds more than 8 per bucket.
    ``for (k in a)`` walks the buckets in order -- the order awk prints
    keys in, which scripts (and tests) see."""

    PRIMES = (251, 1021, 4093, 16381, 65521)

    def __init__(self) -> None:
        self.csize = 61
        self.nprime = 0
        self.buckets: list[list[str]] = [[] for _ in range(self.csize)]
        self.items: dict[str, Var] = {}

    @staticmethod
    def hashidx(name: str) -> int:
        idx = 0
        for ch in name.encode("latin-1", "replace"):
            idx = (ch + (idx << 6) - idx) & 0xFFFFFFFF
        return idx

    def search(self, name: str) -> Var | None:
        return self.items.get(name)

    def find(self, name: str) -> Var:
        v = self.items.get(name)
        if v is None:
            if len(self.items) + 1 > self.csize * 8:
                self._rebuild()
            v = self.items[name] = Var()
            self.buckets[self.hashidx(name) % self.csize].insert(0, name)
        return v

    def _rebuild(self) -> None:
        if self.nprime == len(self.PRIMES):
            return
        size = self.PRIMES[self.nprime]
        self.nprime += 1
        new: list[list[str]] = [[] for _ in range(size)]
        for chain in self.buckets:
            for name in chain:
                new[self.hashidx(name) % size].insert(0, name)
        self.csize, self.buckets = size, new

    def remove(self, name: str) -> None:
        if self.items.pop(name, None) is not None:
            self.buckets[self.hashidx(name) % self.csize].remove(name)

    def clear(self) -> None:
        self.items.clear()
        self.buckets = [[] for _ in range(self.csize)]

    def names(self) -> list[str]:
        return [name for chain in self.buckets for name in chain]

    def __len__(self) -> int:
        return len(self.items)


def clrvar(v: Var) -> Var:
    v.type = (v.type & VF_DONTTOUCH) | VF_DIRTY
    v.string = None
    return v


def set_number(v: Var, n: float) -> Var:
    """setvar_i without the special-variable side effects."""
    clrvar(v)
    v.type |= VF_NUMBER
    v.number = float(n)
    return v


def set_string(v: Var, s: str | None) -> Var:
    """setvar_s without the special-variable side effects ("" is unset)."""
    clrvar(v)
    v.string = s if s else None
    return v


# -- numbers ----------------------------------------------------------------------------

_STRTOD = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)"
    r"|(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    r"|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))",
    re.IGNORECASE,
)
_STRTOULL = re.compile(r"[ \t\n\v\f\r]*[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def strtod(s: str, pos: int = 0) -> tuple[float, int]:
    """C ``strtod``: the value of the longest numeric prefix and where it ends."""
    m = _STRTOD.match(s, pos)
    if not m:
        return 0.0, pos
    text = m.group(0).strip(" \t\n\v\f\r")
    low = text.lower().lstrip("+-")
    sign = -1.0 if text.startswith("-") else 1.0
    if low.startswith("inf"):
        return sign * math.inf, m.end()
    if low.startswith("nan"):
        return math.nan, m.end()
    if low.startswith("0x"):
        body = text.lstrip("+-")
        if "p" not in body.lower():
            body += "p0"
        try:
            return sign * float.fromhex(body), m.end()
        except ValueError:  # "0x" alone: just the 0
            return 0.0, m.start() + text.index("0") + 1
    return float(text), m.end()


def my_strtod(s: str, pos: int = 0) -> tuple[float, int]:
    """busybox's my_strtod: ``0x1A`` is hex and ``017`` octal (integers
    only: ``012.5`` and ``09`` are decimal), the rest as strtod."""
    if pos < len(s) and s[pos] == "0" and pos + 1 < len(s):
        c = s[pos + 1]
        if c in "xX" or c.isdigit():
            m = _STRTOULL.match(s, pos)
            if m:
                text = m.group(0)
                value = int(text, 16) if c in "xX" else int(text, 8)
                end = m.end()
                if c in "xX":
                    return float(value & 0xFFFFFFFFFFFFFFFF), end
                nxt = s[end] if end < len(s) else ""
                if not (nxt.isdigit() or nxt == "."):
                    return float(value & 0xFFFFFFFFFFFFFFFF), end
    return strtod(s, pos)


def c_llong(n: float) -> int:
    """``(long long)n`` as x86-64 computes it (out of range and NaN give
    LLONG_MIN)."""
    if math.isnan(n) or n >= 2**63 or n < -(2**63):
        return LLONG_MIN
    return int(n)


def c_int(n: float) -> int:
    """``(int)n`` on x86-64."""
    if math.isnan(n) or n >= 2**31 or n <= -(2**31) - 1:
        return INT_MIN
    return int(n)


def fmt_num(fmt: str, n: float) -> str:
    """busybox's fmt_num: integral values as ``%lld``, others by ``fmt``."""
    if not math.isnan(n) and n == c_llong(n):
        return str(c_llong(n))
    c = fmt[-1:] if fmt else ""
    if c and c in "diouxX":
        return cformat(fmt, c_int(n))
    if c and c in "eEfFgGaA":
        return cformat(fmt, n)
    raise AwkError("Invalid format specifier")


# -- glibc's random() -------------------------------------------------------------------


class GlibcRandom:
    """``srandom``/``random`` (TYPE_3, the additive feedback generator), so
    ``rand()`` gives the numbers busybox gives for the same seed."""

    def __init__(self, seed: int = 1) -> None:
        self.seed(seed)

    def seed(self, seed: int) -> None:
        seed &= 0xFFFFFFFF
        if seed == 0:
            seed = 1
        word = seed - 2**32 if seed >= 2**31 else seed  # an int32_t
        r = [seed]
        for _ in range(1, 31):
            hi = abs(word) // 127773 * (1 if word >= 0 else -1)  # C division truncates
            lo = word - hi * 127773
            word = 16807 * lo - 2836 * hi
            if word < 0:
                word += 2147483647
            r.append(word & 0xFFFFFFFF)
        self.state = r  # 31 words
        self.f, self.r = 3, 0
        for _ in range(310):
            self.next()

    def next(self) -> int:
        st = self.state
        st[self.f] = (st[self.f] + st[self.r]) & 0xFFFFFFFF
        result = st[self.f] >> 1
        self.f = (self.f + 1) % 31
        self.r = (self.r + 1) % 31
        return result
