"""cmp, paste, fold, nl, rev, tac, expand, unexpand, strings, dos2unix,
unix2dos, shuf on the simulator against REAL busybox -- hand-picked cases,
then Hypothesis text (tabs, blanks, missing last newlines, NULs) through
each tool with generated options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf 'abc' > a1; printf 'abd' > a2; printf 'ab' > a3; cmp a1 a2; cmp a1 a3; cmp -l a1 a2; cmp a3 a1; echo $?",
    "printf 'abc' > a1; printf 'abd' > a2; cmp -n 2 a1 a2; echo $?; cmp a1 nosuch; echo $?; cmp -s a1 nosuch; echo $?; cmp -n 3 a1 a2",
    "printf 'abc\\nx' > a1; printf 'abc\\ny' > a2; cmp a1 a2 1 1; cmp a1 a1; echo $?; cmp -sl a1 a2; cmp; cmp - - < a1",
    "printf 'a\\nb\\nc\\n' > f1; printf '1\\n2\\n' > f2; paste f1 f2; paste -d: f1 f2 f1; paste -s f1 f2; paste -s -d, f1",
    "printf 'a\\nb\\n' > f1; paste -d '' f1; seq 4 | paste - -; paste -d '\\t\\n' f1 f1 f1; paste nosuch",
    "echo 'aaa bbb ccc ddd' | fold -s -w 5; echo 'aaa bbb ccc ddd' | fold -w 5; printf 'a\\tb\\tc\\n' | fold -w 4",
    "echo abcdef | fold -3; echo x | fold -w 0; printf 'ab\\bcd\\re\\n' | fold -w 2; printf 'ab\\bcd' | fold -b -w 2",
    "printf 'a\\n\\nb' | nl; printf 'a\\n\\nb\\n' | nl -ba -w3 -s: -v10 -i5; printf 'a\\n\\nb\\n' | nl -bn; nl -w x",
    "printf 'abc\\nde' | rev; echo; printf 'a\\nb\\nc' | tac; printf '1\\n2\\n' > x; printf '3\\n4' > y; tac x y; rev nosuch",
    "printf 'a\\tb\\n  \\tc\\n' | expand; printf 'a\\tb\\n' | expand -t 3; printf ' \\ta\\tb\\n' | expand -i",
    "printf '        a  b       c\\n' | unexpand; printf '        a  b       c\\n' | unexpand -a; printf '   x       y\\n' | unexpand -t 4",
    "printf 'ab\\0hello\\0wor\\0abcdefg\\n\\tabcd' | strings; printf 'ab\\0hello\\0worlds' > f; strings -o f; strings -t x -f -n 3 f",
    "printf 'ab\\0hello\\0worlds' > f; strings -n 3 < f; strings -t z f; strings -n 0 f; strings -f < f",
    "printf 'a\\r\\nb\\n' | dos2unix | od -c; printf 'a\\nb\\r\\n' | unix2dos | od -c; printf 'a\\r\\nb\\n' > f; dos2unix f; od -c f",
    "printf 'a\\nb\\n' > f; unix2dos f; od -c f; dos2unix -d f; od -c f; ln -s f l; dos2unix l; od -c f; ls -l l | cut -c1",
    "shuf -i 1-3 | sort; shuf -e a b c | sort; seq 5 | shuf -n 2 | wc -l; shuf -i 5-1; shuf -e a -i 1-2; shuf -z -e a b | tr '\\0' '\\n' | sort",
]


@pytest.mark.parametrize("script", CASES)
def test_text_tool_cases(same, script):
    same(script)


text = st.text(st.sampled_from("ab \t\n\r\x00x1"), max_size=40)
tool = st.sampled_from(
    [
        "fold -w 3", "fold -s -w 4", "fold -b -w 2", "nl", "nl -ba -s. -w2", "rev", "tac", "expand", "expand -t 3",
        "expand -i", "unexpand", "unexpand -a", "unexpand -t 2", "strings -n 2", "strings -o -n 1", "dos2unix",
        "unix2dos", "paste - -", "paste -s -d ,", "cmp - f", "cmp -l - f", "od -c",
    ]
)  # fmt: skip


def _printf(s: str) -> str:
    return "printf '" + "".join(f"\\{ord(c):03o}" for c in s) + "'"


@settings(max_examples=60, deadline=None)
@given(data=text, other=text, cmd=tool)
def test_generated_text_through_tools(same, data, other, cmd):
    same(f"{_printf(other)} > f; {_printf(data)} | {cmd} | od -c; echo status $?")
