"""``test`` / ``[``: shared by the shell builtin and the applet.

POSIX fixes the meaning for up to four arguments by counting them (so that
``test -n`` or ``test !`` mean what a user expects); beyond that a small
recursive-descent parser handles ``!``, ``-a``, ``-o`` and parentheses.
Exit status: 0 true, 1 false, 2 error (with busybox's message).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .libc import complain

_UNARY_FILE = set("bcdefghkLprsStuwxGO")
_BINARY = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"}


class TestError(Exception):
    pass


def _number(text: str) -> int:
    t = text.strip(" \t")
    body = t[1:] if t[:1] in "+-" else t
    if not body.isdigit():
        raise TestError(f"{text}: bad number")
    value = int(t)
    if not -(1 << 63) <= value < (1 << 63):
        raise TestError(f"{text}: out of range")
    return value


class _Eval:
    def __init__(self, sys: Sys, args: list[str]) -> None:
        self.sys, self.args, self.i = sys, args, 0

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.args[j] if j < len(self.args) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise TestError("argument expected")
        self.i += 1
        return tok

    # expr := and ( -o and )*
    def expr(self) -> bool:
        value = self.and_()
        while self.peek() == "-o":
            self.i += 1
            right = self.and_()
            value = value or right
        return value

    def and_(self) -> bool:
        value = self.not_()
        while self.peek() == "-a":
            self.i += 1
            right = self.not_()
            value = value and right
        return value

    def not_(self) -> bool:
        if self.peek() == "!" and self.peek(1) is not None:
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        tok = self.take()
        # "(" opens a group unless it is the left operand of a binary test
        if (
            tok == "("
            and self.peek() is not None
            and not (self.peek() in _BINARY and self.peek(1) is not None)
        ):
            value = self.expr()
            if self.peek() != ")":
                raise TestError(
                    'syntax error: unexpected word (expecting ")")'
                    if self.peek() is None
                    else f"{self.peek()}: unknown operand"
                )
            self.i += 1
            return value
        nxt = self.peek()
        if nxt in _BINARY and self.peek(1) is not None:
            self.i += 1
            return self.binary(tok, nxt, self.take())
        if len(tok) == 2 and tok[0] == "-" and nxt is not None and (tok[1] in _UNARY_FILE or tok[1] in "nzt"):
            return self.unary(tok, self.take())
        if nxt is not None and nxt not in ("-a", "-o", ")"):
            raise TestError(f"{nxt}: unknown operand")
        return tok != ""

    def unary(self, op: str, arg: str) -> bool:
        if op == "-n":
            return arg != ""
        if op == "-z":
            return arg == ""
        if op == "-t":
            return False  # simulated fds are never terminals
        sys = self.sys
        try:
            st = sys.lstat(arg) if op in ("-L", "-h") else sys.stat(arg)
        except OSError:
            return False
        kind = st.kind.value
        if op == "-e":
            return True
        if op == "-f":
            return kind == "file" and not st.is_device
        if op == "-d":
            return kind == "dir"
        if op in ("-L", "-h"):
            return kind == "symlink"
        if op == "-s":
            return st.size > 0
        if op in ("-c", "-b"):
            return st.is_device and op == "-c"
        if op in ("-p", "-S"):
            return kind == ("fifo" if op == "-p" else "socket")
        if op in ("-r", "-w", "-x"):
            return sys.access(arg, {"-r": os.R_OK, "-w": os.W_OK, "-x": os.X_OK}[op])
        if op == "-u":
            return bool(st.mode & 0o4000)
        if op == "-g":
            return bool(st.mode & 0o2000)
        if op == "-k":
            return bool(st.mode & 0o1000)
        if op == "-O":
            return st.uid == sys.getuid()
        if op == "-G":
            return st.gid == sys.getgid()
        return False

    def binary(self, a: str, op: str, b: str) -> bool:
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op in ("-nt", "-ot", "-ef"):
            try:
                sa, sb = self.sys.stat(a), self.sys.stat(b)
            except OSError:
                return False
            return op == "-ef" and sa == sb
        x, y = _number(a), _number(b)
        return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]


def evaluate(sys: Sys, args: list[str]) -> bool:
    """The truth of ``test args...`` (raises TestError)."""
    n = len(args)
    ev = _Eval(sys, args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "!":
            return args[1] == ""
        if len(args[0]) == 2 and args[0][0] == "-" and (args[0][1] in _UNARY_FILE or args[0][1] in "nzt"):
            return ev.unary(args[0], args[1])
        if args[1] in _BINARY:
            raise TestError(f"{args[1]}: argument expected")
        raise TestError(f"{args[1]}: unknown operand")
    if n == 3 and args[1] in _BINARY:
        return ev.binary(args[0], args[1], args[2])
    if n == 3 and args[0] == "!":
        return not evaluate(sys, args[1:])
    if n == 3 and args[0] == "(" and args[2] == ")":
        return args[1] != ""
    if n == 4 and args[0] == "!":
        return not evaluate(sys, args[1:])
    value = ev.expr()
    if ev.peek() is not None:
        raise TestError(f"{ev.peek()}: unknown operand")
    return value


def test(sys: Sys, argv: list[str], prog: str = "test") -> Generator[Any, Any, int]:
    """``prog`` prefixes error messages ("sh" for the builtin)."""
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            yield from complain(sys, prog, "missing ]")
            return 2
        args = args[:-1]
    elif argv[0] == "[[":  # ash's bash-compatible builtin: test, ended by ]]
        if not args or args[-1] != "]]":
            yield from complain(sys, prog, "missing ]]")
            return 2
        args = args[:-1]
    try:
        return 0 if evaluate(sys, args) else 1
    except TestError as e:
        yield from complain(sys, prog, str(e))
        return 2
