"""awk's parser, as busybox builds its program: expressions into trees by
operator priority, statements into *chains* -- lists of nodes linked by
``a`` (what runs next), with branches (``OC_BR``) and loops expressed as
jumps between chain nodes.  :mod:`.interp` walks them.

Following busybox's algorithm (not a textbook grammar) is what makes the
simulator parse what busybox parses, quirks included: ``1 " " -1`` is a
subtraction, relational operators and ``^`` group left to right.
"""

from __future__ import annotations

from typing import Any

from ..posix_regex import RegexError, compile_posix
from .lexer import (
    OC_BR,
    OC_BREAK,
    OC_CONCAT,
    OC_CONTINUE,
    OC_DONE,
    OC_EXEC,
    OC_FNARG,
    OC_FUNC,
    OC_NEWSOURCE,
    OC_PRINT,
    OC_PRINTF,
    OC_TEST,
    OC_VAR,
    OC_WALKINIT,
    OC_WALKNEXT,
    OF_REQUIRED,
    OPCLSMASK,
    PRIMASK,
    PRIMASK2,
    SS,
    ST_DO,
    ST_FOR,
    ST_IF,
    ST_WHILE,
    TC_ARRAY,
    TC_ARRTERM,
    TC_BEGIN,
    TC_BINOPX,
    TC_BUILTIN,
    TC_COMMA,
    TC_ELSE,
    TC_END,
    TC_EOF,
    TC_FUNCDECL,
    TC_FUNCTION,
    TC_GETLINE,
    TC_LBRACE,
    TC_LENGTH,
    TC_LPAREN,
    TC_NEWLINE,
    TC_NUMBER,
    TC_OUTRDR,
    TC_RBRACE,
    TC_REGEXP,
    TC_RPAREN,
    TC_SEMICOL,
    TC_STRING,
    TC_UOPPOST,
    TC_UOPPRE1,
    TC_VARIABLE,
    TC_WHILE,
    TI_COLON,
    TI_COMMA,
    TI_IN,
    TI_LESS,
    TI_PGETLINE,
    TI_PREDEC,
    TI_PREINC,
    TI_REGEXP,
    TI_TERNARY,
    TS_BINOP,
    TS_GRPSEQ,
    TS_LVALUE,
    TS_OPERAND,
    TS_OPSEQ,
    TS_UOPPRE,
    UNEXP_TOKEN,
    VV,
    Lexer,
    P,
    Vx,
    xS,
)
from .values import AwkError, AwkHash, Var, set_number, set_string

TOO_FEW_ARGS = "Too few arguments"


class Node:
    __slots__ = ("info", "lineno", "l", "r", "a")

    def __init__(self, info: int, lineno: int) -> None:
        self.info = info
        self.lineno = lineno
        self.l: Any = None
        self.r: Any = None
        self.a: Any = None


class Chain:
    __slots__ = ("first", "last", "programname")

    def __init__(self) -> None:
        self.first: Node | None = None
        self.last: Node | None = None
        self.programname: str | None = None


class Func:
    __slots__ = ("defined", "nargs", "body")

    def __init__(self) -> None:
        self.defined = False
        self.nargs = 0
        self.body = Chain()


class Regex:
    """A regex operand: its text, compiled on use (the compiled forms are
    cached) for case-sensitive or IGNORECASE matching, with or without
    REG_NOTBOL."""

    __slots__ = ("text", "extended")

    def __init__(self, text: str, extended: bool = True) -> None:
        self.text, self.extended = text, extended

    def compiled(self, icase: bool = False, notbol: bool = False):
        return compile_posix(self.text, self.extended, icase, notbol)


def compile_ere(text: str) -> Regex:
    """``mk_re_node``: an extended regex, or busybox's "bad regex" death."""
    try:
        compile_posix(text, True)
    except RegexError as e:
        raise AwkError(f"bad regex '{text}': {e}") from None
    return Regex(text)


class Program:
    """Everything parsing produces, and the variables it names."""

    def __init__(self) -> None:
        self.vhash = AwkHash()  # global variables
        self.fnhash: dict[str, Func] = {}
        self.beginseq = Chain()
        self.mainseq = Chain()
        self.endseq = Chain()


class Parser:
    def __init__(self, program: Program) -> None:
        self.prog = program
        self.lx: Lexer = None  # type: ignore[assignment]
        self.seq: Chain = program.mainseq
        self.break_ptr: Node | None = None
        self.continue_ptr: Node | None = None
        self.ahash: dict[str, Var] = {}  # a function's parameter names while parsing it
        self.progname = "cmd. line"

    # -- helpers ----------------------------------------------------------------
    def new_node(self, info: int) -> Node:
        return Node(info, self.lx.g_lineno)

    def next_token(self, expected: int) -> int:
        return self.lx.next_token(expected)

    def rollback(self) -> None:
        self.lx.rollback = True

    def error(self, message: str) -> AwkError:
        return self.lx.error(message)

    # -- expressions ------------------------------------------------------------------
    def parse_lrparen_list(self) -> Node | None:
        self.next_token(TC_LPAREN)
        return self.parse_expr(TC_RPAREN)

    def parse_expr(self, term_tc: int) -> Node | None:
        lx = self.lx
        sn = Node(PRIMASK, lx.g_lineno)
        cn = sn
        glptr: Node | None = None
        expected = TS_OPERAND | TS_UOPPRE | TC_REGEXP | term_tc
        while True:
            tc = self.next_token(expected)
            if tc & term_tc:
                break
            info = lx.info
            if glptr is not None and info == TI_LESS:
                cn = glptr.l = self.new_node(OC_CONCAT | SS | P(37))
                cn.a = glptr
                expected = TS_OPERAND | TS_UOPPRE
                glptr = None
                continue
            if tc & (TS_BINOP | TC_UOPPOST):
                vn = cn
                while ((info & PRIMASK) > (vn.a.info & PRIMASK2)) or (info == vn.info and info == TI_COLON):
                    vn = vn.a
                    if vn.a is None:
                        raise self.error(UNEXP_TOKEN)
                if info == TI_TERNARY:
                    info += P(6)
                cn = vn.a.r = self.new_node(info)
                cn.a = vn.a
                if tc & TS_BINOP:
                    cn.l = vn
                    expected = TS_OPERAND | TS_UOPPRE | TC_REGEXP
                    if info == TI_PGETLINE:
                        self.next_token(TC_GETLINE)
                        cn.info &= ~PRIMASK
                        expected = TS_OPERAND | TS_UOPPRE | TS_BINOP | term_tc
                else:
                    cn.r = vn
                    expected = TS_OPERAND | TS_UOPPRE | TS_BINOP | term_tc
                vn.a = cn
                continue
            vn = cn
            cn = vn.r = self.new_node(info)
            cn.a = vn
            expected = TS_OPERAND | TS_UOPPRE | TC_REGEXP
            if info in (TI_PREINC, TI_PREDEC):
                expected = TS_LVALUE | TC_UOPPRE1
            if not (tc & (TS_OPERAND | TC_REGEXP)):
                continue
            expected = TS_UOPPRE | TC_UOPPOST | TS_BINOP | TS_OPERAND | term_tc
            if tc in (TC_VARIABLE, TC_ARRAY):
                cn.info = OC_VAR
                arg = self.ahash.get(lx.string)
                if arg is not None:
                    cn.info = OC_FNARG
                    cn.l = arg.aidx
                else:
                    cn.l = self.prog.vhash.find(lx.string)
                if tc & TC_ARRAY:
                    cn.info |= xS
                    cn.r = self.parse_expr(TC_ARRTERM)
            elif tc in (TC_NUMBER, TC_STRING):
                cn.info = OC_VAR
                v = cn.l = Var()
                if tc & TC_NUMBER:
                    set_number(v, lx.number)
                else:
                    set_string(v, lx.string)
                # "str"++ is not allowed -- and Debian's busybox 1.35 refuses
                # 1++ (and so $1++) as well: "++" after a constant is a
                # pre-increment of what follows, concatenated
                expected &= ~TC_UOPPOST
            elif tc == TC_REGEXP:
                cn.info = TI_REGEXP
                cn.l = compile_ere(lx.string)
            elif tc == TC_FUNCTION:
                cn.info = OC_FUNC
                cn.r = self.prog.fnhash.setdefault(lx.string, Func())
                cn.l = self.parse_expr(TC_RPAREN)
            elif tc == TC_LPAREN:
                inner = self.parse_expr(TC_RPAREN)
                if inner is None:
                    raise self.error("Empty sequence")
                cn = vn.r = inner
                cn.a = vn
            elif tc == TC_GETLINE:
                glptr = cn
                expected = TS_OPERAND | TS_UOPPRE | TS_BINOP | term_tc
            elif tc == TC_BUILTIN:
                cn.l = self.parse_lrparen_list()
            elif tc == TC_LENGTH:
                tc2 = self.next_token(TC_LPAREN | TC_SEMICOL | TC_NEWLINE | TC_RBRACE | TC_BINOPX | TC_COMMA)
                if tc2 != TC_LPAREN:
                    self.rollback()
                else:
                    cn.l = self.parse_expr(TC_RPAREN)
        return sn.r

    # -- chains -------------------------------------------------------------------------
    def chain_node(self, info: int) -> Node:
        seq = self.seq
        if seq.first is None:
            seq.first = seq.last = self.new_node(0)
        if seq.programname != self.progname:
            seq.programname = self.progname
            source = self.chain_node(OC_NEWSOURCE)
            source.l = self.progname
        n = seq.last
        assert n is not None  # set with seq.first
        n.info = info
        seq.last = n.a = self.new_node(OC_DONE)
        return n

    def chain_expr(self, info: int) -> None:
        n = self.chain_node(info)
        n.l = self.parse_expr(TC_SEMICOL | TC_NEWLINE | TC_RBRACE)
        if (info & OF_REQUIRED) and n.l is None:
            raise self.error(TOO_FEW_ARGS)
        if self.lx.tclass & TC_RBRACE:
            self.rollback()

    def chain_loop(self, nn: Node | None) -> Node:
        save_brk, save_cont = self.break_ptr, self.continue_ptr
        n = self.chain_node(OC_BR | Vx)
        self.continue_ptr = self.new_node(OC_EXEC)
        self.break_ptr = self.new_node(OC_EXEC)
        self.chain_group()
        n2 = self.chain_node(OC_EXEC | Vx)
        n2.l = nn
        n2.a = n
        self.continue_ptr.a = n2
        self.break_ptr.a = n.r = self.seq.last
        self.continue_ptr, self.break_ptr = save_cont, save_brk
        return n

    def chain_until_rbrace(self) -> None:
        while True:
            tc = self.next_token(TS_GRPSEQ | TC_RBRACE)
            if tc == TC_RBRACE:
                return
            if tc == TC_NEWLINE:
                continue
            self.rollback()
            self.chain_group()

    def chain_group(self) -> None:
        lx = self.lx
        while True:
            tc = self.next_token(TS_GRPSEQ)
            if tc != TC_NEWLINE:
                break
        if tc == TC_LBRACE:
            self.chain_until_rbrace()
            return
        if tc & (TS_OPSEQ | TC_SEMICOL):
            self.rollback()
            self.chain_expr(OC_EXEC | Vx)
            return
        info = lx.info
        kind = info & OPCLSMASK
        if kind == ST_IF:
            n = self.chain_node(OC_BR | Vx)
            n.l = self.parse_lrparen_list()
            self.chain_group()
            n2 = self.chain_node(OC_EXEC)
            n.r = self.seq.last
            if self.next_token(TS_GRPSEQ | TC_RBRACE | TC_ELSE) == TC_ELSE:
                self.chain_group()
                n2.a = self.seq.last
            else:
                self.rollback()
        elif kind == ST_WHILE:
            cond = self.parse_lrparen_list()
            n = self.chain_loop(None)
            n.l = cond
        elif kind == ST_DO:
            n2 = self.chain_node(OC_EXEC)
            n = self.chain_loop(None)
            n2.a = n.a
            self.next_token(TC_WHILE)
            n.l = self.parse_lrparen_list()
        elif kind == ST_FOR:
            self.next_token(TC_LPAREN)
            init = self.parse_expr(TC_SEMICOL | TC_RPAREN)
            if lx.tclass & TC_RPAREN:
                if init is None or init.info != TI_IN:
                    raise self.error(UNEXP_TOKEN)
                n = self.chain_node(OC_WALKINIT | VV)
                n.l, n.r = init.l, init.r
                n = self.chain_loop(None)
                n.info = OC_WALKNEXT | Vx
                n.l = init.l
            else:
                n = self.chain_node(OC_EXEC | Vx)
                n.l = init
                cond = self.parse_expr(TC_SEMICOL)
                n3 = self.parse_expr(TC_RPAREN)
                n = self.chain_loop(n3)
                n.l = cond
                if cond is None:
                    n.info = OC_EXEC
        elif kind in (OC_PRINT, OC_PRINTF):
            n = self.chain_node(info)
            n.l = self.parse_expr(TC_SEMICOL | TC_NEWLINE | TC_OUTRDR | TC_RBRACE)
            if lx.tclass & TC_OUTRDR:
                n.info |= lx.info
                n.r = self.parse_expr(TC_SEMICOL | TC_NEWLINE | TC_RBRACE)
            if lx.tclass & TC_RBRACE:
                self.rollback()
        elif kind == OC_BREAK:
            n = self.chain_node(OC_EXEC)
            if self.break_ptr is None:
                raise self.error("'break' not in a loop")
            n.a = self.break_ptr
            self.chain_expr(info)
        elif kind == OC_CONTINUE:
            n = self.chain_node(OC_EXEC)
            if self.continue_ptr is None:
                raise self.error("'continue' not in a loop")
            n.a = self.continue_ptr
            self.chain_expr(info)
        else:
            self.chain_expr(info)

    # -- the program -----------------------------------------------------------------------
    def parse_program(self, text: str, progname: str) -> None:
        self.progname = progname
        self.lx = lx = Lexer(text, progname)
        top = TS_OPSEQ | TC_LBRACE | TC_BEGIN | TC_END | TC_FUNCDECL | TC_EOF | TC_NEWLINE
        tclass = self.next_token(top)
        while True:
            if tclass == TC_EOF:
                return
            if tclass == TC_NEWLINE:
                tclass = self.next_token(top)
                continue
            if tclass in (TC_BEGIN, TC_END):
                self.seq = self.prog.beginseq if tclass == TC_BEGIN else self.prog.endseq
                self.next_token(TC_LBRACE)
                self.chain_until_rbrace()
            elif tclass == TC_FUNCDECL:
                self.next_token(TC_FUNCTION)
                f = self.prog.fnhash.setdefault(lx.string, Func())
                if f.defined:
                    raise self.error("Duplicate function")
                f.defined = True
                while True:
                    if self.next_token(TC_VARIABLE | TC_RPAREN) == TC_RPAREN:
                        if f.nargs == 0:
                            break
                        raise self.error(UNEXP_TOKEN)
                    v = self.ahash.setdefault(lx.string, Var())
                    v.aidx = f.nargs
                    f.nargs += 1
                    if self.next_token(TC_COMMA | TC_RPAREN) == TC_RPAREN:
                        break
                self.seq = f.body
                while self.next_token(TC_LBRACE | TC_NEWLINE) == TC_NEWLINE:
                    pass
                self.chain_until_rbrace()
                self.ahash = {}
            elif tclass & TS_OPSEQ:
                self.seq = self.prog.mainseq
                self.rollback()
                cn = self.chain_node(OC_TEST)
                cn.l = self.parse_expr(TC_SEMICOL | TC_NEWLINE | TC_EOF | TC_LBRACE)
                if lx.tclass == TC_LBRACE:
                    self.chain_until_rbrace()
                else:
                    self.chain_node(OC_PRINT)
                cn.r = self.prog.mainseq.last
            else:  # TC_LBRACE
                self.seq = self.prog.mainseq
                self.chain_until_rbrace()
            tclass = self.next_token(top | TC_SEMICOL)
            if tclass == TC_SEMICOL:
                tclass = self.next_token(top)


__all__ = ["Chain", "Func", "Node", "Parser", "Program", "Regex", "compile_ere", "TI_COMMA"]
