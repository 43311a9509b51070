"""bc on the simulator against REAL busybox 1.35 (Gavin Howard's bc):
cases for the language (scale rules, bases, arrays, functions, control
flow, print and strings, errors) and the -l library busybox carries, and
Hypothesis writing expressions from a small grammar -- numbers with and
without fractions, every operator, scale and obase settings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf '(x=5)\\nx++\\n++x\\nx\\n\"a\\\\nb\"\\n\"\\n\"\\nprint x, \"q\\\\n\", 1.50, \"\\\\n\"\\n-2^2\\n2^-1\\n"
    "scale=3;2^-2\\n.\\nlast\\n0.000\\nscale(0.000)\\n-.5\\nobase=16\\n-10.5\\n255.1\\nobase=20\\n1234.5\\n"
    "obase=10\\nibase=16\\nFF\\nA\\nibase=A\\nZZ\\n1.2.3\\n' | bc; echo $?",
    "echo limits | bc; echo 'define f(x) { return x*2 }\nf(2,3)' | bc; echo $?; echo 'a[-1]=2' | bc; "
    "echo 'a[3]=2; a[3]; length(a[]); x=a[1]+4; x' | bc; echo 'sqrt(-1)' | bc; echo 'define f(x){auto x}' | bc; "
    "echo break | bc; echo '2^0.5' | bc; echo 'scale=-1' | bc; echo 'ibase=1' | bc; echo '1 2' | bc; echo $?; "
    "echo 'if (1) 3 else 4; if (0) 3 else 4; for(i=0;i<3;i++) i; while (i>0) { i-- ; if (i==1) break }; quit; 5' | bc",
    "echo 'scale=5; 1/3; sqrt(2); define f(x) { return x*2 }; f(4); s(1)' | bc; echo $?; "
    "echo 'obase=16; 255; ibase=2; 101' | bc; echo '1/0' | bc; echo $?; echo 'x=' | bc; echo '2^1000' | bc; "
    "echo 'scale=100; sqrt(2); sqrt(1000000); sqrt(4); sqrt(0.25); 7%3; -7%3; 7.5%2; scale=2; 7.5%2; 1.23*4.5678' | bc",
    "echo 's(1); c(1); a(1); l(2); e(1); j(1,2); scale=50; 4*a(1); e(-3); l(0); s(-2)' | bc -l; "
    "echo 'define f(n) { if (n<2) return 1; return n*f(n-1) }; f(30); a[2]=3; define g(x[]) { x[2]=9; return x[2] }; "
    "g(a[]); a[2]; define h() { auto a[]; a[0]=1; return length(a[]) }; h(); length(a[])' | bc",
    # files, -q, long lines, comments, continuation, a string over lines, errors in files
    "printf 'x=3 /* c */ # d\\n x*\\\\\\n 2\\n\"a\\nb\"\\n' > p.bc; bc -q p.bc </dev/null; echo 9 | bc p.bc; "
    "echo '2^64' | BC_LINE_LENGTH=10 bc; echo '2^300' | BC_LINE_LENGTH=x bc | head -1; echo '\"abc' | bc; echo $?; "
    "bc nosuch; echo $?; bc -z; echo $?; echo '1+' | bc; echo 'a+b=1' | bc; echo 'print 1,2' | bc; echo 'halt; 1' | bc; echo '0--1' | bc; "
    "echo '3 == 3; 2 < 1; !0; 1 && 0; 0 || 2; a = 3 < 4; a' | bc",
]


@pytest.mark.parametrize("script", CASES)
def test_bc_cases(same, script):
    same(script)


NUMBER = st.sampled_from(
    ["0", "1", "2", "7", "10", "0.5", "1.25", "3.14159", "100", ".001", "12345.678", "99"]
)


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        number = draw(NUMBER)
        return f"-{number}" if draw(st.booleans()) else number
    op = draw(st.sampled_from(["+", "-", "*", "/", "%", "^", "<", "==", "&&"]))
    left = draw(expressions(depth + 1))
    if op == "^":
        right = draw(st.sampled_from(["0", "1", "2", "3", "-1", "-2", "5"]))
    else:
        right = draw(expressions(depth + 1))
    return f"({left} {op} {right})"


@settings(max_examples=80, deadline=None)
@given(
    exprs=st.lists(expressions(), min_size=1, max_size=4),
    scale=st.sampled_from([0, 1, 3, 10, 25]),
    obase=st.sampled_from([10, 10, 2, 16, 17, 100]),
    with_sqrt=st.booleans(),
)
def test_generated_expressions(same, exprs, scale, obase, with_sqrt):
    lines = [f"scale={scale}", f"obase={obase}"]
    for e in exprs:
        lines.append(e)
        if with_sqrt:
            lines.append(f"sqrt(({e})^2)")
        lines.append(f"length({e}); scale({e})")
    script = "\n".join(lines)
    same(f"bc <<'EOF'\n{script}\nEOF\necho $?")
