"""bc -- the core language of busybox 1.35's bc (Gavin Howard's): numbers
(:mod:`.xc_num`), ``+ - * / % ^``, relations, ``! && ||``, assignments
(``= += -= *= /= %= ^=``), ``++``/``--``, variables and arrays (names
``[a-z][a-z0-9_]*``), ``scale``/``ibase``/``obase``/``last`` (and ``.``),
``if``/``else``, ``while``, ``for``, ``break``, ``continue``, ``define``
with ``auto`` (dynamic scope, arrays passed by value), ``return``,
``print``, strings, ``length``, ``scale()``, ``sqrt``, ``halt``, ``quit``,
``limits``, comments (``/* */``, ``#``).

Like busybox, each top-level statement is parsed and then run; an
expression statement prints its value (and sets ``last``) unless it is an
assignment.  The first error ends bc: "bc: MESSAGE", exit 1 (stdin is not
a terminal in the simulator).  Operator precedence is busybox's table:
``++ --`` > unary ``- !`` > ``^`` > ``* / %`` > ``+ -`` > assignments >
relations > ``&& ||`` (one level; both sides are always evaluated).

``-l`` runs busybox's own math library (s c a l e j, scale=20): its bc
source is read out of the busybox binary the process runs, as busybox
itself compiles it at start; with the simulator's stand-in binary there
is none and ``-l`` fails.  Not modelled: ``read()``, ``-s``/``-w``
(POSIX warnings; refused by name), ``void`` functions.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from . import xc_num
from .applet_table import applet
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, read_all, show_usage, strerror
from .xc_num import Num, Printer, XcError

Gen = Generator[Any, Any, Any]

KEYWORDS = frozenset(
    "auto break continue define else for halt ibase obase if last length limits print quit read return "
    "scale sqrt while".split()
)
OPERATORS = "++ -- += -= *= /= %= ^= == <= >= != && || + - * / % ^ = < > ! ( ) [ ] { } , ;".split()
EXPR_KEYWORDS = frozenset("ibase last length obase read scale sqrt".split())
ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "^=")
RELATIONS = ("==", "<=", ">=", "!=", "<", ">")
LIMITS = (
    "BC_BASE_MAX     = 999\nBC_DIM_MAX      = 2147483647\nBC_SCALE_MAX    = 4294967295\n"
    "BC_STRING_MAX   = 4294967294\nMAX Exponent    = 999999999\nNumber of vars  = 999999999\n"
)
LIB_START = b"scale=20\ndefine e(x){"


class Quit(Exception):
    """quit (at parse time) or halt (when run): bc ends, exit 0."""


class Tok:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind, self.text, self.pos = kind, text, pos


class Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.tok = Tok("eof", "", 0)

    def error_at(self, msg: str) -> XcError:
        rest = self.src[self.tok.pos :]
        return XcError(f"{msg} at '{rest.split(chr(10), 1)[0]}'")

    def next(self) -> Tok:
        s, n = self.src, len(self.src)
        while True:
            while self.i < n and s[self.i] in " \t\r\v\f":
                self.i += 1
            if s.startswith("\\\n", self.i):
                self.i += 2
                continue
            if s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise XcError("unterminated comment")
                self.i = end + 2
                continue
            if self.i < n and s[self.i] == "#":
                while self.i < n and s[self.i] != "\n":
                    self.i += 1
                continue
            break
        start = self.i
        if self.i >= n:
            self.tok = Tok("eof", "", start)
            return self.tok
        c = s[self.i]
        if c == "\n":
            self.i += 1
            self.tok = Tok("nl", "\n", start)
        elif c.isdigit() or "A" <= c <= "Z" or (c == "." and self.i + 1 < n and s[self.i + 1].isdigit()):
            text = []
            seen_point = False
            while self.i < n:
                ch = s[self.i]
                if s.startswith("\\\n", self.i):
                    self.i += 2
                    continue
                if ch == ".":
                    if seen_point:
                        break
                    seen_point = True
                elif not (ch.isdigit() or "A" <= ch <= "Z"):
                    break
                text.append(ch)
                self.i += 1
            number = "".join(text)
            self.tok = Tok("num", number[:-1] if number.endswith(".") else number, start)
        elif "a" <= c <= "z":
            j = self.i
            while j < n and (s[j].islower() or s[j].isdigit() or s[j] == "_") and s[j].isascii():
                j += 1
            word = s[self.i : j]
            self.i = j
            self.tok = Tok("kw" if word in KEYWORDS else "name", word, start)
        elif c == '"':
            end = s.find('"', self.i + 1)
            if end < 0:
                raise XcError("unterminated string")
            self.tok = Tok("str", s[self.i + 1 : end], start)
            self.i = end + 1
        elif c == ".":
            self.i += 1
            self.tok = Tok("kw", "last", start)
        else:
            for op in OPERATORS:
                if s.startswith(op, self.i):
                    self.i += len(op)
                    self.tok = Tok("op", op, start)
                    break
            else:
                raise XcError("NUL character" if c == "\0" else f"bad character '{c}'")
        return self.tok


# -- the syntax tree: tuples, ("kind", ...) -----------------------------------------------------


class Parser:
    def __init__(self, lex: Lexer) -> None:
        self.lex = lex
        self.in_function = False
        self.loops = 0
        self.depth = 0
        self.bad_assignment = False

    @property
    def tok(self) -> Tok:
        return self.lex.tok

    def next(self) -> Tok:
        return self.lex.next()

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise self.lex.error_at("bad token")
        self.next()

    def skip_newlines(self) -> None:
        while self.tok.kind == "nl":
            self.next()

    # -- statements --------------------------------------------------------------------------

    def statement(self) -> tuple | None:
        t = self.tok
        if t.kind in ("nl",) or self.is_op(";"):
            return None
        if t.kind == "str":
            self.next()
            return ("string", t.text)
        if self.is_op("{"):
            self.next()
            return ("block", self.block_body())
        if t.kind == "kw":
            word = t.text
            if word == "if":
                self.next()
                self.expect_op("(")
                cond = self.expr()
                self.expect_op(")")
                self.skip_newlines()
                then = self.statement_required("if")
                otherwise = None
                # "else" may follow newlines
                save_i, save_tok = self.lex.i, self.lex.tok
                self.skip_newlines()
                if self.tok.kind == "kw" and self.tok.text == "else":
                    self.next()
                    self.skip_newlines()
                    otherwise = self.statement_required("else")
                else:
                    self.lex.i, self.lex.tok = save_i, save_tok
                return ("if", cond, then, otherwise)
            if word == "while":
                self.next()
                self.expect_op("(")
                while_cond = self.expr()
                self.expect_op(")")
                self.skip_newlines()
                self.loops += 1
                while_body = self.statement_required("while")
                self.loops -= 1
                return ("while", while_cond, while_body)
            if word == "for":
                self.next()
                self.expect_op("(")
                init = None if self.is_op(";") else self.expr()
                self.expect_op(";")
                for_cond = None if self.is_op(";") else self.expr()
                self.expect_op(";")
                step = None if self.is_op(")") else self.expr()
                self.expect_op(")")
                self.skip_newlines()
                self.loops += 1
                for_body = self.statement_required("for")
                self.loops -= 1
                return ("for", init, for_cond, step, for_body)
            if word in ("break", "continue"):
                if not self.loops:
                    raise self.lex.error_at("bad token")
                self.next()
                return (word,)
            if word == "quit":
                raise Quit()
            if word == "halt":
                self.next()
                return ("halt",)
            if word == "limits":
                self.next()
                return ("limits",)
            if word == "return":
                if not self.in_function:
                    raise XcError("'return' not in a function")
                self.next()
                if self.tok.kind in ("nl", "eof") or self.is_op(";", "}"):
                    return ("return", None)
                return ("return", self.expr())
            if word == "print":
                self.next()
                items: list[tuple[str, Any]] = []
                while True:
                    if self.tok.kind == "str":
                        items.append(("str", self.tok.text))
                        self.next()
                    else:
                        items.append(("expr", self.expr()))
                    if not self.is_op(","):
                        break
                    self.next()
                return ("print", items)
            if word == "define":
                if self.in_function:
                    raise self.lex.error_at("bad token")
                return self.definition()
            if word in ("auto", "else", "read"):
                raise self.lex.error_at("bad token")
        return ("expr", self.expr())

    def statement_required(self, after: str) -> tuple:
        if self.tok.kind == "eof" or self.is_op(";", "}"):
            raise XcError(f"no statement after '{after}'")
        stmt = self.statement()
        return stmt if stmt is not None else ("block", [])

    def terminator(self) -> None:
        if not (self.tok.kind in ("nl", "eof") or self.is_op(";")):
            # a token an expression could have gone on with: busybox's
            # expression parser took it in and found it misplaced
            t = self.tok
            if (
                t.kind in ("num", "name")
                or (t.kind == "kw" and t.text in EXPR_KEYWORDS)
                or (t.kind == "op" and t.text not in (")", "]", ",", "{", "}", ";"))
            ):
                raise self.lex.error_at("bad expression")
            raise self.lex.error_at("bad statement terminator")

    def block_body(self) -> list:
        body: list[tuple] = []
        while True:
            while self.tok.kind == "nl" or self.is_op(";"):
                self.next()
            if self.is_op("}"):
                self.next()
                return body
            if self.tok.kind == "eof":
                raise self.lex.error_at("bad token")
            stmt = self.statement()
            if stmt is not None:
                body.append(stmt)
            if self.is_op("}"):
                continue
            self.terminator()

    def definition(self) -> tuple:
        self.next()
        if self.tok.kind != "name":
            raise self.lex.error_at("bad function definition")
        name = self.tok.text
        self.next()
        if not self.is_op("("):
            raise self.lex.error_at("bad function definition")
        self.next()
        params: list[tuple[str, bool]] = []
        while not self.is_op(")"):
            if self.tok.kind != "name":
                raise self.lex.error_at("bad function definition")
            pname = self.tok.text
            self.next()
            is_array = False
            if self.is_op("["):
                self.next()
                if not self.is_op("]"):
                    raise self.lex.error_at("bad function definition")
                self.next()
                is_array = True
            if (pname, is_array) in params:
                raise XcError("duplicate function parameter or auto name")
            params.append((pname, is_array))
            if self.is_op(","):
                self.next()
                if self.is_op(")"):
                    raise self.lex.error_at("bad function definition")
            elif not self.is_op(")"):
                raise self.lex.error_at("bad function definition")
        self.next()
        self.skip_newlines()
        if not self.is_op("{"):
            raise XcError("function { body } expected")
        self.next()
        self.skip_newlines()
        autos: list[tuple[str, bool]] = []
        while self.tok.kind == "kw" and self.tok.text == "auto":
            self.next()
            while True:
                if self.tok.kind != "name":
                    raise self.lex.error_at("bad 'auto' syntax")
                aname = self.tok.text
                self.next()
                is_array = False
                if self.is_op("["):
                    self.next()
                    if not self.is_op("]"):
                        raise self.lex.error_at("bad 'auto' syntax")
                    self.next()
                    is_array = True
                if (aname, is_array) in params or (aname, is_array) in autos:
                    raise XcError("duplicate function parameter or auto name")
                autos.append((aname, is_array))
                if not self.is_op(","):
                    break
                self.next()
            if not (self.tok.kind == "nl" or self.is_op(";")):
                raise self.lex.error_at("bad 'auto' syntax")
            self.skip_newlines()
            while self.is_op(";"):
                self.next()
                self.skip_newlines()
        self.in_function = True
        try:
            body = self.block_body()
        finally:
            self.in_function = False
        return ("define", name, params, autos, body)

    # -- expressions ------------------------------------------------------------------------

    def expr(self) -> tuple:
        self.depth += 1
        try:
            node = self.level7()
        finally:
            self.depth -= 1
        if self.bad_assignment and not self.depth:
            # busybox finds it out when the whole expression has been read
            self.bad_assignment = False
            raise self.lex.error_at("bad assignment: left side must be variable or array element")
        return node

    def level7(self) -> tuple:  # || && (one level, left to right)
        left = self.level6()
        while self.is_op("||", "&&"):
            op = self.tok.text
            self.next()
            left = (op, left, self.level6())
        return left

    def level6(self) -> tuple:  # relations
        left = self.level5()
        while self.is_op(*RELATIONS):
            op = self.tok.text
            self.next()
            left = ("rel", op, left, self.level5())
        return left

    def level5(self) -> tuple:  # assignments, right to left
        left = self.level4()
        if self.is_op(*ASSIGN_OPS):
            op = self.tok.text
            if left[0] not in ("var", "elem", "special"):
                self.bad_assignment = True
            self.next()
            return ("assign", op, left, self.level5())
        return left

    def level4(self) -> tuple:
        left = self.level3()
        while self.is_op("+", "-"):
            op = self.tok.text
            self.next()
            left = ("bin", op, left, self.level3())
        return left

    def level3(self) -> tuple:
        left = self.level2()
        while self.is_op("*", "/", "%"):
            op = self.tok.text
            self.next()
            left = ("bin", op, left, self.level2())
        return left

    def level2(self) -> tuple:  # ^, right to left
        left = self.level1()
        if self.is_op("^"):
            self.next()
            return ("bin", "^", left, self.level2())
        return left

    def level1(self) -> tuple:  # unary - and !
        if self.is_op("-"):
            self.next()
            return ("neg", self.level1())
        if self.is_op("!"):
            self.next()
            return ("not", self.level1())
        return self.level0()

    def level0(self) -> tuple:  # ++ -- and operands
        if self.is_op("++", "--"):
            op = self.tok.text
            self.next()
            target = self.level0()
            if target[0] not in ("var", "elem", "special"):
                raise self.lex.error_at("bad assignment: left side must be variable or array element")
            return ("preinc", op, target)
        operand = self.operand()
        if self.is_op("++", "--") and operand[0] not in ("var", "elem", "special"):
            self.next()  # "0--1": busybox takes the -- and stumbles on what follows
            raise self.lex.error_at("bad token")
        if self.is_op("++", "--"):
            op = self.tok.text
            self.next()
            return ("postinc", op, operand)
        return operand

    def operand(self) -> tuple:
        t = self.tok
        if t.kind == "num":
            self.next()
            return ("num", t.text)
        if self.is_op("("):
            self.next()
            inner = self.expr()
            self.expect_op(")")
            return ("paren", inner)
        if t.kind == "name":
            self.next()
            if self.is_op("["):
                self.next()
                index = self.expr()
                self.expect_op("]")
                return ("elem", t.text, index)
            if self.is_op("("):
                self.next()
                args = []
                while not self.is_op(")"):
                    if self.tok.kind == "name":
                        save_i, save_tok = self.lex.i, self.lex.tok
                        name = self.tok.text
                        self.next()
                        if self.is_op("["):
                            self.next()
                            if self.is_op("]"):
                                self.next()
                                args.append(("array", name))
                                if self.is_op(","):
                                    self.next()
                                continue
                        self.lex.i, self.lex.tok = save_i, save_tok
                    args.append(self.expr())
                    if self.is_op(","):
                        self.next()
                    elif not self.is_op(")"):
                        raise self.lex.error_at("bad token")
                self.next()
                return ("call", t.text, args)
            return ("var", t.text)
        if t.kind == "kw":
            if t.text in ("ibase", "obase", "scale", "last"):
                self.next()
                if t.text == "scale" and self.is_op("("):
                    self.next()
                    arg = self.expr()
                    self.expect_op(")")
                    return ("scale_of", arg)
                return ("special", t.text)
            if t.text in ("length", "sqrt"):
                self.next()
                self.expect_op("(")
                if t.text == "length" and self.tok.kind == "name":
                    save_i, save_tok = self.lex.i, self.lex.tok
                    name = self.tok.text
                    self.next()
                    if self.is_op("["):
                        self.next()
                        if self.is_op("]"):
                            self.next()
                            self.expect_op(")")
                            return ("length_array", name)
                    self.lex.i, self.lex.tok = save_i, save_tok
                arg = self.expr()
                self.expect_op(")")
                return (t.text, arg)
        raise self.lex.error_at("bad expression")


# -- running -------------------------------------------------------------------------------------


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Return(Exception):
    def __init__(self, value: Num) -> None:
        self.value = value


class Bc:
    def __init__(self, printer: Printer) -> None:
        self.out = printer
        self.scale, self.ibase, self.obase = 0, 10, 10
        self.last = Num()
        self.vars: dict[str, list[Num]] = {}
        self.arrays: dict[str, list[list[Num]]] = {}
        self.functions: dict[str, tuple] = {}

    # variables with dynamic scope: a stack per name
    def get_var(self, name: str) -> Num:
        stack = self.vars.get(name)
        return stack[-1] if stack else Num()

    def set_var(self, name: str, value: Num) -> None:
        stack = self.vars.setdefault(name, [Num()])
        stack[-1] = value

    def array(self, name: str) -> list[Num]:
        stack = self.arrays.setdefault(name, [[]])
        return stack[-1]

    def index(self, node: tuple) -> int:
        idx = xc_num.to_ulong(self.eval(node))
        if idx > 2147483647:
            raise XcError("array index too big")
        return idx

    def load(self, target: tuple) -> Num:
        kind = target[0]
        if kind == "var":
            return self.get_var(target[1])
        if kind == "elem":
            arr, idx = self.array(target[1]), self.index(target[2])
            return arr[idx] if idx < len(arr) else Num()
        name = target[1]
        if name == "last":
            return self.last
        return Num({"ibase": self.ibase, "obase": self.obase, "scale": self.scale}[name], 0)

    def store(self, target: tuple, value: Num, index: int | None = None) -> None:
        kind = target[0]
        if kind == "var":
            self.set_var(target[1], value)
        elif kind == "elem":
            arr = self.array(target[1])
            idx = self.index(target[2]) if index is None else index
            while len(arr) <= idx:
                arr.append(Num())
            arr[idx] = value
        else:
            name = target[1]
            if name == "last":
                self.last = value
                return
            val = xc_num.to_ulong(value)
            if name == "scale":
                if val > 4294967295:
                    raise XcError("bad scale; must be [0,4294967295]")
                self.scale = val
            elif name == "ibase":
                if not 2 <= val <= 16:
                    raise XcError("bad ibase; must be [2,16]")
                self.ibase = val
            else:
                if not 2 <= val <= 999:
                    raise XcError("bad obase; must be [2,999]")
                self.obase = val

    def binary(self, op: str, a: Num, b: Num) -> Num:
        if op == "+":
            return xc_num.add(a, b)
        if op == "-":
            return xc_num.add(a, b, sub=True)
        if op == "*":
            return xc_num.mul(a, b, self.scale)
        if op == "/":
            return xc_num.div(a, b, self.scale)
        if op == "%":
            return xc_num.rem(a, b, self.scale)
        return xc_num.power(a, b, self.scale)

    def eval(self, node: tuple) -> Num:
        kind = node[0]
        if kind == "num":
            return xc_num.parse(node[1], self.ibase)
        if kind in ("var", "elem", "special"):
            return self.load(node)
        if kind == "paren":
            return self.eval(node[1])
        if kind == "bin":
            a = self.eval(node[2])
            b = self.eval(node[3])
            return self.binary(node[1], a, b)
        if kind == "neg":
            v = self.eval(node[1])
            return Num(-v.m, v.rdx)
        if kind == "not":
            return Num(0 if self.eval(node[1]).m else 1, 0)
        if kind == "rel":
            a, b = self.eval(node[2]), self.eval(node[3])
            c = xc_num.compare(a, b)
            ok = {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[node[1]]
            return Num(1 if ok else 0, 0)
        if kind in ("&&", "||"):  # busybox evaluates both sides
            x, y = self.eval(node[1]).m, self.eval(node[2]).m
            return Num(1 if (x and y if kind == "&&" else x or y) else 0, 0)
        if kind == "assign":
            op, target = node[1], node[2]
            index = self.index(target[2]) if target[0] == "elem" else None
            value = self.eval(node[3])
            if op != "=":
                current = self.load(target) if index is None else self.load_elem(target[1], index)
                value = self.binary(op[0], current, value)
            self.store(target, value, index)
            return value
        if kind in ("preinc", "postinc"):
            target = node[2]
            index = self.index(target[2]) if target[0] == "elem" else None
            old = self.load(target) if index is None else self.load_elem(target[1], index)
            new = xc_num.add(old, Num(1, 0), sub=node[1] == "--")
            self.store(target, new, index)
            return new if kind == "preinc" else old
        if kind == "call":
            return self.call(node[1], node[2])
        if kind == "length":
            v = self.eval(node[1])
            length = v.length
            if v.rdx != length:
                return Num(length if length else v.rdx, 0)
            digits = str(abs(v.m)).rjust(length, "0") if v.m else ""
            stripped = digits.lstrip("0")
            return Num(len(stripped) if stripped else 1, 0)
        if kind == "length_array":
            return Num(len(self.array(node[1])), 0)
        if kind == "scale_of":
            return Num(self.eval(node[1]).rdx, 0)
        if kind == "sqrt":
            return xc_num.sqrt(self.eval(node[1]), self.scale)
        raise XcError("bad expression")

    def load_elem(self, name: str, index: int) -> Num:
        arr = self.array(name)
        return arr[index] if index < len(arr) else Num()

    def call(self, name: str, args: list) -> Num:
        func = self.functions.get(name)
        if func is None:
            raise XcError("undefined function")
        _, _, params, autos, body = func
        if len(params) != len(args):
            raise XcError(f"function has {len(params)} parameters, but called with {len(args)}")
        values: list[Any] = []
        for (_pname, is_array), arg in zip(params, args, strict=True):
            if is_array != (arg[0] == "array"):
                raise XcError("variable is wrong type")
            values.append([Num(v.m, v.rdx) for v in self.array(arg[1])] if is_array else self.eval(arg))
        for (pname, is_array), value in zip(params, values, strict=True):
            if is_array:
                self.arrays.setdefault(pname, [[]]).append(value)
            else:
                self.vars.setdefault(pname, [Num()]).append(value)
        for aname, is_array in autos:
            if is_array:
                self.arrays.setdefault(aname, [[]]).append([])
            else:
                self.vars.setdefault(aname, [Num()]).append(Num())
        try:
            self.run_block(body)
            result = Num()
        except Return as r:
            result = r.value
        finally:
            for vname, is_array in list(params) + list(autos):
                (self.arrays if is_array else self.vars)[vname].pop()
        return result

    def run_block(self, body: list) -> None:
        for stmt in body:
            self.run(stmt)

    def run(self, stmt: tuple) -> None:
        kind = stmt[0]
        if kind == "expr":
            node = stmt[1]
            value = self.eval(node)
            if node[0] != "assign":
                self.out.number(value, self.obase, True)
                self.last = value
        elif kind == "string":
            self.out.raw_string(stmt[1])
        elif kind == "block":
            self.run_block(stmt[1])
        elif kind == "if":
            if self.eval(stmt[1]).m:
                self.run(stmt[2])
            elif stmt[3] is not None:
                self.run(stmt[3])
        elif kind == "while":
            while self.eval(stmt[1]).m:
                try:
                    self.run(stmt[2])
                except Break:
                    break
                except Continue:
                    continue
        elif kind == "for":
            _, init, cond, step, body = stmt
            if init is not None:
                self.eval(init)
            while cond is None or self.eval(cond).m:
                try:
                    self.run(body)
                except Break:
                    break
                except Continue:
                    pass
                if step is not None:
                    self.eval(step)
        elif kind == "break":
            raise Break()
        elif kind == "continue":
            raise Continue()
        elif kind == "return":
            raise Return(Num() if stmt[1] is None else self.eval(stmt[1]))
        elif kind == "halt":
            raise Quit()
        elif kind == "limits":
            self.out.raw_string(LIMITS)
        elif kind == "print":
            for what, item in stmt[1]:
                if what == "str":
                    self.out.escaped_string(item)
                else:
                    value = self.eval(item)
                    self.out.number(value, self.obase, False)
                    self.last = value
        elif kind == "define":
            self.functions[stmt[1]] = stmt

    def process(self, src: str) -> None:
        """zxc_vm_process: statement by statement, each run once parsed."""
        lex = Lexer(src)
        parser = Parser(lex)
        lex.next()
        while lex.tok.kind != "eof":
            stmt = parser.statement()
            parser.terminator()
            if stmt is not None:
                self.run(stmt)
            lex.next()


def _library(sys: Sys) -> Gen:
    """busybox's math library, from the binary being run."""
    data = b""
    for path in ("/proc/self/exe", "/bin/busybox"):
        try:
            fd = sys.open(path, O_RDONLY)
        except OSError:
            continue
        try:
            data = yield from read_all(sys, fd)
        finally:
            sys.close(fd)
        if data:
            break
    start = data.find(LIB_START)
    if start < 0:
        raise Die("-l: this busybox binary has no math library (the simulator's stand-in)")
    end = data.index(b"\0", start)
    return data[start:end].decode("latin-1")


@applet("bc")
@dies("bc")
def bc_main(sys: Sys) -> Gen:
    longopts = {"quiet": "q", "mathlib": "l", "standard": "s", "warn": "w"}
    try:
        opts = getopt(sys.argv[1:], "qlsw", longopts=longopts)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "bc", e.message)
        yield from show_usage(sys, "bc")
        raise Die(None) from None
    if "s" in opts or "w" in opts:
        raise Die("-s and -w (POSIX checks) are not modelled in the stepbox simulator")
    width = _line_length(sys.env.get("BC_LINE_LENGTH"))
    out = BufferedOutput(sys, 1)
    bc = Bc(Printer(out.write, width))
    sources: list[tuple[str | None, str]] = []
    if "l" in opts:
        sources.append((None, (yield from _library(sys))))
    for path in opts.operands:
        try:
            fd = sys.open(path, O_RDONLY)
            try:
                data = yield from read_all(sys, fd)
            finally:
                sys.close(fd)
        except OSError as e:
            yield from out.flush()
            raise Die(f"can't open '{path}': {strerror(e)}") from None
        sources.append((path, data.decode("latin-1")))
    try:
        for _name, text in sources:
            bc.process(text)
            yield from out.drain()
        stdin = yield from read_all(sys, 0)
        bc.process(stdin.decode("latin-1"))
    except Quit:
        pass
    except XcError as e:
        yield from out.flush()
        raise Die(str(e)) from None
    except RecursionError:
        yield from out.flush()
        raise Die("out of memory") from None
    yield from out.flush()
    return 0


def _line_length(text: str | None, is_bc: bool = True) -> int:
    """xc_vm_envLen: BC_LINE_LENGTH/DC_LINE_LENGTH (bc one less, as GNU)."""
    width = 70
    if text is not None:
        digits = text.strip()
        if digits.isdigit():
            width = int(digits)
            if width == 0 or width > 2**31 - 1:
                width = 2**31 - 1
        else:
            width = 70
    if is_bc:
        width -= 1
    if width < 2:
        width = 69 if is_bc else 70
    return width
