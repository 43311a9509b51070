"""sort, as busybox 1.35's ``coreutils/sort.c`` (with FEATURE_SORT_BIG)
does it.

Keys (``-k START[.CHAR][OPTS][,END[.CHAR][OPTS]]``) are compared in turn;
a key without its own options uses the global ones -- so ``sort -n -k1,1``
is numeric.  Lines that compare equal are ordered by the whole line unless
``-s`` keeps their input order; ``-u`` drops lines whose keys compare
equal.  ``-n`` is C's ``atof`` (``1e3``, ``0x10`` and ``inf`` are
numbers), ``-g`` strtod with NaN ordering, ``-M`` month names, ``-V``
glibc's ``strverscmp``.  Errors exit 2.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .awk.values import strtod
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    err,
    getopt,
    read_all,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, int]

FLAGS = "ngMVucszbrdfimS:T:o:k:t:"
OPT_LETTERS = "ngMVucszbrdfimSTokt"
FLAG_BB = "B"  # internal: strip trailing blanks (b after the comma)
ALLOWED_IN_KEY = set("ngMbrdfi")
SPACE = " \t\n\v\f\r"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
FULL_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


STABLE = 1 << 20  # a tie under -s, to be broken by input position


class SortDie(Exception):
    pass


class Key:
    __slots__ = ("range", "flags")

    def __init__(self) -> None:
        self.range = [0, 0, 0, 0]  # start field, start char, end field, end char
        self.flags: set[str] = set()


def _str2u(text: str, i: int) -> tuple[int, int]:
    if i >= len(text) or not text[i].isdigit():
        raise SortDie("bad field specification")
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    n = int(text[i:j])
    if n == 0 or n > 2**31 - 1:
        raise SortDie("bad field specification")
    return n, j


def parse_key(spec: str) -> Key:
    key = Key()
    i = 0
    part = 0
    while i < len(spec):
        key.range[2 * part], i = _str2u(spec, i)
        if i < len(spec) and spec[i] == ".":
            key.range[2 * part + 1], i = _str2u(spec, i + 1)
        while i < len(spec):
            ch = spec[i]
            if ch == "," and part == 0:
                part = 1
                i += 1
                break
            if ch not in OPT_LETTERS:
                raise SortDie("unknown key option")
            if ch not in ALLOWED_IN_KEY:
                raise SortDie("unknown sort type")
            key.flags.add(FLAG_BB if (part and ch == "b") else ch)
            i += 1
    return key


class Sorter:
    def __init__(self, keys: list[Key], flags: set[str], sep: str | None) -> None:
        self.keys = keys
        self.flags = flags
        self.sep = sep
        self.no_tie_break = False

    def get_key(self, s: str, key: Key, flags: set[str]) -> str:
        r = key.range
        if r == [1, 0, 0, 0] and not flags & {"b", "d", "f", "i", FLAG_BB}:
            return s
        length = len(s)
        start = end = 0
        for j in range(2):
            if not r[2 * j]:
                end = length
            else:
                end = 0
                ch = ""
                for _ in range(1, r[2 * j] + j):
                    if self.sep:
                        while True:  # skip the field and its separator
                            ch = s[end] if end < length else ""
                            if not ch:
                                break
                            end += 1
                            if ch == self.sep:
                                break
                    else:
                        while end < length and s[end] in SPACE:
                            end += 1
                        while end < length and s[end] not in SPACE:
                            end += 1
                if j and ch:
                    end -= 1
            if j == 0:
                start = end
        if "b" in flags:
            while start < length and s[start] in SPACE:
                start += 1
        if FLAG_BB in flags:
            while end > start and s[end - 1] in SPACE:
                end -= 1
        if r[3]:
            end = min(r[3], length)
        if r[1]:
            start = min(start + r[1] - 1, length)
        if end < start:
            end = start
        text = s[start:end]
        if "d" in flags:
            text = "".join(c for c in text if c in SPACE or (c.isascii() and c.isalnum()))
        if "i" in flags:
            text = "".join(c for c in text if " " <= c <= "~")
        if "f" in flags:
            text = "".join(c.upper() if "a" <= c <= "z" else c for c in text)
        return text

    def compare(self, x: str, y: str) -> int:
        retval = 0
        flags = self.flags
        for key in self.keys:
            flags = key.flags or self.flags
            a, b = self.get_key(x, key, flags), self.get_key(y, key, flags)
            kinds = flags & {"n", "g", "M", "V"}
            if not kinds:
                retval = (a > b) - (a < b)
            elif kinds == {"n"}:
                da, db = _atof(a), _atof(b)
                retval = (da > db) - (da < db)
            elif kinds == {"g"}:
                retval = _general(a, b)
            elif kinds == {"M"}:
                ma, mb = _month(a), _month(b)
                if ma is None:
                    retval = 0 if mb is None else -1
                elif mb is None:
                    retval = 1
                else:
                    retval = ma - mb
            elif kinds == {"V"}:
                retval = strverscmp(a, b)
            else:
                raise SortDie("unknown sort type")
            if retval:
                break
        if retval == 0:
            if "s" in self.flags:
                retval = STABLE  # the caller breaks the tie by input order
            elif not self.no_tie_break:
                flags = self.flags
                retval = (x > y) - (x < y)
        return -retval if "r" in flags else retval

    def compare_indexed(self, x: tuple[int, str], y: tuple[int, str]) -> int:
        """For -s: equal keys keep their input order -- reversed under -r,
        as busybox's "later line is greater" tie-break is negated too."""
        r = self.compare(x[1], y[1])
        if r in (STABLE, -STABLE):
            order = (x[0] > y[0]) - (x[0] < y[0])
            return order if r == STABLE else -order
        return r


def _lines(text: str, term: str) -> list[str]:
    """The lines of the input: with -z split at NULs; else xmalloc_fgetline's,
    which ends a line at a newline or at a NUL."""
    if term == "\0":
        parts = text.split("\0")
        if parts[-1] == "":
            parts.pop()
        return parts
    return [m.group(1) for m in re.finditer(r"([^\n\0]*)(?:\n|\0|$)", text) if m.group(0)]


def _sign(n: int) -> int:
    if n in (STABLE, -STABLE):
        return 1 if n > 0 else -1
    return (n > 0) - (n < 0)


def _atof(text: str) -> float:
    value, _ = strtod(text)
    return value


def _general(a: str, b: str) -> int:
    da, ea = strtod(a)
    db, eb = strtod(b)
    if ea == 0:
        return 0 if eb == 0 else -1
    if eb == 0:
        return 1
    if math.isnan(da):
        return 0 if math.isnan(db) else -1
    if math.isnan(db):
        return 1
    return (da > db) - (da < db)


def _month(text: str) -> int | None:
    t = text.lower()  # glibc strptime("%b") skips no blanks
    for i, full in enumerate(FULL_MONTHS):
        if t.startswith(full):
            return i
    for i, abbr in enumerate(MONTHS):
        if t.startswith(abbr):
            return i
    return None


def strverscmp(s1: str, s2: str) -> int:
    """glibc's strverscmp: digit runs compare as numbers, with leading zeros
    meaning fractional parts."""
    S_N, S_I, S_F, S_Z = 0, 3, 6, 9
    CMP, LEN = 2, 3
    next_state = [
        S_N, S_I, S_Z,
        S_N, S_I, S_I,
        S_N, S_F, S_F,
        S_N, S_F, S_Z,
    ]  # fmt: skip
    result_type = [
        CMP, CMP, CMP, CMP, LEN, CMP, CMP, CMP, CMP,
        CMP, -1, -1, +1, LEN, LEN, +1, LEN, LEN,
        CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP,
        CMP, +1, +1, -1, CMP, CMP, -1, CMP, CMP,
    ]  # fmt: skip
    if s1 == s2:
        return 0
    a = s1.encode("latin-1", "replace") + b"\0"
    b = s2.encode("latin-1", "replace") + b"\0"

    def cls(c: int) -> int:
        return (c == 0x30) + (48 <= c <= 57)

    i = 0
    c1, c2 = a[0], b[0]
    state = S_N + cls(c1)
    diff = c1 - c2
    while diff == 0:
        if c1 == 0:
            return 0
        state = next_state[state]
        i += 1
        c1, c2 = a[i], b[i]
        state += cls(c1)
        diff = c1 - c2
    state = result_type[state * 3 + cls(c2)]
    if state == CMP:
        return diff
    if state == LEN:
        while True:
            i += 1
            c1, c2 = a[i], b[i]
            if not (48 <= c1 <= 57):
                break
            if not (48 <= c2 <= 57):
                return 1
        return -1 if 48 <= c2 <= 57 else diff
    return state


@applet("sort")
def sort_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], FLAGS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "sort", e.message)
        yield from show_usage(sys, "sort")
        return 2
    flags = {f for f in opts.flags}
    if "b" in flags:
        flags.add(FLAG_BB)
    if len(opts.values.get("t", [])) > 1 or len(opts.values.get("o", [])) > 1:
        yield from show_usage(sys, "sort")
        return 2
    try:
        sep = None
        if "t" in opts.values:
            t = opts.value("t") or ""
            if len(t) != 1:
                raise SortDie("bad -t parameter")
            sep = t
        keys = [parse_key(spec) for spec in opts.values.get("k", [])]
        if not keys:
            k = Key()
            k.range[0] = 1
            keys = [k]
        lines: list[str] = []
        held = 0
        term = "\0" if "z" in flags else "\n"
        for path in opts.operands or ["-"]:
            if path == "-":
                fd = 0
            else:
                try:
                    fd = sys.open(path, 0)
                except OSError as e:
                    raise SortDie(f"{path}: {strerror(e)}") from None
            try:
                data = yield from read_all(sys, fd, charge=True)
            finally:
                close_quietly(sys, fd)
            held += len(data)
            lines.extend(_lines(data.decode("latin-1"), term))
        sorter = Sorter(keys, flags, sep)
        yield from sys.burn(1 + len(lines) * max(1, len(lines).bit_length()) // 4)
        if "c" in flags:
            limit = -1 if "u" in flags else 0
            for i in range(1, len(lines)):
                if _sign(sorter.compare(lines[i - 1], lines[i])) > limit:
                    yield from err(sys, f"Check line {i}\n")
                    sys.free(held)
                    return 1
            sys.free(held)
            return 0
        if "s" in flags:
            indexed = sorted(enumerate(lines), key=functools.cmp_to_key(sorter.compare_indexed))
            lines = [line for _, line in indexed]
        else:
            lines.sort(key=functools.cmp_to_key(sorter.compare))
        if "u" in flags:
            sorter.no_tie_break = True
            kept: list[str] = []
            for line in lines:
                # (under -s busybox's tie-break by position makes no two
                # lines equal: -u then keeps them all)
                if not kept or sorter.compare(kept[-1], line) != 0:
                    kept.append(line)
            lines = kept
        out_fd = 1
        if "o" in opts.values:
            path = opts.value("o") or ""
            try:
                out_fd = sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
            except OSError as e:
                raise SortDie(f"can't open '{path}': {strerror(e)}") from None
        out = BufferedOutput(sys, out_fd)
        for line in lines:
            out.write(line + term)
            yield from out.drain()
        yield from out.flush()
        close_quietly(sys, out_fd)
        sys.free(held)
        return 0
    except SortDie as e:
        yield from complain(sys, "sort", str(e))
        return 2
