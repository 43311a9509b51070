"""Variable substitution: Docker's rules by example, and a property test
against words built together with their meaning."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.dockerfile.substitution import Lexer, SubstitutionError

ENV = {"NAME": "stepbox", "EMPTY": "", "SPACED": "a  b", "X": "x"}
lexer = Lexer()


@pytest.mark.parametrize(
    "word,expected",
    [
        ("$NAME", "stepbox"),
        ("${NAME}", "stepbox"),
        ("${NAME}_suffix", "stepbox_suffix"),
        ("$NAME_suffix", ""),  # the name runs on: NAME_suffix is unset
        ("$UNSET", ""),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),  # ':-' also replaces the empty string
        ("${NAME:-default}", "stepbox"),
        ("${NAME:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${UNSET:+alt}", ""),
        ("${UNSET:-$NAME}", "stepbox"),  # the word is substituted too
        ("${UNSET:-${X:+nested}}", "nested"),
        ("\\$NAME", "$NAME"),  # escaped dollar
        ("'$NAME'", "$NAME"),  # single quotes: literal
        ('"$NAME"', "stepbox"),  # double quotes: substituted
        ('"a \\" b"', 'a " b'),
        ('"a \\n b"', "a \\n b"),  # other escapes stay in double quotes
        ("a\\nb", "anb"),  # outside quotes the escape just escapes
        ("a\\", "a"),  # a trailing escape vanishes
        ("a'b c'\"d\"", "ab cd"),
        ("$", "$"),
        ("$1", ""),
        ("100$", "100$"),
        ("${X}${X}$X", "xxx"),
    ],
)
def test_examples(word, expected):
    assert lexer.process_word(word, ENV) == expected


@pytest.mark.parametrize(
    "word,message",
    [
        ("${}", "bad substitution"),
        ("${:-x}", "bad substitution"),
        ("${NAME", "missing ':'"),  # as Docker says it
        ("${NAME:-x", "missing '}'"),
        ("${NAME:?x}", "unsupported modifier"),
        ("${NAME-x}", "missing ':'"),
        ("'open", "single-quote"),
        ('"open', "double-quote"),
    ],
)
def test_errors(word, message):
    with pytest.raises(SubstitutionError, match=message):
        lexer.process_word(word, ENV)


def test_words_split_on_unquoted_and_substituted_spaces():
    assert lexer.process_words("80 $SPACED", ENV) == ["80", "a", "b"]
    assert lexer.process_words('"80 81" 82', ENV) == ["80 81", "82"]
    assert lexer.process_words("a\\ b c", ENV) == ["a b", "c"]


def test_backtick_escape():
    tick = Lexer("`")
    assert tick.process_word("`$NAME c:\\dir", ENV) == "$NAME c:\\dir"


# ---------------------------------------------------------------- property

NAMES = st.sampled_from(["A", "B", "EMPTY", "UNSET", "_u1"])
SAFE = st.text(st.characters(whitelist_categories=("Ll", "Nd"), whitelist_characters=" -_./:"), max_size=6)


@st.composite
def piece(draw, env, depth=0):
    """A fragment of a word and the text Docker makes of it."""
    kinds = ["literal", "var", "braced", "default", "alt", "single", "double", "escaped"]
    kind = draw(st.sampled_from(kinds if depth < 2 else kinds[:3] + kinds[5:]))
    name = draw(NAMES)
    value = env.get(name, "")
    if kind == "literal":
        text = draw(SAFE)
        # a literal right after "$NAME" could extend the name: keep it separated
        return "".join(c for c in text if not c.isalnum() and c != "_") or "-", "".join(
            c for c in text if not c.isalnum() and c != "_"
        ) or "-"
    if kind == "var":
        return f"${name}", value
    if kind == "braced":
        return "${" + name + "}", value
    if kind in ("default", "alt"):
        inner, meaning = draw(piece(env, depth + 1))
        if "}" in inner or "'" in inner or '"' in inner:
            inner, meaning = "w", "w"
        if kind == "default":
            return "${" + name + ":-" + inner + "}", value or meaning
        return "${" + name + ":+" + inner + "}", meaning if value else ""
    if kind == "single":
        text = draw(SAFE)
        return f"'{text}$X'", f"{text}$X"
    if kind == "double":
        text = draw(SAFE)
        return f'"{text} ${name}"', f"{text} {value}"
    ch = draw(st.sampled_from(["$", "'", '"', "\\", "a"]))
    return "\\" + ch, ch


@given(st.data())
def test_substitution_matches_the_meaning_of_generated_words(data):
    env = data.draw(st.dictionaries(NAMES.filter(lambda n: n != "UNSET"), SAFE, max_size=4))
    env.setdefault("EMPTY", "")
    pieces = data.draw(st.lists(piece(env), min_size=1, max_size=6))
    word = "".join(p[0] for p in pieces)
    expected = "".join(p[1] for p in pieces)
    assert lexer.process_word(word, env) == expected


@given(st.text(max_size=30))
def test_escaping_everything_gives_the_text_back(text):
    escaped = "".join("\\" + c for c in text)
    assert lexer.process_word(escaped, ENV) == text
