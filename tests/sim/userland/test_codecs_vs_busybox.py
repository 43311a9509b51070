"""Checksums, encodings and dumps on the simulator against REAL busybox:
md5sum/sha*sum/crc32 (and -c), base64, uuencode/uudecode, od, hexdump,
xxd -- hand-picked cases, then Hypothesis bytes through each."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "echo hi > h; md5sum h - < h; sha1sum h; sha256sum h; sha512sum h; sha3sum h; sha3sum -a 512 h; crc32 h; echo x | crc32",
    "echo 'x  h' > c; echo hi > h; sha256sum -c c; echo $?; md5sum nosuch; echo $?; md5sum h > m; md5sum -c m; md5sum -c -s m",
    "echo bad | md5sum -c -w; echo $?; : | md5sum -c; echo $?; md5sum -s x; sha3sum -a 100 /dev/null",
    "echo aGVsbG8= | base64 -d; echo; echo aGVsbG8 | base64 -d; echo \" rc=$?\"; echo 'a!GVs' | base64 -d; echo 'aGk=aGk=' | base64 -d",
    "printf 'hello world how are you doing today my friend, long line test 1234567890 abcdefghijk' | base64; echo hi | base64 -w 4; : | base64",
    "echo hello | uuencode f; echo hello | uuencode -m f; echo hello | uuencode f | uudecode -o -; uudecode < /dev/null",
    "echo hello | uuencode -m f | uudecode -o /dev/stdout; echo hi > x; chmod 640 x; uuencode x y | head -1",
    "echo hi | od -An -c -tx1; echo hello | od -c -tx1z; printf '\\377\\001abcdefgh' | od -td4 -tu2 -tx8; printf abc | od",
    "printf '0123456789abcdef0123456789abcdef0123456789abcdefXY' | od -c; printf abc | od -tf4 -tf8 -tf16; od -N 3x /dev/null; echo $?",
    "printf 'hello world\\0 abc\\0xyzzy\\0' | od -S 3; printf 'abcdefgh' | od -j 2 -N 3 -c; printf abcdefghij | od -A d -tx1 -w4",
    "printf 'abc' | od -a -b -d -o -x -i -l -h; od -Ax -t q; od -A z; printf ab > f; od -j 5 f; od nosuch f",
    "printf 'hello world, this is hexdump\\n' | hexdump -C; printf 'hello' | hexdump; printf hello | hexdump -c -b -d -o -x",
    "printf 'abcd' | hexdump -e '4/1 \"%02x-\" \"\\n\"'; head -c 64 /dev/zero | hexdump -C; head -c 64 /dev/zero | hexdump -Cv | wc -l",
    "printf abcdefgh > f; hexdump -s 3 -n 2 -C f; printf x | hexdump -s 1; hexdump -e '\"%y\"' f; hexdump -e x f; hexdump nosuch f",
    "printf 'hello world, this is xxd\\n' | xxd; printf hello | xxd -p; printf hello | xxd -i; printf hello | xxd -g 1 -c 4",
    "printf hello | xxd -p | xxd -r -p; echo; echo hi > f; xxd -i f; xxd -s 1 -l 1 f; xxd -o 16 f; printf hello | xxd | xxd -r",
]


@pytest.mark.parametrize("script", CASES)
def test_codec_cases(same, script):
    same(script)


blob = st.binary(max_size=80)
od_options = st.sampled_from(
    [
        "",
        "-c",
        "-tx1",
        "-An -tx1",
        "-tx2z",
        "-td4",
        "-tu1 -to2",
        "-a",
        "-v -tx1",
        "-w8 -tx1",
        "-j3 -N10 -tx1",
        "-S2",
    ]
)
hexdump_options = st.sampled_from(
    ["", "-C", "-c", "-b", "-d", "-x", "-v -C", "-s 5 -n 10 -C", "-e '8/1 \"%02x \" \"\\n\"'"]
)


def _printf(data: bytes) -> str:
    return "printf '" + "".join(f"\\{b:03o}" for b in data) + "'"


@settings(max_examples=40, deadline=None)
@given(data=blob, od=od_options, hd=hexdump_options)
def test_generated_dumps(same, data, od, hd):
    p = _printf(data)
    same(
        f"{p} > f; od {od} f; hexdump {hd} f; xxd f; base64 f; base64 f | base64 -d | cmp - f; md5sum f; crc32 f"
    )


@settings(max_examples=30, deadline=None)
@given(text=st.text(st.sampled_from("aGVsbG8=+/ \n!Zg"), max_size=30))
def test_generated_base64_decoding(same, text):
    same(f"printf %s {shlex.quote(text)} | base64 -d | od -An -c; echo status $?")
