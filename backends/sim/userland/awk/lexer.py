"""awk's tokens and lexer, as busybox's ``next_token()`` has them.

busybox lexes *with the parser's expectations*: the parser says which token
classes may come next, and a character sequence is read as the first
expected class it fits -- so ``>`` is a redirection inside ``print`` and a
comparison elsewhere, ``-`` after an operand is binary minus (``1 " " -1``
is "1-1"), ``/`` starts a regex only where an operand may start.  A
concatenation operator is inserted between two adjacent operands.  Words
(``in``, ``if``, ``getline``, builtin names...) are always recognised.
Each token carries busybox's *info* word: operation class, operand flags
and priority, which the parser and the evaluator read.
"""

from __future__ import annotations

from .values import AwkError, my_strtod

# -- token classes ------------------------------------------------------------------------
TC_LPAREN = 1 << 0
TC_RPAREN = 1 << 1
TC_REGEXP = 1 << 2
TC_OUTRDR = 1 << 3
TC_UOPPOST = 1 << 4
TC_UOPPRE1 = 1 << 5
TC_BINOPX = 1 << 6
TC_IN = 1 << 7
TC_COMMA = 1 << 8
TC_PIPE = 1 << 9
TC_UOPPRE2 = 1 << 10
TC_ARRTERM = 1 << 11
TC_LBRACE = 1 << 12
TC_RBRACE = 1 << 13
TC_SEMICOL = 1 << 14
TC_NEWLINE = 1 << 15
TC_STATX = 1 << 16
TC_WHILE = 1 << 17
TC_ELSE = 1 << 18
TC_BUILTIN = 1 << 19
TC_LENGTH = 1 << 20
TC_GETLINE = 1 << 21
TC_FUNCDECL = 1 << 22
TC_BEGIN = 1 << 23
TC_END = 1 << 24
TC_EOF = 1 << 25
TC_VARIABLE = 1 << 26
TC_ARRAY = 1 << 27
TC_FUNCTION = 1 << 28
TC_STRING = 1 << 29
TC_NUMBER = 1 << 30

TS_UOPPRE = TC_UOPPRE1 | TC_UOPPRE2
TS_BINOP = TC_BINOPX | TC_COMMA | TC_PIPE | TC_IN
TS_OPERAND = (
    TC_VARIABLE
    | TC_ARRAY
    | TC_FUNCTION
    | TC_BUILTIN
    | TC_LENGTH
    | TC_GETLINE
    | TC_LPAREN
    | TC_STRING
    | TC_NUMBER
)
TS_LVALUE = TC_VARIABLE | TC_ARRAY
TS_STATEMNT = TC_STATX | TC_WHILE
TS_WORD = (
    TC_IN | TS_STATEMNT | TC_ELSE | TC_BUILTIN | TC_LENGTH | TC_GETLINE | TC_FUNCDECL | TC_BEGIN | TC_END
)
TS_NOTERM = TS_BINOP | TC_COMMA | TC_LBRACE | TC_RBRACE | TC_SEMICOL | TC_NEWLINE
TS_OPSEQ = TS_OPERAND | TS_UOPPRE | TC_REGEXP
TS_GRPSEQ = TS_OPSEQ | TS_STATEMNT | TC_SEMICOL | TC_NEWLINE | TC_LBRACE
TS_CONCAT_L = TC_VARIABLE | TC_ARRTERM | TC_RPAREN | TC_STRING | TC_NUMBER | TC_UOPPOST | TC_LENGTH
TS_CONCAT_R = TS_OPERAND | TS_UOPPRE

# -- operand flags, priorities, operation classes --------------------------------------------
OF_RES1 = 0x010000
OF_RES2 = 0x020000
OF_STR1 = 0x040000
OF_STR2 = 0x080000
OF_NUM1 = 0x100000
OF_CHECKED = 0x200000
OF_REQUIRED = 0x400000

xx = 0
xV = OF_RES2
xS = OF_RES2 | OF_STR2
Vx = OF_RES1
Rx = OF_REQUIRED
VV = OF_RES1 | OF_RES2
Nx = OF_RES1 | OF_NUM1
NV = OF_RES1 | OF_NUM1 | OF_RES2
Sx = OF_RES1 | OF_STR1
SV = OF_RES1 | OF_STR1 | OF_RES2
SS = OF_RES1 | OF_STR1 | OF_RES2 | OF_STR2

OPCLSMASK = 0xFF00
OPNMASK = 0x007F
PRIMASK = 0x7F000000
PRIMASK2 = 0x7E000000


def P(x: int) -> int:
    return x << 24


SHIFT_TIL_THIS = 0x0600
RECUR_FROM_THIS = 0x1000
(OC_DELETE, OC_EXEC, OC_NEWSOURCE, OC_PRINT, OC_PRINTF, OC_WALKINIT) = (
    0x100,
    0x200,
    0x300,
    0x400,
    0x500,
    0x600,
)
(OC_BR, OC_BREAK, OC_CONTINUE, OC_EXIT, OC_NEXT, OC_NEXTFILE, OC_TEST, OC_WALKNEXT) = (
    0x700,
    0x800,
    0x900,
    0xA00,
    0xB00,
    0xC00,
    0xD00,
    0xE00,
)
OC_BINARY, OC_BUILTIN, OC_COLON, OC_COMMA, OC_COMPARE, OC_CONCAT = (
    0x1000,
    0x1100,
    0x1200,
    0x1300,
    0x1400,
    0x1500,
)
OC_FBLTIN, OC_FIELD, OC_FNARG, OC_FUNC, OC_GETLINE, OC_IN = 0x1600, 0x1700, 0x1800, 0x1900, 0x1A00, 0x1B00
OC_LAND, OC_LOR, OC_MATCH, OC_MOVE, OC_PGETLINE, OC_REGEXP = 0x1C00, 0x1D00, 0x1E00, 0x1F00, 0x2000, 0x2100
OC_REPLACE, OC_RETURN, OC_SPRINTF, OC_TERNARY, OC_UNARY, OC_VAR = (
    0x2200,
    0x2300,
    0x2400,
    0x2500,
    0x2600,
    0x2700,
)
OC_DONE = 0x2800
ST_IF, ST_DO, ST_FOR, ST_WHILE = 0x3000, 0x3100, 0x3200, 0x3300

# simple builtins (OC_FBLTIN) and builtins (OC_BUILTIN)
F_in, F_rn, F_co, F_ex, F_lg, F_si, F_sq, F_sr, F_ti, F_le, F_sy, F_ff, F_cl = range(13)
B_a2, B_ix, B_ma, B_sp, B_ss, B_ti, B_mt, B_lo, B_up, B_ge, B_gs, B_su, B_an, B_co, B_ls, B_or, B_rs, B_xo = (
    range(18)
)

TI_REGEXP = OC_REGEXP
TI_PREINC = OC_UNARY | xV | P(9) | ord("P")
TI_PREDEC = OC_UNARY | xV | P(9) | ord("M")
TI_LESS = OC_COMPARE | VV | P(39) | 2
TI_TERNARY = OC_TERNARY | Vx | P(64) | ord("?")
TI_COLON = OC_COLON | xx | P(67) | ord(":")
TI_IN = OC_IN | SV | P(49)
TI_COMMA = OC_COMMA | SS | P(80)
TI_PGETLINE = OC_PGETLINE | SV | P(37)
TI_CONCAT = OC_CONCAT | SS | P(35)

A1, A2, A3 = P(0x40), P(0x80), P(0xC0)
__v, _vv, __s__v, __s_vv, __svvv = P(1), P(3), P(9), P(0x0B), P(0x0F)
_ss_vv, _s_vv_, ss_vv_ = P(0x1B), P(0x16), P(0x36)
OC_B, OC_F = OC_BUILTIN, OC_FBLTIN


def _c(ch: str) -> int:
    return ord(ch)


# (class, [(text, info), ...]) in busybox's order: the first expected match wins
TOKENS: list[tuple[int, list[tuple[str, int]]]] = [
    (TC_LPAREN, [("(", 0)]),
    (TC_RPAREN, [(")", 0)]),
    (TC_REGEXP, [("/", TI_REGEXP)]),
    (TC_OUTRDR, [(">>", xS | _c("a")), (">", xS | _c("w")), ("|", xS | _c("|"))]),
    (TC_UOPPOST, [("++", OC_UNARY | xV | P(9) | _c("p")), ("--", OC_UNARY | xV | P(9) | _c("m"))]),
    (TC_UOPPRE1, [("++", TI_PREINC), ("--", TI_PREDEC), ("$", OC_FIELD | xV | P(5))]),
    (
        TC_BINOPX,
        [
            ("==", OC_COMPARE | VV | P(39) | 5),
            ("=", OC_MOVE | VV | P(74)),
            ("+=", OC_REPLACE | NV | P(74) | _c("+")),
            ("-=", OC_REPLACE | NV | P(74) | _c("-")),
            ("*=", OC_REPLACE | NV | P(74) | _c("*")),
            ("/=", OC_REPLACE | NV | P(74) | _c("/")),
            ("%=", OC_REPLACE | NV | P(74) | _c("%")),
            ("^=", OC_REPLACE | NV | P(74) | _c("&")),
            ("+", OC_BINARY | NV | P(29) | _c("+")),
            ("-", OC_BINARY | NV | P(29) | _c("-")),
            ("**=", OC_REPLACE | NV | P(74) | _c("&")),
            ("**", OC_BINARY | NV | P(15) | _c("&")),
            ("/", OC_BINARY | NV | P(25) | _c("/")),
            ("%", OC_BINARY | NV | P(25) | _c("%")),
            ("^", OC_BINARY | NV | P(15) | _c("&")),
            ("*", OC_BINARY | NV | P(25) | _c("*")),
            ("!=", OC_COMPARE | VV | P(39) | 4),
            (">=", OC_COMPARE | VV | P(39) | 3),
            ("<=", OC_COMPARE | VV | P(39) | 0),
            (">", OC_COMPARE | VV | P(39) | 1),
            ("<", TI_LESS),
            ("!~", OC_MATCH | Sx | P(45) | _c("!")),
            ("~", OC_MATCH | Sx | P(45) | _c("~")),
            ("&&", OC_LAND | Vx | P(55)),
            ("||", OC_LOR | Vx | P(59)),
            ("?", TI_TERNARY),
            (":", TI_COLON),
        ],
    ),
    (TC_IN, [("in", TI_IN)]),
    (TC_COMMA, [(",", TI_COMMA)]),
    (TC_PIPE, [("|", TI_PGETLINE)]),
    (
        TC_UOPPRE2,
        [
            ("+", OC_UNARY | xV | P(19) | _c("+")),
            ("-", OC_UNARY | xV | P(19) | _c("-")),
            ("!", OC_UNARY | xV | P(19) | _c("!")),
        ],
    ),
    (TC_ARRTERM, [("]", 0)]),
    (TC_LBRACE, [("{", 0)]),
    (TC_RBRACE, [("}", 0)]),
    (TC_SEMICOL, [(";", 0)]),
    (TC_NEWLINE, [("\n", 0)]),
    (
        TC_STATX,
        [
            ("if", ST_IF),
            ("do", ST_DO),
            ("for", ST_FOR),
            ("break", OC_BREAK),
            ("continue", OC_CONTINUE),
            ("delete", OC_DELETE | Rx),
            ("print", OC_PRINT),
            ("printf", OC_PRINTF),
            ("next", OC_NEXT),
            ("nextfile", OC_NEXTFILE),
            ("return", OC_RETURN | Vx),
            ("exit", OC_EXIT | Nx),
        ],
    ),
    (TC_WHILE, [("while", ST_WHILE)]),
    (TC_ELSE, [("else", 0)]),
    (
        TC_BUILTIN,
        [
            ("and", OC_B | B_an | _vv | A2),
            ("compl", OC_B | B_co | __v | A1),
            ("lshift", OC_B | B_ls | _vv | A2),
            ("or", OC_B | B_or | _vv | A2),
            ("rshift", OC_B | B_rs | _vv | A2),
            ("xor", OC_B | B_xo | _vv | A2),
            ("close", OC_F | F_cl | Sx | Rx),
            ("system", OC_F | F_sy | Sx | Rx),
            ("fflush", OC_F | F_ff | Sx),
            ("atan2", OC_B | B_a2 | _vv | A2),
            ("cos", OC_F | F_co | Nx | Rx),
            ("exp", OC_F | F_ex | Nx | Rx),
            ("int", OC_F | F_in | Nx | Rx),
            ("log", OC_F | F_lg | Nx | Rx),
            ("rand", OC_F | F_rn),
            ("sin", OC_F | F_si | Nx | Rx),
            ("sqrt", OC_F | F_sq | Nx | Rx),
            ("srand", OC_F | F_sr | Nx),
            ("gensub", OC_B | B_ge | _s_vv_ | A3),
            ("gsub", OC_B | B_gs | ss_vv_ | A2),
            ("index", OC_B | B_ix | _ss_vv | A2),
            ("match", OC_B | B_ma | __s__v | A2),
            ("split", OC_B | B_sp | __s_vv | A2),
            ("sprintf", OC_SPRINTF),
            ("sub", OC_B | B_su | ss_vv_ | A2),
            ("substr", OC_B | B_ss | __svvv | A2),
            ("systime", OC_F | F_ti),
            ("strftime", OC_B | B_ti | __s_vv),
            ("mktime", OC_B | B_mt | __s_vv),
            ("tolower", OC_B | B_lo | __s__v | A1),
            ("toupper", OC_B | B_up | __s__v | A1),
        ],
    ),
    (TC_LENGTH, [("length", OC_F | F_le | Sx)]),
    (TC_GETLINE, [("getline", OC_GETLINE | SV)]),
    (TC_FUNCDECL, [("func", 0), ("function", 0)]),
    (TC_BEGIN, [("BEGIN", 0)]),
    (TC_END, [("END", 0)]),
]

UNEXP_EOS = "Unexpected end of string"
UNEXP_TOKEN = "Unexpected token"


def isalnum_(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def process_escape(s: str, i: int) -> tuple[str, int]:
    """libbb's bb_process_escape_sequence, with ``s[i]`` just after the
    backslash: (character, index after the sequence).  Unknown escapes
    give a backslash and consume nothing."""
    q = i
    base, n, digits = 8, 0, 0
    if q < len(s) and s[q] == "x":
        q += 1
        base = 16
        digits = 1
    while True:
        ch = s[q] if q < len(s) else "\0"
        d = ord(ch) - 48
        if d >= 10 or d < 0:
            low = ord(ch) | 0x20
            d = low - ord("a")
            if d >= 0:
                d += 10
            else:
                d = 99
        if d >= base:
            if base == 16:
                digits -= 1
                if digits == 0:
                    return "\\", i
            break
        r = n * base + d
        if r > 255:
            break
        n = r
        q += 1
        digits += 1
        if digits >= 3:
            break
    if digits == 0:
        ch = s[q] if q < len(s) else "\0"
        table = {
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
        if ch in table:
            return table[ch], q + 1
        return "\\", q
    return chr(n), q


def nextchar(s: str, i: int) -> tuple[str, int]:
    """One character of a string literal (``\\"`` is a quote, ``\\z`` is z)."""
    c = s[i]
    i += 1
    if c == "\\":
        start = i
        c, i = process_escape(s, i)
        if c == "\\" and i == start:
            if i < len(s):
                c = s[i]
                i += 1
            else:
                c = "\0"
    return c, i


def unescape(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        c, i = nextchar(s, i)
        if c == "\0":
            break
        out.append(c)
    return "".join(out)


class Lexer:
    def __init__(self, text: str, progname: str) -> None:
        self.text = text
        self.pos = 0
        self.progname = progname
        self.lineno = 1  # t_lineno: the line being read
        self.g_lineno = 1  # the line of the last token (for messages)
        self.tclass = TC_NEWLINE
        self.info = 0
        self.string = ""
        self.number = 0.0
        self.rollback = False
        self.concat_inserted = False
        self.save_tclass = 0
        self.save_info = 0

    def error(self, message: str) -> AwkError:
        return AwkError(f"{self.progname}:{self.g_lineno}: {message}")

    def _skip_spaces(self, p: int) -> int:
        s = self.text
        while p < len(s):
            if s[p] == "\\" and p + 1 < len(s) and s[p + 1] == "\n":
                p += 2
                self.lineno += 1
            elif s[p] in " \t":
                p += 1
            else:
                break
        return p

    def next_token(self, expected: int) -> int:
        last_class = self.tclass
        if self.rollback:
            self.rollback = False
        elif self.concat_inserted:
            self.concat_inserted = False
            self.tclass, self.info = self.save_tclass, self.save_info
        else:
            s = self.text
            p = self.pos
            tc = 0
            while True:
                p = self._skip_spaces(p)
                self.g_lineno = self.lineno
                if p < len(s) and s[p] == "#":
                    while p < len(s) and s[p] != "\n":
                        p += 1
                tc, p = self._read(p, expected, last_class)
                self.pos = p
                if (last_class & TS_NOTERM) and (tc & TC_NEWLINE):
                    continue
                break
            if (
                (last_class & TS_CONCAT_L)
                and (tc & TS_CONCAT_R)
                and (expected & TS_BINOP)
                and not (last_class == TC_LENGTH and tc == TC_LPAREN)
            ):
                self.concat_inserted = True
                self.save_tclass, self.save_info = tc, self.info
                tc = TC_BINOPX
                self.info = TI_CONCAT
            self.tclass = tc
        if not (self.tclass & expected):
            raise self.error(UNEXP_EOS if last_class & (TC_NEWLINE | TC_EOF) else UNEXP_TOKEN)
        return self.tclass

    def _read(self, p: int, expected: int, last_class: int) -> tuple[int, int]:
        s = self.text
        if p >= len(s) or s[p] == "\0":
            return TC_EOF, p
        ch = s[p]
        if ch == '"':
            p += 1
            out = []
            while True:
                if p >= len(s) or s[p] in "\0\n":
                    raise self.error(UNEXP_EOS)
                if s[p] == '"':
                    break
                c, p = nextchar(s, p)
                out.append(c)
            self.string = "".join(out)
            return TC_STRING, p + 1
        if (expected & TC_REGEXP) and ch == "/":
            p += 1
            out = []
            while True:
                if p >= len(s) or s[p] in "\0\n":
                    raise self.error(UNEXP_EOS)
                if s[p] == "/":
                    break
                c = s[p]
                p += 1
                if c == "\\":
                    esc, pp = process_escape(s, p)
                    out.append(esc)
                    if p < len(s) and s[p] == "\\":
                        out.append("\\")
                    if pp == p:
                        if p < len(s):
                            out.append(s[p])
                            p += 1
                    else:
                        p = pp
                else:
                    out.append(c)
            self.string = "".join(out)
            return TC_REGEXP, p + 1
        if ch == "." or ch.isdigit():
            self.number, p = my_strtod(s, p)
            if p < len(s) and s[p] == ".":
                raise self.error(UNEXP_TOKEN)
            return TC_NUMBER, p
        if ch == "\n":
            self.lineno += 1
        for tc, entries in TOKENS:
            if not (tc & (expected | TS_WORD | TC_NEWLINE)):
                continue
            for text, info in entries:
                if s.startswith(text, p):
                    end = p + len(text)
                    if (tc & TS_WORD) and end < len(s) and isalnum_(s[end]):
                        continue
                    self.info = info
                    return tc, end
        if not isalnum_(ch):
            raise self.error(UNEXP_TOKEN)
        start = p
        while p < len(s) and isalnum_(s[p]):
            p += 1
        self.string = s[start:p]
        if last_class == TC_FUNCDECL:
            p = self._skip_spaces(p)
        elif expected & TC_ARRAY:
            q = self._skip_spaces(p)
            if q < len(s) and s[q] == "[":
                p = q
        if p < len(s) and s[p] == "(":
            return TC_FUNCTION, p + 1
        if p < len(s) and s[p] == "[":
            return TC_ARRAY, p + 1
        return TC_VARIABLE, p
