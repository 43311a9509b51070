"""ar on the simulator against REAL busybox: archives written here (GNU
format: a symbol index, the "//" long-name table, odd sizes padded with
'\\n', deterministic 0644 modes; and broken ones), listed (t, tv),
printed (p), extracted (x, -o, patterns, onto an existing file).
Hypothesis writes archives of generated members and compares listing,
printing and the files made."""

from __future__ import annotations

import pytest
from archive_writers import ar_header, make_ar
from hypothesis import given, settings
from hypothesis import strategies as st

BASIC = make_ar(
    [
        (b"a.txt", b"hello\n" * 30, {}),
        (b"odd", b"xyz", {"mode": b"644", "uid": 1000, "gid": 100}),
        (b"a-very-long-member-name.o", b"long\n", {"mode": b"100755", "mtime": 86400}),
        (b"empty", b"", {"mode": b"100600"}),
        (b"another-long-name-here", b"2\n", {}),
    ],
    symbols=True,
)
FILES = {
    "/work/t.ar": BASIC,
    "/work/trunc.ar": BASIC[:150],
    "/work/magic.ar": b"!<arcx>\n" + BASIC[8:],
    "/work/short": b"!<ar",
    "/work/badnum.ar": make_ar([(b"x", b"1", {"mode": b"64x"})]),
    "/work/spacenum.ar": make_ar([(b"x", b"1", {})]).replace(b"1700000000  ", b" 1700000000 "),
    "/work/badmagic.ar": make_ar([(b"x", b"1", {})]).replace(b"`\n", b"'\n"),
    "/work/nolong.ar": b"!<arch>\n" + ar_header(b"/4", 1) + b"1\n",
    "/work/gnu.ar": make_ar([(b"deb", b"2.0\n", {"mode": b"100644"})]),
}
LS = "ls -ln --full-time . | sed 's/ [0-9-]* [0-9:.]* +0000 / /' | grep -v '^total'"

CASES = [
    "ar t t.ar; echo $?; ar tv t.ar; ar -t t.ar 'a*'; ar tv t.ar odd nosuch; echo $?; ar t gnu.ar; ar vt gnu.ar",
    "ar p t.ar | md5sum; ar p t.ar odd; echo; ar pv t.ar odd empty; echo $?; ar -p t.ar '*long*'",
    "ar x t.ar; echo $?; " + LS + "; cat odd a-very-long-member-name.o; ar x t.ar odd; echo $?; "
    "rm odd; ar xv t.ar odd; echo $?; ar xo t.ar empty; echo $?; mkdir d; cd d; ar xo ../t.ar; " + LS,
    "ar; echo $?; ar t; echo $?; ar tx t.ar; echo $?; ar -z t.ar; echo $?; ar t nosuch.ar; echo $?; "
    "ar o t.ar; echo $?; ar t .; echo $?; ar '' t.ar; echo $?",
    "for f in trunc magic short badnum spacenum badmagic nolong; do ar t $f.ar || ar t $f; echo $?; done; "
    "ar p trunc.ar | wc -c; echo $?; ar x trunc.ar; echo $?; ls",
]


@pytest.mark.parametrize("script", CASES)
def test_ar_cases(same, script):
    same(script, files=FILES)


NAMES = st.sampled_from([b"a", b"b.o", b"x y", b"long-name-of-member.txt", b"c_d", b"member-number-two-long"])
MEMBER = st.tuples(
    NAMES,
    st.binary(max_size=200) | st.sampled_from([b"abc\n" * 40, b"", b"z"]),
    st.fixed_dictionaries(
        {
            "mode": st.sampled_from([b"100644", b"644", b"100755", b"100600", b"100444"]),
            "uid": st.integers(0, 70000),
            "mtime": st.integers(0, 2**31),
        }
    ),
)


@settings(max_examples=25, deadline=None)
@given(members=st.lists(MEMBER, min_size=1, max_size=5, unique_by=lambda m: m[0]), symbols=st.booleans())
def test_generated_archives(same, members, symbols):
    same(
        f"ar tv g.ar; ar p g.ar | md5sum; mkdir o; cd o; ar xo ../g.ar; echo $?; {LS}; "
        "find . -type f | sort | xargs md5sum",
        files={"/work/g.ar": make_ar(members, symbols=symbols)},
    )
