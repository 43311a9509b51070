"""start-stop-daemon -- after busybox 1.35's debianutils/start_stop_daemon.c
(with its long options and the "fancy" -o -v -N -R).

Both -S and -K first look for matching processes: with ``-p FILE`` only
the PID in it, else every PID in /proc.  A process matches when every
condition given does: ``-x`` (its /proc/PID/exe, or the first word of its
cmdline), ``-n`` (the comm in /proc/PID/stat, not a truncated one), ``-u``
(the owner of /proc/PID).  -K signals what it found (``-t``: signal 0);
-S starts the program unless something was found -- itself, by execvp,
after ``-b`` (two vforks; stdio on /dev/null), ``-m`` (its PID to the
pidfile), ``-N`` and ``-c``.

The simulator has no nice values: a negative -N is refused as a Docker
container (no CAP_SYS_NICE) refuses it, a positive one changes nothing
visible.  It has no sessions either: -b's setsid() has nothing to do.
"""

from __future__ import annotations

import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .cmd_kill import signal_number
from .libc import Die, UsageError, complain, dies, getopt, read_chunk, show_usage, strerror, write_all, xatoi
from .spawn import find_in_path

Gen = Generator[Any, Any, Any]

PROG = "start-stop-daemon"
LONGOPTS = {
    "stop": "K",
    "start": "S",
    "background": "b",
    "quiet": "q",
    "test": "t",
    "make-pidfile": "m",
    "oknodo": "o",
    "verbose": "v",
    "nicelevel": "N",
    "startas": "a",
    "name": "n",
    "signal": "s",
    "user": "u",
    "chuid": "c",
    "exec": "x",
    "pidfile": "p",
    "retry": "R",
}
COMM_LEN = 16


class _Usage(Exception):
    pass


def _strtou(text: str) -> int | None:
    """bb_strtou with no trailing text allowed: the number, or None."""
    return int(text) if text.isdigit() and int(text) <= 0xFFFFFFFF else None


class _Matcher:
    """The conditions of -x -n -u and what they found (newest first, as
    busybox prepends to its list)."""

    def __init__(self, sys: Sys, execname: str | None, cmdname: str | None, user_id: int | None) -> None:
        self.sys, self.execname, self.cmdname, self.user_id = sys, execname, cmdname, user_id
        self.found: list[int] = []

    def _read(self, path: str, n: int) -> Gen:
        sys = self.sys
        try:
            fd = sys.open(path, O_RDONLY)
        except OSError:
            return None
        try:
            return (yield from read_chunk(sys, fd, n))
        except OSError:
            return None
        finally:
            sys.close(fd)

    def _is_exec(self, pid: int) -> Gen:
        assert self.execname is not None
        try:
            if self.sys.readlink(f"/proc/{pid}/exe") == self.execname:
                return True
        except OSError:
            pass
        want = self.execname.encode("utf-8", "surrogateescape")
        data = yield from self._read(f"/proc/{pid}/cmdline", len(want) + 1)
        if not data:
            return False
        return data.split(b"\0", 1)[0] == want

    def _is_name(self, pid: int) -> Gen:
        data = yield from self._read(f"/proc/{pid}/stat", 31)
        if data is None:
            return False
        text = data.decode("utf-8", "surrogateescape")
        start = text.find("(")
        end = text.rfind(")")
        if start < 0 or end <= start:
            return False
        comm = text[start + 1 : end]
        return len(comm.encode("utf-8", "surrogateescape")) < COMM_LEN - 1 and comm == self.cmdname

    def _is_user(self, pid: int) -> bool:
        try:
            st = self.sys.stat(f"/proc/{pid}")
        except OSError:
            return False
        return st.uid == self.user_id

    def check(self, pid: int) -> Gen:
        if self.execname is not None and not (yield from self._is_exec(pid)):
            return
        if self.cmdname is not None and not (yield from self._is_name(pid)):
            return
        if self.user_id is not None and not self._is_user(pid):
            return
        self.found.insert(0, pid)


def _find(sys: Sys, matcher: _Matcher, pidfile: str | None) -> Gen:
    """do_procinit: the pidfile's PID, or every PID in /proc."""
    if pidfile is not None:
        try:
            fd = sys.open(pidfile, O_RDONLY)
        except OSError as e:
            if e.errno != 2:
                raise Die(f"open pidfile {pidfile}: {strerror(e)}") from None
            return
        try:
            data = yield from read_chunk(sys, fd, 4096)
        except OSError:  # a directory: fscanf reads nothing
            data = b""
        finally:
            sys.close(fd)
        text = data.decode("ascii", "replace").lstrip(" \t\n\v\f\r")
        digits = len(text) - len(text.lstrip("0123456789"))
        if digits:
            yield from matcher.check(int(text[:digits]) & 0xFFFFFFFF)
        return
    try:
        names = sys.listdir("/proc")
    except OSError as e:
        raise Die(f"can't open '/proc': {strerror(e)}") from None
    last = 0
    for name in names:
        pid = _strtou(name)
        if pid is None:
            continue
        last = pid
        yield from matcher.check(pid)
    if not last:
        raise Die("nothing in /proc - not mounted?")


def _stop(sys: Sys, matcher: _Matcher, what: str, signal_nr: int, quiet: bool, test: bool) -> Gen:
    """do_stop: how many were signalled, or -1."""
    if not matcher.found:
        if not quiet:
            yield from write_all(sys, 1, f"no {what} found; none killed\n")
        return -1
    killed = 0
    stopped: list[int] = []
    for pid in matcher.found:
        try:
            sys.kill(pid, 0 if test else signal_nr)
        except OSError as e:
            yield from complain(sys, PROG, f"warning: killing process {pid}: {strerror(e)}")
            if test:
                return -1
            continue
        killed += 1
        stopped.append(pid)
    if not quiet and killed:
        yield from write_all(sys, 1, f"stopped {what} (pid{''.join(f' {p}' for p in stopped)})\n")
    return killed


def _execvp(sys: Sys, file: str, argv: list[str]) -> Gen:
    """execvp(3): a PATH search unless FILE has a slash; ENOEXEC goes to /bin/sh."""
    path = find_in_path(sys, file) if "/" not in file else file
    if path is None:
        raise OSError(2, "No such file or directory")
    try:
        yield from sys.execve(path, argv, dict(sys.env))
    except OSError as e:
        if e.errno != 8:
            raise
        yield from sys.execve("/bin/sh", ["/bin/sh", path, *argv[1:]], dict(sys.env))


def _write_pidfile(sys: Sys, path: str) -> Gen:
    try:
        fd = sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    except OSError:
        return
    try:
        yield from write_all(sys, fd, f"{sys.getpid()}\n")
    except OSError:
        pass
    finally:
        sys.close(fd)


def _chuid(sys: Sys, spec: str) -> Gen:
    """-c USER[:[GRP]]: change_identity to the user (their group, or GRP)."""
    from .applets_owners import _owner_spec
    from .applets_su import change_identity

    ids = yield from _owner_spec(sys, PROG, spec)
    if ids is None:
        raise Die(None)
    uid, gid = ids
    if uid != -1:
        text = yield from _passwd_by_uid(sys, uid)
        if text is None:
            raise Die(f"unknown uid {uid}")
        if gid != -1:
            text[3] = str(gid)
        yield from change_identity(sys, text)
    elif gid != -1:
        try:
            sys.setgid(gid)
        except OSError as e:
            raise Die(f"setgid: {strerror(e)}") from None
        try:
            sys.setgroups([gid])
        except OSError:
            pass


def _passwd_by_uid(sys: Sys, uid: int) -> Gen:
    from .libc import read_text

    text = yield from read_text(sys, "/etc/passwd")
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == str(uid):
            return fields
    return None


def _start(sys: Sys, opts, execname: str, startas: str, argv: list[str], pidfile: str | None) -> Gen:
    """What -S does once nothing matched: in this process, or -- with -b --
    in a grandchild while the caller returns 0 (after the grandchild
    exec'd: vfork blocks the parent until then)."""
    if "b" in opts:
        exec_started: dict[str, bool] = {}

        def grandchild(gsys: Sys) -> Gen:
            try:
                return (yield from _become(gsys, opts, execname, startas, argv, pidfile, exec_started))
            except Die as e:
                if e.message is not None:
                    yield from complain(gsys, PROG, e.message)
                return e.status
            finally:
                exec_started.setdefault("done", True)

        def child(csys: Sys) -> Gen:
            # bb_daemon_helper(DAEMON_DEVNULL_STDIO + DAEMON_CLOSE_EXTRA_FDS):
            # stdio on /dev/null, then close from its descriptor down to 3 --
            # a descriptor above it stays open
            null = csys.open("/dev/null", O_RDWR)
            for fd in (0, 1, 2):
                csys.dup2(null, fd)
            for fd in range(null, 2, -1):
                try:
                    csys.close(fd)
                except OSError:
                    pass
            csys.fork(grandchild)
            yield from _vfork_wait(csys, exec_started)
            return 0

        cell: dict[str, bool] = {}

        def first(csys: Sys) -> Gen:
            try:
                return (yield from child(csys))
            finally:
                cell["done"] = True

        sys.fork(first)
        yield from _vfork_wait(sys, cell)
        return 0
    return (yield from _become(sys, opts, execname, startas, argv, pidfile, {}))


def _vfork_wait(sys: Sys, cell: dict[str, bool]) -> Gen:
    for _ in range(100000):
        if cell:
            return
        yield from sys.sched_yield()


def _become(sys: Sys, opts, execname: str, startas: str, argv: list[str], pidfile, started: dict) -> Gen:
    if "m" in opts and pidfile is not None:
        yield from _write_pidfile(sys, pidfile)
    if "N" in opts:
        text = opts.value("N") or ""
        adjustment = xatoi(text, -(2**31) // 2, (2**31 - 1) // 2)
        if adjustment < 0:  # raising the priority needs CAP_SYS_NICE, which a container lacks
            raise Die(f"setpriority({adjustment}): Permission denied")
    if "c" in opts:
        yield from _chuid(sys, opts.value("c") or "")
    started["done"] = True
    try:
        yield from _execvp(sys, execname, [startas, *argv])
    except OSError as e:
        raise Die(f"can't execute '{startas}': {strerror(e)}") from None
    return 1  # pragma: no cover


@applet("start-stop-daemon")
@dies("start-stop-daemon")
def start_stop_daemon_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "KSbqtma:n:s:u:c:x:p:ovN:R:", longopts=LONGOPTS)
        if ("K" in opts) == ("S" in opts):
            raise _Usage
        if "m" in opts and "p" not in opts:
            raise _Usage
        if "K" in opts and not any(flag in opts for flag in "xpun"):
            raise _Usage
    except (UsageError, _Usage) as e:
        if isinstance(e, UsageError) and e.message:
            yield from complain(sys, PROG, e.message)
        yield from show_usage(sys, PROG)
        return 1
    signal_nr = int(signal.SIGTERM)
    if "s" in opts:
        number = signal_number(opts.value("s") or "")
        if number is None:
            yield from show_usage(sys, PROG)
            return 1
        signal_nr = number
    args = list(opts.operands)
    execname, startas = opts.value("x"), opts.value("a")
    if "S" in opts:
        if execname is None:
            execname = startas
            if execname is None:
                if not args:
                    yield from show_usage(sys, PROG)
                    return 1
                execname = args.pop(0)
        if startas is None:
            startas = execname
    userspec, cmdname, pidfile = opts.value("u"), opts.value("n"), opts.value("p")
    user_id = None
    if userspec is not None:
        user_id = _strtou(userspec)
        if user_id is None:
            from .libc import passwd_entry

            entry = yield from passwd_entry(sys, userspec)
            if entry is None:
                raise Die(f"unknown user {userspec}")
            user_id = int(entry[2])
    matcher = _Matcher(sys, execname, cmdname, user_id)
    yield from _find(sys, matcher, pidfile)
    quiet = "q" in opts
    if "K" in opts:
        if cmdname is not None:
            what = cmdname
        elif execname is not None:
            what = execname
        elif pidfile is not None:
            what = f"process in pidfile '{pidfile}'"
        else:
            what = f"process(es) owned by '{userspec}'"
        killed = yield from _stop(sys, matcher, what, signal_nr, quiet, "t" in opts)
        return 0 if "o" in opts else int(killed <= 0)
    assert execname is not None and startas is not None
    if matcher.found:
        if not quiet:
            yield from write_all(sys, 1, f"{execname} is already running\n")
        return 0 if "o" in opts else 1
    return (yield from _start(sys, opts, execname, startas, args, pidfile))
