"""sed on the simulator against REAL busybox sed (the ``same`` fixture runs
each script under both and compares stdout, stderr and exit status).

Hand-picked cases pin the corners (NUL-terminated lines, a missing last
newline, ``s///g`` with empty matches, REG_NOTBOL, error wording); then
Hypothesis writes sed scripts from a small grammar -- addresses, ranges,
``!``, blocks, every command -- and runs them over generated input.
"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf 'hello\\nworld\\n' | sed 's/o/0/g'",
    "seq 10 | sed -n '3,5p;7q'",
    "seq 5 | sed '2d;$a end'",
    "seq 6 | sed -n '/2/,/4/p'",
    "printf 'a b\\n' | sed -E 's/(a) (b)/\\2 \\1/'",
    "seq 3 | sed 'N;N;s/\\n/,/g'",
    "echo aaa | sed 's/\\<a/X/g'",
    "echo hello | sed 's/l*/X/g'; echo cccd | sed 's/c*/R/g'; echo abc | sed 's/b*/X/2'",
    "seq 3 | sed '1!G;h;$!d'",
    "printf 'x' | sed p",
    "printf 'a\\0b\\0' | sed 's/./X/'",
    "printf 'a\\nb' > f1; printf 'c\\n' > f2; sed p f1 f2",
    "echo ab | sed -E 's/a|ab/X/'",
    "echo x | sed 's/x/[&]/;s//again/'",
    "echo a | sed 'b end; s/a/b/; :end'; echo aaa | sed ':a;s/aa/a/;ta'",
    "echo x | sed 'w out\np'; cat out",
    "seq 2 | sed 'a\\'; seq 3 | sed '2i\\\ninserted'; seq 3 | sed '2c\\\nchanged'",
    "printf 'foo\\nbar\\n' > f; sed -i.bak 's/o/0/' f; cat f f.bak",
    "printf 'foo\\n' > f; chmod 640 f; sed -i -e 's/f/g/' f; cat f; ls -l f | cut -c1-10",
    "echo 'x' | sed -n -e p -e p; echo 'x' | sed --quiet --expression=p",
    "echo 's/x/y/' > s.sed; echo x | sed -f s.sed",
    "echo abc | sed 'y/ab/x/'; echo 'a/b' | sed 'y/\\//|/'",
    "echo Hello | sed 's/hello/bye/I'; echo aXbXc | sed 's/X/-/2'",
    "seq 4 | sed -n '2{p;p}'; seq 5 | sed '2,+2d'; seq 5 | sed '0~2d'",
    "seq 3 | sed 2q; seq 3 | sed -n 2q; seq 3 | sed '$d'; seq 10 | sed -n '$='",
    "echo 'one two' | sed 's/\\(o\\)\\(n\\)/\\2\\1/; s/[[:space:]]/_/'",
    "sed p nosuch; echo $?; sed -i s/a/b/ nosuch; echo $?",
    "echo a | sed; echo $?",
    "echo a | sed 's/a/b'; echo a | sed k; echo a | sed 's/(/x/'; echo a | sed -E 's/(/x/'",
    "echo a | sed 's/a\\{1/x/'; echo a | sed 's/a/b/q'; echo a | sed '2,'; echo a | sed bnowhere",
    "echo a | sed '1,2a x'; echo a | sed '{p'; echo a | sed -n '}'",
    "sed --version",
    "yes | sed 3q",
]


@pytest.mark.parametrize("script", CASES)
def test_sed_cases(same, script):
    same(script)


# -- generated scripts --------------------------------------------------------------------

ALPHABET = "ab c"
regex_atom = st.sampled_from(["a", "b", "c", ".", "[ab]", "[^a]", " ", "\\(a\\)", "x"])
regex = st.builds(
    lambda anchor_start, atoms, stars, anchor_end: (
        ("^" if anchor_start else "")
        + "".join(a + ("*" if s else "") for a, s in zip(atoms, stars, strict=False))
        + ("$" if anchor_end else "")
    ),
    st.booleans(),
    st.lists(regex_atom, min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.booleans(),
)
line_no = st.integers(min_value=1, max_value=6).map(str)
single_address = st.one_of(line_no, st.just("$"), regex.map(lambda r: f"/{r}/"))
address = st.one_of(
    st.just(""),
    single_address,
    st.builds(lambda a, b: f"{a},{b}", single_address, single_address),
    st.builds(lambda a, n: f"{a},+{n}", single_address, st.integers(0, 3)),
)
replacement = st.sampled_from(["X", "&&", "[&]", "", "\\n", "<\\1>"])
simple = st.one_of(
    st.sampled_from(["p", "d", "=", "h", "H", "g", "G", "x", "n", "N", "D", "P", "q"]),
    st.builds(
        lambda r, repl, flags: f"s/{r}/{repl}/{flags}",
        regex,
        replacement,
        st.sampled_from(["", "g", "2", "p", "gp"]),
    ),
    st.just("y/abc/cab/"),
)


def _command(address_text: str, invert: bool, body: str) -> str:
    return f"{address_text}{'!' if invert and address_text else ''}{body}"


command = st.builds(_command, address, st.booleans(), simple)
block = st.builds(
    lambda a, cmds: f"{a}{{{';'.join(cmds)};}}", single_address, st.lists(command, min_size=1, max_size=2)
)


def _ends(script: str) -> bool:
    """False for a script that can make sed (busybox's and GNU's alike) loop forever.

    `D` starts the next cycle *without reading input* while the pattern space still
    holds a newline; a command that puts a newline back without reading (G, g or x
    from a hold space H filled, s with a \\n replacement) then makes the same cycle
    forever -- the real busybox hangs on e.g. `G;D`, which is sed's semantics, not
    something to compare.  Such scripts are left out (generously: any of those
    letters anywhere in a script with D).
    """
    return "D" not in script or not any(part in script for part in ("G", "g", "x", "\\n"))


script = st.lists(st.one_of(command, block), min_size=1, max_size=4).map(";".join).filter(_ends)
text = st.lists(st.text(ALPHABET, max_size=6), min_size=0, max_size=6).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(script=script, data=text, quiet=st.booleans(), newline=st.booleans())
def test_generated_sed_scripts(same, script, data, quiet, newline):
    stdin = (data + ("\n" if newline and data else "")).encode()
    options = "-n " if quiet else ""
    same(f"sed {options}{shlex.quote(script)}; echo status $?", stdin=stdin)


ere = st.lists(
    st.sampled_from(["a", "b", "(a|ab)", "(b|c)*", "a+", "b?", "[a-c]", "(ab){1,2}", "c{2}", "|"]),
    min_size=1,
    max_size=4,
).map("".join)


@settings(max_examples=40, deadline=None)
@given(pattern=ere, data=text)
def test_generated_extended_regexes_match_leftmost_longest(same, pattern, data):
    same(f"sed -E {shlex.quote(f's/{pattern}/[&]/g')}; echo status $?", stdin=data.encode())
