"""Applets that filter lines and compute: uniq, cut, tr, tee, yes,
seq, expr.  Messages and exit codes are busybox 1.35's.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import O_APPEND, O_CREAT, O_TRUNC, O_WRONLY, Sys
from . import cmd_echo
from .applet_table import applet
from .applets_text import bre_to_python
from .libc import (
    LineReader,
    UsageError,
    close_quietly,
    complain,
    getopt,
    open_input,
    out,
    parse_int,
    parse_options,
    read_all,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]


def _usage_error(sys: Sys, prog: str, e: UsageError) -> Gen:
    if e.message:
        yield from complain(sys, prog, e.message)
    yield from show_usage(sys, prog)
    return 1


# -- sort / uniq / cut / tr -------------------------------------------------------------


def _read_lines(sys: Sys, prog: str, paths: list[str], msg: str = "{p}: {e}") -> Gen:
    """All lines of the inputs (without newlines), charged as held memory;
    returns (lines, bytes charged, ok)."""
    lines: list[bytes] = []
    held = 0
    ok = True
    for path in paths or ["-"]:
        fd = yield from open_input(sys, prog, path, msg)
        if fd is None:
            ok = False
            continue
        try:
            data = yield from read_all(sys, fd, charge=True)
        finally:
            close_quietly(sys, fd)
        held += len(data)
        if data:
            lines.extend(data[:-1].split(b"\n") if data.endswith(b"\n") else data.split(b"\n"))
    return lines, held, ok


@applet("uniq")
def uniq_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "uniq", "cdui")
    if opts is None:
        return 1
    src = opts.operands[0] if opts.operands else "-"
    fd = yield from open_input(sys, "uniq", src)
    if fd is None:
        return 1
    reader = LineReader(sys, fd)
    prev: bytes | None = None
    count = 0

    def emit(line: bytes, n: int) -> Gen:
        if ("d" in opts and n < 2) or ("u" in opts and n > 1):
            return
        prefix = b"%7d " % n if "c" in opts else b""
        yield from write_all(sys, 1, prefix + line + b"\n")

    try:
        while True:
            line = yield from reader.readline()
            if not line:
                break
            body = line.rstrip(b"\n")
            same = prev is not None and (body.lower() == prev.lower() if "i" in opts else body == prev)
            if same:
                count += 1
                continue
            if prev is not None:
                yield from emit(prev, count)
            prev, count = body, 1
        if prev is not None:
            yield from emit(prev, count)
    finally:
        close_quietly(sys, fd)
    return 0


def _ranges(spec: str) -> list[tuple[int, int]] | None:
    out_ranges = []
    for part in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", part)
        if not m or not (m.group(1) or m.group(3)):
            return None
        lo = int(m.group(1)) if m.group(1) else 1
        hi = int(m.group(3)) if m.group(3) else (lo if not m.group(2) else 1 << 30)
        out_ranges.append((lo, hi))
    return out_ranges


@applet("cut")
def cut_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "cut", "b:c:f:d:sn")
    if opts is None:
        return 1
    mode = next((m for m in "bcf" if m in opts), None)
    if mode is None:
        yield from complain(sys, "cut", "expected a list of bytes, characters, or fields")
        return 1
    ranges = _ranges(opts.value(mode) or "")
    if ranges is None:
        yield from complain(sys, "cut", "invalid byte, character or field list")
        return 1
    delim = (opts.value("d") or "\t").encode()[:1]
    status = 0

    def picked(i: int) -> bool:
        return any(lo <= i <= hi for lo, hi in ranges)

    for path in opts.operands or ["-"]:
        fd = yield from open_input(sys, "cut", path, "{p}: {e}")
        if fd is None:
            status = 1
            continue
        reader = LineReader(sys, fd)
        try:
            while True:
                line = yield from reader.readline()
                if not line:
                    break
                body = line.rstrip(b"\n")
                if mode == "f":
                    if delim not in body:
                        if "s" not in opts:
                            yield from write_all(sys, 1, body + b"\n")
                        continue
                    fields = body.split(delim)
                    res = delim.join(f for i, f in enumerate(fields, 1) if picked(i))
                else:
                    res = bytes(b for i, b in enumerate(body, 1) if picked(i))
                yield from write_all(sys, 1, res + b"\n")
        finally:
            close_quietly(sys, fd)
    return status


def _tr_set(spec: str) -> list[int]:
    """Expand a tr set: escapes, ranges ``a-z`` and ``[:classes:]``."""
    text, _ = cmd_echo.unescape(spec, octal_needs_zero=False)
    classes = {
        "[:upper:]": range(65, 91),
        "[:lower:]": range(97, 123),
        "[:digit:]": range(48, 58),
        "[:space:]": b" \t\n\r\v\f",
        "[:alpha:]": list(range(65, 91)) + list(range(97, 123)),
        "[:alnum:]": list(range(48, 58)) + list(range(65, 91)) + list(range(97, 123)),
        "[:punct:]": b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "[:blank:]": b" \t",
    }
    data = text.encode("latin-1", "replace")
    result: list[int] = []
    i = 0
    while i < len(data):
        for name, members in classes.items():
            if data.startswith(name.encode(), i):
                result.extend(members)
                i += len(name)
                break
        else:
            if i + 2 < len(data) and data[i + 1] == ord("-"):
                result.extend(range(data[i], data[i + 2] + 1))
                i += 3
            else:
                result.append(data[i])
                i += 1
    return result


@applet("tr")
def tr_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "tr", "cdsC")
    if opts is None:
        return 1
    if not opts.operands or ("d" not in opts and "s" not in opts and len(opts.operands) < 2):
        yield from show_usage(sys, "tr")
        return 1
    set1 = _tr_set(opts.operands[0])
    if "c" in opts or "C" in opts:
        set1 = [b for b in range(256) if b not in set(set1)]
    set2 = _tr_set(opts.operands[1]) if len(opts.operands) > 1 else []
    table = list(range(256))
    if set2 and "d" not in opts:
        for i, b in enumerate(set1):
            table[b] = set2[min(i, len(set2) - 1)]
    delete = set(set1) if "d" in opts else set()
    # -s squeezes the last set given: SET2 when translating or deleting, else SET1
    squeeze = set(set2 if len(opts.operands) > 1 else set1) if "s" in opts else set()
    table_bytes = bytes(table)
    delete_bytes = bytes(sorted(delete))
    squeeze_rx = (
        re.compile(b"([" + b"".join(re.escape(bytes([b])) for b in sorted(squeeze)) + b"])\\1+")
        if squeeze
        else None
    )
    last = b""
    while True:
        chunk = yield from read_chunk(sys, 0, 65536)
        if not chunk:
            break
        # bytes.translate does the work in C: this loop runs for every
        # 64 KiB of `tr a b </dev/zero`
        res = chunk.translate(table_bytes, delete_bytes)
        if squeeze_rx is not None and res:
            res = squeeze_rx.sub(rb"\1", res)
            if last and res[:1] == last and res[0] in squeeze:
                res = res[1:]
            if res:
                last = res[-1:]
        yield from write_all(sys, 1, res)
    return 0


@applet("tee")
def tee_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "tee", "ai")
    if opts is None:
        return 1
    fds = []
    status = 0
    flags = O_WRONLY | O_CREAT | (O_APPEND if "a" in opts else O_TRUNC)
    for path in opts.operands:
        try:
            fds.append(sys.open(path, flags, 0o666))
        except OSError as e:
            yield from complain(sys, "tee", f"{path}: {strerror(e)}")
            status = 1
    while True:
        chunk = yield from read_chunk(sys, 0, 65536)
        if not chunk:
            break
        for fd in [1] + fds:
            try:
                yield from write_all(sys, fd, chunk)
            except OSError:
                status = 1
    for fd in fds:
        close_quietly(sys, fd)
    return status


@applet("yes")
def yes_main(sys: Sys) -> Gen:
    line = (" ".join(sys.argv[1:]) if len(sys.argv) > 1 else "y").encode() + b"\n"
    block = line * max(1, 4096 // len(line))
    while True:
        try:
            yield from write_all(sys, 1, block)
        except OSError:
            return 1
        yield from sys.burn(5)


@applet("seq")
def seq_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "ws:", permute=False)
    except UsageError:
        opts = None
    args = list(sys.argv[1:]) if opts is None else opts.operands
    if opts is not None and any(a.startswith("-") and len(a) > 1 and not a[1].isdigit() for a in args):
        opts = None
    if not args or len(args) > 3:
        yield from show_usage(sys, "seq")
        return 1
    nums = []
    for a in args:
        try:
            nums.append(float(a))
        except ValueError:
            yield from show_usage(sys, "seq")
            return 1
    first, inc, last = (
        (1.0, 1.0, nums[0])
        if len(nums) == 1
        else ((nums[0], 1.0, nums[1]) if len(nums) == 2 else tuple(nums))
    )
    decimals = max((len(a.split(".", 1)[1]) if "." in a else 0) for a in args)
    sep = (opts.value("s") if opts else None) or "\n"
    width = 0
    if opts and "w" in opts:
        width = max(len(f"{first:.{decimals}f}"), len(f"{last:.{decimals}f}"))
    parts = []
    i = 0
    if inc == 0:
        return 0
    while True:
        value = first + i * inc
        if (inc > 0 and value > last) or (inc < 0 and value < last):
            break
        parts.append(f"{value:0{width}.{decimals}f}")
        i += 1
        if len(parts) >= 1024:
            yield from write_all(sys, 1, sep.join(parts) + sep)
            yield from sys.burn(50)
            parts = []
    if parts:
        yield from write_all(sys, 1, sep.join(parts) + ("\n" if sep != "\n" else sep))
    return 0


# -- expr -------------------------------------------------------------------------------


class _ExprError(Exception):
    pass


class _Expr:
    """``expr``'s grammar, loosest first: | & (= > >= < <= !=) (+ -) (* / %) (:)."""

    def __init__(self, args: list[str]) -> None:
        self.a, self.i = args, 0

    def peek(self) -> str | None:
        return self.a[self.i] if self.i < len(self.a) else None

    def take(self) -> str:
        if self.i >= len(self.a):
            raise _ExprError("syntax error")
        self.i += 1
        return self.a[self.i - 1]

    @staticmethod
    def num(v: str | int) -> int:
        if isinstance(v, int):
            return v
        n = parse_int(v)
        if n is None:
            raise _ExprError("non-numeric argument")
        return n

    @staticmethod
    def truth(v: str | int) -> bool:
        return v not in ("", "0", 0) and not (
            isinstance(v, str) and parse_int(v) == 0 and v.strip("-+0") == ""
        )

    def or_(self):
        left = self.and_()
        while self.peek() == "|":
            self.take()
            right = self.and_()
            left = left if self.truth(left) else (right if self.truth(right) else 0)
        return left

    def and_(self):
        left = self.cmp()
        while self.peek() == "&":
            self.take()
            right = self.cmp()
            left = left if self.truth(left) and self.truth(right) else 0
        return left

    def cmp(self):
        left = self.add()
        while self.peek() in ("=", "==", "!=", "<", "<=", ">", ">="):
            op = self.take()
            right = self.add()
            ln, rn = parse_int(str(left)), parse_int(str(right))
            a, b = (ln, rn) if ln is not None and rn is not None else (str(left), str(right))
            left = int(
                {
                    "=": a == b,
                    "==": a == b,
                    "!=": a != b,
                    "<": a < b,
                    "<=": a <= b,
                    ">": a > b,
                    ">=": a >= b,
                }[op]
            )
        return left

    def add(self):
        left = self.mul()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.mul()
            left = self.num(left) + self.num(right) if op == "+" else self.num(left) - self.num(right)
        return left

    def mul(self):
        left = self.match()
        while self.peek() in ("*", "/", "%"):
            op = self.take()
            right = self.match()
            a, b = self.num(left), self.num(right)
            if op != "*" and b == 0:
                raise _ExprError("division by zero")
            if op == "*":
                left = a * b
            else:
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
                left = q if op == "/" else a - q * b
        return left

    def match(self):
        left = self.atom()
        while self.peek() == ":":
            self.take()
            pattern = str(self.atom())
            m = re.match(bre_to_python(pattern), str(left))
            if m and m.groups():
                left = m.group(1) or ""
            elif m and re.compile(bre_to_python(pattern)).groups:
                left = ""
            else:
                left = len(m.group(0)) if m else 0
        return left

    def atom(self):
        tok = self.take()
        if tok == "(":
            v = self.or_()
            if self.take() != ")":
                raise _ExprError("syntax error")
            return v
        if tok == "length":
            return len(str(self.atom()))
        if tok == "substr":
            s, pos, ln = str(self.atom()), self.num(self.atom()), self.num(self.atom())
            return s[pos - 1 : pos - 1 + ln] if pos > 0 and ln > 0 else ""
        if tok == "index":
            s, chars = str(self.atom()), str(self.atom())
            idx = [s.find(c) for c in chars if c in s]
            return min(idx) + 1 if idx else 0
        if tok == "match":
            s, pattern = str(self.atom()), str(self.atom())
            m = re.match(bre_to_python(pattern), s)
            return (m.group(1) or "") if m and m.groups() else (len(m.group(0)) if m else 0)
        if tok == "+":
            return self.take()
        return tok


@applet("expr")
def expr_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    if not args:
        yield from complain(sys, "expr", "too few arguments")
        return 2
    try:
        parser = _Expr(args)
        value = parser.or_()
        if parser.peek() is not None:
            raise _ExprError("syntax error")
    except _ExprError as e:
        yield from complain(sys, "expr", str(e))
        return 2
    yield from out(sys, f"{value}\n")
    return 0 if _Expr.truth(value) else 1
