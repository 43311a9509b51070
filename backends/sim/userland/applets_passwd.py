"""passwd -- after busybox 1.35's loginutils/passwd.c, with libbb's
bb_ask_noecho, obscure and update_passwd.

busybox marks passwd "must be suid": a non-root caller of a binary without
the set-uid bit is refused first (as su is).  Root changes any user's
password without the old one: "New password: ", "Retype password: " are
read from stdin (echo off on a terminal, input typed ahead thrown away),
a weak password is named ("Bad password: too short") but allowed for
root, and the new hash -- ``-a`` des, md5, sha256 (the default) or sha512,
with a random salt -- goes to /etc/shadow when the user has a line there
(its change-day field becomes today, and /etc/passwd's field becomes
``x``), else to /etc/passwd.  Each file is rewritten as busybox does it:
``FILE+`` created beside it, ``FILE-`` a hard link to the old one, then
the rename.  ``-l``/``-u``/``-d`` lock, unlock or empty the password.
DES crypt is not modelled (as in mkpasswd) and is refused by name.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, Sys, Termios
from .applet_table import applet
from .applets_mkpasswd import ALPHABET, md5_crypt, sha_crypt
from .applets_su import must_be_suid
from .libc import (
    Die,
    complain,
    dies,
    id_to_name,
    parse_options,
    passwd_entry,
    read_text,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
PASSWORD_MINLEN = 6
SHADOW, PASSWD = "/etc/shadow", "/etc/passwd"
_ECHO, _ECHOE, _ECHOK, _ECHONL = 0o10, 0o20, 0o40, 0o100
MAX_LINE = 0xFFF


def ask_noecho(sys: Sys, out: list[str], prompt: str) -> Gen:
    """bb_ask_noecho_stdin: the prompt on stdout, a line from stdin with echo
    off; None at an immediate end of input."""
    try:
        sys.tcflush(0)
    except OSError:
        pass
    out.append(prompt)
    yield from flush(sys, out)
    try:
        old: Termios | None = sys.tcgetattr(0)
    except OSError:
        old = None
    if old is not None:
        quiet = Termios(old.iflag, old.oflag, old.lflag & ~(_ECHO | _ECHOE | _ECHOK | _ECHONL), old.cc)
        sys.tcsetattr(0, quiet)
    line = bytearray()
    result: bytes | None = None
    while True:
        try:
            data = yield from sys.read(0, 1)
        except OSError:
            break  # interrupted: no password
        if not data:
            if line:
                result = bytes(line)
            break
        if data in (b"\r", b"\n"):
            result = bytes(line)
            break
        line += data
        if len(line) == MAX_LINE:
            result = bytes(line)
            break
    if old is not None:
        sys.tcsetattr(0, old)
    out.append("\n")
    yield from flush(sys, out)
    return result


def flush(sys: Sys, out: list[str]) -> Gen:
    if out:
        data = "".join(out)
        out.clear()
        try:
            yield from write_all(sys, 1, data.encode("latin-1"))
        except OSError:
            pass


def _similar(p1: bytes, p2: bytes) -> bool:
    """obscure's string_checker: either contains the other, ignoring case,
    forwards or with p1 reversed."""
    a, b = p1.lower(), p2.lower()
    r = a[::-1]
    return a in b or b in a or r in b or b in r


def obscure_msg(new: bytes, pw: list[str], hostname: str) -> str | None:
    if len(new) < PASSWORD_MINLEN:
        return "too short"
    if _similar(new, pw[0].encode("latin-1", "replace")):
        return "similar to username"
    if pw[4] and _similar(new, pw[4].encode("latin-1", "replace")):
        return "similar to gecos"
    if _similar(new, hostname.encode("latin-1", "replace")):
        return "similar to hostname"
    mixed = 0
    for c in new:
        if 0x61 <= c <= 0x7A:
            mixed |= 1
        elif 0x41 <= c <= 0x5A:
            mixed |= 2
        elif 0x30 <= c <= 0x39:
            mixed |= 4
        else:
            mixed |= 8
        if new.count(bytes([c])) * 2 >= len(new):
            return "too many similar characters"
    size = PASSWORD_MINLEN + 2 * 4 - 2 * bin(mixed).count("1")
    if len(new) < size:
        return "too weak"
    return None


def make_hash(password: bytes, algo: str) -> str:
    """crypt_make_pw_salt + pw_encrypt: a random salt for the algorithm."""
    kind = algo[:1].lower()
    if kind == "d":
        raise Die("DES crypt (-a des) is not modelled in the stepbox simulator")
    if kind == "s":
        salt = "".join(random.choice(ALPHABET) for _ in range(16))
        return sha_crypt(password, salt, algo.lower() == "sha512")
    return md5_crypt(password, "".join(random.choice(ALPHABET) for _ in range(8)))


def update_passwd(sys: Sys, filename: str, name: str, new_passwd: str, today: int) -> Gen:
    """libbb's update_passwd for passwd: the lines changed, -1 on failure
    (0 if /etc/shadow is missing)."""
    shadow = "shadow" in filename
    try:
        old_fd = sys.open(filename, 2)  # r+
    except OSError as e:
        if not shadow:
            yield from complain(sys, "passwd", f"can't open '{filename}': {strerror(e)}")
        return 0 if shadow else -1
    plus, minus = filename + "+", filename + "-"
    try:
        for _ in range(30):
            try:
                new_fd = sys.open(plus, O_WRONLY | O_CREAT | O_EXCL, 0o600)
                break
            except OSError as e:
                if e.errno != 17:  # EEXIST
                    yield from complain(sys, "passwd", f"can't create '{plus}': {strerror(e)}")
                    return -1
                yield from sys.sleep(0.1)
        else:
            yield from complain(sys, "passwd", f"can't create '{plus}': File exists")
            return -1
        try:
            st = sys.stat(filename)
            sys.chmod(plus, st.mode & 0o777)
            sys.chown(plus, st.uid, st.gid)
        except OSError:
            pass
        try:
            try:
                sys.unlink(minus)
            except OSError as e:
                if e.errno != 2:
                    raise
            sys.link(filename, minus)
        except OSError as e:
            yield from complain(sys, "passwd", f"warning: can't create backup copy '{minus}': {strerror(e)}")
        text = bytearray()
        while True:
            chunk = yield from sys.read(old_fd, 65536)
            if not chunk:
                break
            text += chunk
        lines = bytes(text).split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        prefix = (name + ":").encode("latin-1", "surrogateescape")
        changed = 0
        out = []
        for line in lines:
            if not line.startswith(prefix):
                out.append(line + b"\n")
                continue
            rest = line[len(prefix) :]
            colon = rest.find(b":")
            rest = rest[colon:] if colon >= 0 else b""
            if shadow and rest[:1] == b":":
                after = rest.find(b":", 1)
                rest = rest[after:] if after >= 0 else b""
                out.append(prefix + new_passwd.encode("latin-1") + b":%d" % today + rest + b"\n")
            else:
                out.append(prefix + new_passwd.encode("latin-1") + rest + b"\n")
            changed += 1
        try:
            yield from write_all(sys, new_fd, b"".join(out))
            sys.close(new_fd)
            sys.rename(plus, filename)
        except OSError as e:
            yield from complain(sys, "passwd", strerror(e))
            try:
                sys.unlink(plus)
            except OSError:
                pass
            return -1
        return changed
    finally:
        try:
            sys.close(old_fd)
        except OSError:
            pass


def shadow_entry(sys: Sys, prog: str, name: str) -> Gen:
    """getspnam as busybox's libpwdgrp does it: whether /etc/shadow exists,
    and the user's password field (None if no line is the user's).  A line
    without its 9 fields is complained about ("bad record") and skipped."""
    try:
        fd = sys.open(SHADOW, O_RDONLY)
    except OSError:
        return False, None
    sys.close(fd)
    text = yield from read_text(sys, SHADOW)
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != 9:
            yield from complain(sys, prog, f"{SHADOW}: bad record")
            continue
        if fields[0] == name:
            return True, fields[1]
    return True, None


@applet("passwd")
@dies("passwd")
def passwd_main(sys: Sys) -> Gen:
    must_be_suid(sys)
    opts = yield from parse_options(sys, "passwd", "a:lud")
    if opts is None:
        return 1
    algo = opts.value("a") or "sha256"
    lud = [flag for flag in "lud" if flag in opts]
    myuid = sys.getuid()
    if lud and (myuid != 0 or not opts.operands):
        yield from show_usage(sys, "passwd")
        return 1
    myname = yield from id_to_name(sys, PASSWD, myuid)
    if myname is None:
        raise Die(f"unknown uid {myuid}")
    name = opts.operands[0] if opts.operands else myname
    pw = yield from passwd_entry(sys, name)
    if pw is None:
        raise Die(f"unknown user {name}")
    if myuid != 0 and pw[2] != str(myuid):
        raise Die(f"{myname} can't change password for {name}")
    has_shadow, spw = yield from shadow_entry(sys, "passwd", pw[0])
    if spw is not None:
        pw[1] = spw
    elif has_shadow:
        yield from complain(sys, "passwd", f"no record of {name} in {SHADOW}, using {PASSWD}")
    locked = pw[1][:1] == "!"
    out: list[str] = []
    newp: str | None
    if not lud:
        out.append(f"Changing password for {name}\n")
        newp = yield from _new_password(sys, out, pw, myuid, algo)
        yield from flush(sys, out)
        if newp is None:
            raise Die(f"password for {name} is unchanged")
    elif "l" in opts:
        newp = None if locked else "!" + pw[1]
    elif "u" in opts:
        newp = pw[1][1:] if locked else None
    else:
        newp = ""
    if newp is not None:
        for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
            sys.signal(sig, signal.SIG_IGN)
        sys.umask(0o077)
        today = max(int(sys.wall_time()) // 86400, 1)
        filename = SHADOW
        rc = yield from update_passwd(sys, SHADOW, name, newp, today)
        if rc > 0:
            newp = "x"
        if rc >= 0:
            filename = PASSWD
            rc = yield from update_passwd(sys, PASSWD, name, newp, today)
        if rc < 0:
            raise Die(f"can't update password file {filename}")
        yield from complain(sys, "passwd", f"password for {name} changed by {myname}")
        return 0
    raise Die(f"password for {name} is already {'un' if 'u' in opts else ''}locked")


def _new_password(sys: Sys, out: list[str], pw: list[str], myuid: int, algo: str) -> Gen:
    newp = yield from ask_noecho(sys, out, "New password: ")
    if newp is None:
        return None
    msg = obscure_msg(newp, pw, sys.gethostname())
    if msg is not None:
        out.append(f"Bad password: {msg}\n")
        if myuid != 0:
            return None
    again = yield from ask_noecho(sys, out, "Retype password: ")
    if again is None:
        return None
    if again != newp:
        out.append("Passwords don't match\n")
        return None
    return make_hash(newp, algo)
