"""diff on the simulator against REAL busybox: cases for options, errors,
stdin and directories, and Hypothesis writing pairs of files from a few
lines (so that lines repeat, as the LCS search and its hunks are most
particular about) with every option that changes how lines compare."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf 'a\\nb\\nc\\n' > f1; printf 'a\\nB\\nc\\nd' > f2; diff f1 f2; echo $?; diff f1 f1; echo $?; "
    "diff f1 nosuch; echo $?; diff f1; echo $?; mkdir dd; diff f1 dd; echo $?; cp f1 dd; diff f1 dd; echo $?; "
    "diff -q f1 f2; diff -s f1 f1; cp f1 f3; diff -s f1 f3; printf 'a\\0' > bin; diff f1 bin; echo $?; diff -a f1 bin",
    "printf 'x\\ny\\n' | diff - f1; echo $?; diff - - < f1; echo $?; diff -s - - < f1; mkdir d; diff - d < f1; "
    "echo $?; diff -L one -L two f1 f3; diff -L one -L two -L three f1 /dev/null; diff -U 0 f1 /dev/null; "
    "diff -U x f1 f1; echo $?; diff -U1 --label=L f1 /dev/null; diff --bogus f1 f1; echo $?",
    "printf 'a b\\n\\tc\\n' > s1; printf 'a  b \\n        c\\n' > s2; diff s1 s2; diff -b s1 s2; echo $?; "
    "diff -w s1 s2; echo $?; diff -t s1 s2; diff -T s1 s2; printf 'A B\\n' > u; diff -i u s1 | head -3; "
    "printf '\\n\\nx\\n' > e1; printf 'x\\n' > e2; diff -B e1 e2; echo $?; diff -N e1 nosuch; diff -N nosuch e1",
    "mkdir -p a/sub b/sub a/only b/x; echo 1 > a/f; echo 2 > b/f; echo s > a/sub/s; echo t > b/sub/s; "
    "echo o > a/o; echo p > b/p; echo same > a/same; cp a/same b/; mkdir a/x; diff a b; echo $?; "
    "diff -r a b; echo $?; diff -rN a b; echo $?; diff -q a b; diff -rs a b; diff -S p a b; diff -r a/ b/",
    # classes of hundreds of equal lines: the search gives up after 256 tries per line (not with -d)
    "yes a | head -700 > y1; { yes a | head -300; echo b; yes a | head -400; } > y2; diff y1 y2; "
    "awk '{ print NR % 7 }' y1 > m1; awk '{ print NR % 5 }' y1 > m2; diff m1 m2 | md5sum; diff -d m1 m2 | md5sum; "
    "diff -U 1 m1 m2 | wc -l",
]


@pytest.mark.parametrize("script", CASES)
def test_diff_cases(same, script):
    same(script)


LINES = st.lists(st.sampled_from(["a", "b", "c", "a b", "a  b", "A", "", " ", "\tx", "d"]), max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    old=LINES,
    new=LINES,
    old_eol=st.booleans(),
    new_eol=st.booleans(),
    flags=st.sampled_from(
        ["", "-U 0", "-U 1", "-b", "-w", "-i", "-B", "-d", "-t", "-T", "-q", "-s", "-bi -U 2"]
    ),
)
def test_generated_file_pairs(same, old, new, old_eol, new_eol, flags):
    if "-w" in flags:
        # Under -w a blank line hashes to 0, and when the changed part of the new
        # file is only such lines busybox reads past its arrays and prints
        # garbage (SIMPLIFICATIONS.md): blank lines stay out of -w's inputs.
        old, new = ([line for line in lines if line.strip()] for lines in (old, new))
    files = {
        "/work/old": ("\n".join(old) + ("\n" if old and old_eol else "")).encode(),
        "/work/new": ("\n".join(new) + ("\n" if new and new_eol else "")).encode(),
    }
    same(f"diff {flags} old new; echo $?", files=files)
