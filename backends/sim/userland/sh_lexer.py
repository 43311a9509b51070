"""Shell lexer: source text -> tokens (words, operators, newlines).

A shell's lexing is famously context-sensitive; this lexer keeps only the
parts that do not depend on the grammar:

* it splits on unquoted blanks and recognises operators (``&&``, ``>>``, ...);
* it turns each word into :mod:`.sh_ast` parts right away, because where a
  quote starts and ends is only known while scanning;
* it reads here-document bodies: the parser registers a ``<<`` redirection
  with :meth:`Lexer.add_heredoc`, and at the next newline the lexer consumes
  the lines up to the delimiter.

Reserved words (``if``, ``then``, ``{`` ...) come out as plain words; only
the parser knows whether a word is in a position where it is a keyword.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sh_ast import Arith, CmdSub, DQuote, HereDoc, Lit, Param, Part, Tilde, Word


class ShellSyntaxError(Exception):
    """A syntax error; ``str()`` is ash's message after ``sh: ``."""


OPERATORS = ("<<-", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", "&", "|", ";", "<", ">", "(", ")")
META = set(" \t\n;&|<>()")
SPECIAL_PARAMS = set("@*#?-$!0123456789")


@dataclass
class Token:
    kind: str  # "WORD", "OP", "IO_NUMBER", "NEWLINE", "EOF"
    value: str  # operator text, raw word text, or fd number
    word: Word | None = None
    line: int = 0


def is_name(text: str) -> bool:
    return (
        bool(text)
        and (text[0].isalpha() or text[0] == "_")
        and all(c.isalnum() or c == "_" for c in text)
        and text.isascii()
    )


class Lexer:
    def __init__(self, src: str, line: int = 1) -> None:
        self.src = src
        self.pos = 0
        self.line = line
        self._pending: list[HereDoc] = []

    # -- public ---------------------------------------------------------------
    def add_heredoc(self, doc: HereDoc) -> None:
        self._pending.append(doc)

    def next_token(self) -> Token:
        self._skip_blanks_and_comments()
        if self.pos >= len(self.src):
            self._pending.clear()  # a here-document cut short by EOF is empty
            return Token("EOF", "", line=self.line)
        ch = self.src[self.pos]
        line = self.line
        if ch == "\n":
            self.pos += 1
            self.line += 1
            self._read_heredoc_bodies()
            return Token("NEWLINE", "\n", line=line)
        for op in OPERATORS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                return Token("OP", op, line=line)
        start = self.pos
        word = self._read_word()
        raw = self.src[start : self.pos]
        if raw.isdigit() and self.pos < len(self.src) and self.src[self.pos] in "<>":
            return Token("IO_NUMBER", raw, line=line)
        return Token("WORD", raw, word, line=line)

    # -- blanks, comments, continuation lines --------------------------------
    def _skip_blanks_and_comments(self) -> None:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch in " \t":
                self.pos += 1
            elif src.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
            elif ch == "#":
                while self.pos < len(src) and src[self.pos] != "\n":
                    self.pos += 1
            else:
                break

    # -- words ------------------------------------------------------------------
    def _read_word(self) -> Word:
        parts: list[Part] = []
        src = self.src
        start = self.pos
        if src.startswith("~", self.pos):
            end = self.pos + 1
            while end < len(src) and src[end] not in META and src[end] not in "/'\"\\$`":
                end += 1
            if end >= len(src) or src[end] in META or src[end] == "/":
                parts.append(Tilde(src[self.pos + 1 : end]))
                self.pos = end
        lit: list[str] = []

        def flush() -> None:
            if lit:
                parts.append(Lit("".join(lit)))
                lit.clear()

        while self.pos < len(src):
            ch = src[self.pos]
            if ch in META:
                break
            if ch == "\\":
                if self.pos + 1 >= len(src):
                    lit.append("\\")
                    self.pos += 1
                    continue
                nxt = src[self.pos + 1]
                self.pos += 2
                if nxt == "\n":
                    self.line += 1
                    continue
                flush()
                parts.append(Lit(nxt, quoted=True))
            elif ch == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                flush()
                text = src[self.pos + 1 : end]
                self.line += text.count("\n")
                parts.append(Lit(text, quoted=True))
                self.pos = end + 1
            elif ch == '"':
                flush()
                self.pos += 1
                parts.append(DQuote(self._read_dquoted()))
            elif ch == "$":
                part = self._read_dollar()
                if isinstance(part, Lit):
                    lit.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif ch == "`":
                flush()
                parts.append(self._read_backquote())
            else:
                lit.append(ch)
                self.pos += 1
        flush()
        if self.pos == start:
            raise ShellSyntaxError(f'unexpected "{src[self.pos]}"')
        return Word(parts)

    def _read_dquoted(self, closer: str = '"') -> list[Part]:
        """Parts of a double-quoted string, up to the closing quote (which is
        consumed).  Inside, only ``$``, backquote and backslash are special."""
        parts: list[Part] = []
        lit: list[str] = []
        src = self.src

        def flush() -> None:
            if lit:
                parts.append(Lit("".join(lit), quoted=True))
                lit.clear()

        while True:
            if self.pos >= len(src):
                if closer == "":
                    break
                raise ShellSyntaxError("unterminated quoted string")
            ch = src[self.pos]
            if closer and ch == closer:
                self.pos += 1
                break
            if ch == "\\" and self.pos + 1 < len(src):
                nxt = src[self.pos + 1]
                if nxt == "\n":
                    self.pos += 2
                    self.line += 1
                    continue
                if nxt in "$`\\" or (nxt == '"' and closer == '"'):
                    lit.append(nxt)
                    self.pos += 2
                    continue
                lit.append("\\")
                self.pos += 1
            elif ch == "$":
                part = self._read_dollar()
                if isinstance(part, Lit):
                    lit.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif ch == "`":
                flush()
                parts.append(self._read_backquote())
            else:
                if ch == "\n":
                    self.line += 1
                lit.append(ch)
                self.pos += 1
        flush()
        if not parts:
            parts.append(Lit("", quoted=True))  # "" is an empty *field*
        return parts

    def _read_backquote(self) -> CmdSub:
        self.pos += 1
        out: list[str] = []
        src = self.src
        while True:
            if self.pos >= len(src):
                raise ShellSyntaxError("unterminated quoted string")
            ch = src[self.pos]
            if ch == "`":
                self.pos += 1
                return CmdSub("".join(out))
            if ch == "\\" and self.pos + 1 < len(src) and src[self.pos + 1] in "$`\\":
                out.append(src[self.pos + 1])
                self.pos += 2
                continue
            if ch == "\n":
                self.line += 1
            out.append(ch)
            self.pos += 1

    def _read_dollar(self) -> Part:
        src = self.src
        p = self.pos + 1
        if src.startswith("((", p):
            end = self._match_parens(p + 2, depth=2)
            inner = src[p + 2 : end - 2]
            self.pos = end
            return Arith(parse_dquoted_text(inner))
        if src.startswith("(", p):
            end = self._match_parens(p + 1, depth=1)
            self.pos = end
            return CmdSub(src[p + 1 : end - 1])
        if src.startswith("{", p):
            self.pos = p + 1
            return self._read_braced_param()
        if p < len(src) and src[p] in SPECIAL_PARAMS:
            self.pos = p + 1
            return Param(src[p])
        end = p
        while end < len(src) and (src[end].isalnum() or src[end] == "_") and src[end].isascii():
            end += 1
        if end == p or src[p].isdigit():
            self.pos = p
            return Lit("$")
        self.pos = end
        return Param(src[p:end])

    def _read_braced_param(self) -> Part:
        src = self.src
        p = self.pos
        length = False
        if src.startswith("#", p) and p + 1 < len(src) and src[p + 1] != "}":
            length = True
            p += 1
        if p < len(src) and src[p] in SPECIAL_PARAMS:
            name, p = src[p], p + 1
            # ${10}: more digits belong to the number
            while name.isdigit() and p < len(src) and src[p].isdigit():
                name, p = name + src[p], p + 1
        else:
            end = p
            while end < len(src) and (src[end].isalnum() or src[end] == "_"):
                end += 1
            name, p = src[p:end], end
        if not name:
            raise ShellSyntaxError("bad substitution")
        self.pos = p
        if length:
            if not src.startswith("}", p):
                raise ShellSyntaxError("bad substitution")
            self.pos = p + 1
            return Param(name, "len")
        if src.startswith("}", p):
            self.pos = p + 1
            return Param(name)
        colon = src.startswith(":", p)
        if colon:
            p += 1
        for op in ("##", "%%", "-", "=", "+", "?", "#", "%"):
            if src.startswith(op, p):
                if colon and op in ("##", "%%", "#", "%"):
                    raise ShellSyntaxError("bad substitution")
                self.pos = p + len(op)
                arg = self._read_param_arg()
                return Param(name, op, arg, colon)
        raise ShellSyntaxError("bad substitution")

    def _read_param_arg(self) -> Word:
        """The word after the operator in ``${name-word}``, up to the
        matching ``}``; quotes work as in an unquoted word."""
        parts: list[Part] = []
        lit: list[str] = []
        src = self.src

        def flush() -> None:
            if lit:
                parts.append(Lit("".join(lit)))
                lit.clear()

        depth = 0
        while True:
            if self.pos >= len(src):
                raise ShellSyntaxError("bad substitution")
            ch = src[self.pos]
            if ch == "}" and depth == 0:
                self.pos += 1
                break
            if ch == "\\" and self.pos + 1 < len(src):
                flush()
                parts.append(Lit(src[self.pos + 1], quoted=True))
                self.pos += 2
            elif ch == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                flush()
                parts.append(Lit(src[self.pos + 1 : end], quoted=True))
                self.pos = end + 1
            elif ch == '"':
                flush()
                self.pos += 1
                parts.append(DQuote(self._read_dquoted()))
            elif ch == "$":
                part = self._read_dollar()
                if isinstance(part, Lit):
                    lit.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif ch == "`":
                flush()
                parts.append(self._read_backquote())
            else:
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                lit.append(ch)
                self.pos += 1
        flush()
        return Word(parts)

    def _match_parens(self, p: int, depth: int) -> int:
        """Index just after the ``)`` that closes ``depth`` open parens,
        skipping quoted text."""
        src = self.src
        while p < len(src):
            ch = src[p]
            if ch == "\\":
                p += 2
                continue
            if ch == "'":
                end = src.find("'", p + 1)
                p = len(src) if end < 0 else end + 1
                continue
            if ch == '"':
                p += 1
                while p < len(src) and src[p] != '"':
                    p += 2 if src[p] == "\\" else 1
                p += 1
                continue
            if ch == "\n":
                self.line += 1
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return p + 1
            p += 1
        raise ShellSyntaxError("unterminated quoted string" if depth else "unexpected end of file")

    # -- here-documents -------------------------------------------------------
    def _read_heredoc_bodies(self) -> None:
        src = self.src
        for doc in self._pending:
            lines: list[str] = []
            while True:
                if self.pos >= len(src):
                    break  # ash accepts EOF as the end of a here-document
                end = src.find("\n", self.pos)
                line = src[self.pos :] if end < 0 else src[self.pos : end]
                self.pos = len(src) if end < 0 else end + 1
                self.line += 1
                if doc.strip_tabs:
                    line = line.lstrip("\t")
                if line == doc.delimiter:
                    break
                lines.append(line + "\n")
            doc.body = "".join(lines)
        self._pending.clear()


def parse_dquoted_text(text: str) -> Word:
    """A string parsed as if it were inside double quotes but without the
    quotes (here-document bodies, arithmetic): ``$`` and backquotes expand."""
    lexer = Lexer(text)
    parts = lexer._read_dquoted(closer="")
    return Word([DQuote(parts)])


def word_from_text(text: str) -> Word:
    """A single word from source text, e.g. a here-document delimiter."""
    lexer = Lexer(text)
    return lexer._read_word()
