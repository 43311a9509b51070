"""SHA-256-crypt, checked against the specification's own test vectors and,
where Python still has it, the C library's crypt(3)."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import pytest
from stepbox.core.registry.htpasswd import Htpasswd, hash_password, sha256_crypt, verify_password

# From Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" (the spec's tests).
VECTORS = [
    ("Hello world!", "saltstring", 5000, "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
    (
        "Hello world!",
        "saltstringsaltstring",
        10000,
        "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
    ),
    (
        "This is just a test",
        "toolongsaltstring",
        5000,
        "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5",
    ),
    (
        "a very much longer text to encrypt.  This one even stretches over morethan one line.",
        "anotherlongsaltstring",
        1400,
        "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1",
    ),
    (
        "we have a short salt string but not a short password",
        "short",
        77777,
        "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
    ),
    (
        "a short string",
        "asaltof16chars..gaga",
        123456,
        "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD",
    ),
    (
        "the minimum number is still observed",
        "roundstoolow",
        10,
        "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC",
    ),
]


@pytest.mark.parametrize("password,salt,rounds,expected", VECTORS)
def test_specification_vectors(password, salt, rounds, expected):
    explicit = expected.startswith("$5$rounds=")
    assert sha256_crypt(password, salt, rounds, explicit_rounds=explicit) == expected
    assert verify_password(password, expected)
    assert not verify_password(password + "x", expected)


def test_matches_openssl_when_available():
    if shutil.which("openssl") is None:
        pytest.skip("no openssl binary on this host")
    line = subprocess.run(
        ["openssl", "passwd", "-5", "-salt", "pepper", "s3cret"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert sha256_crypt("s3cret", "pepper") == line


def test_matches_libc_crypt_when_python_has_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            pytest.skip("this Python has no crypt module (removed in 3.13)")
    for password in ("", "pw", "ünïcödé", "x" * 100):
        assert crypt.crypt(password, "$5$abcdefgh") == sha256_crypt(password, "abcdefgh")


def test_hash_password_salts_differ_and_verify():
    a, b = hash_password("same"), hash_password("same")
    assert a != b and verify_password("same", a) and verify_password("same", b)


def test_file_and_basic_header(tmp_path):
    import base64

    path = tmp_path / "htpasswd"
    path.write_text(f"# users\nalice:{hash_password('pw')}\nmallory:$2y$05$notabcryptatall\n")
    users = Htpasswd.load(str(path))
    header = lambda pair: "Basic " + base64.b64encode(pair).decode()  # noqa: E731
    assert users.check_basic(header(b"alice:pw")) == "alice"
    assert users.check_basic(header(b"alice:nope")) is None
    assert users.check_basic(header(b"nobody:pw")) is None
    assert users.check_basic(header(b"mallory:x")) is None
    assert users.check_basic("Basic !!!notbase64") is None
    assert users.check_basic(None) is None
