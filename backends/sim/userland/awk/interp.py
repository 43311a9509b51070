"""awk's evaluator: walks the chains and trees :mod:`.parser` built, as
busybox's ``evaluate()`` does -- statements advance along ``a`` links,
expressions recurse and leave their value in a :class:`~.values.Var`.

Everything that can block (output, ``getline``, ``system()``, pipes) is
a system call, so evaluation is a generator: ``yield from
self.evaluate(node, res)``.
"""

from __future__ import annotations

import calendar
import math
import re
import time
from collections.abc import Generator
from typing import Any

from ...sys_api import Sys
from ..posix_regex import RegexError, compile_posix
from . import streams
from .lexer import (
    OC_BINARY,
    OC_BR,
    OC_BUILTIN,
    OC_COMMA,
    OC_COMPARE,
    OC_CONCAT,
    OC_DELETE,
    OC_DONE,
    OC_EXEC,
    OC_EXIT,
    OC_FBLTIN,
    OC_FIELD,
    OC_FNARG,
    OC_FUNC,
    OC_GETLINE,
    OC_IN,
    OC_LAND,
    OC_LOR,
    OC_MATCH,
    OC_MOVE,
    OC_NEWSOURCE,
    OC_NEXT,
    OC_NEXTFILE,
    OC_PGETLINE,
    OC_PRINT,
    OC_PRINTF,
    OC_REGEXP,
    OC_REPLACE,
    OC_RETURN,
    OC_SPRINTF,
    OC_TERNARY,
    OC_TEST,
    OC_UNARY,
    OC_VAR,
    OC_WALKINIT,
    OC_WALKNEXT,
    OF_CHECKED,
    OF_NUM1,
    OF_REQUIRED,
    OF_RES1,
    OF_RES2,
    OF_STR1,
    OF_STR2,
    OPCLSMASK,
    OPNMASK,
    RECUR_FROM_THIS,
    SHIFT_TIL_THIS,
    TI_COLON,
    TI_COMMA,
    TI_REGEXP,
    B_a2,
    B_an,
    B_co,
    B_ge,
    B_gs,
    B_ix,
    B_lo,
    B_ls,
    B_ma,
    B_mt,
    B_or,
    B_rs,
    B_sp,
    B_ss,
    B_su,
    B_ti,
    B_up,
    B_xo,
    F_cl,
    F_ff,
    F_in,
    F_le,
    F_rn,
    F_sr,
    F_sy,
    F_ti,
    unescape,
)
from .parser import TOO_FEW_ARGS, Node, Program, Regex
from .values import (
    VF_ARRAY,
    VF_CACHED,
    VF_CHILD,
    VF_DIRTY,
    VF_DONTTOUCH,
    VF_NUMBER,
    VF_SPECIAL,
    VF_USER,
    VF_WALK,
    AwkError,
    AwkHash,
    GlibcRandom,
    Var,
    c_int,
    c_llong,
    cformat,
    clrvar,
    fmt_num,
    my_strtod,
)

Gen = Generator[Any, Any, Any]

NO_MATH = "Math support is not compiled in"
DIV_BY_ZERO = "Division by zero"
INV_FMT = "Invalid format specifier"

# intvar indexes (busybox's order)
(
    CONVFMT,
    OFMT,
    FS,
    OFS,
    ORS,
    RS,
    RT,
    FILENAME,
    SUBSEP,
    F0,
    ARGIND,
    ARGC,
    ARGV,
    ERRNO,
    FNR,
    NR,
    NF,
    IGNORECASE,
    ENVIRON,
) = range(19)
_INTVARS = (
    ("CONVFMT", "%.6g", False),
    ("OFMT", "%.6g", False),
    ("FS", " ", True),
    ("OFS", " ", False),
    ("ORS", "\n", False),
    ("RS", "\n", True),
    ("RT", "", False),
    ("FILENAME", "", False),
    ("SUBSEP", "\x1c", False),
    ("$", "", True),
    ("ARGIND", None, False),
    ("ARGC", None, False),
    ("ARGV", None, False),
    ("ERRNO", None, False),
    ("FNR", None, False),
    ("NR", None, False),
    ("NF", None, True),
    ("IGNORECASE", None, True),
    ("ENVIRON", None, False),
)


class AwkExit(Exception):
    """``exit``: leave (after END, unless already in it)."""


class Splitter:
    """A field or record separator: a single character (``info``, 0 for
    "", 32 for the whitespace rule) or a regex."""

    __slots__ = ("info", "regex")

    def __init__(self) -> None:
        self.info = 32
        self.regex: Regex | None = None


class Interp:
    def __init__(self, sys: Sys, prog: Program) -> None:
        self.sys = sys
        self.prog = prog
        self.intvar: list[Var] = []
        for name, value, special in _INTVARS:
            v = prog.vhash.find(name)
            if value is None:
                self.setvar_i(v, 0)
            else:
                self.setvar_s(v, value)
            if special:
                v.type |= VF_SPECIAL
            self.intvar.append(v)
        self.fields: list[Var] = []
        self.nfields = 0
        self.is_f0_split = False
        self.fsplitter = Splitter()
        self.rsplitter = Splitter()
        self.icase = False
        self.fnargs: list[Var] = []
        self.progname = "cmd. line"
        self.lineno = 0
        self.nextrec = False
        self.nextfile = False
        self.exiting = False
        self.exitcode = 0
        self.seed = 1
        self.random = GlibcRandom(1)
        self.iF: streams.Stream | None = None
        self.files_happen = False
        self.fdhash: dict[str, streams.Stream] = {}
        self.stdin = streams.Stream(0)
        self.fdhash["/dev/stdin"] = self.stdin
        self.fdhash["/dev/stdout"] = streams.Stream(1)
        self.fdhash["/dev/stderr"] = streams.Stream(2)
        self.handle_special(self.intvar[FS])
        self.handle_special(self.intvar[RS])

    def error(self, message: str) -> AwkError:
        return AwkError(f"{self.progname}:{self.lineno}: {message}")

    # -- variables --------------------------------------------------------------
    def setvar_p(self, v: Var, value: str | None) -> Var:
        clrvar(v)
        v.string = value if value else None
        self.handle_special(v)
        return v

    setvar_s = setvar_p

    def setvar_u(self, v: Var, value: str | None) -> Var:
        self.setvar_s(v, value)
        v.type |= VF_USER
        return v

    def setvar_i(self, v: Var, value: float) -> Var:
        clrvar(v)
        v.type |= VF_NUMBER
        v.number = float(value)
        self.handle_special(v)
        return v

    def getvar_s(self, v: Var) -> str:
        if (v.type & (VF_NUMBER | VF_CACHED)) == VF_NUMBER:
            v.string = fmt_num(self.getvar_s(self.intvar[CONVFMT]), v.number)
            v.type |= VF_CACHED
        return v.string or ""

    def getvar_i(self, v: Var) -> float:
        if (v.type & (VF_NUMBER | VF_CACHED)) == 0:
            v.number = 0.0
            s = v.string
            if s:
                v.number, pos = my_strtod(s)
                if v.type & VF_USER:
                    while pos < len(s) and s[pos] in " \t":
                        pos += 1
                    if pos < len(s):
                        v.type &= ~VF_USER
            else:
                v.type &= ~VF_USER
            v.type |= VF_CACHED
        return v.number

    @staticmethod
    def getvar_i_int(d: float) -> int:
        if d >= 0:
            return c_llong(d) & 0xFFFFFFFFFFFFFFFF if d < 2**64 else 0
        return (-(c_llong(-d) & 0xFFFFFFFFFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF

    def copyvar(self, dest: Var, src: Var) -> Var:
        if dest is not src:
            clrvar(dest)
            dest.type |= src.type & ~VF_DONTTOUCH
            dest.number = src.number
            if src.string:
                dest.string = src.string
        self.handle_special(dest)
        return dest

    def is_numeric(self, v: Var) -> bool:
        self.getvar_i(v)
        return bool((v.type ^ VF_DIRTY) & (VF_NUMBER | VF_USER | VF_DIRTY))

    def istrue(self, v: Var) -> bool:
        if self.is_numeric(v):
            return v.number != 0
        return bool(v.string)

    @staticmethod
    def iamarray(v: Var) -> AwkHash:
        while v.type & VF_CHILD:
            v = v.parent  # type: ignore[assignment]
        if not v.type & VF_ARRAY:
            v.type |= VF_ARRAY
            v.array = AwkHash()
        return v.array  # type: ignore[return-value]

    # -- fields -----------------------------------------------------------------------
    def fsrealloc(self, size: int) -> None:
        if size > 0xFFFFFF:
            raise AwkError("out of memory")
        while len(self.fields) < size:
            f = Var()
            f.type = VF_SPECIAL
            self.fields.append(f)
        for i in range(size, self.nfields):
            clrvar(self.fields[i])
        self.nfields = size

    def split_f0(self) -> None:
        if self.is_f0_split:
            return
        self.is_f0_split = True
        self.fsrealloc(0)
        parts = self.awk_split(self.getvar_s(self.intvar[F0]), self.fsplitter)
        self.fsrealloc(len(parts))
        for f, text in zip(self.fields, parts, strict=False):
            f.string = text if text else None
            f.type |= VF_USER | VF_DIRTY
        nf = self.intvar[NF]
        clrvar(nf)
        nf.type = VF_NUMBER | VF_SPECIAL
        nf.number = float(self.nfields)

    def handle_special(self, v: Var) -> None:
        if not v.type & VF_SPECIAL:
            return
        iv = self.intvar
        if len(iv) <= IGNORECASE:
            return  # still being set up
        if v is iv[NF]:
            n = int(self.getvar_i(v))
            if n < 0:
                raise self.error("NF set to negative value")
            self.fsrealloc(n)
            sep = self.getvar_s(iv[OFS])
            text = sep.join(self.getvar_s(self.fields[i]) for i in range(n))
            self.setvar_p(iv[F0], text if n else None)
            self.is_f0_split = True
        elif v is iv[F0]:
            self.is_f0_split = False
        elif v is iv[FS]:
            self.split_f0()
            self.mk_splitter(self.getvar_s(v), self.fsplitter)
        elif v is iv[RS]:
            self.mk_splitter(self.getvar_s(v), self.rsplitter)
        elif v is iv[IGNORECASE]:
            self.icase = self.istrue(v)
        else:  # $n
            idx = next((i for i, f in enumerate(self.fields) if f is v), None)
            if idx is None:
                return
            n = int(self.getvar_i(iv[NF]))
            self.setvar_i(iv[NF], n if n > idx else idx + 1)

    def mk_splitter(self, s: str, spl: Splitter) -> None:
        from .parser import compile_ere

        if len(s) > 1:
            spl.regex = compile_ere(s)
            spl.info = -1
        else:
            spl.regex = None
            spl.info = ord(s[0]) if s else 0

    def _nonempty_match(self, regex, s: str):
        m = regex.search(s)
        if m is not None and m.end() == 0:
            ofs = 0
            while True:
                ofs += 1
                if ofs >= len(s):
                    return None
                m = regex.search(s[ofs:])
                if m is None:
                    return None  # pragma: no cover - an empty match found before cannot vanish
                if m.end() != 0:
                    return (m.start() + ofs, m.end() + ofs)
        return None if m is None else m.span()

    def awk_split(self, s: str, spl: Splitter) -> list[str]:
        para = not self.getvar_s(self.intvar[RS])
        if spl.regex is not None:
            if not s:
                return []
            regex = spl.regex.compiled(self.icase)
            out: list[str] = []
            stops = "\0\n" if para else "\0"
            while True:
                limit = min((k for k in (s.find(c) for c in stops) if k >= 0), default=len(s))
                span = self._nonempty_match(regex, s)
                if span is not None and span[0] <= limit:
                    out.append(s[: span[0]])
                    s = s[span[1] :]
                    if not s:
                        out.append("")
                        break
                else:
                    out.append(s[:limit])
                    s = s[limit + 1 :] if limit < len(s) else ""
                    if not s:
                        break
            return out
        c = spl.info
        if c == 0:
            return list(s)
        if c != 32:
            seps = {chr(c)}
            if self.icase:
                seps = {chr(c).upper(), chr(c).lower()}
            if para:
                seps.add("\n")
            if not s:
                return []
            out = []
            cur: list[str] = []
            for ch in s:
                if ch in seps:
                    out.append("".join(cur))
                    cur = []
                else:
                    cur.append(ch)
            out.append("".join(cur))
            return out
        return _SPACE_RUNS.findall(s)

    # -- regexes ---------------------------------------------------------------------
    def as_regex(self, op: Node) -> Gen:
        """The regex an operand stands for: a /literal/, or a string used as
        an extended regex (a basic one if it is not a valid ERE)."""
        if op.info == TI_REGEXP:
            return op.l
        v = yield from self.evaluate(op, Var())
        text = self.getvar_s(v)
        try:
            compile_posix(text, True, self.icase)
            return Regex(text, True)
        except RegexError:
            pass
        try:
            compile_posix(text, False, self.icase)
        except RegexError as e:
            raise AwkError(f"bad regex '{text}': {e}") from None
        return Regex(text, False)

    # -- records --------------------------------------------------------------------------
    def awk_getline(self, rsm: streams.Stream, v: Var) -> Gen:
        """Read the next record from ``rsm`` into ``v``: 1, or 0 at EOF."""
        spl = self.rsplitter
        while True:
            buf = rsm.buf
            if buf:
                found = None
                if spl.regex is not None:
                    m = spl.regex.compiled(self.icase).search(buf)
                    if m is not None and (m.end() < len(buf) or rsm.eof):
                        if m.end() < len(buf) or rsm.eof:
                            found = (0, m.start(), m.end())
                elif spl.info > 0:
                    c = chr(spl.info)
                    ks = [k for k in (buf.find(c), buf.find("\0")) if k >= 0]
                    if ks:
                        k = min(ks)
                        found = (0, k, k + 1)
                else:  # paragraph mode
                    rp = 0
                    while rp < len(buf) and buf[rp] == "\n":
                        rp += 1
                    k = buf.find("\n\n", rp)
                    if k >= 0:
                        eo = k
                        while eo < len(buf) and buf[eo] == "\n":
                            eo += 1
                        if eo < len(buf) or rsm.eof:
                            found = (rp, k, eo)
                if found is not None:
                    rp, so, eo = found
                    self.setvar_s(v, buf[rp:so])
                    v.type |= VF_USER
                    self.setvar_s(self.intvar[RT], buf[so:eo])
                    rsm.buf = buf[eo:]
                    return 1
            more = yield from rsm.read_more(self.sys)
            if not more:
                break
        buf = rsm.buf
        if not buf:
            return 0
        rp = 0
        if spl.info == 0 and spl.regex is None:
            while rp < len(buf) and buf[rp] == "\n":
                rp += 1
        self.setvar_s(v, buf[rp:])
        v.type |= VF_USER
        self.setvar_s(self.intvar[RT], "")
        rsm.buf = ""
        return 1

    def is_assignment(self, expr: str) -> bool:
        i = 0
        if not expr or not (expr[0].isascii() and (expr[0].isalpha() or expr[0] == "_")):
            return False
        while i < len(expr) and expr[i].isascii() and (expr[i].isalnum() or expr[i] == "_"):
            i += 1
        if i >= len(expr) or expr[i] != "=":
            return False
        self.setvar_u(self.prog.vhash.find(expr[:i]), unescape(expr[i + 1 :]))
        return True

    def next_input_file(self) -> Gen:
        if self.iF is not None and self.iF is not self.stdin:
            from ..libc import close_quietly

            close_quietly(self.sys, self.iF.fd)
        iv = self.intvar
        while True:
            if self.getvar_i(iv[ARGIND]) + 1 >= self.getvar_i(iv[ARGC]):
                if self.files_happen:
                    return None
                fname = "-"
                stream = self.stdin
                break
            self.setvar_i(iv[ARGIND], self.getvar_i(iv[ARGIND]) + 1)
            ind = self.getvar_s(iv[ARGIND])
            fname = self.getvar_s(self.iamarray(iv[ARGV]).find(ind))
            if fname and not self.is_assignment(fname):
                if fname == "-":
                    stream = self.stdin
                else:
                    try:
                        stream = streams.Stream(self.sys.open(fname, 0))
                    except OSError as e:
                        from ..libc import strerror

                        raise AwkError(f"{fname}: {strerror(e)}") from None
                break
        self.files_happen = True
        self.setvar_s(iv[FILENAME], fname)
        return stream
        yield  # pragma: no cover

    # -- printf ---------------------------------------------------------------------------
    def awk_printf(self, n: Node | None) -> Gen:
        args = self.arg_list(n)
        first = args.pop(0) if args else None
        fmt = self.getvar_s((yield from self.evaluate(first, Var())))
        out = []
        pos = 0
        while True:
            pct = fmt.find("%", pos)
            if pct < 0 or pct + 1 >= len(fmt):
                out.append(fmt[pos:])
                break
            if fmt[pct + 1] == "%":
                out.append(fmt[pos : pct + 1])
                pos = pct + 2
                continue
            f = pct + 1
            while f < len(fmt) and not (fmt[f].isascii() and fmt[f].isalpha()):
                if fmt[f] == "*":
                    raise self.error("%*x formats are not supported")
                f += 1
            if f >= len(fmt):
                out.append(fmt[pos:])
                break
            c = fmt[f]
            spec = fmt[pos : f + 1]
            pos = f + 1
            arg = yield from self.evaluate(args.pop(0) if args else None, Var())
            if c == "c":
                if self.is_numeric(arg):
                    ch = chr(c_int(self.getvar_i(arg)) & 0xFF)
                else:
                    ch = (self.getvar_s(arg) or "\0")[0]
                out.append(cformat(spec, ch))
            elif c == "s":
                out.append(cformat(spec, self.getvar_s(arg)))
            else:
                d = self.getvar_i(arg)
                if c in "diouxX":
                    out.append(cformat(spec, c_int(d)))
                elif c in "eEfFgGaA":
                    out.append(cformat(spec, d))
                else:
                    raise self.error(INV_FMT)
        return "".join(out)

    @staticmethod
    def arg_list(n: Node | None) -> list[Node | None]:
        """The comma-separated arguments of a call (nextarg(), all at once)."""
        out: list[Node | None] = []
        while n is not None:
            if n.info == TI_COMMA:
                out.append(n.l)
                n = n.r
            else:
                out.append(n)
                n = None
        return out

    # -- sub/gsub/gensub -----------------------------------------------------------------
    def awk_sub(self, rn: Node, repl: str, nm: int, src: Var | None, dest: Var | None, subexp: bool) -> Gen:
        regex = yield from self.as_regex(rn)
        first = regex.compiled(self.icase)
        rest = regex.compiled(self.icase, notbol=True)
        sp = self.getvar_s(src if src is not None else self.intvar[F0])
        res: list[str] = []
        match_no = 0
        compiled = first
        while True:
            m = compiled.search(sp)
            if m is None:
                break
            so, eo = m.span()
            res.extend(sp[:eo])
            match_no += 1
            if match_no >= nm:
                del res[len(res) - (eo - so) :]
                nbs = 0
                for c in repl:
                    res.append(c)
                    if c == "\\":
                        nbs += 1
                        continue
                    if c == "&" or (subexp and c.isdigit()):
                        drop = (nbs + 3) >> 1
                        del res[len(res) - drop :]
                        j = 0
                        if c != "&":
                            j = int(c)
                            nbs += 1
                        if nbs % 2:
                            res.append(c)
                        else:
                            try:
                                res.extend(m.group(j) or "")
                            except IndexError:
                                pass
                    nbs = 0
            compiled = rest
            sp = sp[eo:]
            if match_no == nm:
                break
            if eo == so:
                if not sp:
                    self.setvar_p(dest if dest is not None else self.intvar[F0], "".join(res))
                    return match_no
                res.append(sp[0])
                sp = sp[1:]
        res.extend(sp)
        self.setvar_p(dest if dest is not None else self.intvar[F0], "".join(res))
        return match_no

    # -- builtins ------------------------------------------------------------------------
    def exec_builtin(self, op: Node, res: Var) -> Gen:
        isr = info = op.info
        args = self.arg_list(op.l)[:4]
        an: list[Node | None] = [None] * 4
        av: list[Var | None] = [None] * 4
        as_: list[str] = [""] * 4
        for i, a in enumerate(args):
            an[i] = a
            if isr & 0x09000000:
                av[i] = yield from self.evaluate(a, Var())
                if isr & 0x08000000:
                    as_[i] = self.getvar_s(av[i])  # type: ignore[arg-type]
            isr >>= 1
        nargs = len(args)
        if nargs < (info >> 30):
            raise self.error(TOO_FEW_ARGS)
        opn = info & OPNMASK
        if opn == B_a2:
            raise self.error(NO_MATH)
        if opn == B_sp:
            if nargs > 2:
                a2 = an[2]
                spl = Splitter()
                if a2 is not None and a2.info == TI_REGEXP:
                    spl.regex, spl.info = a2.l, -1
                else:
                    sep = self.getvar_s((yield from self.evaluate(a2, Var())))
                    self.mk_splitter(sep, spl)
            else:
                spl = self.fsplitter
            parts = self.awk_split(as_[0], spl)
            arr = self.iamarray(av[1])  # type: ignore[arg-type]
            arr.clear()
            for i, text in enumerate(parts, 1):
                self.setvar_u(arr.find(str(i)), text)
            return self.setvar_i(res, len(parts))
        if opn == B_ss:
            s = as_[0]
            i = c_int(self.getvar_i(av[1]) - 1)  # type: ignore[arg-type]
            i = max(0, min(i, len(s)))
            n = c_int(self.getvar_i(av[2])) if nargs > 2 else len(s) - i  # type: ignore[arg-type]
            n = max(n, 0)
            return self.setvar_p(res, s[i : i + n])
        if opn in (B_an, B_ls, B_or, B_rs, B_xo, B_co):
            ia = self.getvar_i_int(self.getvar_i(av[0]))  # type: ignore[arg-type]
            ib = self.getvar_i_int(self.getvar_i(av[1])) if opn != B_co else 0  # type: ignore[arg-type]
            mask = 0xFFFFFFFFFFFFFFFF
            value = {
                B_an: ia & ib,
                B_or: ia | ib,
                B_xo: ia ^ ib,
                B_ls: (ia << (ib & 63)) & mask,
                B_rs: ia >> (ib & 63),
                B_co: ~ia & mask,
            }[opn]
            return self.setvar_i(res, float(value))
        if opn in (B_lo, B_up):
            s = as_[0]
            if opn == B_up:
                s = "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in s)
            else:
                s = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in s)
            return self.setvar_p(res, s)
        if opn == B_ix:
            hay, needle = as_[0], as_[1]
            n = 0
            if needle and len(hay) >= len(needle):
                k = hay.lower().find(needle.lower()) if self.icase else hay.find(needle)
                n = k + 1 if k >= 0 else 0
            return self.setvar_i(res, n)
        if opn == B_ti:
            t = self.getvar_i(av[1]) if nargs > 1 else int(self.sys.wall_time())  # type: ignore[arg-type]
            fmt = as_[0] if nargs > 0 else "%a %b %d %H:%M:%S %Z %Y"
            try:
                text = time.strftime(fmt, time.gmtime(c_llong(t)))
            except (ValueError, OverflowError, OSError):
                text = ""
            return self.setvar_s(res, text[:240])
        if opn == B_mt:
            return self.setvar_i(res, _mktime(as_[0]))
        if opn == B_ma:
            regex = yield from self.as_regex(an[1])  # type: ignore[arg-type]
            m = regex.compiled(self.icase).search(as_[0])
            start, length = (m.start() + 1, m.end() - m.start()) if m else (0, -1)
            self.setvar_i(self.prog.vhash.find("RLENGTH"), length)
            return self.setvar_i(self.prog.vhash.find("RSTART"), start)
        if opn == B_ge:
            yield from self.awk_sub(an[0], as_[1], int(self.getvar_i(av[2])), av[3], res, True)  # type: ignore[arg-type]
            return res
        if opn in (B_gs, B_su):
            n = yield from self.awk_sub(an[0], as_[1], 0 if opn == B_gs else 1, av[2], av[2], False)  # type: ignore[arg-type]
            return self.setvar_i(res, n)
        return res

    def simple_builtin(self, op: Node, opn: int, L: Var | None, Ls: str, Ld: float, res: Var) -> Gen:
        op1 = op.l
        if op1 is not None and op1.info == TI_COMMA:
            raise self.error("Too many arguments")
        if opn == F_in:
            return self.setvar_i(res, float(c_llong(Ld)))
        if opn == F_rn:
            if op1 is not None:
                raise self.error("Too many arguments")
            r1, r2, r3 = self.random.next(), self.random.next(), self.random.next()
            u = ((r1 << 16) ^ r2) & 0xFFFFFFFF
            v = (r3 << 32) | u
            return self.setvar_i(res, v / 2**63)
        if opn == F_sr:
            old = self.seed
            self.seed = (
                (c_llong(Ld) & 0xFFFFFFFF) if op1 is not None else int(self.sys.wall_time()) & 0xFFFFFFFF
            )
            self.random.seed(self.seed)
            return self.setvar_i(res, float(old))
        if opn == F_ti:
            if op1 is not None:
                raise self.error("Too many arguments")
            return self.setvar_i(res, float(int(self.sys.wall_time())))
        if opn == F_le:
            if op1 is None:
                return self.setvar_i(res, len(self.getvar_s(self.intvar[F0])))
            if L is not None and L.type & VF_ARRAY:
                return self.setvar_i(res, len(L.array or ()))
            return self.setvar_i(res, len(Ls))
        if opn == F_sy:
            status = 0
            if Ls:
                raw = yield from streams.system(self.sys, Ls)
                status = (raw >> 8) & 0xFF if raw >= 0 else -1
            return self.setvar_i(res, status)
        if opn == F_ff:
            return self.setvar_i(res, 0)
        if opn == F_cl:
            err = 0
            stream = self.fdhash.pop(Ls, None)
            if stream is not None:
                err = yield from streams.close_stream(self.sys, stream)
            return self.setvar_i(res, err)
        raise self.error(NO_MATH)  # cos exp log sin sqrt

    # -- output ----------------------------------------------------------------------------
    def output_stream(self, name: str, opn: int) -> streams.Stream:
        stream = self.fdhash.get(name)
        if stream is None:
            if opn == ord("|"):
                stream = streams.popen(self.sys, name, "w", list(self.fdhash.values()))
            else:
                try:
                    stream = streams.open_output(self.sys, name, append=opn != ord("w"))
                except OSError as e:
                    from ..libc import strerror

                    raise AwkError(f"can't open '{name}': {strerror(e)}") from None
            self.fdhash[name] = stream
        return stream

    # -- the evaluator ---------------------------------------------------------------------
    def ptest(self, node: Node | None) -> Gen:
        v = yield from self.evaluate(node, Var())
        return self.istrue(v)

    def evaluate(self, op: Node | None, res: Var) -> Gen:  # noqa: C901 - one switch, as busybox's
        if op is None:
            return self.setvar_s(res, None)
        tmp0, tmp1 = Var(), Var()
        while op is not None:
            opinfo = op.info
            opn = opinfo & OPNMASK
            self.lineno = op.lineno
            op1 = op.l
            L: Var | None = None
            R: Var | None = None
            Ls = Rs = ""
            Ld = 0.0
            if opinfo & OF_RES1:
                if (opinfo & OF_REQUIRED) and op1 is None:
                    raise self.error(TOO_FEW_ARGS)
                L = yield from self.evaluate(op1, tmp0)
                if opinfo & OF_STR1:
                    Ls = self.getvar_s(L)
                if opinfo & OF_NUM1:
                    Ld = self.getvar_i(L)
            if opinfo & OF_RES2:
                R = yield from self.evaluate(op.r, tmp1)
                if opinfo & OF_STR2:
                    Rs = self.getvar_s(R)
            cls = opinfo & OPCLSMASK
            if cls == OC_TEST:
                if op1.info == TI_COMMA:
                    if (opinfo & OF_CHECKED) or (yield from self.ptest(op1.l)):
                        op.info |= OF_CHECKED
                        if (yield from self.ptest(op1.r)):
                            op.info &= ~OF_CHECKED
                        op = op.a
                    else:
                        op = op.r
                else:
                    op = op.a if (yield from self.ptest(op1)) else op.r
            elif cls == OC_EXEC:
                pass
            elif cls == OC_BR:
                op = op.a if self.istrue(L) else op.r  # type: ignore[arg-type]
            elif cls == OC_WALKINIT:
                arr = self.iamarray(R)  # type: ignore[arg-type]
                if not L.type & VF_WALK:  # type: ignore[union-attr]
                    L.type |= VF_WALK  # type: ignore[union-attr]
                    L.walkers = []  # type: ignore[union-attr]
                L.walkers.append(arr.names())  # type: ignore[union-attr]
            elif cls == OC_WALKNEXT:
                walk = L.walkers[-1]  # type: ignore[union-attr,index]
                if not walk:
                    L.walkers.pop()  # type: ignore[union-attr]
                    op = op.r
                else:
                    self.setvar_s(L, walk.pop(0))  # type: ignore[arg-type]
                    op = op.a
            elif cls in (OC_PRINT, OC_PRINTF):
                out = self.fdhash["/dev/stdout"]
                if op.r is not None:
                    out = self.output_stream(Rs, opn)
                if cls == OC_PRINT:
                    parts = []
                    if op1 is None:
                        parts.append(self.getvar_s(self.intvar[F0]))
                    else:
                        args = self.arg_list(op1)
                        for k, a in enumerate(args):
                            v = yield from self.evaluate(a, tmp0)
                            if v.type & VF_NUMBER:
                                parts.append(fmt_num(self.getvar_s(self.intvar[OFMT]), self.getvar_i(v)))
                            else:
                                parts.append(self.getvar_s(v))
                            if k < len(args) - 1:
                                parts.append(self.getvar_s(self.intvar[OFS]))
                    parts.append(self.getvar_s(self.intvar[ORS]))
                    text = "".join(parts)
                else:
                    text = yield from self.awk_printf(op1)
                yield from out.write(self.sys, text)
            elif cls == OC_DELETE:
                kind = op1.info & OPCLSMASK
                if kind == OC_VAR:
                    v = op1.l
                elif kind == OC_FNARG:
                    v = self.fnargs[op1.l]
                else:
                    raise self.error("Not an array")
                if op1.r is not None:
                    key = self.getvar_s((yield from self.evaluate(op1.r, tmp0)))
                    self.iamarray(v).remove(key)
                else:
                    self.iamarray(v).clear()
            elif cls == OC_NEWSOURCE:
                self.progname = op.l
            elif cls == OC_RETURN:
                self.copyvar(res, L)  # type: ignore[arg-type]
            elif cls in (OC_NEXTFILE, OC_NEXT, OC_DONE):
                if cls == OC_NEXTFILE:
                    self.nextfile = True
                if cls != OC_DONE:
                    self.nextrec = True
                clrvar(res)
            elif cls == OC_EXIT:
                if op1 is not None:
                    self.exitcode = c_int(Ld) & 0xFF
                raise AwkExit()
            elif cls in (OC_VAR, OC_FNARG):
                if cls == OC_VAR:
                    L = op.l
                    if L is self.intvar[NF]:
                        self.split_f0()
                else:
                    L = self.fnargs[op.l]
                res = self.iamarray(L).find(Rs) if op.r is not None else L
            elif cls == OC_IN:
                self.setvar_i(res, 1 if self.iamarray(R).search(Ls) is not None else 0)  # type: ignore[arg-type]
            elif cls in (OC_REGEXP, OC_MATCH):
                if cls == OC_REGEXP:
                    op1 = op
                    Ls = self.getvar_s(self.intvar[F0])
                else:
                    op1 = op.r
                regex = yield from self.as_regex(op1)
                hit = regex.compiled(self.icase).search(Ls) is not None
                self.setvar_i(res, 1 if hit ^ (opn == ord("!")) else 0)
            elif cls == OC_MOVE:
                if R is tmp1 and not R.type & VF_NUMBER:
                    res = self.setvar_p(L, R.string)  # type: ignore[arg-type]
                    R.string = None
                else:
                    res = self.copyvar(L, R)  # type: ignore[arg-type]
            elif cls == OC_TERNARY:
                if op.r.info != TI_COLON:
                    raise self.error("Possible syntax error")
                res = yield from self.evaluate(op.r.l if self.istrue(L) else op.r.r, res)  # type: ignore[arg-type]
            elif cls == OC_FUNC:
                f = op.r
                if not f.defined:
                    raise self.error("Call to undefined function")
                argvars = [Var() for _ in range(f.nargs)]
                i = 0
                for a in self.arg_list(op1):
                    arg = yield from self.evaluate(a, tmp0)
                    if i == f.nargs:
                        clrvar(arg)
                        continue
                    self.copyvar(argvars[i], arg)
                    argvars[i].type |= VF_CHILD
                    argvars[i].parent = arg
                    i += 1
                saved_args, saved_prog = self.fnargs, self.progname
                self.fnargs = argvars
                res = yield from self.evaluate(f.body.first, res)
                self.progname, self.fnargs = saved_prog, saved_args
            elif cls in (OC_GETLINE, OC_PGETLINE):
                if op1 is not None:
                    rsm = self.fdhash.get(Ls)
                    if rsm is None:
                        if cls == OC_PGETLINE:
                            rsm = streams.popen(self.sys, Ls, "r", list(self.fdhash.values()))
                        else:
                            rsm = streams.open_input(self.sys, Ls)
                        if rsm is not None:
                            self.fdhash[Ls] = rsm
                else:
                    if self.iF is None:
                        self.iF = yield from self.next_input_file()
                    rsm = self.iF
                if rsm is None:
                    self.setvar_i(self.intvar[ERRNO], 2)
                    self.setvar_i(res, -1)
                else:
                    target = R if op.r is not None else self.intvar[F0]
                    got = yield from self.awk_getline(rsm, target)  # type: ignore[arg-type]
                    if got > 0 and op1 is None:
                        self.incvar(self.intvar[FNR])
                        self.incvar(self.intvar[NR])
                    self.setvar_i(res, got)
            elif cls == OC_FBLTIN:
                res = yield from self.simple_builtin(op, opn, L, Ls, Ld, res)
            elif cls == OC_BUILTIN:
                res = yield from self.exec_builtin(op, res)
            elif cls == OC_SPRINTF:
                self.setvar_p(res, (yield from self.awk_printf(op1)))
            elif cls == OC_UNARY:
                Rd = self.getvar_i(R)  # type: ignore[arg-type]
                value = Rd
                c = chr(opn)
                if c == "P":
                    Rd += 1
                    value = Rd
                elif c == "p":
                    Rd += 1
                elif c == "M":
                    Rd -= 1
                    value = Rd
                elif c == "m":
                    Rd -= 1
                if c in "PpMm":
                    self.setvar_i(R, Rd)  # type: ignore[arg-type]
                elif c == "!":
                    value = 0.0 if self.istrue(R) else 1.0  # type: ignore[arg-type]
                elif c == "-":
                    value = -Rd
                self.setvar_i(res, value)
            elif cls == OC_FIELD:
                i = c_int(self.getvar_i(R))  # type: ignore[arg-type]
                if i < 0:
                    raise self.error("Access to negative field")
                if i == 0:
                    res = self.intvar[F0]
                else:
                    self.split_f0()
                    if i > self.nfields:
                        self.fsrealloc(i)
                    res = self.fields[i - 1]
            elif cls in (OC_CONCAT, OC_COMMA):
                sep = self.getvar_s(self.intvar[SUBSEP]) if opinfo == TI_COMMA else ""
                self.setvar_p(res, Ls + sep + Rs)
            elif cls == OC_LAND:
                self.setvar_i(res, (1 if (yield from self.ptest(op.r)) else 0) if self.istrue(L) else 0)  # type: ignore[arg-type]
            elif cls == OC_LOR:
                self.setvar_i(res, 1 if self.istrue(L) else (1 if (yield from self.ptest(op.r)) else 0))  # type: ignore[arg-type]
            elif cls in (OC_BINARY, OC_REPLACE):
                Rd = self.getvar_i(R)  # type: ignore[arg-type]
                c = chr(opn)
                if c == "+":
                    Ld += Rd
                elif c == "-":
                    Ld -= Rd
                elif c == "*":
                    Ld *= Rd
                elif c == "/":
                    if Rd == 0:
                        raise self.error(DIV_BY_ZERO)
                    Ld /= Rd
                elif c == "&":
                    raise self.error(NO_MATH)
                elif c == "%":
                    if Rd == 0:
                        raise self.error(DIV_BY_ZERO)
                    Ld -= c_llong(Ld / Rd) * Rd
                res = self.setvar_i(res if cls == OC_BINARY else L, Ld)  # type: ignore[arg-type]
            elif cls == OC_COMPARE:
                if self.is_numeric(L) and self.is_numeric(R):  # type: ignore[arg-type]
                    diff = self.getvar_i(L) - self.getvar_i(R)  # type: ignore[arg-type]
                else:
                    sa, sb = self.getvar_s(L), self.getvar_s(R)  # type: ignore[arg-type]
                    if self.icase:
                        sa, sb = _ascii_lower(sa), _ascii_lower(sb)
                    diff = (sa > sb) - (sa < sb)
                kind = opn & 0xFE
                if kind == 0:
                    i = diff > 0
                elif kind == 2:
                    i = diff >= 0
                else:
                    i = diff == 0
                self.setvar_i(res, 1 if (not i) ^ bool(opn & 1) else 0)
            else:
                raise self.error("Possible syntax error")
            if cls <= SHIFT_TIL_THIS:
                op = op.a
            if cls >= RECUR_FROM_THIS:
                break
            if self.nextrec:
                break
        return res

    def incvar(self, v: Var) -> Var:
        return self.setvar_i(v, self.getvar_i(v) + 1.0)

    # -- running --------------------------------------------------------------------------
    def close_all(self) -> Gen:
        for name, stream in list(self.fdhash.items()):
            if name in ("/dev/stdin", "/dev/stdout", "/dev/stderr"):
                continue
            if stream.is_pipe:
                yield from streams.close_stream(self.sys, stream)


_SPACE_RUNS = re.compile("[^ \t\n\v\f\r]+")  # C isspace(), not Python's


def _ascii_lower(s: str) -> str:
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in s)


def _mktime(spec: str) -> float:
    parts = spec.split()
    try:
        nums = [int(p) for p in parts[:7]]
    except ValueError:
        return -1.0
    if len(nums) < 6 or nums[1] < 1 or nums[0] < 1900:
        return -1.0
    y, mo, d, h, mi, s = nums[:6]
    try:
        return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))
    except (OverflowError, ValueError):
        return -1.0


__all__ = ["AwkExit", "Interp", "math"]
