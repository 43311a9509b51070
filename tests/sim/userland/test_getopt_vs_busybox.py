"""getopt on the simulator against REAL busybox (whose parsing is glibc's
getopt_long): cases for its own options, the quoting, the orderings and
the messages, and Hypothesis writing option strings, long options and
command lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "getopt; echo $?; getopt -o ab: -- -a -b x y; getopt ab: -a -b x y; getopt -x; echo $?; getopt -T; echo $?; "
    "getopt -o '' -- ; getopt -o; echo $?; getopt -- ; echo $?; getopt -q; echo $?",
    "getopt -o a -l alpha,beta: -n prog -- --al --beta=2 --bet 3 --gamma -z; echo $?; "
    "getopt -o a -l 'alpha beta:,gamma::' -- --gamma --gamma=1 --alpha=x --beta; echo $?",
    "getopt -s foo -o a -- -a; getopt -s tcsh -o a: -- -a \"x y!\" \"it's\"; getopt -s csh -o a -- \"$(printf 'n\\nl')\"; "
    "getopt -s bash -u -o a: -- -a 'x y' z; GETOPT_COMPATIBLE=1 getopt; GETOPT_COMPATIBLE=1 getopt -o a -- -a b",
    "getopt -l 'a,:' -o '' -- x; echo $?; getopt --foo; echo $?; getopt --options=ab --name=n -- -c; "
    "getopt --longoptions verbose,version -o v -- --ver --verb; getopt -l verbose,version: -o v -- --ver",
    "getopt -o +ab -- -a x -b; getopt -o -ab -- -a x -b -- y; POSIXLY_CORRECT=1 getopt -o ab -- -a x -b; "
    "getopt -o :a: -- -a; echo $?; getopt -o a: -- -a; echo $?; getopt -o a:: -- -a x -ay; getopt -o 'a;:' -- -';' -:",
    "getopt -a -o ab -l add,bar: -- -add -bar 1 -b -ab -c -x; echo $?; getopt -a -l ab,ac -o '' -- -a; "
    "getopt -o W\\;a -l foo,bar: -- -W foo -Wbar=2 -W; getopt -o W\\; -- -W foo; getopt -q -o a -- -b -a --x",
    "getopt -Q -o a -- -a x; echo $?; getopt -Q -o a -- -b; echo $?; getopt -n '' -o a -- -b; "
    "getopt -o a -l all -- - -- -a; getopt -o a -- a -a -- -a; getopt -n x -n y -o a -- -z",
    # option '-' with an argument, after an ordering mark: busybox finds the mark
    "getopt -o '--:' -- --xy; echo $?; getopt -o '-:' -- --xy; echo $?; getopt -o '+-:' -- --xy; getopt -o ':-' -- -x",
]


@pytest.mark.parametrize("script", CASES)
def test_getopt_cases(same, script):
    same(script)


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


SHORT = st.text(alphabet="abcW:;+-", max_size=6)
LONG = st.lists(st.sampled_from(["all", "alpha", "al:", "beta:", "bet::", "b", "x", "xy:"]), max_size=3).map(
    ",".join
)
ARGS = st.lists(
    st.sampled_from(
        ["-a", "-b", "-ab", "-ba", "-c", "-", "--", "x", "-W", "al", "--al", "--all", "--alpha=1", "--be", "--bet=2",
         "--b", "-al", "-x", "--xy", "--x", "it's", "a b", "-bx"]
    ),
    max_size=6,
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(short=SHORT, long=LONG, args=ARGS, mode=st.sampled_from(["", "-a", "-q", "-u", "-s tcsh", "-Q"]))
def test_generated_command_lines(same, short, long, args, mode):
    long_flag = f"-l {_quoted(long)}" if long else ""
    same(f"getopt {mode} -o {_quoted(short)} {long_flag} -- {' '.join(map(_quoted, args))}; echo $?")
