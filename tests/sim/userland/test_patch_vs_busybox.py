"""patch on the simulator against REAL busybox: cases for the options,
new and removed files, failing and reversed hunks, and Hypothesis applying
busybox diff's own diffs of generated file pairs to the old file or to a
changed copy of it (so hunks also fail, or match somewhere else)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SETUP = "printf 'a\\nb\\nc\\nd\\ne\\nf\\ng\\nh\\n' > f; sed 's/b/B/; s/g/G/' f > g; diff -u f g > p.diff; "

CASES = [
    SETUP + "cp f f0; patch < p.diff; echo $?; cat g; patch f p.diff; echo $?; cat f; patch -R f < p.diff; "
    "echo $?; cat f; patch -R -i p.diff f; echo $?; patch -N -i p.diff f0; echo $?; cat f0; "
    "patch -N -i p.diff f0; echo $?; cat f0; ls",
    SETUP
    + "patch --dry-run -i p.diff f; echo $?; cat f; patch -i nosuch; echo $?; patch nosuch p.diff; echo $?; "
    "patch -x; echo $?; patch -p x < p.diff; echo $?; patch --bogus; echo $?; printf 'x\\n' > f; patch f < p.diff; "
    "echo $?; cat f; ls",
    # -p over directories, creating (with parents) and emptying/removing files
    "mkdir -p a/d b/d; printf '1\\n2\\n' > a/d/x; printf '1\\n3\\n' > b/d/x; printf 'n\\n' > b/d/new; "
    "diff -ruN a b > p; cat p | sed 's/\\t.*//'; mkdir w; cd w; mkdir d; printf '1\\n2\\n' > d/x; "
    "patch -p1 < ../p; echo $?; cat d/x d/new; patch -R -p1 -E < ../p; echo $?; ls -R; "
    "patch -p 0 < ../p; echo $?; patch -p9 < ../p; echo $?",
    # hunks at EOF, a file without its last newline, an empty file, "\\ No newline"
    "printf 'a\\nb' > e1; printf 'a\\nc\\n' > e2; diff -u e1 e2 > p1; cat p1 | sed 1,2d; cp e1 t1; patch t1 p1; "
    "echo $?; od -c t1; : > z; printf 'q\\n' > z2; diff -u z z2 > p2; patch z p2; echo $?; cat z; "
    "patch -R z p2; echo $?; wc -c z; patch -R -E z p2; echo $?; ls z",
    # damaged patches: no +++, a short hunk, a hunk of nothing
    "printf 'a\\nb\\n' > f; printf -- '--- f\\n@@ -1,2 +1,2 @@\\n a\\n-b\\n+c\\n' | patch; echo $?; "
    "printf -- '+++ f\\n@@ -1,2 +1,2 @@\\n a\\n-b\\n+c\\n' | patch; echo $?; cat f; "
    "printf -- '--- f\\n+++ f\\n@@ -1,3 +1,3 @@\\n a\\n-c\\nx\\n' | patch; echo $?; "
    "printf -- '--- f\\n+++ f\\n@@ -0,0 +0,0 @@\\n' | patch; echo $?; printf 'garbage\\n' | patch; echo $?; "
    "printf -- '--- f\\n+++ f\\n@@ -1 +1 @@\\n-a\\n+A\\n\\n' | patch; echo $?; cat f",
]


@pytest.mark.parametrize("script", CASES)
def test_patch_cases(same, script):
    same(script)


LINES = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "", " x"]), max_size=14)


@settings(max_examples=60, deadline=None)
@given(
    old=LINES,
    new=LINES,
    edits=st.lists(st.tuples(st.integers(0, 13), st.sampled_from(["a", "z", None])), max_size=2),
    context=st.sampled_from(["-u", "-U 0", "-U 1"]),
    flags=st.sampled_from(["", "-R", "-N", "--dry-run", "-E"]),
)
def test_generated_patches(same, old, new, edits, context, flags):
    target = list(old)
    for index, line in edits:  # the patched file may differ from the one diffed
        if index < len(target):
            if line is None:
                del target[index]
            else:
                target[index] = line
    if flags == "-R":
        target = list(new)
    files = {
        "/work/old": "".join(line + "\n" for line in old).encode(),
        "/work/new": "".join(line + "\n" for line in new).encode(),
        "/work/f": "".join(line + "\n" for line in target).encode(),
    }
    same(
        f"mkdir a b; mv old a/f; mv new b/f; diff {context} a/f b/f > p; patch -p1 {flags} < p; echo $?; cat f; ls",
        files=files,
    )
