"""su -- after busybox 1.35's loginutils/su.c with libbb's change_identity,
setup_environment and exec_shell.

busybox marks su "must be suid": run by a non-root user from a binary
without the set-uid bit (as in the busybox image, real or simulated) it
refuses before anything else, "must be suid to work properly", so the
password prompt is never reached.  Root needs no password: su looks the
user up, takes its groups (initgroups: the primary group and every
/etc/group line naming the user), gid and uid, sets HOME/SHELL (and
USER/LOGNAME for a non-root user; with ``-l`` a cleared environment with
busybox's PATH) and execs the user's shell -- or ``-s SH`` -- as
``sh [-c CMD] [ARGS]`` (``-sh`` for a login shell).  su's syslog line goes
nowhere: the image runs no syslogd.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, complain, dies, parse_options, passwd_entry, read_text, strerror

Gen = Generator[Any, Any, Any]
DEFAULT_SHELL = "/bin/sh"
ROOT_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"  # bb_default_root_path
USER_PATH = "/bin:/usr/bin"  # bb_default_path


def must_be_suid(sys: Sys) -> None:
    """appletlib's check_suid for a BB_SUID_REQUIRE applet: without the
    set-uid bit on busybox, a non-root caller is refused."""
    if sys.getuid() != 0:
        raise Die("must be suid to work properly")


def initgroups(sys: Sys, name: str, gid: int) -> Gen:
    """glibc's initgroups: ``gid`` and the groups listing ``name``."""
    groups = [gid]
    text = yield from read_text(sys, "/etc/group")
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit() and name in fields[3].split(","):
            if int(fields[2]) not in groups:
                groups.append(int(fields[2]))
    return groups


def change_identity(sys: Sys, pw: list[str]) -> Gen:
    groups = yield from initgroups(sys, pw[0], int(pw[3]))
    try:
        sys.setgroups(groups)
    except OSError as e:
        raise Die(f"can't set groups: {strerror(e)}") from None
    for call, value, what in ((sys.setgid, int(pw[3]), "gid"), (sys.setuid, int(pw[2]), "uid")):
        try:
            call(value)
        except OSError as e:
            raise Die(f"set{what}: {strerror(e)}") from None


@applet("su")
@dies("su")
def su_main(sys: Sys) -> Gen:
    must_be_suid(sys)
    opts = yield from parse_options(sys, "su", "mplc:s:")
    if opts is None:
        return 1
    args = list(opts.operands)
    login = "l" in opts
    if args and args[0] == "-":
        login = True
        args.pop(0)
    user = args.pop(0) if args else "root"
    pw = yield from passwd_entry(sys, user)
    if pw is None or not pw[2].isdigit() or not pw[3].isdigit():
        raise Die(f"unknown user {user}")
    yield from _log_su(sys, user)
    preserve = "m" in opts or "p" in opts
    shell = opts.value("s")
    if shell is None and preserve:
        shell = sys.env.get("SHELL")
    if shell is None:
        shell = pw[6]
    yield from change_identity(sys, pw)
    if not shell:
        shell = DEFAULT_SHELL
    env = dict(sys.env)
    if login:
        try:
            sys.chdir(pw[5])
        except OSError:
            yield from complain(sys, "su", f"can't change directory to '{pw[5]}'")
            try:
                sys.chdir("/")
            except OSError as e:
                raise Die(f"can't change directory to '/': {strerror(e)}") from None
        term = env.get("TERM")
        env = {} if term is None else {"TERM": term}
        env["PATH"] = USER_PATH if int(pw[2]) else ROOT_PATH
    if login or not preserve:
        if login or int(pw[2]):
            env["USER"] = pw[0]
            env["LOGNAME"] = pw[0]
        env["HOME"] = pw[5]
        env["SHELL"] = shell
    argv0 = shell.rsplit("/", 1)[-1]
    argv = ["-" + argv0 if login else argv0]
    if "c" in opts:
        argv += ["-c", opts.value("c") or ""]
    argv += args
    try:
        return (yield from sys.execve(shell, argv, env))
    except OSError as e:
        raise Die(f"can't execute '{shell}': {strerror(e)}") from None


def _log_su(sys: Sys, user: str) -> Gen:
    """FEATURE_SU_SYSLOG: "+ TTY OLD:NEW" at auth.notice, tagged "su" (root needs no password)."""
    from . import timefmt
    from .applets_logging import _send_to_syslogd
    from .libc import id_to_name

    tty = sys.ttyname(0) if sys.isatty(0) else "none"
    old = (yield from id_to_name(sys, "/etc/passwd", sys.getuid())) or ""
    zone = yield from timefmt.load_zone(sys)
    _send_to_syslogd(sys, (4 << 3) | 5, zone, f"su: + {tty} {old}:{user}".encode())
