"""mkpasswd -- after busybox 1.35's loginutils/cryptpw.c: crypt(3) of a
password (argument, or a line of stdin / of fd -P N) with a salt given
(``-S``, or the second argument) or random; ``-m sha256`` (busybox's
default), ``sha512``, anything else starting with ``s``... as busybox
picks it: ``d*`` is DES, ``sha512`` SHA-512, other ``s*`` SHA-256, the
rest MD5.  The hashes are glibc's crypt: SHA-crypt (rounds=N$ honoured)
and MD5-crypt, written out here from their published algorithms.  DES
crypt is not modelled and is refused by name.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, LineReader, UsageError, complain, dies, getopt, show_usage, write_all, xatou

Gen = Generator[Any, Any, Any]
ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

SHA512_ORDER = [
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
    (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
]  # fmt: skip
SHA256_ORDER = [
    (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14),
    (15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29),
]  # fmt: skip
MD5_ORDER = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)]


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(ALPHABET[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def sha_crypt(password: bytes, setting: str, wide: bool) -> str:
    """SHA-256/512-crypt of ``password`` with ``setting`` (what follows
    "$5$"/"$6$": [rounds=N$]salt[$...])."""
    new = hashlib.sha512 if wide else hashlib.sha256
    rounds, custom = 5000, False
    if setting.startswith("rounds="):
        digits = setting[7:].split("$", 1)[0]
        if digits.isdigit() and "$" in setting:
            rounds, custom = min(max(int(digits), 1000), 999999999), True
            setting = setting[7 + len(digits) + 1 :]
    salt = setting.split("$", 1)[0][:16].encode("latin-1")
    pw = password
    b = new(pw + salt + pw).digest()
    a = new(pw + salt)
    a.update(_repeat(b, len(pw)))
    n = len(pw)
    while n:
        a.update(b if n & 1 else pw)
        n >>= 1
    c = a.digest()
    p = _repeat(new(pw * len(pw)).digest(), len(pw))
    s = _repeat(new(salt * (16 + c[0])).digest(), len(salt))
    for i in range(rounds):
        h = new(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    if wide:
        encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in SHA512_ORDER) + _b64(0, 0, c[63], 2)
    else:
        encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in SHA256_ORDER) + _b64(0, c[31], c[30], 3)
    head = "$6$" if wide else "$5$"
    if custom:
        head += f"rounds={rounds}$"
    return f"{head}{salt.decode('latin-1')}${encoded}"


def md5_crypt(password: bytes, setting: str) -> str:
    salt = setting.split("$", 1)[0][:8].encode("latin-1")
    pw = password
    ctx = hashlib.md5(pw + b"$1$" + salt)
    final = hashlib.md5(pw + salt + pw).digest()
    ctx.update(_repeat(final, len(pw)))
    n = len(pw)
    while n:
        ctx.update(b"\0" if n & 1 else pw[:1])
        n >>= 1
    final = ctx.digest()
    for i in range(1000):
        h = hashlib.md5(pw if i & 1 else final)
        if i % 3:
            h.update(salt)
        if i % 7:
            h.update(pw)
        h.update(final if i & 1 else pw)
        final = h.digest()
    encoded = "".join(_b64(final[x], final[y], final[z], 4) for x, y, z in MD5_ORDER) + _b64(
        0, 0, final[11], 2
    )
    return f"$1${salt.decode('latin-1')}${encoded}"


@applet("mkpasswd")
@dies("mkpasswd")
def mkpasswd_main(sys: Sys) -> Gen:
    longopts = {"stdin": "s", "password-fd": "P", "salt": "S", "method": "m"}
    try:
        opts = getopt(sys.argv[1:], "sP:S:m:a:", longopts=longopts)
        if len(opts.operands) > 2:
            raise UsageError(None)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "mkpasswd", e.message)
        yield from show_usage(sys, "mkpasswd")
        raise Die(None) from None
    fd = xatou(opts.value("P") or "", 0, 2**31 - 1) if "P" in opts else 0
    method = "sha256"
    for arg_letter in ("m", "a"):  # both fill one variable; the last given wins
        if arg_letter in opts:
            method = opts.value(arg_letter) or ""
    method = _last_method(sys.argv[1:], method)
    salt_text = opts.value("S")
    if opts.operands and salt_text is None and len(opts.operands) > 1:
        salt_text = opts.operands[1]
    kind = method[:1].lower()
    if kind == "d":
        raise Die("DES crypt (-m des) is not modelled in the stepbox simulator")
    wide = kind == "s" and method.lower() == "sha512"
    length = 16 if kind == "s" else 8
    setting = salt_text if salt_text is not None else "".join(random.choice(ALPHABET) for _ in range(length))
    if opts.operands:
        password = opts.operands[0].encode("utf-8", "surrogateescape")
    else:
        if fd:
            try:
                sys.dup2(fd, 0)
            except OSError:
                raise Die(f"can't move fd {fd}") from None
        line = yield from LineReader(sys, 0).readline()
        if not line:
            return 0
        password = line[:-1] if line.endswith(b"\n") else line
    if kind == "s":
        hashed = sha_crypt(password, setting, wide)
    else:
        hashed = md5_crypt(password, setting)
    yield from write_all(sys, 1, hashed + "\n")
    return 0


def _last_method(argv: list[str], default: str) -> str:
    """-m and -a set the same variable: the one given last counts."""
    value = default
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            break
        if arg.startswith("--method="):
            value = arg.split("=", 1)[1]
        elif arg == "--method" and i < len(argv):
            value, i = argv[i], i + 1
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                j += 1
                if ch in "PS":
                    if j >= len(arg):
                        i += 1
                    break
                if ch in "ma":
                    if j < len(arg):
                        value = arg[j:]
                    elif i < len(argv):
                        value, i = argv[i], i + 1
                    break
    return value
