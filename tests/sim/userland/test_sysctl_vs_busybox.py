"""sysctl on the simulator against REAL busybox.

The oracle's /proc/sys is the host kernel's, writable by root: these
scripts only read kernel.ostype (the one value both kernels share) and
name keys that exist on neither, so nothing of the host is ever written.
Writing, and reading what a container sees, is compared with real
containers in tests/diff/test_sysctl_agree.py.  Hypothesis spells keys
with dots and slashes, which busybox turns into paths its own way."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "sysctl kernel.ostype; sysctl -n kernel.ostype; sysctl kernel/ostype; sysctl -e nosuch.key; echo $?; "
    "sysctl nosuch.key; sysctl kernel.nosuch; echo $?; sysctl -n -n kernel.ostype; sysctl; echo $?",
    "sysctl -w kernel.ostype; sysctl =x; sysctl -w =; echo $?; sysctl -N; sysctl -ek kernel.ostype; "
    "sysctl kernel.ostype kernel.nosuch kernel.ostype; echo $?; sysctl -- kernel.ostype; sysctl kernel.ostype -n",
    "sysctl kernel.nosuch=1; echo $?; sysctl -w nosuch/a.b=2; sysctl -q -e kernel.nosuch=3; echo $?; "
    "sysctl -w 'kernel.nosuch= spaced value '; sysctl kernel.ostype.x; sysctl kernel..ostype; sysctl .kernel.ostype",
    "printf 'kernel.nosuchx = 1\\n; c\\n  # d\\nbad line\\nk=\\nk=#x\\nsp ace = a = b\\ncont\\\\\\n= 1\\n\\n' > c; "
    "sysctl -p c; echo $?; sysctl -p /nonexist; echo $?; sysctl -p c /nonexist c; echo $?; "
    "sysctl -p < c; sysctl -p - < c; mkdir d; sysctl -p d; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_sysctl_cases(same, script):
    same(script)


PART = st.sampled_from(["kernel", "ostype", "nosuch", "x", "kernel.ostype", "kernel/ostype", ""])
LAST = st.sampled_from(["ostype", "nosuch", "x"])


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(
        st.builds(
            lambda parts, seps, last: "".join(p + s for p, s in zip(parts, seps, strict=False)) + last,
            st.lists(PART, max_size=3),
            st.lists(st.sampled_from([".", "/", "..", "./"]), min_size=3, max_size=3),
            LAST,
        ),
        min_size=1,
        max_size=3,
    ),
    flags=st.sampled_from(["", "-n", "-e", "-ne", "-q"]),
)
def test_generated_keys(same, keys, flags):
    # every key ends in a name that is a file (ostype) or nothing: never a directory of the host
    same(f"sysctl {flags} " + " ".join(f"'{k}'" for k in keys) + "; echo $?")
