"""Basic auth against an htpasswd-like file, with SHA-256-crypt hashes.

A line is ``user:$5$rounds=N$salt$hash`` -- the ``$5$`` scheme of glibc's
``crypt(3)`` (``openssl passwd -5``, ``mkpasswd -m sha-256``).  We implement it
here with :mod:`hashlib` because Python's ``crypt`` module is deprecated and
gone in 3.13; the algorithm is Ulrich Drepper's public "Unix crypt using
SHA-256" specification.  It is deliberately slow (``rounds`` SHA-256
invocations) so that a stolen file is expensive to brute-force.

bcrypt lines (``$2y$…``, what the CNCF registry uses) are accepted when the
optional ``bcrypt`` package is installed.

Basic auth sends the password with every request (base64 is not encryption):
use it over TLS or on loopback only (the server refuses anything else).

A name that is not in the file costs as much as a wrong password: it is
checked against a decoy hash of the same kind and cost, so how long the
answer takes does not tell an attacker which user names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import bcrypt

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROUNDS_DEFAULT = 5000
ROUNDS_MIN, ROUNDS_MAX = 1000, 999_999_999
# The order in which the 32 digest bytes are emitted, 3 at a time (from the spec).
_GROUPS = [
    (0, 10, 20),
    (21, 1, 11),
    (12, 22, 2),
    (3, 13, 23),
    (24, 4, 14),
    (15, 25, 5),
    (6, 16, 26),
    (27, 7, 17),
    (18, 28, 8),
    (9, 19, 29),
]


def _b64_from_24bit(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat_to(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def sha256_crypt(
    password: str, salt: str, rounds: int = ROUNDS_DEFAULT, *, explicit_rounds: bool | None = None
) -> str:
    """``$5$`` hash of ``password``; the same inputs always give the same string."""
    pw, s = password.encode(), salt.encode()[:16]
    rounds = max(ROUNDS_MIN, min(ROUNDS_MAX, rounds))
    # Digest B: password, salt, password.
    b = hashlib.sha256(pw + s + pw).digest()
    # Digest A: password, salt, then B stretched to the password's length,
    # then for each bit of the length, B (1) or the password (0).
    a = hashlib.sha256(pw + s)
    a.update(_repeat_to(b, len(pw)))
    n = len(pw)
    while n:
        a.update(b if n & 1 else pw)
        n >>= 1
    da = a.digest()
    # P and S: the password and salt, each hashed many times over, so that
    # their lengths do not leak into the timing of the loop below.
    p = _repeat_to(hashlib.sha256(pw * len(pw)).digest(), len(pw))
    s_seq = _repeat_to(hashlib.sha256(s * (16 + da[0])).digest(), len(s))
    c = da
    for i in range(rounds):
        h = hashlib.sha256(p if i & 1 else c)
        if i % 3:
            h.update(s_seq)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    encoded = "".join(_b64_from_24bit(c[x], c[y], c[z], 4) for x, y, z in _GROUPS)
    encoded += _b64_from_24bit(0, c[31], c[30], 3)
    if explicit_rounds is None:
        explicit_rounds = rounds != ROUNDS_DEFAULT
    prefix = f"$5$rounds={rounds}$" if explicit_rounds else "$5$"
    return f"{prefix}{salt[:16]}${encoded}"


def hash_password(password: str, rounds: int = ROUNDS_DEFAULT) -> str:
    salt = "".join(secrets.choice(_ITOA64) for _ in range(16))
    return sha256_crypt(password, salt, rounds)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("$5$"):
        parts = stored[3:].split("$")
        rounds, explicit = ROUNDS_DEFAULT, False
        if parts and parts[0].startswith("rounds="):
            try:
                rounds, explicit = int(parts.pop(0)[len("rounds=") :]), True
            except ValueError:
                return False
        if len(parts) != 2:
            return False
        return hmac.compare_digest(sha256_crypt(password, parts[0], rounds, explicit_rounds=explicit), stored)
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            return bcrypt.checkpw(password.encode(), stored.encode())
        except ValueError:  # a malformed hash in the file matches nothing
            return False
    return False


def decoy_hash(like: str) -> str:
    """A hash of a random password with the scheme and cost of ``like``."""
    password = secrets.token_hex(16)
    if like.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            cost = int(like.split("$")[2])
        except (IndexError, ValueError):
            cost = 12
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=max(4, min(cost, 31)))).decode()
    rounds = ROUNDS_DEFAULT
    parts = like[3:].split("$") if like.startswith("$5$") else []
    if parts and parts[0].startswith("rounds="):
        try:
            rounds = int(parts[0][len("rounds=") :])
        except ValueError:
            pass
    return hash_password(password, rounds)


@dataclass
class Htpasswd:
    users: dict[str, str]

    def __post_init__(self) -> None:
        # The most common kind of hash in the file, for unknown users.
        kinds = sorted(self.users.values(), key=lambda h: h[:7])
        self._decoy = decoy_hash(kinds[len(kinds) // 2]) if kinds else hash_password("")

    @classmethod
    def load(cls, path: str) -> Htpasswd:
        users = {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and ":" in line:
                    user, hashed = line.split(":", 1)
                    users[user] = hashed
        return cls(users)

    def check_basic(self, authorization: str | None) -> str | None:
        """The user named by a valid ``Authorization: Basic …`` header, else None."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        stored = self.users.get(user)
        if stored is None:
            verify_password(password, self._decoy)  # the same work as for a real user
            return None
        return user if verify_password(password, stored) else None
