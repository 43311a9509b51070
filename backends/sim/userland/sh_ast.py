"""The shell's syntax tree: what the parser builds and the evaluator walks.

Two layers, as in the POSIX grammar:

* **words** -- a :class:`Word` is a list of parts: literal text, quoted
  text, ``$name``/``${...}``, ``$(...)``, ``$((...))``.  Keeping the parts
  (instead of one string) is what lets expansion know which characters were
  quoted: quoted text is neither split into fields nor globbed.
* **commands** -- simple commands, pipelines, ``&&``/``||`` lists, and the
  compound commands (``if``, ``for``, ``case``, ``{ }``, ``( )``, functions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# -- words ------------------------------------------------------------------


@dataclass
class Lit:
    """Literal text.  ``quoted`` text came from '...', "..." or a backslash."""

    text: str
    quoted: bool = False


@dataclass
class DQuote:
    """A double-quoted region: its expansions are not split or globbed, and
    ``"$@"`` makes one field per positional parameter."""

    parts: list[Part]


@dataclass
class Param:
    """``$name`` or ``${name<op>arg}``.  ``op`` is one of "" (plain), "-",
    "=", "+", "?" (with ``colon`` for the ``:-`` forms), "#", "##", "%",
    "%%", or "len" for ``${#name}``."""

    name: str
    op: str = ""
    arg: Word | None = None
    colon: bool = False


@dataclass
class CmdSub:
    """``$(...)`` or backquotes; ``source`` is parsed when expanded."""

    source: str


@dataclass
class Arith:
    """``$((...))``: the inside is expanded like a double-quoted string, then
    evaluated as an arithmetic expression."""

    expr: Word


@dataclass
class Tilde:
    """A leading ``~`` or ``~user``."""

    user: str = ""


Part = Lit | DQuote | Param | CmdSub | Arith | Tilde


@dataclass
class Word:
    parts: list[Part] = field(default_factory=list)

    def literal(self) -> str | None:
        """The word's text if it is all unquoted literal (keywords, names)."""
        if all(isinstance(p, Lit) and not p.quoted for p in self.parts):
            return "".join(p.text for p in self.parts)  # type: ignore[union-attr]
        return None

    def has_quotes(self) -> bool:
        return any(isinstance(p, DQuote) or (isinstance(p, Lit) and p.quoted) for p in self.parts)


# -- redirections -----------------------------------------------------------


@dataclass
class HereDoc:
    delimiter: str
    quoted: bool  # quoted delimiter: the body is taken literally
    strip_tabs: bool  # <<- strips leading tabs
    body: str = ""  # filled in by the lexer when it reaches the newline


@dataclass
class Redirect:
    fd: int  # the fd redirected (defaulted by the parser)
    op: str  # "<", ">", ">>", ">|", "<>", "<&", ">&", "<<"
    target: Word | HereDoc


# -- commands ---------------------------------------------------------------


@dataclass
class Assign:
    name: str
    value: Word


@dataclass
class SimpleCommand:
    assigns: list[Assign] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 0


@dataclass
class Pipeline:
    commands: list[Command]
    negate: bool = False


@dataclass
class AndOr:
    """``first && a || b ...``: ``rest`` is a list of (op, pipeline)."""

    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)


@dataclass
class ListItem:
    node: AndOr
    background: bool = False


@dataclass
class CommandList:
    items: list[ListItem] = field(default_factory=list)


@dataclass
class BraceGroup:
    body: CommandList


@dataclass
class Subshell:
    body: CommandList


@dataclass
class If:
    clauses: list[tuple[CommandList, CommandList]]  # (condition, then-body)
    else_body: CommandList | None = None


@dataclass
class For:
    var: str
    words: list[Word] | None  # None: "$@"
    body: CommandList


@dataclass
class Loop:
    cond: CommandList
    body: CommandList
    until: bool = False


@dataclass
class CaseItem:
    patterns: list[Word]
    body: CommandList | None


@dataclass
class Case:
    word: Word
    items: list[CaseItem]


@dataclass
class FuncDef:
    name: str
    body: Command


@dataclass
class Redirected:
    """A compound command with redirections after it (``{ ...; } >f``)."""

    node: Command
    redirects: list[Redirect]


Command = SimpleCommand | BraceGroup | Subshell | If | For | Loop | Case | FuncDef | Redirected
