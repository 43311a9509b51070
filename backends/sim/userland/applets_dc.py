"""dc -- the RPN calculator of busybox 1.35's miscutils/bc.c, on the same
numbers as bc (:mod:`.xc_num`): one command at a time, each run as it is
read.  Commands: numbers (``_`` for minus, digits 0-9 A-F in the input
base), ``+ - * / % ^``, ``~`` (quotient and remainder), ``|`` (modular
exponentiation), ``v``, ``p n f P`` (``n`` too ends its line in 1.35), ``c d r z Z X``, ``k i o K I O``,
registers ``s l S L`` (``:``/``;`` arrays), strings ``[...]``, ``x``,
conditionals ``< > = !< !> !=`` running a register, ``a``, ``q``,
``Q``, ``#`` comments.  The first error ends dc: "dc: MESSAGE", exit 1.

Not modelled: ``?`` (read a line), ``-x`` extended register names
(refused by name).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from . import xc_num
from .applet_table import applet
from .applets_bc import _line_length
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, read_all, show_usage, strerror
from .xc_num import Num, Printer, XcError

Gen = Generator[Any, Any, Any]
Value = Num | str


class Quit(Exception):
    """q (two macro levels, or dc itself from the first two) or Q (N
    levels, never dc itself)."""

    def __init__(self, levels: int, ends_dc: bool) -> None:
        self.levels, self.ends_dc = levels, ends_dc


class Dc:
    def __init__(self, printer: Printer) -> None:
        self.out = printer
        self.stack: list[Value] = []
        self.registers: dict[str, list[Value]] = {}
        self.arrays: dict[str, list[list[Value]]] = {}
        self.scale, self.ibase, self.obase = 0, 10, 10

    def need(self, n: int) -> None:
        if len(self.stack) < n:
            raise XcError("stack has too few elements")

    def pop_num(self) -> Num:
        self.need(1)
        v = self.stack[-1]
        if isinstance(v, str):
            raise XcError("variable is wrong type")
        return self.stack.pop()  # type: ignore[return-value]

    def two_nums(self) -> tuple[Num, Num]:
        self.need(2)
        a, b = self.stack[-2], self.stack[-1]
        if isinstance(a, str) or isinstance(b, str):
            raise XcError("variable is wrong type")
        del self.stack[-2:]
        return a, b

    def print_value(self, v: Value, newline: bool) -> None:
        if isinstance(v, str):
            if not v:
                self.out.write("\0")
            else:
                self.out.escaped_string(v)
            if newline:
                self.out.write("\n")
                self.out.nchars = 0
        else:
            self.out.number(v, self.obase, newline)

    def register_name(self, src: str, i: int) -> tuple[str, int]:
        if i >= len(src):
            raise XcError("bad character")
        return src[i], i + 1

    def run(self, src: str, depth: int = 0) -> None:
        i, n = 0, len(src)
        while i < n:
            c = src[i]
            i += 1
            if c in " \t\n\r":
                continue
            if c == "#":
                while i < n and src[i] != "\n":
                    i += 1
                continue
            if c.isdigit() or "A" <= c <= "F" or c == "." or c == "_":
                neg = c == "_"
                j = i if neg else i - 1
                text = []
                seen_point = False
                while j < n and (src[j].isdigit() or "A" <= src[j] <= "F" or src[j] == "."):
                    if src[j] == ".":
                        if seen_point:
                            break
                        seen_point = True
                    text.append(src[j])
                    j += 1
                i = j
                number = "".join(text)
                number = number[:-1] if number.endswith(".") else number
                value = xc_num.parse(number, self.ibase) if number else Num()
                self.stack.append(Num(-value.m, value.rdx) if neg else value)
                continue
            if c == "[":
                depth_b, j = 1, i
                while j < n:
                    if src[j] == "[":
                        depth_b += 1
                    elif src[j] == "]":
                        depth_b -= 1
                        if not depth_b:
                            break
                    j += 1
                if j >= n:
                    raise XcError("unterminated string")
                self.stack.append(src[i:j])
                i = j + 1
                continue
            if c in "+-*/%^":
                a, b = self.two_nums()
                op = {"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "^": "^"}[c]
                self.stack.append(self.binary(op, a, b))
            elif c == "~":
                a, b = self.two_nums()
                q = xc_num.div(a, b, self.scale)
                r = xc_num.rem(a, b, self.scale)
                self.stack += [q, r]
            elif c == "|":
                self.need(3)
                if any(isinstance(v, str) for v in self.stack[-3:]):
                    raise XcError("variable is wrong type")
                na, nb, nm = self.stack[-3], self.stack[-2], self.stack[-1]
                assert isinstance(na, Num) and isinstance(nb, Num) and isinstance(nm, Num)
                if not nm.m:
                    raise XcError("divide by zero")
                if na.m % 10**na.rdx or nb.m % 10**nb.rdx or nm.m % 10**nm.rdx:
                    raise XcError("not an integer")
                if nb.m < 0:
                    raise XcError("negative number")
                del self.stack[-3:]
                base, exp, mod = na.m // 10**na.rdx, nb.m // 10**nb.rdx, nm.m // 10**nm.rdx
                result = pow(abs(base), exp, abs(mod)) if exp else 1 % abs(mod)
                if base < 0 and exp % 2 and result:
                    result = -result
                self.stack.append(Num(result, 0))
            elif c == "v":
                self.stack.append(xc_num.sqrt(self.pop_num(), self.scale))
            elif c == "p":
                self.need(1)
                self.print_value(self.stack[-1], True)
            elif c == "n":  # busybox 1.35's n ends the line too
                self.need(1)
                self.print_value(self.stack.pop(), True)
            elif c == "P":
                self.need(1)
                v = self.stack.pop()
                if isinstance(v, str):
                    self.out.write(v)
                else:
                    mag = abs(v.m) // 10**v.rdx
                    chars = []
                    while mag:
                        chars.append(chr(mag % 256))
                        mag //= 256
                    self.out.write("".join(reversed(chars)) or "\0")
            elif c == "f":
                for v in reversed(self.stack):
                    self.print_value(v, True)
            elif c == "c":
                self.stack.clear()
            elif c == "d":
                self.need(1)
                self.stack.append(self.stack[-1])
            elif c == "r":
                self.need(2)
                self.stack[-1], self.stack[-2] = self.stack[-2], self.stack[-1]
            elif c == "z":
                self.stack.append(Num(len(self.stack), 0))
            elif c in "ZX":
                self.need(1)
                v = self.stack.pop()
                if isinstance(v, str):
                    self.stack.append(Num(len(v) if c == "Z" else 0, 0))
                elif c == "X":
                    self.stack.append(Num(v.rdx, 0))
                else:
                    length = v.length
                    if v.rdx != length:
                        self.stack.append(Num(length if length else 1, 0))
                    else:
                        digits = str(abs(v.m)).rjust(length, "0").lstrip("0") if v.m else ""
                        self.stack.append(Num(len(digits) if digits else 1, 0))
            elif c in "kio":
                val = xc_num.to_ulong(self.pop_num())
                if c == "k":
                    self.scale = val
                elif c == "i":
                    if not 2 <= val <= 16:
                        raise XcError("bad ibase; must be [2,16]")
                    self.ibase = val
                else:
                    if not 2 <= val <= 999:
                        raise XcError("bad obase; must be [2,999]")
                    self.obase = val
            elif c in "KIO":
                self.stack.append(Num({"K": self.scale, "I": self.ibase, "O": self.obase}[c], 0))
            elif c in "sS":
                name, i = self.register_name(src, i)
                self.need(1)
                v = self.stack.pop()
                regs = self.registers.setdefault(name, [])
                if c == "s" and regs:
                    regs[-1] = v
                else:
                    regs.append(v)
            elif c in "lL":
                name, i = self.register_name(src, i)
                regs = self.registers.get(name, [])
                if c == "l":
                    self.stack.append(regs[-1] if regs else Num())
                else:
                    if not regs:
                        raise XcError("stack has too few elements")
                    self.stack.append(regs.pop())
            elif c in ":;":
                name, i = self.register_name(src, i)
                arrays = self.arrays.setdefault(name, [[]])
                arr = arrays[-1]
                if c == ":":
                    self.need(2)
                    idx_v = self.stack[-1]
                    if isinstance(idx_v, str):
                        raise XcError("variable is wrong type")
                    idx = xc_num.to_ulong(idx_v)
                    stored = self.stack[-2]
                    del self.stack[-2:]
                    while len(arr) <= idx:
                        arr.append(Num())
                    arr[idx] = stored
                else:
                    idx = xc_num.to_ulong(self.pop_num())
                    self.stack.append(arr[idx] if idx < len(arr) else Num())
            elif c == "x":
                self.need(1)
                if isinstance(self.stack[-1], str):
                    self.macro(str(self.stack.pop()), depth)
            elif c in "<>=!":
                op = c
                if c == "!":
                    if i < n and src[i] in "<>=":
                        op = "!" + src[i]
                        i += 1
                    else:
                        raise XcError("bad character '!'")
                name, i = self.register_name(src, i)
                a, b = self.two_nums()
                cmp = xc_num.compare(b, a)
                hit = {
                    "<": cmp < 0,
                    ">": cmp > 0,
                    "=": cmp == 0,
                    "!<": cmp >= 0,
                    "!>": cmp <= 0,
                    "!=": cmp != 0,
                }[op]
                if hit:
                    regs = self.registers.get(name, [])
                    if not regs or not isinstance(regs[-1], str):
                        raise XcError("variable is wrong type")
                    self.macro(str(regs[-1]), depth)
            elif c == "a":
                self.need(1)
                v = self.stack.pop()
                if isinstance(v, str):
                    self.stack.append(v[:1])
                else:
                    self.stack.append(chr((abs(v.m) // 10**v.rdx) % 256))
            elif c == "q":
                raise Quit(2, True)
            elif c == "Q":
                levels = xc_num.to_ulong(self.pop_num())
                if levels:
                    raise Quit(levels, False)
            else:
                raise XcError(f"bad character '{c}'" if c != "\0" else "NUL character")

    def macro(self, text: str, depth: int) -> None:
        try:
            self.run(text, depth + 1)
        except Quit as q:
            q.levels -= 1
            if q.levels > 0:
                raise

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

    def run_top(self, src: str) -> bool:
        """Run a script; False once q ended dc."""
        try:
            self.run(src)
        except Quit as q:
            return not q.ends_dc
        return True


@applet("dc")
@dies("dc")
def dc_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "e:f:x", permute=True)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "dc", e.message)
        yield from show_usage(sys, "dc")
        raise Die(None) from None
    if "x" in opts:
        raise Die("-x (extended register names) is not modelled in the stepbox simulator")
    out = BufferedOutput(sys, 1)
    dc = Dc(Printer(out.write, _line_length(sys.env.get("DC_LINE_LENGTH"), is_bc=False)))
    # -e and -f run in the order given, then FILEs; stdin only when none was given
    scripts: list[tuple[str, str]] = []
    args = sys.argv[1:]
    k = 0
    while k < len(args):
        arg = args[k]
        k += 1
        if arg == "--":
            break
        if arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                j += 1
                if ch in "ef":
                    value = arg[j:] if j < len(arg) else args[k] if k < len(args) else ""
                    if j >= len(arg):
                        k += 1
                    scripts.append((ch, value))
                    break
    try:
        for kind, value in scripts:
            text = value if kind == "e" else (yield from _read_file(sys, out, value))
            if not dc.run_top(text):
                return (yield from _finish(out))
            yield from out.drain()
        for path in opts.operands:
            text = yield from _read_file(sys, out, path)
            if not dc.run_top(text):
                return (yield from _finish(out))
        if not scripts and not opts.operands:
            data = yield from read_all(sys, 0)
            dc.run_top(data.decode("latin-1"))
    except XcError as e:
        yield from out.flush()
        raise Die(str(e)) from None
    except RecursionError:
        yield from out.flush()
        raise Die("out of memory") from None
    return (yield from _finish(out))


def _finish(out: BufferedOutput) -> Gen:
    yield from out.flush()
    return 0


def _read_file(sys: Sys, out: BufferedOutput, path: str) -> Gen:
    try:
        fd = sys.open(path, O_RDONLY)
        try:
            data = yield from read_all(sys, fd)
        finally:
            sys.close(fd)
    except OSError as e:
        yield from out.flush()
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    return data.decode("latin-1")
