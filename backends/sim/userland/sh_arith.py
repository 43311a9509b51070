"""``$(( ... ))``: the shell's integer arithmetic.

C's operators and precedence on 64-bit signed integers (ash uses
``arith_t`` = intmax_t): division truncates toward zero, ``%`` takes the
sign of the dividend, comparisons give 0 or 1.  Variable names are read as
integers (unset or empty is 0) and may be assigned (``x += 2``, ``i++``).

The expression is first parsed into nested tuples and then evaluated, so
that ``&&``, ``||`` and ``?:`` skip the side effects of the branch not taken.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class ArithError(Exception):
    """``str()`` is ash's message: "arithmetic syntax error", "divide by zero"."""


_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z_0-9]*)|"
    r"(<<=|>>=|\*\*|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|"
    r"[-+*/%<>=!~&|^?:()]))"
)

_BINARY = {  # operator -> precedence (higher binds tighter)
    "||": 1,
    "&&": 2,
    "|": 3,
    "^": 4,
    "&": 5,
    "==": 6,
    "!=": 6,
    "<": 7,
    "<=": 7,
    ">": 7,
    ">=": 7,
    "<<": 8,
    ">>": 8,
    "+": 9,
    "-": 9,
    "*": 10,
    "/": 10,
    "%": 10,
    "**": 11,
}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="}


def _wrap(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >> 63 else n


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ArithError("arithmetic syntax error")
        tokens.append(m.group(m.lastindex or 0))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.toks, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ArithError("arithmetic syntax error")
        self.i += 1
        return tok

    def expr(self) -> tuple:
        return self.assignment()

    def assignment(self) -> tuple:
        if self.i + 1 < len(self.toks) and _is_name(self.toks[self.i]) and self.toks[self.i + 1] in _ASSIGN:
            name = self.take()
            op = self.take()
            return ("assign", name, op, self.assignment())
        return self.ternary()

    def ternary(self) -> tuple:
        cond = self.binary(1)
        if self.peek() == "?":
            self.take()
            yes = self.assignment()
            if self.take() != ":":
                raise ArithError("arithmetic syntax error")
            no = self.assignment()
            return ("?", cond, yes, no)
        return cond

    def binary(self, min_prec: int) -> tuple:
        left = self.unary()
        while (op := self.peek()) in _BINARY and _BINARY[op] >= min_prec:
            self.take()
            # ** is right-associative, the rest left-associative
            right = self.binary(_BINARY[op] + (0 if op == "**" else 1))
            left = ("bin", op, left, right)
        return left

    def unary(self) -> tuple:
        tok = self.peek()
        if tok in ("-", "+", "!", "~"):
            self.take()
            return ("un", tok, self.unary())
        if tok in ("++", "--"):
            self.take()
            name = self.take()
            if not _is_name(name):
                raise ArithError("arithmetic syntax error")
            return ("pre", tok, name)
        return self.postfix()

    def postfix(self) -> tuple:
        tok = self.take()
        if tok == "(":
            inner = self.expr()
            if self.take() != ")":
                raise ArithError("arithmetic syntax error")
            return inner
        if tok[0].isdigit():
            return ("num", _number(tok))
        if _is_name(tok):
            if self.peek() in ("++", "--"):
                return ("post", self.take(), tok)
            return ("var", tok)
        raise ArithError("arithmetic syntax error")


def _is_name(tok: str) -> bool:
    return tok[0].isalpha() or tok[0] == "_"


def _number(tok: str) -> int:
    try:
        if tok[:2] in ("0x", "0X"):
            return int(tok, 16)
        if len(tok) > 1 and tok[0] == "0":
            return int(tok, 8)
        return int(tok)
    except ValueError:
        raise ArithError("arithmetic syntax error") from None


def evaluate(text: str, get: Callable[[str], str | None], put: Callable[[str, str], None]) -> int:
    """Evaluate ``text``; ``get``/``put`` read and assign shell variables."""
    if not text.strip():
        return 0
    parser = _Parser(_tokenize(text))
    tree = parser.expr()
    if parser.peek() is not None:
        raise ArithError("arithmetic syntax error")

    def var(name: str) -> int:
        value = (get(name) or "").strip()
        if not value:
            return 0
        try:
            return _wrap(_number(value.lstrip("+-")) * (-1 if value.startswith("-") else 1))
        except ArithError:
            return evaluate(value, get, put)

    def ev(node: tuple) -> int:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            return var(node[1])
        if kind == "un":
            v = ev(node[2])
            return {"-": -v, "+": v, "!": int(not v), "~": ~v}[node[1]]
        if kind in ("pre", "post"):
            old = var(node[2])
            new = old + (1 if node[1] == "++" else -1)
            put(node[2], str(new))
            return new if kind == "pre" else old
        if kind == "?":
            return ev(node[2]) if ev(node[1]) else ev(node[3])
        if kind == "assign":
            _, name, op, rhs = node
            value = ev(rhs)
            if op != "=":
                value = binop(op[:-1], var(name), value)
            put(name, str(value))
            return value
        _, op, left, right = node
        if op == "&&":
            return int(bool(ev(left)) and bool(ev(right)))
        if op == "||":
            return int(bool(ev(left)) or bool(ev(right)))
        return binop(op, ev(left), ev(right))

    return _wrap(ev(tree))


def binop(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ArithError("divide by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    result = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "**": lambda: a**b if b >= 0 else 0,
        "<<": lambda: a << (b & 63),
        ">>": lambda: a >> (b & 63),
        "&": lambda: a & b,
        "|": lambda: a | b,
        "^": lambda: a ^ b,
        "<": lambda: int(a < b),
        "<=": lambda: int(a <= b),
        ">": lambda: int(a > b),
        ">=": lambda: int(a >= b),
        "==": lambda: int(a == b),
        "!=": lambda: int(a != b),
    }[op]()
    return _wrap(result)
