"""ipcalc (and the name lookups it and dnsdomainname share) on the
simulator against REAL busybox: every flag, the address forms glibc's
inet_aton takes (1 to 4 parts, hex, octal, trailing blanks), prefixes,
netmasks, class defaults, the usage rules and error wording (-s silencing
them); -h from /etc/hosts, and a lookup that fails (no nameserver answers
on the loopback).  Hypothesis writes command lines from a small grammar.
dnsdomainname needs the container's own hostname: tests/diff/
test_names_agree.py compares it in real and simulated containers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

HOSTS = {
    "/etc/hosts": b"127.0.0.1 localhost\n# 10.9.9.9 commented.out\n10.1.2.3 Box.Example.ORG box\n10.1.2.3 second\n"
}

CASES = [
    "ipcalc -bnmp 10.1.2.3/12; ipcalc -b -n 192.168.7.9; ipcalc -m 172.20.1.1; ipcalc --netmask 200.1.1.1; "
    "ipcalc -p 1.2.3.4 255.0.255.0; ipcalc -np 10.0.0.1/0; ipcalc -bp 10.0.0.1/32; ipcalc -n 1.2.3.4/; echo $?",
    "ipcalc -n '1.2 x'; ipcalc -n 0x7f.1; ipcalc -b 010.0.0.1/8; ipcalc -b 1.65535; ipcalc -b 1.2.3; "
    "ipcalc -n 4294967295; ipcalc -n 0x; echo $?; ipcalc -n 08.1.1.1; echo $?; ipcalc -n 1.2.3.4.5; echo $?",
    "ipcalc -b 1.2.3.4/33; echo $?; ipcalc -sb 1.2.3.4/33; echo $?; ipcalc -b 1.2.3.400/3; echo $?; "
    "ipcalc -b 1.2.3.4/8 255.0.0.0; echo $?; ipcalc -b 1.2.3.4 255.x; echo $?; ipcalc -b 1.2.3.4/x; echo $?; "
    "ipcalc -b 1.2.3.4/+8; echo $?; ipcalc -s -n 300.1.1.1; echo $?",
    "ipcalc; echo $?; ipcalc 1.2.3.4; echo $?; ipcalc -m 1.2.3.4 255.0.0.0; echo $?; ipcalc -b 1 2 3; echo $?; "
    "ipcalc -x 1.2.3.4; echo $?; ipcalc --net 1.2.3.4; echo $?; ipcalc -s; echo $?",
    "ipcalc -h 10.1.2.3; echo $?; ipcalc -mh 127.0.0.1; ipcalc -h 10.9.9.9; echo $?; ipcalc -sh 10.9.9.9; echo $?; "
    "ipcalc -m -h 10.9.9.9; echo $?; ipcalc -h 10.1.2.3/8 255.255.0.0; echo $?; ipcalc -nh 10.1.2.3 255.0.0.0",
]


@pytest.mark.parametrize("case", CASES)
def test_ipcalc_cases(same, case):
    same(case, files=HOSTS)


PART = st.one_of(
    st.integers(0, 300).map(str),
    st.integers(0, 255).map(lambda n: f"0x{n:x}"),
    st.integers(0, 255).map(lambda n: f"0{n:o}"),
    st.sampled_from(["65535", "16777215", "4294967295", "", "x", "09"]),
)
ADDRESS = st.builds(
    lambda parts, tail: ".".join(parts) + tail,
    st.lists(PART, min_size=1, max_size=5),
    st.sampled_from(["", "", "/8", "/24", "/0", "/32", "/33", "/", " junk"]),
)


@settings(max_examples=60, deadline=None)
@given(
    flags=st.lists(st.sampled_from(["-b", "-n", "-m", "-p", "-s", "--network", "-bnmp"]), max_size=3),
    address=ADDRESS,
    mask=st.none() | ADDRESS,
)
def test_generated_command_lines(same, flags, address, mask):
    words = [*flags, f"'{address}'"] + ([f"'{mask}'"] if mask is not None else [])
    same(f"ipcalc {' '.join(words)}; echo $?", files=HOSTS)
