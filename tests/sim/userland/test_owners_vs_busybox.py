"""chown and chgrp on the simulator against REAL busybox: how an owner spec
is read (libbb's parse_chown_usergroup_or_die), which lookups it makes, and
what busybox's passwd parser says about a bad line it meets on the way --
only a lookup by name, or get_uidgid's getpwuid in ``user:group``, reads
the file; a plain number is taken as it is.  Hypothesis writes the specs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

BAD_LINES = "echo y >> /etc/passwd; echo z >> /etc/group; echo '#c' >> /etc/passwd; "
SHOW = "; echo $?; ls -ln /tmp/a | cut -c1-30"

CASES = [
    # the difference Hypothesis found (tests/diff/test_containers_agree.py)
    "echo y >> /etc/passwd; touch /tmp/a; chown 1:2 /tmp/a" + SHOW,
    BAD_LINES
    + "touch /tmp/a; chown 99:2 /tmp/a"
    + SHOW
    + "; chown 99: /tmp/a"
    + SHOW
    + "; chown 1: /tmp/a"
    + SHOW,
    BAD_LINES
    + "touch /tmp/a; chown nosuch /tmp/a; echo $?; chown :nosuch /tmp/a; echo $?; chgrp nosuch /tmp/a; "
    "echo $?; chown +5 /tmp/a; chown 1.2 /tmp/a"
    + SHOW
    + "; chgrp a.b /tmp/a; chown a:b /tmp/a; chown 1:nosuch /tmp/a",
    BAD_LINES
    + "echo 'u:x:5:6::/:/bin/sh' >> /etc/passwd; touch /tmp/a; chown u /tmp/a"
    + SHOW
    + "; chown u: /tmp/a"
    + SHOW
    + "; chown 5 /tmp/a; chown 4294967296 /tmp/a"
    + SHOW
    + "; chown :4294967295 /tmp/a; chown 18446744073709551616 /tmp/a; chgrp 7 /tmp/a"
    + SHOW
    + "; chown nobody.nogroup /tmp/a"
    + SHOW,
]


@pytest.mark.parametrize("script", CASES)
def test_owner_cases(same, script):
    same(script)


NAMES = st.sampled_from(
    ["root", "nobody", "daemon", "nogroup", "nosuch", "u", "1", "2", "99", "65534", "+1", "", "a.b"]
)


@settings(max_examples=40, deadline=None)
@given(
    user=NAMES,
    sep=st.sampled_from(["", ":", "."]),
    group=NAMES,
    bad=st.booleans(),
    prog=st.sampled_from(["chown", "chgrp"]),
)
def test_generated_owner_specs(same, user, sep, group, bad, prog):
    spec = group if prog == "chgrp" else user + sep + (group if sep else "")
    setup = (BAD_LINES if bad else "") + "echo 'u:x:5:6::/:/bin/sh' >> /etc/passwd; touch /tmp/a; "
    same(setup + f"{prog} '{spec}' /tmp/a" + SHOW)
