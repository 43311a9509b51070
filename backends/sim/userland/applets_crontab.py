"""crontab -- after busybox 1.35's miscutils/crontab.c.

A user's crontab is the file named after them in the crontab directory
(``/var/spool/cron/crontabs``, or ``-c DIR``; the busybox image has none,
so crontab fails there as the real one does).  ``FILE`` (or ``-`` for
stdin) replaces it through ``USER.new`` and a rename; ``-l`` prints it,
``-r`` removes it, ``-e`` copies it to ``DIR.PID`` and runs ``$VISUAL``,
``$EDITOR`` or ``vi`` on the copy as the user (in their home directory,
HOME/SHELL -- and USER/LOGNAME for a non-root user -- set).  Every change
appends the user's name to ``cron.update``, which tells crond to reread.

The replacement FILE is opened as the user (busybox sets its effective
ids around the open): here a child process that takes the user's uid and
gid opens and reads it, so the kernel checks the same permissions.
busybox marks crontab BB_SUID_REQUIRE and Debian's binary is not set-uid:
for anyone but root it is "must be suid to work properly".
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    Die,
    UsageError,
    complain,
    dies,
    getopt,
    id_to_name,
    passwd_entry,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]

CRONTABS = "/var/spool/cron/crontabs"
CRONUPDATE = "cron.update"


def _usage(sys: Sys) -> Gen:
    yield from show_usage(sys, "crontab")
    raise Die(None)


def _user(sys: Sys, name: str | None) -> Gen:
    """xgetpwnam / xgetpwuid: the passwd fields, or die."""
    if name is None:
        uid = sys.getuid()
        name = yield from id_to_name(sys, "/etc/passwd", uid)
        if name is None:
            raise Die(f"unknown uid {uid}")
    pw = yield from passwd_entry(sys, name)
    if pw is None:
        raise Die(f"unknown user {name}")
    return pw


def _read_as(sys: Sys, path: str, uid: int, gid: int) -> Gen:
    """xopen_as_uid_gid + read: the file's bytes, opened with the user's ids."""
    if (uid, gid) == (sys.getuid(), sys.getgid()):
        fd = _xopen(sys, path, O_RDONLY)
        try:
            return (yield from read_all(sys, fd))
        finally:
            sys.close(fd)
    got: dict[str, Any] = {}

    def reader(csys: Sys) -> Gen:
        try:
            csys.setgid(gid)
            csys.setuid(uid)
            fd = csys.open(path, O_RDONLY)
        except OSError as e:
            got["error"] = e
            return 1
        got["data"] = yield from read_all(csys, fd)
        return 0

    pid = sys.fork(reader)
    while (yield from sys.waitpid(pid, 0)) is None:
        pass
    if "error" in got:
        raise Die(f"can't open '{path}': {strerror(got['error'])}")
    return got["data"]


def _xopen(sys: Sys, path: str, flags: int, mode: int = 0o666) -> int:
    try:
        return sys.open(path, flags, mode)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None


def _edit(sys: Sys, pw: list[str], path: str) -> Gen:
    """edit_file: the editor runs as the user on ``path``; crontab waits."""
    from .applets_su import change_identity
    from .spawn import bb_execvp, wait_status

    def editor(csys: Sys) -> Gen:
        yield from change_identity(csys, pw)
        try:
            csys.chdir(pw[5])
        except OSError:
            yield from complain(csys, "crontab", f"can't change directory to '{pw[5]}'")
            try:
                csys.chdir("/tmp")
            except OSError as e:
                raise Die(f"can't change directory to '/tmp': {strerror(e)}") from None
        env = dict(csys.env)
        if int(pw[2]):
            env["USER"] = env["LOGNAME"] = pw[0]
        env["HOME"], env["SHELL"] = pw[5], pw[6] or "/bin/sh"
        program = env["VISUAL"] if "VISUAL" in env else env.get("EDITOR", "vi")
        try:
            yield from bb_execvp(csys, [program, path], env)
        except OSError as e:
            raise Die(f"can't execute '{program}': {strerror(e)}") from None
        return 1  # pragma: no cover

    def run_editor(csys: Sys) -> Gen:
        try:
            return (yield from editor(csys))
        except Die as e:
            if e.message is not None:
                yield from complain(csys, "crontab", e.message)
            return e.status

    pid = sys.fork(run_editor)
    yield from wait_status(sys, pid)


@applet("crontab")
@dies("crontab")
def crontab_main(sys: Sys) -> Gen:
    from .applets_su import must_be_suid

    must_be_suid(sys)  # BB_SUID_REQUIRE, and Debian's busybox is not set-uid
    try:
        opts = getopt(sys.argv[1:], "u:c:lerd")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "crontab", e.message)
        yield from _usage(sys)
        return 1
    if len(opts.operands) > 1:
        yield from _usage(sys)
    crontab_dir = opts.value("c", CRONTABS) or ""
    pw = yield from _user(sys, opts.value("u") if "u" in opts else None)
    actions = [flag for flag in "ler" if flag in opts or (flag == "r" and "d" in opts)]
    if len(actions) > 1:
        yield from _usage(sys)
    action = actions[0] if actions else None
    source: bytes | None = None
    if action is None:
        if not opts.operands:
            yield from _usage(sys)
        if opts.operands[0] != "-":
            source = yield from _read_as(sys, opts.operands[0], int(pw[2]), int(pw[3]))
    try:
        sys.chdir(crontab_dir)
    except OSError as e:
        raise Die(f"can't change directory to '{crontab_dir}': {strerror(e)}") from None
    name = pw[0]
    if action == "l":
        try:
            fd = sys.open(name, O_RDONLY)
        except OSError as e:
            yield from complain(sys, "crontab", f"can't open '{name}': {strerror(e)}")
            return 1
        data = yield from read_all(sys, fd)
        sys.close(fd)
        yield from write_all(sys, 1, data)
        return 0
    if action == "r":
        try:
            sys.unlink(name)
        except OSError:
            pass
    else:
        temp = None
        if action == "e":
            temp = f"{crontab_dir}.{sys.getpid()}"
            fd = _xopen(sys, temp, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            try:
                sys.chown(temp, int(pw[2]), int(pw[3]))
            except OSError:
                pass
            try:
                old = sys.open(name, O_RDONLY)
            except OSError:
                pass
            else:
                yield from write_all(sys, fd, (yield from read_all(sys, old)))
                sys.close(old)
            sys.close(fd)
            yield from _edit(sys, pw, temp)
            fd = _xopen(sys, temp, O_RDONLY, 0o600)
            source = yield from read_all(sys, fd)
            sys.close(fd)
        if source is None:
            source = yield from read_all(sys, 0)
        new = f"{name}.new"
        try:
            fd = sys.open(new, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        except OSError:
            yield from complain(sys, "crontab", f"can't create {crontab_dir}/{new}")
        else:
            yield from write_all(sys, fd, source)
            sys.close(fd)
            try:
                sys.rename(new, name)
            except OSError as e:
                raise Die(f"can't move '{new}' to '{name}': {strerror(e)}") from None
        if temp is not None:
            try:
                sys.unlink(temp)
            except OSError:
                pass
    try:
        fd = sys.open(CRONUPDATE, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    except OSError:
        yield from complain(sys, "crontab", f"can't append to {crontab_dir}/{CRONUPDATE}")
        return 0
    yield from write_all(sys, fd, f"{name}\n")
    sys.close(fd)
    return 0
