"""Word expansion: from a parsed :class:`~.sh_ast.Word` to argument strings.

POSIX orders it: tilde expansion, then parameter / command / arithmetic
expansion, then *field splitting* of the unquoted results on ``$IFS``, then
*pathname expansion* (globbing), then quote removal.  The trick is to carry,
for every character, where it came from:

* ``LIT``   unquoted text typed in the script: globbed, never split;
* ``EXP``   the unquoted result of an expansion: split on IFS and globbed;
* ``QUOTED`` anything quoted: neither.

so a segment list like ``[("a b", EXP), ("*", LIT)]`` can be split and
globbed correctly after all expansions are done.  ``"$@"`` inserts field
breaks between the positional parameters.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from . import sh_pattern
from .sh_arith import ArithError, evaluate
from .sh_ast import Arith, CmdSub, DQuote, Lit, Param, Part, Tilde, Word
from .sh_errors import ShellFatal

if TYPE_CHECKING:
    from .sh_shell import Shell

Gen = Generator[Any, Any, Any]

LIT, EXP, QUOTED = 0, 1, 2
BREAK = None  # a field boundary forced by "$@"
Segment = tuple[str, int]


class Expander:
    def __init__(self, shell: Shell) -> None:
        self.sh = shell

    # -- public -----------------------------------------------------------------
    def words(self, words: list[Word]) -> Gen:
        """Full expansion of command arguments: a list of fields."""
        out: list[str] = []
        for word in words:
            segs = yield from self.segments(word.parts, quoted=False)
            for field in self.split(segs):
                if "f" not in self.sh.opts and sh_pattern.has_glob(field):
                    matches = yield from sh_pattern.glob(self.sh.sys, field)
                    if matches:
                        out.extend(matches)
                        continue
                out.append("".join(c for c, _ in field))
        return out

    def string(self, word: Word) -> Gen:
        """Expansion without splitting or globbing (assignments, redirection
        targets, ``case`` subjects, here-documents)."""
        segs = yield from self.segments(word.parts, quoted=False)
        return "".join(" " if s is BREAK else s[0] for s in segs)

    def pattern(self, word: Word) -> Gen:
        """Expansion for pattern matching: quoted characters stay literal."""
        segs = yield from self.segments(word.parts, quoted=False)
        chars: sh_pattern.Chars = []
        for seg in segs:
            if seg is BREAK:
                chars.append((" ", True))
            else:
                chars.extend(sh_pattern.chars(seg[0], seg[1] == QUOTED))
        return chars

    # -- expansion into segments --------------------------------------------------
    def segments(self, parts: list[Part], quoted: bool) -> Gen:
        segs: list[Segment | None] = []
        for part in parts:
            if isinstance(part, Lit):
                segs.append((part.text, QUOTED if (part.quoted or quoted) else LIT))
            elif isinstance(part, DQuote):
                inner = yield from self.segments(part.parts, quoted=True)
                segs.extend(inner)
            elif isinstance(part, Tilde):
                segs.append((self._tilde(part.user), QUOTED))
            elif isinstance(part, Param):
                segs.extend((yield from self._param(part, quoted)))
            elif isinstance(part, CmdSub):
                text = yield from self.sh.command_substitution(part.source)
                segs.append((text, QUOTED if quoted else EXP))
            elif isinstance(part, Arith):
                text = yield from self.string(part.expr)
                segs.append((str(self._arith(text)), QUOTED if quoted else EXP))
        return segs

    def _arith(self, text: str) -> int:
        try:
            return evaluate(text, self.sh.get_var, self.sh.set_var_checked)
        except ArithError as e:
            raise ShellFatal(2, str(e)) from None

    def _tilde(self, user: str) -> str:
        if not user:
            return self.sh.vars.get("HOME", "/")
        home = self.sh.user_homes.get(user)
        return home if home is not None else "~" + user

    def _param(self, p: Param, quoted: bool) -> Gen:
        kind = QUOTED if quoted else EXP
        sh = self.sh
        if p.name in ("@", "*"):
            is_set = bool(sh.positional)
            if p.op == "len":
                return [(str(len(sh.positional)), kind)]
            if p.op in ("-", "=") and not is_set:
                return (yield from self.segments(p.arg.parts, quoted))  # type: ignore[union-attr]
            if p.op == "+":
                return (yield from self.segments(p.arg.parts, quoted)) if is_set else []  # type: ignore[union-attr]
            if p.op == "?" and not is_set:
                raise ShellFatal(2, f"{p.name}: parameter not set")
            return self._positional_all(p.name, quoted)
        value = sh.param_value(p.name)
        if p.op == "":
            if value is None and "u" in sh.opts and p.name not in ("@", "*", "!"):
                raise ShellFatal(2, f"{p.name}: parameter not set")
            return [(value or "", kind)] if value or quoted else []
        if p.op == "len":
            if value is None and "u" in sh.opts:
                raise ShellFatal(2, f"{p.name}: parameter not set")
            return [(str(len(value or "")), kind)]
        missing = value is None or (p.colon and value == "")
        if p.op == "-":
            if missing:
                return (yield from self.segments(p.arg.parts, quoted))  # type: ignore[union-attr]
            return [(value, kind)]
        if p.op == "+":
            if missing:
                return []
            return (yield from self.segments(p.arg.parts, quoted))  # type: ignore[union-attr]
        if p.op == "=":
            if missing:
                new = yield from self.string(p.arg)  # type: ignore[arg-type]
                sh.assign_param(p.name, new)
                return [(new, kind)]
            return [(value, kind)]
        if p.op == "?":
            if missing:
                msg = yield from self.string(p.arg)  # type: ignore[arg-type]
                if not msg:
                    msg = "parameter not set or null" if p.colon else "parameter not set"
                raise ShellFatal(2, f"{p.name}: {msg}")
            return [(value, kind)]
        # prefix / suffix removal
        pat = yield from self.pattern(p.arg)  # type: ignore[arg-type]
        return [(sh_pattern.strip(pat, value or "", p.op), kind)]

    def _positional_all(self, name: str, quoted: bool) -> list[Segment | None]:
        args = self.sh.positional
        if not quoted:
            segs: list[Segment | None] = []
            for i, a in enumerate(args):
                if i:
                    segs.append(BREAK)
                segs.append((a, EXP))
            return segs
        if name == "*":
            ifs = self.sh.vars.get("IFS", " \t\n")
            return [(ifs[:1].join(args), QUOTED)]
        segs = []
        for i, a in enumerate(args):
            if i:
                segs.append(BREAK)
            segs.append((a, QUOTED))
        return segs

    # -- field splitting ------------------------------------------------------------
    def split(self, segs: list[Segment | None]) -> list[sh_pattern.Chars]:
        """Split expansion results on IFS; literal and quoted text never
        splits.  A field exists if it has characters or quoted text."""
        ifs = self.sh.vars.get("IFS", " \t\n") if "IFS" in self.sh.vars else " \t\n"
        ifs_ws = "".join(c for c in ifs if c in " \t\n")
        fields: list[sh_pattern.Chars] = []
        cur: sh_pattern.Chars = []
        started = False  # the current field exists (even if empty)

        def finish() -> None:
            nonlocal cur, started
            fields.append(cur)
            cur, started = [], False

        for seg in segs:
            if seg is BREAK:
                finish()
                continue
            text, kind = seg
            if kind == QUOTED:
                cur.extend((c, True) for c in text)
                started = True
                continue
            if kind == LIT:
                cur.extend((c, False) for c in text)
                started = started or bool(text)
                continue
            i = 0
            while i < len(text):
                c = text[i]
                if c not in ifs:
                    cur.append((c, False))
                    started = True
                    i += 1
                    continue
                # a run of IFS white space, optionally with one non-white
                # IFS character in it, is one separator
                j = i
                while j < len(text) and text[j] in ifs_ws:
                    j += 1
                if j < len(text) and text[j] in ifs and text[j] not in ifs_ws:
                    j += 1
                    while j < len(text) and text[j] in ifs_ws:
                        j += 1
                    finish()
                    started = False
                elif started:
                    finish()
                i = j
            # a trailing separator was consumed; the next segment opens a field
        if started or cur:
            fields.append(cur)
        return fields
