"""ed on the simulator against REAL busybox ed (busybox's own, much
simplified ed: plain-string search and substitute, worded errors, exit 0).
Fixed scripts cover each command, address form and error; Hypothesis
writes command sequences over a small file."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

FILE = "printf 'one\\ntwo\\nthree\\nfour two\\nfive\\n' > f; "

CASES = [
    # print, number, addresses, ranges, marks, searches
    FILE
    + "printf '1p\\n$p\\n2,4p\\n,p\\n=\\n.=\\n$=\\n/two/p\\n/two/=\\n//p\\n3\\n\\n\\n-\\n-\\n1\\n+2p\\n$-1p\\n2kx\\n'\"'\"'xp\\nl\\n' | ed f; echo rc $?",
    FILE
    + "printf '0p\\n6p\\n3,2p\\n/nine/p\\n//p\\nxp\\nkA\\n'\"'\"'9p\\nzp\\nz\\nz.\\nz-\\n.\\n1.\\nq 1\\n1q\\n' | ed f; echo rc $?",
    # delete, append, insert, change, write, quit
    FILE
    + "printf '2d\\n,p\\n$d\\n1,2d\\n,p\\n1a\\nnew a\\nnew b\\n.\\n0i\\nzero\\n.\\n2c\\nchanged\\n.\\n,p\\nw\\nq\\n' | ed f; echo rc $?; cat f",
    FILE + "printf '1,$d\\np\\na\\nx\\n.\\n,p\\nw g\\nw\\nq\\nq\\n' | ed f; cat f g",
    "printf 'a\\nfirst\\nsecond\\n.\\nw\\nf\\nf new\\nf\\nw\\nfx\\n2w part\\nq\\ny\\n' | ed; echo rc $?; cat new part",
    "printf 'i\\nalpha\\n.\\nq\\nn\\nq\\nyes\\n' | ed -p '> '; echo rc $?",
    # substitute
    FILE
    + "printf 's/o/0/\\n,p\\n,s/o/00/g\\n,p\\n2s/t/T/p\\ns/zz/y/\\ns\\ns o\\ns/a\\ns/w/W/x\\n,s//X/gp\\n1,2s/0/-/gp\\n' | ed f",
    FILE + "printf 's/one/a longer one/p\\n,s/e/E/gp\\n$s/E//g\\n,l\\n' | ed f",
    # files: read, write, errors
    FILE
    + "printf 'r f\\n,p\\n1r f\\n=\\nr\\nrx\\nr /nonexistent\\nf\\nw /no/such/dir\\nw /tmp\\n' | ed; echo rc $?",
    "ed /nonexistent; echo rc $?; mkdir d; ed d </dev/null; echo rc $?",
    "printf 'no newline' > f; printf ',p\\n,l\\na\\nmore\\n.\\nw\\n' | ed f; od -c f",
    "printf 'tab\\there\\001\\177\\n\\200\\377x\\n' > f; printf ',l\\n' | ed f",
    "ed -x; echo rc $?; ed -p; echo rc $?; printf 'p\\nd\\n1\\n' | ed; echo rc $?",
    # busybox's cached current line is one off after an insert: ,p starts at line 2
    "printf 'a\\nb\\nc\\n' > g; printf '2c\\nX\\n.\\n,p\\n=\\n1p\\n' | ed g; printf '1a\\nY\\n.\\n1,3p\\n' | ed g",
    # text until EOF, an insert after a failure: the rest read as commands
    "printf 'a\\nline\\n' | ed; printf '5a\\n1p\\n,p\\n' | ed",
    "printf '%2000s\\n' x | tr ' ' y > f; printf ',p\\n' | ed f | wc -c; printf 'a\\n%2000s\\n.\\n,p\\n' x | ed | wc -l",
]


@pytest.mark.parametrize("script", CASES)
def test_ed_cases(same, script):
    same(script)


WORDS = ["one", "two", "o", "t", "x", ""]
ADDR = st.sampled_from(["", "1", "2", "$", ".", "3", "0", "/o/", "/t/", "$-1", ".+1", "'a", "9"])
ARG = st.sampled_from(WORDS)
COMMAND = st.one_of(
    st.builds(lambda a, c: a + c, ADDR, st.sampled_from(["p", "n", "d", "=", "l", "", "ka", "z", "-"])),
    st.builds(lambda a, b, c: f"{a},{b}{c}", ADDR, ADDR, st.sampled_from(["p", "d", "l", "="])),
    st.builds(lambda a, o, n, f: f"{a}s/{o}/{n}/{f}", ADDR, ARG, ARG, st.sampled_from(["", "g", "p", "gp"])),
    st.builds(lambda a, c, t: f"{a}{c}\n{t}\n.", ADDR, st.sampled_from(["a", "i", "c"]), ARG),
    st.just("w out"),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(COMMAND, max_size=8))
def test_generated_ed_scripts(host, same, commands):
    script = "\n".join(commands + [",p", "w out"]) + "\n"
    script = FILE + f"printf %s {shlex.quote(script)} | ed f; echo rc $?; cat out"
    # busybox's stale current-line pointer can make it free its static list
    # head or walk off the list (SIGABRT, SIGSEGV, or SIGBUS when the stray
    # pointer lands on a misaligned/unmapped address): not copied
    # (SIMPLIFICATIONS.md), so such scripts are left out here
    real = host.sh(script).stdout
    assume(not any(f"rc {crash}" in real for crash in (134, 135, 139)))
    same(script)
