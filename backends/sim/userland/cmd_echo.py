"""``echo``: shared by the shell builtin and the applet (busybox does the same).

busybox's echo takes ``-n`` (no newline), ``-e`` (interpret backslash
escapes) and ``-E`` (don't); an argument that is not made only of those
letters is printed as is.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .libc import complain, strerror, write_all

_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}


def unescape(text: str, octal_needs_zero: bool = True) -> tuple[str, bool]:
    """Interpret backslash escapes; returns (text, stop) where ``stop`` is
    set by ``\\c`` (produce no further output).  echo's octal form is
    ``\\0NNN``; printf's ``%b`` and format strings also accept ``\\NNN``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        n = text[i + 1]
        i += 2
        if n in _SIMPLE:
            out.append(_SIMPLE[n])
        elif n == "c":
            return "".join(out), True
        elif n == "x":
            digits = ""
            while i < len(text) and len(digits) < 2 and text[i] in "0123456789abcdefABCDEF":
                digits += text[i]
                i += 1
            out.append(chr(int(digits, 16)) if digits else "\\x")
        elif n in "01234567" and (n == "0" or not octal_needs_zero):
            digits = "" if n == "0" and octal_needs_zero else n
            limit = 3
            while i < len(text) and len(digits) < limit and text[i] in "01234567":
                digits += text[i]
                i += 1
            out.append(chr(int(digits or "0", 8) & 0xFF))
        else:
            out.append("\\" + n)
    return "".join(out), False


def echo(sys: Sys, argv: list[str], prog: str = "echo") -> Generator[Any, Any, int]:
    args = argv[1:]
    newline, escapes = True, False
    while args and len(args[0]) > 1 and args[0][0] == "-" and set(args[0][1:]) <= set("neE"):
        for flag in args[0][1:]:
            if flag == "n":
                newline = False
            else:
                escapes = flag == "e"
        args = args[1:]
    # work on bytes-as-latin-1 so that "\\0377" yields the single byte 0xff
    text = " ".join(args).encode("utf-8", "surrogateescape").decode("latin-1")
    if escapes:
        text, stop = unescape(text)
        if stop:
            newline = False
    if newline:
        text += "\n"
    try:
        yield from write_all(sys, 1, text.encode("latin-1"))
    except OSError as e:
        yield from complain(sys, prog, f"write error: {strerror(e)}")
        return 1
    return 0
