"""lzop on the simulator against REAL busybox lzop: the compressed bytes
themselves (busybox's LZO1X-1 and LZO1X-1(15), header and block checksums;
also across 256 KiB blocks, where busybox reuses its dictionary), file
handling (names, -c -d -t -f -U -k -v, modes), and broken input (bad magic,
header errors, checksum errors, corrupted blocks, short files).  Hypothesis
round-trips generated data both ways: what the simulator packs, busybox
unpacks, and the other way round."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.backends.sim.userland.applets_lzop import compress_blocks, decompress_blocks

TEXT = b"".join(b"line %d of some text, some of it repeated\n" % (i % 37) for i in range(400))
BIG = (TEXT * 30)[:300_000] + os.urandom(1000) + TEXT  # two blocks, the second past 256 KiB
PACKED = (
    subprocess.run(["busybox", "lzop", "-c"], input=TEXT, capture_output=True).stdout
    if shutil.which("busybox")
    else b""
)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1 :]


FILES = {
    "/work/t.txt": TEXT,
    "/work/big": BIG,
    "/work/empty": b"",
    "/work/p.lzo": PACKED,
    "/work/short.lzo": PACKED[:60],
    "/work/badmagic.lzo": b"\x89LZX" + PACKED[4:],
    "/work/badhead.lzo": _flip(PACKED, 20) if PACKED else b"",
    "/work/badsum.lzo": _flip(PACKED, 46) if PACKED else b"",
    "/work/baddata.lzo": _flip(PACKED, 60) if PACKED else b"",
}

CASES = [
    # the bytes: default, -1, -F, -C, -2..6, across two blocks, empty input
    "lzop -c t.txt | md5sum; lzop -1 -c t.txt | md5sum; lzop -F -c t.txt | md5sum; lzop -C -c t.txt | md5sum; "
    "lzop -4 < t.txt | md5sum; lzop -c big | md5sum; lzop -1c big | md5sum; lzop < empty | xxd",
    # names: t.txt -> t.txt.lzo kept; -U removes; -d back; a name without .lzo -> .out; -k wins over -U
    "lzop t.txt; echo $?; ls; lzop t.txt; echo $?; lzop -f -v t.txt; echo $?; rm t.txt.lzo; lzop -U t.txt; ls; "
    "lzop -d t.txt.lzo; echo $?; ls; cp p.lzo q; lzop -d q; echo $?; cmp q.out t.txt && echo same; "
    "lzop -dUk p.lzo; ls; chmod 640 big; lzop big; ls -l big.lzo | cut -c1-10",
    # -t compresses to /dev/null unless -d; -dt checks; stdin and -
    "lzop -t t.txt; echo $?; ls; lzop -dt p.lzo; echo $?; lzop -dc < p.lzo | md5sum; lzop -d - < p.lzo | md5sum; "
    "cat t.txt | lzop | lzop -d | cmp - t.txt && echo round",
    # errors: missing files, high levels, bad input, usage
    "lzop nosuch; echo $?; lzop -9 t.txt; echo $?; ls -l t.txt.lzo | cut -c1-30; lzop -7c t.txt; echo $?; "
    "lzop -d short.lzo; echo $?; ls; lzop -dc badmagic.lzo; echo $?; lzop -dc badhead.lzo; echo $?; "
    "lzop -dc badsum.lzo | wc -c; lzop -dcF badsum.lzo | wc -c; lzop -dc baddata.lzo | wc -c; "
    "lzop -x; echo $?; lzop -dc empty; echo $?; lzop nosuch t.txt; echo $?; ls",
]


@pytest.mark.parametrize("case", CASES)
def test_lzop_cases(same, case):
    same(case, files=FILES)


@settings(max_examples=25, deadline=None)
@given(
    data=st.binary(max_size=3000)
    | st.lists(st.sampled_from([b"ab", b"abc", b"x" * 40, b"\n", b"q"])).map(b"".join),
    fast=st.booleans(),
)
def test_round_trips_with_busybox(data, fast):
    """Ours are busybox's bytes; busybox unpacks ours and we unpack busybox's."""
    if shutil.which("busybox") is None:
        pytest.skip("no busybox on this host (scripts/install.sh installs busybox-static)")
    args = ["-1"] if fast else []
    real = subprocess.run(
        ["busybox", "lzop", "-c", *args], input=data, capture_output=True, check=True
    ).stdout
    ours = b"".join(compress_blocks(data, {"1"} if fast else set(), False, False))
    assert ours == real
    back = subprocess.run(["busybox", "lzop", "-dc"], input=ours, capture_output=True, check=True).stdout
    assert back == data
    assert b"".join(decompress_blocks(real, True)) == data


@settings(max_examples=10, deadline=None)
@given(data=st.binary(min_size=1, max_size=400), at=st.integers(min_value=0, max_value=10_000))
def test_damaged_files(same, data, at):
    packed = subprocess.run(["busybox", "lzop", "-c"], input=data, capture_output=True, check=True).stdout
    damaged = _flip(packed, at % len(packed))
    same(
        "lzop -dc d.lzo | od -An -tx1 | tail -2; echo $?; lzop -dcF d.lzo | wc -c",
        files={"/work/d.lzo": damaged},
    )
