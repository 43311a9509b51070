"""Go's text/template, parsed: the lexer and parser, as ``text/template/parse`` does it.

A template is text with *actions* between ``{{`` and ``}}``.  An action is a
*pipeline* -- commands joined by ``|``, each command's value becoming the
last argument of the next -- or a control structure (``if``, ``range``,
``with``, ``else``, ``end``, ``break``, ``continue``).  A command is a function
call (``printf "%d" .X``) or an operand: a field chain (``.State.Pid``), a
variable (``$x``, ``$``), a literal, or a parenthesized pipeline.  ``{{-`` and
``-}}`` trim the white space next to them.

Positions are byte offsets into the template, as Go reports them in errors
(``template: :1:2: executing "" at <.Foo>: ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class TemplateSyntaxError(Exception):
    """A template that does not parse (docker: exit 64)."""


# -- nodes -------------------------------------------------------------------------------


@dataclass
class Node:
    pos: int


@dataclass
class Text(Node):
    text: str


@dataclass
class Field(Node):
    names: list[str]  # .A.B -> ["A", "B"]; "." alone -> []
    text: str


@dataclass
class Variable(Node):
    names: list[str]  # $x.A -> ["$x", "A"]
    text: str


@dataclass
class Literal(Node):
    value: object
    text: str


@dataclass
class Identifier(Node):
    name: str


@dataclass
class Chain(Node):
    node: Node  # (pipeline).A.B
    names: list[str]
    text: str


@dataclass
class Command(Node):
    args: list[Node]

    @property
    def text(self) -> str:
        return " ".join(_text(a) for a in self.args)


@dataclass
class Pipeline(Node):
    decl: list[str]  # variables declared or assigned ($x :=)
    is_assign: bool
    commands: list[Command]

    @property
    def text(self) -> str:
        head = ", ".join(self.decl) + (" = " if self.is_assign else " := ") if self.decl else ""
        return head + " | ".join(c.text for c in self.commands)


@dataclass
class Action(Node):
    pipe: Pipeline


@dataclass
class Branch(Node):
    kind: str  # "if", "range", "with"
    pipe: Pipeline
    body: list[Node]
    else_body: list[Node] | None


@dataclass
class LoopControl(Node):
    kind: str  # "break", "continue"


def _text(node: Node) -> str:
    if isinstance(node, (Field, Variable, Literal, Chain)):
        return node.text
    if isinstance(node, Identifier):
        return node.name
    if isinstance(node, Pipeline):
        return "(" + node.text + ")"
    return "?"


# -- lexing -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<comment>/\*.*?\*/)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)))
  | (?P<variable>\$[A-Za-z0-9_]*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block", "nil"}


@dataclass
class Token:
    kind: str
    value: str
    pos: int


def _lex_action(src: str, start: int, end: int) -> list[Token]:
    tokens = []
    i = start
    while i < end:
        m = _TOKEN.match(src, i, end)
        if not m or m.end() == i:
            ch = src[i]
            raise TemplateSyntaxError(f"template: :{_line(src, i)}: unexpected {ch!r} in command")
        kind = m.lastgroup
        assert kind is not None
        text = m.group()
        if kind == "field" and text != ".":
            # .A.B is one chain of field tokens, each with its own position
            offset = i
            for name in text[1:].split("."):
                tokens.append(Token("field", "." + name, offset))
                offset += len(name) + 1
        elif kind not in ("space", "comment"):
            if kind == "variable" and i + len(text) < end and src[i + len(text)] == ".":
                pass
            tokens.append(Token(kind, text, i))
        i = m.end()
    return tokens


def _line(src: str, pos: int) -> int:
    return src.count("\n", 0, pos) + 1


# -- parsing ------------------------------------------------------------------------------


@dataclass
class _Frame:
    kind: str
    pos: int
    pipe: Pipeline | None
    body: list[Node] = field(default_factory=list)
    else_body: list[Node] | None = None
    in_else: bool = False


def parse(src: str) -> list[Node]:
    """The template's nodes; :class:`TemplateSyntaxError` if it has none."""
    stack: list[_Frame] = [_Frame("root", 0, None)]
    i = 0
    trim_next = False
    while i < len(src):
        start = src.find("{{", i)
        text = src[i:] if start < 0 else src[i:start]
        if (
            start >= 0
            and src.startswith("{{- ", start)
            or start >= 0
            and src[start + 2 : start + 4] in ("-\t", "-\n", "-\r")
        ):
            text = text.rstrip(" \t\r\n")
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if text:
            _append(stack, Text(i, text))
        if start < 0:
            break
        inner = start + 2
        if src[inner : inner + 2] in ("- ", "-\t", "-\n", "-\r"):
            inner += 2
        close = _find_close(src, inner)
        if close < 0:
            raise TemplateSyntaxError(f"template: :{_line(src, start)}: unclosed action")
        end = close
        trim_next = False
        if close >= 2 and src[close - 2 : close] in (" -", "\t-", "\n-", "\r-"):
            end = close - 2
            trim_next = True
        tokens = _lex_action(src, inner, end)
        i = close + 2
        if not tokens:
            raise TemplateSyntaxError(f"template: :{_line(src, start)}: missing value for command")
        _action(src, stack, tokens, inner)
    if len(stack) > 1:
        raise TemplateSyntaxError(f"template: :{_line(src, stack[-1].pos)}: unexpected EOF")
    return stack[0].body


def _find_close(src: str, start: int) -> int:
    """The ``}}`` ending the action (not one inside a string literal)."""
    i = start
    while i < len(src):
        c = src[i]
        if c in "\"`'":
            j = i + 1
            while j < len(src) and src[j] != c:
                if src[j] == "\\" and c != "`":
                    j += 1
                j += 1
            i = j + 1
            continue
        if src.startswith("}}", i):
            return i
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = len(src) if j < 0 else j + 2
            continue
        i += 1
    return -1


def _append(stack: list[_Frame], node: Node) -> None:
    frame = stack[-1]
    (frame.else_body if frame.in_else else frame.body).append(node)  # type: ignore[union-attr]


def _action(src: str, stack: list[_Frame], tokens: list[Token], pos: int) -> None:
    first = tokens[0]
    line = _line(src, first.pos)
    if first.kind == "ident" and first.value in _KEYWORDS and first.value != "nil":
        word = first.value
        rest = tokens[1:]
        if word in ("if", "range", "with"):
            if not rest:
                raise TemplateSyntaxError(f"template: :{line}: missing value for {word}")
            stack.append(_Frame(word, first.pos, _Parser(src, rest).pipeline(allow_decl=True)))
            return
        if word == "else":
            frame = stack[-1]
            if frame.kind == "root" or frame.in_else:
                raise TemplateSyntaxError(f"template: :{line}: unexpected {{{{else}}}}")
            frame.in_else = True
            frame.else_body = []
            if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with"):
                # else if / else with: a nested branch that shares our end
                nested = _Frame(rest[0].value, rest[0].pos, _Parser(src, rest[1:]).pipeline(allow_decl=True))
                nested.kind += "-chained"
                stack.append(nested)
            elif rest:
                raise TemplateSyntaxError(f"template: :{line}: unexpected {rest[0].value!r} in else")
            return
        if word == "end":
            if rest:
                raise TemplateSyntaxError(f"template: :{line}: unexpected {rest[0].value!r} in end")
            while True:
                frame = stack.pop()
                if frame.kind == "root":
                    raise TemplateSyntaxError(f"template: :{line}: unexpected {{{{end}}}}")
                kind = frame.kind.removesuffix("-chained")
                assert frame.pipe is not None
                node = Branch(frame.pos, kind, frame.pipe, frame.body, frame.else_body)
                _append(stack, node)
                if not frame.kind.endswith("-chained"):
                    return
        if word in ("break", "continue"):
            if not any(f.kind == "range" for f in stack):
                raise TemplateSyntaxError(f"template: :{line}: {{{{{word}}}}} outside {{{{range}}}}")
            _append(stack, LoopControl(first.pos, word))
            return
        raise TemplateSyntaxError(f"template: :{line}: {{{{{word}}}}} is not supported by stepbox")
    _append(stack, Action(pos, _Parser(src, tokens).pipeline(allow_decl=True)))


class _Parser:
    def __init__(self, src: str, tokens: list[Token]):
        self.src = src
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> TemplateSyntaxError:
        pos = tok.pos if tok else (self.tokens[-1].pos if self.tokens else 0)
        return TemplateSyntaxError(f"template: :{_line(self.src, pos)}: {message}")

    def pipeline(self, allow_decl: bool, until: str | None = None) -> Pipeline:
        start = self.peek()
        pos = start.pos if start else 0
        decl: list[str] = []
        is_assign = False
        if allow_decl and start is not None and start.kind == "variable":
            j = self.i
            names = [self.tokens[j].value]
            j += 1
            if j < len(self.tokens) and self.tokens[j].kind == "comma" and j + 1 < len(self.tokens):
                names.append(self.tokens[j + 1].value)
                j += 2
            if j < len(self.tokens) and self.tokens[j].kind in ("declare", "assign"):
                decl = names
                is_assign = self.tokens[j].kind == "assign"
                self.i = j + 1
        commands = []
        while True:
            tok = self.peek()
            if tok is None or (until and tok.kind == until):
                break
            commands.append(self.command())
            tok = self.peek()
            if tok is not None and tok.kind == "pipe":
                self.next()
                if self.peek() is None or (until and self.peek().kind == until):  # type: ignore[union-attr]
                    raise self.error("missing command after |")
                continue
            if tok is not None and not (until and tok.kind == until):
                raise self.error(f"unexpected {tok.value!r} in operand", tok)
        if not commands:
            raise self.error("missing value for command")
        if until is None and self.peek() is not None:
            raise self.error(f"unexpected {self.peek().value!r}")  # type: ignore[union-attr]
        return Pipeline(pos, decl, is_assign, commands)

    def command(self) -> Command:
        args: list[Node] = []
        start = self.peek()
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("pipe", "rparen"):
                break
            args.append(self.operand())
        if not args:
            raise self.error("missing value for command", start)
        return Command(args[0].pos, args)

    def operand(self) -> Node:
        tok = self.next()
        node: Node
        if tok.kind == "field":
            if tok.value == ".":
                node = Field(tok.pos, [], ".")
            else:
                names = [tok.value[1:]]
                pos = tok.pos
                while (
                    (nxt := self.peek()) is not None
                    and nxt.kind == "field"
                    and nxt.value != "."
                    and nxt.pos == tok.pos + len(tok.value)
                ):
                    if len(names) == 1:
                        pos = nxt.pos  # Go reports a chain at its second field
                    names.append(nxt.value[1:])
                    tok = self.next()
                node = Field(pos, names, "." + ".".join(names))
            return node
        if tok.kind == "variable":
            names = [tok.value]
            end = tok.pos + len(tok.value)
            while (nxt := self.peek()) is not None and nxt.kind == "field" and nxt.pos == end:
                names.append(nxt.value[1:])
                end += len(nxt.value)
                self.next()
            return Variable(tok.pos, names, ".".join(names))
        if tok.kind == "lparen":
            pipe = self.pipeline(allow_decl=False, until="rparen")
            if self.peek() is None or self.peek().kind != "rparen":  # type: ignore[union-attr]
                raise self.error("unclosed left paren", tok)
            end = self.next().pos + 1
            names = []
            while (
                (nxt := self.peek()) is not None
                and nxt.kind == "field"
                and nxt.value != "."
                and nxt.pos == end
            ):
                names.append(nxt.value[1:])
                end += len(nxt.value)
                self.next()
            if names:
                return Chain(tok.pos, pipe, names, "(" + pipe.text + ")." + ".".join(names))
            return pipe
        if tok.kind == "string":
            return Literal(tok.pos, _unquote(tok.value), tok.value)
        if tok.kind == "raw":
            return Literal(tok.pos, tok.value[1:-1], tok.value)
        if tok.kind == "char":
            return Literal(tok.pos, ord(_unquote('"' + tok.value[1:-1] + '"')), tok.value)
        if tok.kind == "number":
            return Literal(tok.pos, _number(tok.value), tok.value)
        if tok.kind == "ident":
            if tok.value in ("true", "false"):
                return Literal(tok.pos, tok.value == "true", tok.value)
            if tok.value == "nil":
                return Literal(tok.pos, None, "nil")
            return Identifier(tok.pos, tok.value)
        raise self.error(f"unexpected {tok.value!r} in operand", tok)


def _unquote(text: str) -> str:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise TemplateSyntaxError(f"template: :1: bad string syntax: {text}") from None


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    try:
        return int(clean, 0)
    except ValueError:
        return float(clean)
