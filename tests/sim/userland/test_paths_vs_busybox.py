"""realpath, readlink, mktemp, truncate, fallocate, link, unlink, mknod,
mkfifo, shred, sync on the simulator against REAL busybox; Hypothesis
builds symlink mazes for realpath and readlink -f."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "mkdir -p d/e; touch d/f; ln -s f d/l; ln -s nosuch d/dang; ln -s /work/d d/abs; ln -s loop d/loop2; "
    "ln -s loop2 d/loop; realpath d d/e d/f d/l d/dang d/abs/e d/../d/./e/ / . .. d/f/x d/nosuch d/nosuch/x "
    "d/loop d/f/; echo $?; realpath; realpath //work/d/ ///",
    "mkdir -p d; touch d/f; ln -s f d/l; ln -s nosuch d/dang; readlink d/l; readlink -f d/l; readlink -f d/dang; "
    "readlink d/f; echo $?; readlink -v d/f; readlink -v nosuch; readlink -fn d/l; echo; readlink -e d/l; readlink; "
    "readlink a b; readlink -f d/f/x; echo $?",
    'mktemp | sed "s/[A-Za-z0-9]\\{6\\}$/X/"; mktemp -d | sed "s/[A-Za-z0-9]\\{6\\}$/X/"; mktemp abcXXXXXX | wc -c; '
    "mktemp abc; echo $?; mktemp -q abc; echo $?; mktemp -p /work fooXXXXXX | cut -c1-9; mktemp -t aXXXXXX | cut -c1-6",
    "mktemp -u | cut -c1-9; TMPDIR=/work mktemp | cut -c1-10; mktemp a b; mktemp --tmpdir=/var XXXXXX | cut -c1-5; "
    "ls -l /tmp | cut -c1-10 | sort | uniq -c; mktemp -p /nonexist; mktemp /nonexist/XXXXXX; mktemp -p /work -t x",
    "truncate -s 10 a; wc -c a; truncate -s 1k a b; wc -c a b; truncate -c -s 5 nosuch; echo $?; "
    "truncate -s 3 /nonexist/x; truncate a; truncate -s x a; truncate -s 1M a; wc -c a; truncate -s -1 a",
    "fallocate -l 100 f; wc -c f; fallocate -o 10 -l 5 f; wc -c f; fallocate -o 200 -l 1k f; wc -c f; fallocate f; "
    "fallocate -l 0 f; fallocate -l x f; fallocate -l 1 /nonexist/f",
    "touch a; link a b; ls; link a b; link nosuch c; link a; unlink b; unlink b; unlink; unlink a b; ls; unlink /work",
    "mknod n c 1 3; ls -l n | cut -c1-10,35-42; mknod -m 600 n2 c 1 5; ls -l n2 | cut -c1-10; mknod x; mknod x q; "
    "mknod x c 1; mknod x c a b; mknod x c 1 2 3; mknod n c 1 3; mknod x c 4096 1; mknod x c 1 1048576",
    "mknod -m 7777 y c 1 3; ls -l y | cut -c1-10; mknod -m bad z c 1 3; umask 077; mknod w c 1 3; "
    "ls -l w | cut -c1-10; mkfifo; mkfifo -m bad q",
    "echo hello > f; shred -n 0 -z f; od -c f; shred -n 0 -u f; ls; shred -n 0 nosuch; shred; sync; echo $?; "
    "sync nosuch; sync -d /work; sync -df /work; sync -f /work; echo $?",
    # a hard link to a looping or dangling symlink links the symlink (found by tests/diff Hypothesis)
    "ln -s /tmp/a /tmp/a; ln /tmp/a /tmp/a; echo $?; ln /tmp/a /tmp/b; echo $?; ln -s nowhere d; ln d e; echo $?; "
    "ln nosuch f; echo $?; ls -l /tmp . | cut -c1-10,44-",
]


@pytest.mark.parametrize("script", CASES)
def test_path_cases(same, script):
    same(script)


node = st.sampled_from(["a", "b", "c", "a/x", "b/y"])
target = st.sampled_from(["a", "b", "c", "..", ".", "/work/a", "a/x", "nosuch", "../work/b", "b/", "x", "/"])


@settings(max_examples=40, deadline=None)
@given(
    links=st.lists(st.tuples(node, target), max_size=6),
    dirs=st.lists(st.sampled_from(["a", "b"]), max_size=2),
    asked=st.lists(
        st.sampled_from(["a", "b/y", "c", "a/x/", "a/x/..", "nosuch/q", "b/../c", "/work/a/x"]), min_size=1
    ),
)
def test_generated_symlink_mazes(same, links, dirs, asked):
    cmds = [f"mkdir -p {d}" for d in dirs] + [f"ln -s {t} {n} 2>/dev/null" for n, t in links]
    paths = " ".join(asked)
    same("; ".join(cmds) + f"; realpath {paths}; echo $?; for p in {paths}; do readlink -f $p; echo $?; done")
