"""Shell parser: tokens -> the syntax tree of :mod:`.sh_ast`.

A recursive-descent parser for the POSIX shell grammar (the part of it ash
supports without job control).  Like ash, it parses one *complete command*
(a line) at a time -- :meth:`Parser.parse_next` -- so that ``echo a`` on line
one runs before a syntax error on line two is found.

Error messages are ash's: ``syntax error: unexpected "fi"``,
``syntax error: unexpected end of file (expecting "done")``.
"""

from __future__ import annotations

from .sh_ast import (
    AndOr,
    Assign,
    BraceGroup,
    Case,
    CaseItem,
    Command,
    CommandList,
    DQuote,
    For,
    FuncDef,
    HereDoc,
    If,
    ListItem,
    Lit,
    Loop,
    Param,
    Pipeline,
    Redirect,
    Redirected,
    SimpleCommand,
    Subshell,
    Word,
)
from .sh_lexer import Lexer, ShellSyntaxError, Token, is_name

REDIRECT_OPS = {"<", ">", ">>", ">|", "<>", "<&", ">&", "<<", "<<-"}
RESERVED = {
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "do",
    "done",
    "case",
    "esac",
    "while",
    "until",
    "for",
    "{",
    "}",
    "!",
    "in",
}
# reserved words that cannot start a command
_CLOSERS = {"then", "else", "elif", "fi", "do", "done", "esac", "}"}


class Parser:
    def __init__(self, src: str, first_line: int = 1) -> None:
        self.lexer = Lexer(src, first_line)
        self._peeked: Token | None = None
        # a syntax error found while looking ahead, reported when reached
        self.deferred_error: ShellSyntaxError | None = None

    # -- token plumbing ---------------------------------------------------------
    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self.lexer.next_token()
        return self._peeked

    def advance(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    @staticmethod
    def _kw(tok: Token) -> str | None:
        if tok.kind == "WORD" and tok.word is not None:
            lit = tok.word.literal()
            if lit in RESERVED:
                return lit
        return None

    def _is_kw(self, name: str) -> bool:
        return self._kw(self.peek()) == name

    def _is_op(self, op: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.value == op

    def skip_newlines(self) -> None:
        while self.peek().kind == "NEWLINE":
            self.advance()

    @staticmethod
    def describe(tok: Token, keywords: bool = True) -> str:
        """ash's tokname(): operators and reserved words quoted, any other
        word just "word" (so is a reserved word where none is expected)."""
        if tok.kind == "EOF":
            return "end of file"
        if tok.kind == "NEWLINE":
            return "newline"
        if tok.kind == "WORD" and not (keywords and Parser._kw(tok)):
            return "word"
        return f'"{tok.value}"'

    def unexpected(self, expecting: str | None = None, keywords: bool = True) -> ShellSyntaxError:
        msg = f"unexpected {self.describe(self.peek(), keywords)}"
        if expecting:
            msg += f" (expecting {expecting})"
        return ShellSyntaxError(msg)

    def expect_kw(self, name: str) -> None:
        if not self._is_kw(name):
            raise self.unexpected(f'"{name}"')
        self.advance()

    # -- entry points -----------------------------------------------------------
    @property
    def line(self) -> int:
        return self.lexer.line

    def parse_next(self) -> CommandList | None:
        """The next complete command (up to a newline), or None at EOF."""
        if self.deferred_error is not None:
            error, self.deferred_error = self.deferred_error, None
            raise error
        self.skip_newlines()
        if self.peek().kind == "EOF":
            return None
        result = CommandList()
        while True:
            node = self.parse_and_or()
            tok = self.peek()
            if tok.kind == "OP" and tok.value in (";", "&"):
                self.advance()
                result.items.append(ListItem(node, tok.value == "&"))
                if self.peek().kind in ("NEWLINE", "EOF"):
                    break
                continue
            result.items.append(ListItem(node))
            if tok.kind in ("NEWLINE", "EOF"):
                break
            raise self.unexpected()
        if self.peek().kind == "NEWLINE":
            self.advance()
        return result

    def parse_all(self) -> CommandList:
        whole = CommandList()
        while (part := self.parse_next()) is not None:
            whole.items.extend(part.items)
        return whole

    # -- lists --------------------------------------------------------------------
    def parse_list(self, expecting: str | None = None) -> CommandList:
        """A compound list: commands separated by ; & or newlines, ending
        before a reserved word that closes it, ``)`` or ``;;``."""
        result = CommandList()
        self.skip_newlines()
        while True:
            tok = self.peek()
            if (
                tok.kind == "EOF"
                or self._kw(tok) in _CLOSERS
                or (tok.kind == "OP" and tok.value in (")", ";;"))
            ):
                break
            node = self.parse_and_or()
            tok = self.peek()
            if tok.kind == "OP" and tok.value in (";", "&"):
                self.advance()
                result.items.append(ListItem(node, tok.value == "&"))
                self.skip_newlines()
            elif tok.kind == "NEWLINE":
                result.items.append(ListItem(node))
                self.skip_newlines()
            else:
                result.items.append(ListItem(node))
                break
        if not result.items:
            raise self.unexpected(expecting if self.peek().kind == "EOF" else None)
        return result

    def parse_and_or(self) -> AndOr:
        node = AndOr(self.parse_pipeline())
        while self.peek().kind == "OP" and self.peek().value in ("&&", "||"):
            op = self.advance().value
            self.skip_newlines()
            node.rest.append((op, self.parse_pipeline()))
        return node

    def parse_pipeline(self) -> Pipeline:
        negate = False
        if self._is_kw("!"):
            self.advance()
            negate = True
        pipe = Pipeline([self.parse_command()], negate)
        while self._is_op("|"):
            self.advance()
            self.skip_newlines()
            pipe.commands.append(self.parse_command())
        return pipe

    # -- commands -------------------------------------------------------------------
    def parse_command(self) -> Command:
        tok = self.peek()
        kw = self._kw(tok)
        node: Command
        if kw == "{":
            self.advance()
            body = self.parse_list('"}"')
            self.expect_kw("}")
            node = BraceGroup(body)
        elif kw == "if":
            node = self.parse_if()
        elif kw in ("while", "until"):
            self.advance()
            cond = self.parse_list('"do"')
            self.expect_kw("do")
            body = self.parse_list('"done"')
            self.expect_kw("done")
            node = Loop(cond, body, until=(kw == "until"))
        elif kw == "for":
            node = self.parse_for()
        elif kw == "case":
            node = self.parse_case()
        elif kw in _CLOSERS:
            raise self.unexpected()
        elif tok.kind == "OP" and tok.value == "(":
            self.advance()
            body = self.parse_list('")"')
            if not self._is_op(")"):
                raise self.unexpected('")"')
            self.advance()
            node = Subshell(body)
        else:
            return self.parse_simple()
        redirects = self.parse_redirects()
        return Redirected(node, redirects) if redirects else node

    def parse_if(self) -> If:
        self.advance()
        clauses = []
        cond = self.parse_list('"then"')
        self.expect_kw("then")
        clauses.append((cond, self.parse_list('"fi"')))
        else_body = None
        while True:
            if self._is_kw("elif"):
                self.advance()
                cond = self.parse_list('"then"')
                self.expect_kw("then")
                clauses.append((cond, self.parse_list('"fi"')))
            elif self._is_kw("else"):
                self.advance()
                else_body = self.parse_list('"fi"')
            else:
                break
        self.expect_kw("fi")
        return If(clauses, else_body)

    def parse_for(self) -> For:
        self.advance()
        tok = self.advance()
        name = tok.word.literal() if tok.kind == "WORD" and tok.word else None
        if not name or not is_name(name):
            raise ShellSyntaxError("bad for loop variable")
        words: list[Word] | None = None
        self.skip_newlines()
        if self._is_kw("in"):
            self.advance()
            words = []
            while self.peek().kind == "WORD":
                words.append(self.advance().word)  # type: ignore[arg-type]
            if self._is_op(";"):
                self.advance()
            elif self.peek().kind != "NEWLINE":
                raise self.unexpected()
        elif self._is_op(";"):
            self.advance()
        self.skip_newlines()
        self.expect_kw("do")
        body = self.parse_list('"done"')
        self.expect_kw("done")
        return For(name, words, body)

    def parse_case(self) -> Case:
        self.advance()
        tok = self.advance()
        if tok.kind != "WORD":
            self._peeked = tok
            raise self.unexpected("word")
        subject = tok.word
        self.skip_newlines()
        self.expect_kw("in")
        self.skip_newlines()
        items: list[CaseItem] = []
        while not self._is_kw("esac"):
            if self._is_op("("):
                self.advance()
            patterns = []
            while True:
                ptok = self.advance()
                if ptok.kind != "WORD":
                    self._peeked = ptok
                    raise self.unexpected("word")
                patterns.append(ptok.word)
                if self._is_op("|"):
                    self.advance()
                    continue
                break
            if not self._is_op(")"):
                raise self.unexpected('")"')
            self.advance()
            self.skip_newlines()
            body = None
            if not self._is_op(";;") and not self._is_kw("esac"):
                body = self.parse_list('"esac"')
            items.append(CaseItem(patterns, body))  # type: ignore[arg-type]
            if self._is_op(";;"):
                self.advance()
                self.skip_newlines()
            elif not self._is_kw("esac"):
                raise self.unexpected('"esac"')
        self.advance()
        return Case(subject, items)  # type: ignore[arg-type]

    def parse_redirects(self) -> list[Redirect]:
        redirects = []
        while True:
            tok = self.peek()
            if tok.kind == "IO_NUMBER":
                self.advance()
                redirects.append(self.parse_redirect(int(tok.value)))
            elif tok.kind == "OP" and tok.value in REDIRECT_OPS:
                redirects.append(self.parse_redirect(None))
            else:
                return redirects

    def parse_redirect(self, fd: int | None) -> Redirect:
        op = self.advance().value
        if op not in REDIRECT_OPS:
            self._peeked = None
            raise ShellSyntaxError(f'unexpected "{op}"')
        target_tok = self.advance()
        if target_tok.kind != "WORD":
            self._peeked = target_tok
            raise self.unexpected()
        if fd is None:
            fd = 0 if op in ("<", "<&", "<>", "<<", "<<-") else 1
        if op in ("<<", "<<-"):
            word = target_tok.word
            assert word is not None
            doc = HereDoc(delimiter_text(word), word.has_quotes(), op == "<<-")
            self.lexer.add_heredoc(doc)
            return Redirect(fd, "<<", doc)
        return Redirect(fd, op, target_tok.word)  # type: ignore[arg-type]

    def parse_simple(self) -> Command:
        cmd = SimpleCommand(line=self.peek().line)
        while True:
            tok = self.peek()
            if tok.kind == "IO_NUMBER" or (tok.kind == "OP" and tok.value in REDIRECT_OPS):
                cmd.redirects.extend(self.parse_redirects())
            elif tok.kind == "WORD":
                self.advance()
                assert tok.word is not None
                assign = None if cmd.words else as_assignment(tok.word)
                if assign:
                    cmd.assigns.append(assign)
                    continue
                if not cmd.words and not cmd.assigns and not cmd.redirects and self._is_op("("):
                    return self.parse_funcdef(tok)
                cmd.words.append(tok.word)
            else:
                break
        if not (cmd.words or cmd.assigns or cmd.redirects):
            raise self.unexpected()
        return cmd

    def parse_funcdef(self, name_tok: Token) -> FuncDef:
        name = name_tok.word.literal() if name_tok.word else None
        self.advance()  # (
        if not self._is_op(")"):
            raise self.unexpected('")"', keywords=False)
        self.advance()
        if not name or not is_name(name):
            raise ShellSyntaxError("bad function name")
        self.skip_newlines()
        return FuncDef(name, self.parse_command())


def as_assignment(word: Word) -> Assign | None:
    """``NAME=value`` if the word starts with an unquoted ``NAME=``."""
    first = word.parts[0] if word.parts else None
    if not isinstance(first, Lit) or first.quoted or "=" not in first.text:
        return None
    name, _, rest = first.text.partition("=")
    if not is_name(name):
        return None
    parts = ([Lit(rest)] if rest else []) + list(word.parts[1:])
    return Assign(name, Word(parts))


def delimiter_text(word: Word) -> str:
    """A here-document delimiter after quote removal."""
    out = []
    for part in word.parts:
        if isinstance(part, Lit):
            out.append(part.text)
        elif isinstance(part, DQuote):
            out.append(delimiter_text(Word(part.parts)))
        elif isinstance(part, Param):
            out.append("$" + part.name)
    return "".join(out)
