"""awk on the simulator against REAL busybox awk.

Hand-picked cases pin busybox's own ways: its parser (``1 " " -1`` is a
subtraction), octal and hex input (``010`` is 8), ``for (k in a)`` in its
hash order, no math library (``^`` is an error), glibc's ``random()``
behind ``rand()``, printf corners; then Hypothesis writes awk programs from
a small grammar and runs them over generated input.
"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "awk 'BEGIN { print -2; print 1 - 1; print 1 \" \" -1; x = 5; print x++ + ++x }'",
    "awk 'BEGIN { print 10%3, -10%3, 7.5%2; print 1e30, 0.1+0.2, 100000*100000, 1/3 }'",
    "awk 'BEGIN { print substr(\"hello\",2,3), substr(\"hello\",0), substr(\"hello\",-1,3), index(\"abc\",\"c\") }'",
    "awk 'BEGIN { a[\"x\"]; a[\"y\"]; a[\"z\"]; a[1]; a[10]; for (k in a) printf \"%s \", k; print \"\" }'",
    "awk 'BEGIN { for (i = 0; i < 600; i++) a[i]; n = 0; for (k in a) if (n++ < 20) printf \"%s \", k; print \"\" }'",
    "awk 'BEGIN { print rand(), rand(); srand(5); print rand(); print srand(7), srand() }' | cut -c1-30",
    "awk 'BEGIN { printf \"%d %5.2f %-4s| %c %c %x %o %e %i %u\\n\", \"3abc\", 3.14159, \"ab\", 65, \"hi\", 255, 8, 12345.678, -3.9, -1 }'",
    "awk 'BEGIN { printf \"%5%|%c|%c|\\n\", \"\", 256; printf \"%ld\\n\", 3 }'",
    "awk 'BEGIN { printf \"%*d\\n\", 3, 4 }'",
    "awk 'BEGIN { print 1==1.0, \"a\"<\"b\", 2<10, \"2\"<\"10\"; $0 = \"a b c\"; print NF, $2; $5 = \"e\"; print; print length }'",
    "echo '010 0x1A 1e3 .5 09 1x' | awk '{ print $1+0, $2+0, $3+0, $4+0, $5+0, $6+0, ($6 < 2) }'",
    "awk 'BEGIN { print 2^3 }'; awk 'BEGIN { print sqrt(4) }'; awk 'BEGIN { x = 1; x ^= 2 }'",
    "awk 'BEGIN { x' ; awk '{ print' ; awk 'BEGIN { print \"a }'; awk 'BEGIN { f() }'; awk 'BEGIN { break }'",
    "echo hi | awk '{ print > \"out\" } END { close(\"out\"); while ((getline l < \"out\") > 0) print \"got\", l }'",
    "awk 'BEGIN { \"echo hello\" | getline x; print x; system(\"echo sys; exit 3\"); print \"b\" | \"cat\"; close(\"cat\") }'",
    "awk 'BEGIN { print system(\"exit 3\"); print \"x\" | \"exit 2\"; print close(\"exit 2\") }'",
    "awk 'function f(a, b) { return a + b } function g(arr) { arr[\"k\"] = 1 } BEGIN { print f(1, 2); g(z); print z[\"k\"] }'",
    "echo 'a,b,c' | awk '{ n = split($0, arr, \",\"); print n, arr[3]; print split(\"\", e), length(arr) }'",
    "echo 'hello world' | awk '{ gsub(/o/, \"0\"); print; sub(/l+/, \"[&]\"); print; gsub(/x*/, \"-\"); print }'",
    "echo 'foo bar' | awk '{ print match($0, /ba/), RSTART, RLENGTH; print match($0, /zz/), RSTART, RLENGTH }'",
    "printf 'a\\n\\nb\\nc\\n\\n\\nd\\n' | awk 'BEGIN { RS = \"\" } { print NR \": \" $0 \"|\" NF }'",
    "printf 'a1b2c\\n' | awk 'BEGIN { RS = \"[0-9]\" } { print NR, $0, RT }'",
    "awk -v 'x=5' -v 'y=a\\tb' 'BEGIN { print x + 1, y }'; awk -F'\\t' '{ print $2 }' <<EOF\na\tb\nEOF",
    "echo a b | awk '{ print NF; NF = 1; print $0; NF = 3; print $0 \"|\" }'",
    "awk 'BEGIN { exit 3 } END { print \"end\" }'; echo $?; awk 'END { exit 4 }' /dev/null; echo $?",
    "printf '1\\n2\\n3\\n4\\n5\\n' | awk 'NR==2, NR==4 { print \"in\", $0 } /5/'",
    "echo 'A b' | awk 'BEGIN { IGNORECASE = 1 } /a/ { print \"match\" } { print ($1 == \"a\") }'",
    "awk '{ print FILENAME, FNR, NR, $0 }' f1 f2 <<EOF\nEOF",
    "awk '{ print }' nosuch; echo $?; awk 'BEGIN { getline l < \"nosuch\"; print (getline l < \"nosuch\") }'",
    "echo x | awk '{ print length(), length }'; echo 'a b' | awk '{ $3 = \"c\"; print; print NF }'",
    "awk 'BEGIN { print substr(\"hello\", 2); print tolower(\"ABC\"), toupper(\"xyz\"); print index(\"\", \"a\") }'",
    "awk 'BEGIN { print and(12, 10), or(12, 10), xor(12, 10), lshift(1, 4), rshift(256, 4), compl(0) }'",
    "awk 'BEGIN { printf \"%s\" }'; awk 'BEGIN { printf \"%c%c\", 228, \"\" }' | od -An -tx1",
    "awk 'BEGIN { x[1] = 1; delete x; print length(x); y = \"s\"; print y[1] }'",
    "awk 'BEGIN { print 1; print 2 > \"/dev/stderr\"; print 3 }'",
    "awk 'BEGIN { OFS = \"-\"; ORS = \"|\\n\"; $0 = \"a b c\"; $1 = $1; print; print 1, 2 }'",
    "awk 'BEGIN { CONVFMT = \"%.2f\"; a = 3.14159; b = a \"\"; print b; OFMT = \"%.1f\"; print a, 10 }'",
    "awk 'BEGIN { getline; print \"got\", $0, NR }' <<EOF\nline1\nEOF",
    "awk 'BEGIN { while ((\"echo a; echo b\" | getline line) > 0) print \"<\" line \">\" }'",
    "seq 3 | awk '{ print | \"sort -r\" }'",
    "awk -f nosuch; awk; echo $?; awk -W x 'BEGIN { print 1 }'",
    "echo 'x' > p.awk; echo 'BEGIN { print \"from file\" }' > p.awk; awk -f p.awk; awk -f p.awk -e 'BEGIN { print 2 }'",
]


@pytest.mark.parametrize("script", CASES)
def test_awk_cases(same, script):
    same(script)


# -- generated programs -------------------------------------------------------------------

number = st.sampled_from(["0", "1", "2", "3", "10", "0.5", "1e3", "-1", "007"])
string = st.sampled_from(['"a"', '"b c"', '""', '"10"', '"x1"', '"2.5"'])
field = st.sampled_from(["$0", "$1", "$2", "$3", "$NF", "NF", "NR"])
var = st.sampled_from(["x", "y", "s"])
element = st.builds(lambda k: f"a[{k}]", st.sampled_from(['"k"', "1", "$1", "x"]))


def _expr(children):
    binary = st.builds(
        lambda a, op, b: f"({a} {op} {b})",
        children,
        st.sampled_from(["+", "-", "*", "<", "==", "!=", ">=", "&&", "||", "~", " "]),
        children,
    )
    call = st.one_of(
        st.builds(lambda a: f"length({a})", children),
        st.builds(lambda a, b: f"substr({a}, {b})", children, number),
        st.builds(lambda a, b, c: f"substr({a}, {b}, {c})", children, number, number),
        st.builds(lambda a, b: f"index({a}, {b})", children, children),
        st.builds(lambda a: f"toupper({a})", children),
        st.builds(lambda a: f"int({a})", children),
        st.builds(lambda a: f'sprintf("%d:%s", {a}, {a})', children),
        st.builds(lambda a, b: f"({a} ? {b} : {a})", children, children),
        st.builds(lambda a: f"!{a}", children),
        st.builds(lambda a: f"-{a}", children),
    )
    return st.one_of(binary, call)


expr = st.recursive(st.one_of(number, string, field, var, element), _expr, max_leaves=4)
lvalue = st.one_of(var, element, st.sampled_from(["$1", "$2", "$4"]))
simple_statement = st.one_of(
    st.builds(lambda e: f"print {e}", expr),
    st.builds(lambda a, b: f"print {a}, {b}", expr, expr),
    st.builds(lambda e: f'printf "%s|%d|%5.2f\\n", {e}, {e}, {e}', expr),
    st.builds(lambda v, e: f"{v} = {e}", lvalue, expr),
    st.builds(lambda v, op, e: f"{v} {op} {e}", lvalue, st.sampled_from(["+=", "-=", "*="]), expr),
    st.builds(lambda v: f"{v}++", lvalue),
    st.builds(lambda e: f"n = split({e}, parts); print n, parts[1]", expr),
    st.builds(lambda r, e: f'gsub(/{r}/, "<&>", {e})', st.sampled_from(["a", "[0-9]+", "b*", "^x"]), lvalue),
    st.just("next"),
    st.just("NF = 2"),
    st.just("delete a"),
)


def _statement(children):
    return st.one_of(
        st.builds(lambda c, a, b: f"if ({c}) {{ {a} }} else {{ {b} }}", expr, children, children),
        st.builds(lambda b: f"for (k9 = 0; k9 < 2; k9++) {{ {b} }}", children),
        st.builds(lambda b: f"for (key in a) {{ {b}; print key }}", children),
    )


statement = st.recursive(simple_statement, _statement, max_leaves=3)
block = st.lists(statement, min_size=1, max_size=3).map(lambda ss: "{ " + "; ".join(ss) + " }")
pattern = st.one_of(
    st.just(""),
    st.just("BEGIN "),
    st.just("END "),
    expr.map(lambda e: e + " "),
    st.sampled_from(["/a/ ", "NR==1, NR==2 ", "$1 > 2 "]),
)
program = st.lists(st.builds(lambda p, b: p + b, pattern, block), min_size=1, max_size=3).map("\n".join)
words = st.sampled_from(["a", "b", "10", "2", "x1", "0", "007", "-3", "1.5", "ab", ""])
lines = st.lists(st.lists(words, max_size=4).map(" ".join), max_size=4).map(
    lambda ls: "".join(line + "\n" for line in ls)
)


@settings(max_examples=60, deadline=None)
@given(program=program, data=lines)
def test_generated_awk_programs(same, program, data):
    same(f"awk {shlex.quote(program)}; echo status $?", stdin=data.encode())
