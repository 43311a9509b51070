"""unzip on the simulator against REAL busybox: archives written here by
Python's zipfile (stored and deflated members, Unix modes, directories,
symlinks, unsafe names), listed (-l, -v, -q, -qq), extracted (-o, -n, -d,
-j, -x, patterns, the replace prompt answered on stdin), to stdout (-p,
-t), from a pipe, and broken.  Hypothesis writes archives of generated
members and compares listing, extraction and the files made."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DATE = (2023, 4, 5, 6, 7, 8)


def make_zip(members, *, comment: bytes = b"") -> bytes:
    """members: (name, data, method, mode) -- data None for a directory,
    a str for a symlink's target; mode None: not made on Unix."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method, mode in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = method
            if mode is None:
                info.create_system = 0
            elif isinstance(data, str):
                info.external_attr = (0o120000 | mode) << 16
            elif data is None:
                info.external_attr = (0o040000 | mode) << 16 | 0x10
            else:
                info.external_attr = (0o100000 | mode) << 16
            payload = data.encode() if isinstance(data, str) else (data or b"")
            z.writestr(info, payload)
        z.comment = comment
    return buf.getvalue()


STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
BASIC = make_zip(
    [
        ("a.txt", b"hello\n" * 50, DEFLATED, 0o644),
        ("d/", None, STORED, 0o750),
        ("d/b", b"x\n", STORED, 0o600),
        ("d/e/f.sh", b"#!/bin/sh\necho f\n", DEFLATED, 0o755),
        ("l", "a.txt", STORED, 0o777),
        ("up", "../a.txt", STORED, 0o777),
        ("dos.txt", b"dos\n", STORED, None),
        ("empty", b"", DEFLATED, 0o644),
    ],
    comment=b"a comment",
)
UNSAFE = make_zip([("/abs", b"1\n", STORED, 0o644), ("x/../../up", b"2\n", STORED, 0o644)])
BZIP2 = make_zip([("big", b"".join(b"%d\n" % i for i in range(3000)), zipfile.ZIP_BZIP2, 0o644)])
FILES = {
    "/work/b2.zip": BZIP2,
    "/work/t.zip": BASIC,
    "/work/u.zip": UNSAFE,
    "/work/bad.zip": BASIC[:200] + BASIC[210:],
}
LS = "ls -lnR --full-time . | sed 's/ [0-9-]* [0-9:.]* +0000 / /' | grep -v '^total'"

CASES = [
    "unzip -l t.zip; echo $?; unzip -v t.zip; unzip -lq t; unzip -lqq t.zip; unzip -vq t.zip 'd/*'; "
    "unzip -l t.zip -x '*.txt' l; unzip -l nosuch; echo $?; unzip; echo $?; unzip -z t.zip; echo $?",
    "unzip t.zip; echo $?; " + LS + "; cat d/e/f.sh; unzip -n t.zip; echo $?; unzip -o -q t.zip; echo $?; "
    "unzip t.zip a.txt </dev/null; echo $?",
    "unzip -d out t.zip 'd/*' dos.txt; echo $?; cd out; "
    + LS
    + "; cd ..; unzip -j -d j t.zip; ls -la j | wc -l; "
    "unzip -d nosuch/deeper t.zip; echo $?; unzip -qd q t.zip -x 'd/*'; ls q",
    "unzip -p t.zip a.txt d/b | md5sum; unzip -p t.zip; echo $?; unzip -t t.zip; echo $?; unzip -qq t.zip; ls; "
    "cat t.zip | unzip -; echo $?; cat t.zip | unzip -l - | tail -2; unzip -v b2.zip; unzip -p b2.zip | md5sum",
    # the prompt, answered on stdin
    "unzip -q t.zip; printf 'n\\ny\\nr\\nnew\\nA\\n' | unzip t.zip a.txt d/b d/e/f.sh empty dos.txt; echo $?; ls; "
    "printf 'q\\nN\\n' | unzip t.zip; echo $?; rm a.txt; mkdir a.txt; unzip -o t.zip a.txt; echo $?",
    "unzip u.zip; echo $?; ls; unzip -l u.zip; unzip bad.zip; echo $?; printf 'PK\\3\\4' > short.zip; unzip short.zip; "
    "echo $?; printf 'junk' > j.zip; unzip j; echo $?; cat j.zip | unzip -; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_unzip_cases(same, script):
    same(script, files=FILES)


NAMES = st.sampled_from(["a", "b", "d/", "d/c", "d/e/", "d/e/f", "x y", "d/g"])
MEMBER = st.tuples(
    NAMES,
    st.binary(max_size=300) | st.sampled_from([b"abc\n" * 40, b""]),
    st.sampled_from([STORED, DEFLATED]),
    st.sampled_from([0o644, 0o600, 0o755, None]),
)


@settings(max_examples=40, deadline=None)
@given(
    members=st.lists(MEMBER, min_size=1, max_size=6, unique_by=lambda m: m[0]),
    flags=st.sampled_from(["", "-o", "-j -o"]),
)
def test_generated_archives(same, members, flags):
    members = [(n, None if n.endswith("/") else d, m, mode) for n, d, m, mode in members]
    files = {"/work/g.zip": make_zip(members)}
    same(
        f"unzip -v g.zip; unzip -l g.zip; unzip {flags} -d o g.zip; echo $?; cd o && {LS} && find . -type f | sort | xargs md5sum",
        files=files,
    )
