"""The shell's front end on its own: lexer, parser, arithmetic -- no kernel."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.backends.sim.userland.sh_arith import ArithError, evaluate
from stepbox.backends.sim.userland.sh_ast import (
    AndOr,
    Case,
    CmdSub,
    DQuote,
    For,
    FuncDef,
    If,
    Lit,
    Loop,
    Param,
    Redirected,
    SimpleCommand,
    Subshell,
)
from stepbox.backends.sim.userland.sh_builtins import shell_quote
from stepbox.backends.sim.userland.sh_lexer import Lexer, ShellSyntaxError
from stepbox.backends.sim.userland.sh_parser import Parser


def parse(src: str):
    return Parser(src).parse_all()


def first_command(src: str):
    return parse(src).items[0].node.first.commands[0]


def test_lexer_splits_words_and_operators():
    lx = Lexer("echo a>b 2>&1 | x&&y;z\n")
    kinds = []
    while (tok := lx.next_token()).kind != "EOF":
        kinds.append((tok.kind, tok.value))
    assert kinds == [
        ("WORD", "echo"),
        ("WORD", "a"),
        ("OP", ">"),
        ("WORD", "b"),
        ("IO_NUMBER", "2"),
        ("OP", ">&"),
        ("WORD", "1"),
        ("OP", "|"),
        ("WORD", "x"),
        ("OP", "&&"),
        ("WORD", "y"),
        ("OP", ";"),
        ("WORD", "z"),
        ("NEWLINE", "\n"),
    ]


def test_word_parts_remember_quoting():
    cmd = first_command("""echo 'a b'"c$x"\\d ${y:-z} $(ls) $((1+2))""")
    w1 = cmd.words[1].parts
    assert w1[0] == Lit("a b", quoted=True)
    assert isinstance(w1[1], DQuote) and w1[1].parts[1] == Param("x")
    assert w1[2] == Lit("d", quoted=True)
    assert cmd.words[2].parts[0].op == "-" and cmd.words[2].parts[0].colon
    assert cmd.words[3].parts[0] == CmdSub("ls")


def test_assignments_and_redirections():
    cmd = first_command("A=1 B=$x cmd arg >out 2>>err <in")
    assert [a.name for a in cmd.assigns] == ["A", "B"]
    assert [(r.fd, r.op) for r in cmd.redirects] == [(1, ">"), (2, ">>"), (0, "<")]


def test_compound_commands():
    assert isinstance(first_command("if a; then b; elif c; then d; else e; fi"), If)
    assert isinstance(first_command("for i in 1 2; do echo $i; done"), For)
    assert isinstance(first_command("while a; do b; done"), Loop)
    assert isinstance(first_command("case x in a|b) c;; *) d;; esac"), Case)
    assert isinstance(first_command("(a; b)"), Subshell)
    assert isinstance(first_command("{ a; } >f"), Redirected)
    assert isinstance(first_command("f() { a; }"), FuncDef)
    node = parse("a && b || c").items[0].node
    assert isinstance(node, AndOr) and [op for op, _ in node.rest] == ["&&", "||"]


def test_heredoc_body_is_read_at_the_newline():
    cmd = first_command("cat <<EOF; echo after\nline $x\nEOF\n")
    doc = cmd.redirects[0].target
    assert doc.body == "line $x\n" and not doc.quoted


@pytest.mark.parametrize(
    "src, message",
    [
        ("if true; then", 'unexpected end of file (expecting "fi")'),
        ("fi", 'unexpected "fi"'),
        ("echo )", 'unexpected ")"'),
        ("{ }", 'unexpected "}"'),
        ("for 1 in a; do :; done", "bad for loop variable"),
        ("echo 'open", "unterminated quoted string"),
    ],
)
def test_syntax_errors_use_ashs_messages(src, message):
    with pytest.raises(ShellSyntaxError) as e:
        parse(src)
    assert str(e.value) == message


def test_parse_next_is_one_line_at_a_time():
    p = Parser("echo a\nif\n")
    assert isinstance(p.parse_next().items[0].node.first.commands[0], SimpleCommand)
    with pytest.raises(ShellSyntaxError):
        p.parse_next()


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=30))
def test_quoting_round_trips_through_the_lexer(text):
    """Whatever ``shell_quote`` produces lexes back to exactly one word whose
    text is the original -- the property ``set``/``export -p``/``trap``
    output relies on."""
    cmd = first_command("echo " + shell_quote(text) + "\n")
    assert len(cmd.words) == 2
    assert _literal_text(cmd.words[1].parts) == text


def _literal_text(parts) -> str:
    """Quote removal for a word made only of quoted literal text."""
    return "".join(_literal_text(p.parts) if isinstance(p, DQuote) else p.text for p in parts)


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.sampled_from("+-*<>&|^"))
def test_arithmetic_agrees_with_c_semantics(a, b, op):
    py = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "<": int(a < b),
        ">": int(a > b),
        "&": a & b,
        "|": a | b,
        "^": a ^ b,
    }[op]
    assert evaluate(f"{a} {op} ({b})", lambda n: None, lambda n, v: None) == py


@given(st.integers(-1000, 1000), st.integers(-50, 50).filter(bool))
def test_division_truncates_toward_zero(a, b):
    q = evaluate(f"{a} / ({b})", lambda n: None, lambda n, v: None)
    r = evaluate(f"{a} % ({b})", lambda n: None, lambda n, v: None)
    assert q == int(a / b) and q * b + r == a


def test_arithmetic_variables_and_errors():
    env = {"x": "4"}
    assert evaluate("x += 3", env.get, env.__setitem__) == 7
    assert env["x"] == "7"
    with pytest.raises(ArithError, match="divide by zero"):
        evaluate("1/0", env.get, env.__setitem__)
    with pytest.raises(ArithError, match="arithmetic syntax error"):
        evaluate("1+", env.get, env.__setitem__)
