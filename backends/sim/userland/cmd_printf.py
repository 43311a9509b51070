"""``printf``: shared by the shell builtin and the applet.

The format is reused until the arguments run out (``printf '%s\\n' a b``
prints two lines).  Numeric conversions accept C's syntax and, like
busybox, ``'c`` for a character's code; a bad number is reported and
counted as 0 with exit status 1.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .cmd_echo import unescape
from .libc import complain, write_all

_SPEC = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfgGcsb%])")


class _State:
    def __init__(self, args: list[str]) -> None:
        self.args, self.i, self.failed = args, 0, False
        self.errors: list[str] = []

    def next(self) -> str | None:
        if self.i < len(self.args):
            self.i += 1
            return self.args[self.i - 1]
        return None

    def number(self, text: str | None, conv: str) -> int | float:
        if text is None:
            text = ""  # a missing argument is an empty one
        if text[0:1] in ("'", '"') and len(text) > 1:
            return ord(text[1])
        try:
            if conv in "eEfgG":
                return float(text)
            t = text.strip()
            neg = t.startswith("-")
            body = t.lstrip("+-")
            if body.lower().startswith("0x"):
                v = int(body, 16)
            elif len(body) > 1 and body.startswith("0"):
                v = int(body, 8)
            else:
                v = int(body)
            return -v if neg else v
        except ValueError:
            self.errors.append(f"invalid number '{text}'")
            self.failed = True
            return 0


def format_once(fmt: str, st: _State) -> tuple[str, bool]:
    """One pass over the format; returns (output, stop-requested-by-\\c)."""
    out: list[str] = []
    pos = 0
    while pos < len(fmt):
        c = fmt[pos]
        if c == "\\":
            # the longest escape at this point: \\NNN octal or one char
            m = re.match(r"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", fmt[pos:], re.DOTALL)
            esc = m.group(0) if m else "\\"
            text, stop = unescape(esc, octal_needs_zero=False)
            out.append(text)
            if stop:
                return "".join(out), True
            pos += len(esc) if m else 1
            continue
        if c != "%":
            out.append(c)
            pos += 1
            continue
        m = _SPEC.match(fmt, pos)
        if not m:
            raise ValueError(fmt[pos:])
        pos = m.end()
        flags, width, prec, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(int(st.number(st.next(), "d")))
        if prec == "*":
            prec = str(int(st.number(st.next(), "d")))
        spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
        arg = st.next()
        if conv == "s":
            out.append((spec + "s") % (arg or ""))
        elif conv == "b":
            text, stop = unescape(arg or "")
            out.append((spec + "s") % text)
            if stop:
                return "".join(out), True
        elif conv == "c":
            out.append((spec + "s") % ((arg or "")[:1]))
        elif conv in "diouxX":
            value = int(st.number(arg, conv))
            if conv == "u" and value < 0:
                value += 1 << 64
            out.append((spec + ("d" if conv in "iu" else conv)) % value)
        else:
            out.append((spec + conv) % float(st.number(arg, conv)))
    return "".join(out), False


def printf(sys: Sys, argv: list[str], prog: str = "printf") -> Generator[Any, Any, int]:
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        yield from complain(sys, prog, "usage: printf FORMAT [ARGUMENT...]")
        return 2
    fmt = args[0].encode("utf-8", "surrogateescape").decode("latin-1")
    st = _State([a.encode("utf-8", "surrogateescape").decode("latin-1") for a in args[1:]])
    chunks: list[str] = []
    status = 0
    try:
        while True:
            start = st.i
            text, stop = format_once(fmt, st)
            chunks.append(text)
            if stop or st.i >= len(st.args) or st.i == start:
                break
    except ValueError:
        yield from write_all(sys, 1, "".join(chunks).encode("latin-1"))
        yield from complain(sys, prog, f"{args[0]}: invalid format")
        return 1
    for e in st.errors:
        yield from complain(sys, prog, e)
    if st.failed:
        status = 1
    yield from write_all(sys, 1, "".join(chunks).encode("latin-1", "replace"))
    return status
