"""The ``awk`` applet: options, program parsing, the record loop.

busybox 1.35's awk (``editors/awk.c``), faithfully: its lexer and
operator-priority parser (:mod:`.lexer`, :mod:`.parser`), its evaluator
(:mod:`.interp`) and its values (:mod:`.values`).  Debian builds it
without FEATURE_AWK_LIBM, so ``^``, ``**``, ``sin``, ``cos``, ``exp``,
``log``, ``sqrt`` and ``atan2`` die with "Math support is not compiled
in" -- here too.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ...sys_api import Sys
from ..applet_table import applet
from ..libc import UsageError, close_quietly, complain, getopt, read_all, show_usage, strerror
from .interp import ARGC, ARGV, ENVIRON, F0, FNR, FS, NR, AwkExit, Interp
from .lexer import unescape
from .parser import Parser, Program
from .values import AwkError, Var

Gen = Generator[Any, Any, Any]


def _read_program(sys: Sys, path: str) -> Gen:
    if path == "-":
        fd = 0
    else:
        try:
            fd = sys.open(path, 0)
        except OSError as e:
            raise AwkError(f"can't open '{path}': {strerror(e)}") from None
    try:
        data = yield from read_all(sys, fd)
    finally:
        close_quietly(sys, fd)
    return data.decode("latin-1")


@applet("awk")
def awk_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "F:v:f:e:W:", permute=False)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "awk", e.message)
        yield from show_usage(sys, "awk")
        return 1
    prog = Program()
    it = Interp(sys, prog)
    env_array = it.iamarray(it.intvar[ENVIRON])
    for name, value in sys.env.items():
        it.setvar_u(env_array.find(name), value)
    try:
        if "W" in opts:
            yield from complain(sys, "awk", "warning: option -W is ignored")
        if "F" in opts:
            it.setvar_s(it.intvar[FS], unescape(opts.value("F") or ""))
        for assignment in opts.values.get("v", []):
            if not it.is_assignment(assignment):
                yield from show_usage(sys, "awk")
                return 1
        parser = Parser(prog)
        for path in opts.values.get("f", []):
            text = yield from _read_program(sys, path)
            parser.parse_program(text, path)
        for text in opts.values.get("e", []):
            parser.parse_program(text, "cmd. line")
        args = list(opts.operands)
        if "f" not in opts.values and "e" not in opts.values:
            if not args:
                yield from show_usage(sys, "awk")
                return 1
            parser.parse_program(args.pop(0), "cmd. line")
        argv = it.iamarray(it.intvar[ARGV])
        it.setvar_u(argv.find("0"), "awk")
        for i, a in enumerate(args, 1):
            it.setvar_u(argv.find(str(i)), a)
        it.setvar_i(it.intvar[ARGC], len(args) + 1)
        try:
            yield from it.evaluate(prog.beginseq.first, Var())
            if prog.mainseq.first is not None or prog.endseq.first is not None:
                if it.iF is None:
                    it.iF = yield from it.next_input_file()
                while it.iF is not None:
                    it.nextfile = False
                    it.setvar_i(it.intvar[FNR], 0)
                    while True:
                        got = yield from it.awk_getline(it.iF, it.intvar[F0])
                        if got <= 0:
                            break
                        it.nextrec = False
                        it.incvar(it.intvar[NR])
                        it.incvar(it.intvar[FNR])
                        yield from sys.burn(2)
                        yield from it.evaluate(prog.mainseq.first, Var())
                        if it.nextfile:
                            break
                    it.iF = yield from it.next_input_file()
        except AwkExit:
            pass
        if not it.exiting:
            it.exiting = True
            it.nextrec = False
            try:
                yield from it.evaluate(prog.endseq.first, Var())
            except AwkExit:
                pass
        yield from it.close_all()
        return it.exitcode
    except AwkError as e:
        yield from complain(sys, "awk", str(e))
        return 1
