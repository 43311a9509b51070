"""sort on the simulator against REAL busybox sort: hand-picked cases (the
old ``sort -n -k1,1`` sorted as text), then Hypothesis sort keys and
options over generated tables."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf '10 b\\n9 a\\n100 c\\n9 z\\n' | sort -n -k1,1",
    "printf 'b:2\\na:10\\nc:1\\n' | sort -t: -k2,2n; printf 'b 2\\na 10\\nc 1\\n' | sort -k2n",
    "printf 'a b\\na c\\na b\\n' | sort -u; printf 'B\\na\\nb\\nA\\n' | sort -f; printf 'B\\na\\nb\\nA\\n' | sort -fu",
    "printf 'a 1\\nb 1\\nc 0\\n' | sort -s -k2,2n; printf 'a 1\\nb 1\\nc 0\\n' | sort -s -r -k2,2n",
    "printf '1\\n3\\n2\\n' | sort -c; echo $?; printf '1\\n1\\n' | sort -cu; echo $?",
    "printf 'v1.10\\nv1.9\\nv1.2\\nv1.02\\n' | sort -V; printf 'Mar\\nJan\\nfeb\\nxx\\n' | sort -M",
    "printf '1e3\\n0x10\\ninf\\n-2\\nabc\\n' | sort -n; printf 'nan\\n1\\nx\\n-inf\\n' | sort -g",
    "sort nosuch; echo $?; sort -k 0; sort -k1x; sort -k1h; sort -t ab; sort -t a -t b",
    "printf 'b\\na\\n' | sort -o out; cat out; printf ' b\\n a\\nc\\n' | sort -b; printf 'a\\0c\\0b\\0' | sort -z | tr '\\0' '\\n'",
    "printf 'x y z\\nx a b\\n' | sort -k2.2,3.1; printf 'a.b.c\\na.a.d\\n' | sort -t. -k3r; printf 'a b\\n' | sort -k3",
    "printf 'b\\na' | sort; printf '' | sort; printf '\\n\\n' | sort | wc -l",
]


@pytest.mark.parametrize("script", CASES)
def test_sort_cases(same, script):
    same(script)


cell = st.sampled_from(["1", "2", "10", "-1", "0.5", "a", "B", "b", " c", "x1", "", "1e2", "Jan", "feb"])
row = st.lists(cell, min_size=1, max_size=4)
table = st.lists(row, min_size=1, max_size=8)
key_field = st.integers(1, 4)
key = st.builds(
    lambda a, ac, b, bc, fl: (
        f"-k{a}{'.' + str(ac) if ac else ''}{fl}" + (f",{b}{'.' + str(bc) if bc else ''}" if b else "")
    ),
    key_field,
    st.integers(0, 2),
    st.one_of(st.none(), key_field),
    st.integers(0, 2),
    st.sampled_from(["", "n", "r", "b", "f", "nr", "g", "M", "d", "i"]),
)
options = st.lists(
    st.sampled_from(["-n", "-r", "-u", "-s", "-f", "-b", "-g", "-V", "-d"]), max_size=3, unique=True
)


@settings(max_examples=60, deadline=None)
@given(rows=table, keys=st.lists(key, max_size=2), opts=options, sep=st.sampled_from([None, ":"]))
def test_generated_sort_keys(same, rows, keys, opts, sep):
    joiner = sep or " "
    data = "".join(joiner.join(r) + "\n" for r in rows)
    args = opts + keys + ([f"-t{sep}"] if sep else [])
    same(f"sort {' '.join(shlex.quote(a) for a in args)}; echo status $?", stdin=data.encode())
