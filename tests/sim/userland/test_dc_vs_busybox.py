"""dc on the simulator against REAL busybox 1.35: cases for the stack,
registers, arrays, macros and conditionals, bases, printing and errors,
and Hypothesis writing RPN programs over the arithmetic commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "echo '2 3 + p 5 k 1 3 / p 2 v p [abc] p f' | dc; echo '_5 p 1 0 / p' | dc; echo $?; echo p | dc; echo $?",
    "echo '3 4 r f c f z p 2 sa la la * p lb p 5 Sx 6 Sx Lx p Lx p Lx p' | dc; echo $?; "
    "echo '[1 p]x 10 o 255 p 16 o 255 p 16 i FF p A p' | dc",
    "echo '1 2 >a' | dc; echo $?; echo '[yes]p sa 2 1 <a 3 2 =a 1 1 =a 1 2 !=a 2 1 !<a' | dc; "
    "echo '7 3 ~ f 2 10 7 | p 4 K p I p O p 12.345 X p Z p' | dc",
    "echo '[abc]P 65 P 10 P 3 n 1 2 3 4 5 6 7 q p' | dc; echo x | dc; echo $?; dc -e '2 3 *p' -e p; "
    "echo '[q]sq 1 2 3 [lqx]x p' | dc; echo '2 100 ^p _2 3^p 2 _1^p 3 k 2 _2 ^ p' | dc; "
    "echo '1 2 3 4 :a 4 ;a p 2 ;a p' | dc; echo '[a\\nb]p' | dc; echo '[]p' | dc | od -c",
    "echo '2 1000 ^ p' | dc; echo '2 300 ^ p' | DC_LINE_LENGTH=20 dc; printf '1 2 + p\\n' > s.dc; dc s.dc; "
    "dc -f s.dc -e '4 p'; dc nosuch; echo $?; dc -z; echo $?; echo '# c\\n 9 p' | dc; "
    "echo '[la 1 + d sa p la 5 >b]sb 0 sa lbx' | dc; echo '3 [2 Q]x 4 p' | dc; echo '0 k 2 v p 1.5 X p 20 k 2 v p' | dc",
]


@pytest.mark.parametrize("script", CASES)
def test_dc_cases(same, script):
    same(script)


NUMBER = st.sampled_from(
    ["0", "1", "2", "7", "10", ".5", "1.25", "3.14159", "_3", "_0.5", "100", "12345.678"]
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(
        st.one_of(
            NUMBER, st.sampled_from(["+", "-", "*", "/", "%", "~", "d", "r", "v", "p", "f", "z", "X", "Z"])
        ),
        max_size=14,
    ),
    scale=st.sampled_from(["0", "2", "10"]),
    obase=st.sampled_from(["10", "16", "2", "30"]),
)
def test_generated_programs(same, items, scale, obase):
    program = f"{scale} k {obase} o " + " ".join(items) + " f"
    same(f"echo '{program}' | dc; echo $?")
