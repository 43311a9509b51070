"""POSIX regular expressions as glibc's ``regcomp``/``regexec`` see them.

busybox's grep, sed, awk, expr and find call the C library's regex engine;
this module is that engine for the simulated userland.  A pattern (basic
or extended syntax, with the GNU extensions glibc accepts: ``\\+ \\? \\|`` in
BREs, ``\\w \\s \\b \\< \\>`` everywhere) is parsed here -- with glibc's
error messages for bad ones ("Invalid preceding regular expression",
"Unmatched ( or \\\\(" ...) -- and translated for the ``regex`` package,
whose POSIX mode gives the *leftmost-longest* match POSIX requires
(Python's ``re`` gives the leftmost-first: ``a|ab`` on "ab" would match
"a").

Text is ``str`` holding one character per byte (latin-1), as in the C
locale busybox runs in: character classes are ASCII, ``.`` matches a
newline (no ``REG_NEWLINE``), ``^`` and ``$`` match only at the ends of the
string.
"""

from __future__ import annotations

import functools

import regex

_FLAGS = regex.POSIX | regex.DOTALL | regex.ASCII | regex.V0

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "0-9a-zA-Z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}
_WORD = "[0-9A-Za-z_]"
_GNU_ESCAPES = {
    "w": _WORD,
    "W": "[^0-9A-Za-z_]",
    "s": "[ \\t\\n\\r\\f\\v]",
    "S": "[^ \\t\\n\\r\\f\\v]",
    "b": "\\b",
    "B": "\\B",
    "<": "\\b(?=" + _WORD + ")",
    ">": "\\b(?<=" + _WORD + ")",
    "`": "\\A",
    "'": "\\Z",
}
DUP_MAX = 32767


class RegexError(Exception):
    """A pattern regcomp refuses; the message is glibc's ``regerror``."""


BADRPT = "Invalid preceding regular expression"
EPAREN = "Unmatched ( or \\("
EBRACE = "Unmatched \\{"
BADBR = "Invalid content of \\{\\}"
EBRACK = "Unmatched [, [^, [:, [., or [="
ECTYPE = "Invalid character class name"
ECOLLATE = "Invalid collation character"
ERANGE = "Invalid range end"
EESCAPE = "Trailing backslash"
ESUBREG = "Invalid back reference"


def _lit(ch: str) -> str:
    return regex.escape(ch, special_only=False, literal_spaces=True)


def _class_char(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else (f"\\x{ord(ch):02x}" if ord(ch) < 32 else ch)


def parse_bracket(p: str, i: int) -> tuple[str, int]:
    """The bracket expression starting after ``[`` at ``i``: its
    translation and the index after its ``]``."""
    negate = i < len(p) and p[i] == "^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    prev: str | None = None  # the last single character, for a range
    while True:
        if i >= len(p):
            raise RegexError(EBRACK)
        ch = p[i]
        if ch == "]" and not first:
            i += 1
            break
        first = False
        if ch == "[" and i + 1 < len(p) and p[i + 1] in ":=.":
            kind = p[i + 1]
            end = p.find(kind + "]", i + 2)
            if end < 0:
                raise RegexError(EBRACK)
            name = p[i + 2 : end]
            i = end + 2
            if kind == ":":
                if name not in _CLASSES:
                    raise RegexError(ECTYPE)
                items.append(_CLASSES[name])
                prev = None
                continue
            if len(name) != 1:
                raise RegexError(ECOLLATE)
            ch = name
        else:
            i += 1
        # a range "a-z" (a "-" last or first is itself)
        if ch == "-" and prev is not None and i < len(p) and p[i] != "]":
            hi = p[i]
            if hi == "[" and i + 1 < len(p) and p[i + 1] in "=.":
                kind = p[i + 1]
                end = p.find(kind + "]", i + 2)
                if end < 0:
                    raise RegexError(EBRACK)
                hi = p[i + 2 : end]
                if len(hi) != 1:
                    raise RegexError(ECOLLATE)
                i = end + 2
            else:
                i += 1
            if ord(hi) < ord(prev):
                raise RegexError(ERANGE)
            items[-1] = f"{_class_char(prev)}-{_class_char(hi)}"
            prev = None
            continue
        items.append(_class_char(ch))
        prev = ch
    body = "".join(items)
    return ("[^" if negate else "[") + body + "]", i


class _Parser:
    def __init__(self, pattern: str, extended: bool, notbol: bool = False) -> None:
        self.p = pattern
        self.ere = extended
        # REG_NOTBOL: the string does not start a line, "^" never matches
        self.bol = "(?!)" if notbol else "^"
        self.i = 0
        self.ngroups = 0
        self.closed: set[int] = set()
        self.depth = 0

    def parse(self) -> str:
        out = self.alternation()
        if self.i < len(self.p):  # a stray close paren
            raise RegexError(EPAREN)
        return out

    # -- structure --------------------------------------------------------------
    def _at_close(self) -> bool:
        p, i = self.p, self.i
        if self.ere:
            return self.depth > 0 and p.startswith(")", i)
        return p.startswith("\\)", i)

    def _at_bar(self) -> bool:
        return self.p.startswith("|" if self.ere else "\\|", self.i)

    def alternation(self) -> str:
        branches = [self.branch()]
        while self._at_bar():
            self.i += 1 if self.ere else 2
            branches.append(self.branch())
        return "|".join(branches)

    def branch(self) -> str:
        atoms: list[str] = []
        quantified: list[bool] = []
        start = True  # at the start of the RE or of a group/branch (BRE: * literal)
        p = self.p
        while self.i < len(p) and not self._at_bar() and not self._at_close():
            q = self._quantifier()
            if q is not None:
                text, length = q
                if not atoms:
                    if self.ere:
                        self.i += length  # glibc ignores a leading repetition
                        continue
                    if text.startswith("{"):
                        raise RegexError(BADRPT)
                    atoms.append(_lit(p[self.i]))  # BRE: "*" first is literal
                    quantified.append(False)
                    self.i += 1
                    start = False
                    continue
                if not self.ere and quantified[-1]:
                    raise RegexError(BADRPT)
                self.i += length
                atoms[-1] = f"(?:{atoms[-1]}){text}"
                quantified[-1] = True
                continue
            atom = self.atom(start)
            atoms.append(atom)
            # after a BRE "^" anchor a "*" is still literal
            quantified.append(False)
            start = atom == self.bol and not self.ere
        return "".join(atoms)

    def _quantifier(self) -> tuple[str, int] | None:
        """A repetition operator at the current position: (translation,
        length), or None."""
        p, i = self.p, self.i
        ch = p[i]
        if ch == "*":
            return "*", 1
        if self.ere:
            if ch in "+?":
                return ch, 1
            if ch == "{":
                return self._interval(i + 1, "}")
            return None
        if ch == "\\" and i + 1 < len(p):
            nxt = p[i + 1]
            if nxt in "+?":
                return nxt, 2
            if nxt == "{":
                return self._interval(i + 2, "\\}")
        return None

    def _interval(self, j: int, close: str) -> tuple[str, int] | None:
        p = self.p
        end = p.find(close, j)
        if end < 0:
            if self.ere:
                return None  # "a{1" is literal in an ERE
            raise RegexError(EBRACE)
        body = p[j:end]
        lo_text, comma, hi_text = body.partition(",")
        valid = (lo_text.isdigit() or (lo_text == "" and comma)) and (hi_text.isdigit() or hi_text == "")
        if not valid:
            if self.ere and not (lo_text.isdigit() or lo_text == ""):
                return None  # "a{x}" is literal in an ERE
            raise RegexError(BADBR)
        lo = int(lo_text) if lo_text else 0
        hi = int(hi_text) if hi_text else None
        if (hi is not None and hi < lo) or lo > DUP_MAX or (hi or 0) > DUP_MAX:
            raise RegexError(BADBR)
        if not comma:
            text = f"{{{lo}}}"
        else:
            text = f"{{{lo},{'' if hi is None else hi}}}"
        return text, end + len(close) - self.i

    def atom(self, at_start: bool) -> str:
        p = self.p
        ch = p[self.i]
        self.i += 1
        if ch == ".":
            return "."
        if ch == "[":
            text, self.i = parse_bracket(p, self.i)
            return text
        if ch == "^":
            if self.ere or at_start:
                return self.bol
            return _lit("^")
        if ch == "$":
            if self.ere or self.i >= len(p) or p.startswith("\\)", self.i) or p.startswith("\\|", self.i):
                return "\\Z"
            return _lit("$")
        if self.ere and ch == "(":
            return self.group()
        if ch == "\\":
            if self.i >= len(p):
                raise RegexError(EESCAPE)
            nxt = p[self.i]
            self.i += 1
            if not self.ere and nxt == "(":
                return self.group()
            if not self.ere and nxt == ")":
                raise RegexError(EPAREN)
            if not self.ere and nxt == "{":
                raise RegexError(BADRPT)
            if nxt.isdigit() and nxt != "0":
                n = int(nxt)
                if n not in self.closed:
                    raise RegexError(ESUBREG)
                return f"(?:\\{n})"
            if nxt == "`":
                return "\\A" if self.bol == "^" else "(?!)"
            if nxt in _GNU_ESCAPES:
                return _GNU_ESCAPES[nxt]
            return _lit(nxt)
        return _lit(ch)

    def group(self) -> str:
        self.ngroups += 1
        n = self.ngroups
        self.depth += 1
        inner = self.alternation()
        self.depth -= 1
        close = ")" if self.ere else "\\)"
        if not self.p.startswith(close, self.i):
            raise RegexError(EPAREN)
        self.i += len(close)
        self.closed.add(n)
        return f"({inner})"


@functools.lru_cache(maxsize=512)
def compile_posix(pattern: str, extended: bool = False, icase: bool = False, notbol: bool = False):
    """A compiled ``regex`` pattern; :class:`RegexError` if glibc refuses it.
    ``notbol`` is regexec's REG_NOTBOL: for matching the rest of a string
    after an earlier match (sed's ``s///g``)."""
    parser = _Parser(pattern, extended, notbol)
    translated = parser.parse()
    flags = _FLAGS | (regex.IGNORECASE if icase else 0)
    try:
        return regex.compile(translated, flags)
    except regex.error as e:  # a translation this module got wrong
        raise RegexError(f"Invalid regular expression ({e})") from None
