"""dumpleases on the simulator against REAL busybox, on lease files the test
writes in udhcpd's format (an 8-byte big-endian time, then 36-byte records:
expiry, IPv4 address, MAC, a 20-byte host name, 2 bytes of padding).

Times are made deterministic without masking: a file written "in the
future" counts as written now, so its remaining times are exactly the
expiries; a file written at 0 has its expiries as absolute times (-a).
Hypothesis writes the records (names with control and high bytes, names
that fill all 22 bytes, trailing partial records) and the options."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

FUTURE = 2**40
LEASES = "/var/lib/misc/udhcpd.leases"


def lease(expires: int, ip: bytes, mac: bytes, name: bytes) -> bytes:
    return struct.pack(">I", expires) + ip + mac + name.ljust(22, b"\0")[:22]


def lease_file(written_at: int, *leases: bytes, tail: bytes = b"") -> bytes:
    return struct.pack(">q", written_at) + b"".join(leases) + tail


SAMPLE = lease_file(
    FUTURE,
    lease(100, bytes([10, 0, 0, 5]), bytes([1, 2, 3, 0xAB, 0xCD, 0xEF]), b"host\x01\xe9x"),
    lease(0, bytes([1, 2, 3, 4]), bytes(6), b""),
    lease(90000, bytes([255] * 4), bytes([255] * 6), b"abcdefghijklmnopqrs"),
    lease(86400 * 400 + 59, bytes([192, 168, 0, 1]), bytes(6), b"abcdefghijklmnopqrstuvwxyz"),
    tail=b"partial",
)
ABSOLUTE = lease_file(
    0,
    lease(4294967295, bytes([10, 1, 1, 1]), bytes(range(6)), b"late"),
    lease(2_000_000_000, bytes([10, 1, 1, 2]), bytes(range(6)), "hé€x\x7f".encode()),
    lease(1000, bytes([10, 1, 1, 3]), bytes(6), b"gone"),
)

CASES = [
    "dumpleases -f /l; echo $?; dumpleases -r -f /l; dumpleases -d --file=/l; dumpleases --remaining --decimal -f /l",
    "dumpleases -a -f /a; echo $?; dumpleases -ad -f /a; dumpleases --absolute --fil /a",
    "dumpleases; echo $?; dumpleases -f /nonexistent; echo $?; dumpleases -f /short; echo $?; "
    "dumpleases -f /tmp; echo $?; dumpleases -f /empty; echo $?; "
    f"mkdir -p /var/lib/misc && cp /l {LEASES} && dumpleases -r; echo $?",
    "dumpleases -ar -f /l; echo $?; dumpleases --absolute -r; echo $?; dumpleases -x; echo $?; "
    "dumpleases /l; echo $?; dumpleases -f; echo $?; dumpleases --bogus; echo $?",
]
FILES = {"/l": SAMPLE, "/a": ABSOLUTE, "/short": b"1234", "/empty": b""}


@pytest.mark.parametrize("case", CASES)
def test_dumpleases_cases(same, case):
    same(case, files=FILES)


def test_host_names_in_a_utf8_locale(same):
    """With LANG naming UTF-8, busybox decodes the name: é stays, € (past
    its last supported character) and DEL are ``?``."""
    from userland_box import ENV

    same("dumpleases -a -f /a", files=FILES, env={**ENV, "LANG": "C.UTF-8"})


LEASE = st.builds(
    lease,
    st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 59, 60, 3599, 86399, 86400, 2**32 - 1])),
    st.binary(min_size=4, max_size=4),
    st.binary(min_size=6, max_size=6),
    st.binary(max_size=22),
)


@settings(max_examples=40, deadline=None)
@given(
    written_at=st.sampled_from([FUTURE, 0, -(2**40)]),
    leases=st.lists(LEASE, max_size=4),
    tail=st.binary(max_size=40),
    flags=st.sampled_from(["", "-r", "-d", "-rd", "--decimal"]),
)
def test_generated_lease_files(same, written_at, leases, tail, flags):
    # written at 0, a lease left exactly for now would depend on the second: -a's times are
    # taken from a file written at 0 in ABSOLUTE; here remaining times only
    if written_at == 0:
        leases = [struct.pack(">I", 0) + rec[4:] for rec in leases]
    same(f"dumpleases {flags} -f /g; echo $?", files={"/g": lease_file(written_at, *leases, tail=tail)})
