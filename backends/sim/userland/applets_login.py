"""cttyhack, sulogin and login -- after busybox 1.35's shell/cttyhack.c,
loginutils/sulogin.c and loginutils/login.c (with libbb's
correct_password, securetty, setup_environment and run_shell).

``cttyhack [PROG ARGS]`` finds the terminal to put a program on: the
controlling terminal (``/dev/tty``, which opens only under ``run -t``),
else the console sysfs names (``/sys/class/tty/console/active``), else
none.  Without PROG it prints the name (or fails); with PROG it moves
stdin, stdout and stderr there (when it found one) and execs PROG.

``sulogin [-t SEC] [TTY]`` asks for root's password ("Give root password
for system maintenance"), echo off, from stdin or TTY: the right one
starts root's login shell (``$SUSHELL`` if set), ^D or end of input is
"normal startup" (exit 0), a wrong one "Login incorrect" after busybox's
3-second pause, and again.  An empty password asks nothing.  The password
is checked as crypt(3) does it: /etc/passwd's field, or /etc/shadow's when
that is ``x`` or ``*`` (``aa`` -- never matched -- without a shadow line).

``login [-f USER] [-h HOST] [-p] [USER]`` wants a terminal (else it exits
1 silently): "HOST login: " (stdio-buffered), "Password: " with echo off
(unless the field is empty; ``!``/``*`` and an unknown user always fail,
the latter after asking), root only on a terminal /etc/securetty lists (if
it exists), 3 tries with busybox's pause and "Login incorrect", then
/etc/nologin for a user, the identity, the home directory, a clean
environment (``-p`` keeps it), /etc/motd unless ~/.hushlogin, and the
login shell.  Not modelled: utmp/wtmp records, the tty's chown/chmod,
the LOGIN_TIMEOUT alarm.
"""

from __future__ import annotations

import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, O_RDWR, Sys
from .applet_table import applet
from .applets_mkpasswd import md5_crypt, sha_crypt
from .applets_passwd import ask_noecho, flush, shadow_entry
from .applets_su import ROOT_PATH, USER_PATH, change_identity, must_be_suid
from .libc import Die, complain, dies, parse_options, passwd_entry, read_text, strerror, xatoi
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]
DEFAULT_SHELL = "/bin/sh"
LOGIN_FAIL_DELAY = 3


# -- cttyhack ----------------------------------------------------------------------------------
@applet("cttyhack")
def cttyhack_main(sys: Sys) -> Gen:
    console = "/dev/tty"
    try:
        fd = sys.open(console, O_RDWR)
    except OSError:
        fd = -1
        console = ""
        active = yield from _read_sysfs(sys, "/sys/class/tty/console/active")
        if active:
            # "[tty0 ]ttyS0\n": the last name, without the newline
            name = active[:-1] if active.endswith("\n") else active
            console = "/dev/" + name.rsplit(" ", 1)[-1]
        # VT_GETSTATE and TIOCGSERIAL on stdin: no virtual consoles or serial lines here
    args = sys.argv[1:]
    if not args:
        if not console:
            return 1
        try:
            sys.write(1, (console + "\n").encode())
        except OSError:
            pass
        return 0
    if fd < 0:
        try:
            fd = sys.open(console, O_RDWR)
        except OSError as e:
            yield from complain(sys, "cttyhack", f"can't open '{console}': {strerror(e)}")
    if fd >= 0:
        for target in (0, 1, 2):
            sys.dup2(fd, target)
        while fd > 2:
            try:
                sys.close(fd)
            except OSError:
                pass
            fd -= 1
    return (yield from exec_or_die(sys, "cttyhack", args))


def _read_sysfs(sys: Sys, path: str) -> Gen:
    """open_read_close into a small buffer: the text, or "" when it cannot be read."""
    try:
        fd = sys.open(path, O_RDONLY)
    except OSError:
        return ""
    try:
        data = yield from sys.read(fd, 64)
    except OSError:
        data = b""
    finally:
        sys.close(fd)
    return data.decode("latin-1")


# -- passwords ---------------------------------------------------------------------------------
def stored_password(sys: Sys, prog: str, pw: list[str]) -> Gen:
    """get_passwd: the password field to check against."""
    password = pw[1]
    if password in ("x", "*"):
        _exists, field = yield from shadow_entry(sys, prog, pw[0])
        return "aa" if field is None else field
    return password


def crypt(plain: bytes, setting: str) -> str:
    """pw_encrypt with the stored hash as the salt; a form not modelled
    (DES, or anything else) never matches."""
    for prefix, wide in (("$5$", False), ("$6$", True)):
        if setting.startswith(prefix):
            return sha_crypt(plain, setting[3:], wide)
    if setting.startswith("$1$"):
        return md5_crypt(plain, setting[3:])
    return "\0"


def ask_and_check(sys: Sys, prog: str, out: list[str], pw: list[str], prompt: str) -> Gen:
    """ask_and_check_password_extended: 2 for an empty password (nothing
    asked), -1 at end of input, 1 if right, 0 if wrong."""
    stored = yield from stored_password(sys, prog, pw)
    if not stored:
        return 2
    plain = yield from ask_noecho(sys, out, prompt)
    if plain is None:
        return -1
    stored = yield from stored_password(sys, prog, pw)  # check_password looks it up again
    if not stored:
        return 2
    return 1 if crypt(plain, stored) == stored else 0


def passwd_by_uid(sys: Sys, uid: int) -> Gen:
    text = yield from read_text(sys, "/etc/passwd")
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == str(uid):
            return fields
    return None


def exec_login_shell(sys: Sys, prog: str, shell: str | None) -> Gen:
    """exec_shell(shell, loginshell=1): ``-sh``; dies if it cannot."""
    if not shell:
        shell = DEFAULT_SHELL
    argv0 = "-" + shell.rsplit("/", 1)[-1]
    try:
        return (yield from sys.execve(shell, [argv0], dict(sys.env)))
    except OSError as e:
        raise Die(f"can't execute '{shell}': {strerror(e)}") from None


# -- sulogin -----------------------------------------------------------------------------------
@applet("sulogin")
@dies("sulogin")
def sulogin_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "sulogin", "t:", permute=False)
    if opts is None:
        return 1
    if "t" in opts:
        xatoi(opts.value("t") or "", 0)  # the timeout: alarm(2) is not modelled (SIMPLIFICATIONS.md)
    if opts.operands:
        tty = opts.operands[0]
        for fd in (0, 1):
            try:
                sys.close(fd)
            except OSError:
                pass
        try:
            fd = sys.open(tty, O_RDWR)
        except OSError as e:
            raise Die(f"can't open '{tty}': {strerror(e)}") from None
        if fd != 0:
            sys.dup2(fd, 0)
        sys.dup2(0, 1)
        sys.dup2(0, 2)
        if fd > 2:
            sys.close(fd)
    pw = yield from passwd_by_uid(sys, 0)
    if pw is None:
        raise Die("no password entry for root")
    out: list[str] = []
    while True:
        r = yield from ask_and_check(
            sys,
            "sulogin",
            out,
            pw,
            "Give root password for system maintenance\n(or type Control-D for normal startup):",
        )
        yield from flush(sys, out)
        if r < 0:
            yield from complain(sys, "sulogin", "normal startup")
            return 0
        if r > 0:
            break
        yield from sys.sleep(LOGIN_FAIL_DELAY)
        yield from complain(sys, "sulogin", "Login incorrect")
    yield from complain(sys, "sulogin", "starting shell for system maintenance")
    shell = sys.env.get("SUSHELL")
    if shell is None:
        shell = sys.env.get("sushell")
    if shell is None:
        shell = pw[6]
    return (yield from exec_login_shell(sys, "sulogin", shell))


# -- login -------------------------------------------------------------------------------------
EMPTY_USERNAME_COUNT = 10
USERNAME_SIZE = 64


def is_tty_secure(sys: Sys, short_tty: str) -> Gen:
    """libbb's is_tty_secure: no /etc/securetty, an empty one, or one that
    lists the terminal."""
    try:
        fd = sys.open("/etc/securetty", O_RDONLY)
    except OSError:
        return True
    sys.close(fd)
    text = yield from read_text(sys, "/etc/securetty")
    names = [line.split("#", 1)[0].split() for line in text.splitlines()]
    names = [words[0] for words in names if words]
    return not names or short_tty in names


class _Stdin:
    """stdio's buffered stdin (getchar/fgets): whole reads, handed out byte by byte."""

    def __init__(self, sys: Sys):
        self.sys, self.buf = sys, bytearray()

    def getchar(self) -> Gen:
        if not self.buf:
            try:
                data = yield from self.sys.read(0, 4096)
            except OSError:
                data = b""
            if not data:
                return None
            self.buf += data
        return self.buf.pop(0)

    def fgets(self, size: int) -> Gen:
        line = bytearray()
        while len(line) < size - 1:
            c = yield from self.getchar()
            if c is None:
                break
            line.append(c)
            if c == 10:
                break
        return bytes(line) if line else None


def get_username_or_die(sys: Sys, out: list[str], stdin: _Stdin) -> Gen:
    cntdown = EMPTY_USERNAME_COUNT
    while True:
        out.append(sys.gethostname() + " login: ")
        yield from flush(sys, out)
        while True:
            c = yield from stdin.getchar()
            if c is None:
                raise Die(None)
            if c == 10:
                cntdown -= 1
                if not cntdown:
                    raise Die(None)
                break
            if c not in b" \t\n\v\f\r":
                rest = yield from stdin.fgets(USERNAME_SIZE - 2)
                if rest is None or b"\n" not in rest:
                    raise Die(None)
                name = bytes([c]) + rest
                end = 0
                while end < len(name) and name[end] > 0x20:
                    end += 1
                return name[:end].decode("latin-1")


@applet("login")
@dies("login")
def login_main(sys: Sys) -> Gen:
    must_be_suid(sys)
    opts = yield from parse_options(sys, "login", "f:h:p")
    if opts is None:
        return 1
    xatoi(sys.env.get("LOGIN_TIMEOUT") or "60", 0)  # the alarm itself is not modelled
    username = opts.value("f") or ""
    force = "f" in opts
    if opts.operands:
        username = opts.operands[0][: USERNAME_SIZE - 1]
    try:
        sys.tcgetattr(0)
        if not sys.isatty(1):
            return 1
    except OSError:
        return 1  # must be a terminal
    try:
        full_tty = sys.ttyname(0)
    except OSError:
        full_tty = "UNKNOWN"
    short_tty = full_tty[5:] if full_tty.startswith("/dev/") else full_tty
    out: list[str] = []
    stdin = _Stdin(sys)
    count = 0
    while True:
        try:
            sys.tcflush(0)
        except OSError:
            pass
        if not username:
            username = yield from get_username_or_die(sys, out, stdin)
        pw = yield from passwd_entry(sys, username)
        ok = False
        if pw is None:
            username = "UNKNOWN"
            # get_passwd(NULL): "aa", which no password matches
            yield from ask_and_check(sys, "login", out, ["UNKNOWN", "aa", "", "", "", "", ""], "Password: ")
        elif pw[1][:1] in ("!", "*"):
            pass
        elif force:
            ok = True
        elif pw[2] == "0" and not (yield from is_tty_secure(sys, short_tty)):
            pass
        elif not pw[1]:
            ok = True
        else:
            ok = (yield from ask_and_check(sys, "login", out, pw, "Password: ")) > 0
        if ok and pw is not None:
            break
        force = False
        yield from sys.sleep(LOGIN_FAIL_DELAY)
        out.append("Login incorrect\n")
        yield from flush(sys, out)
        count += 1
        if count == 3:
            return 1
        username = ""
    if pw[2] != "0":
        yield from _die_if_nologin(sys, out)
    yield from change_identity(sys, pw)
    shell = pw[6] or DEFAULT_SHELL
    try:
        sys.chdir(pw[5])
    except OSError:
        yield from complain(sys, "login", f"can't change directory to '{pw[5]}'")
        try:
            sys.chdir("/")
        except OSError as e:
            raise Die(f"can't change directory to '/': {strerror(e)}") from None
    env = dict(sys.env)
    if "p" not in opts:
        term = env.get("TERM")
        env = {} if term is None else {"TERM": term}
        env["PATH"] = USER_PATH if pw[2] != "0" else ROOT_PATH
        env["USER"] = env["LOGNAME"] = pw[0]
    elif pw[2] != "0":
        env["USER"] = env["LOGNAME"] = pw[0]
    env["HOME"] = pw[5]
    env["SHELL"] = shell
    if not sys.access(".hushlogin", 0):
        text = yield from read_text(sys, "/etc/motd")
        out.append(text)
    yield from flush(sys, out)
    sys.signal(signal.SIGINT, None)
    argv0 = "-" + shell.rsplit("/", 1)[-1]
    try:
        return (yield from sys.execve(shell, [argv0], env))
    except OSError as e:
        raise Die(f"can't execute '{shell}': {strerror(e)}") from None


def _die_if_nologin(sys: Sys, out: list[str]) -> Gen:
    try:
        fd = sys.open("/etc/nologin", O_RDONLY)
    except OSError:
        return
    sys.close(fd)
    text = yield from read_text(sys, "/etc/nologin")
    if text:
        out.append(text.replace("\n", "\r\n"))
    else:
        out.append("\r\nSystem closed for routine maintenance\r\n")
    yield from flush(sys, out)
    raise Die(None)
