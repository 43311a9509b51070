"""mkpasswd on the simulator against REAL busybox: SHA-256/512-crypt
(rounds=N$ too) and MD5-crypt for given salts, busybox's method choice
(-m/-a, the last wins; anything else is MD5), passwords from arguments,
stdin and -P FD, random salts' shape, usage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "mkpasswd -S abcdefgh pass; mkpasswd -m sha512 pass saltsalt; mkpasswd -m md5 pass salt; "
    "mkpasswd -m sha256 -S 'rounds=1000$xyz' pass; echo pass | mkpasswd -m sha512 -S s; mkpasswd -m foo x xy; "
    "mkpasswd -m SHA512 -S 0123456789abcdefXYZ ''; mkpasswd a b c; echo $?; mkpasswd -a sha512 -m md5 p salt; "
    "mkpasswd -m sha256 -S 'rounds=10$x' q; mkpasswd -m sha256 -S 'rounds=x$x' q",
    "mkpasswd -m md5 pppppppppppppppppppppppppppppppppppppppppppppppp s1234567890; mkpasswd </dev/null; echo $?; "
    "mkpasswd x | cut -c1-3; mkpasswd -m md5 x | cut -c1-3; mkpasswd -m sha512 x | wc -c; echo secret > f; "
    "mkpasswd -P 3 -S ab 3<f",
]


@pytest.mark.parametrize("script", CASES)
def test_mkpasswd_cases(same, script):
    same(script)


@settings(max_examples=25, deadline=None)
@given(
    password=st.text("abc xyz019-!", max_size=40),
    salt=st.text("./abcXYZ09", min_size=1, max_size=18),
    method=st.sampled_from(["sha256", "sha512", "md5"]),
)
def test_generated_hashes(same, password, salt, method):
    same(f"mkpasswd -m {method} -S '{salt}' '{password}'")
