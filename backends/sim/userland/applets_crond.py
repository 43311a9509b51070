"""crond -- after busybox 1.35's miscutils/crond.c, as Debian builds it
(FEATURE_CROND_CALL_SENDMAIL and FEATURE_CROND_SPECIAL_TIMES on,
FEATURE_CROND_D off).

crond reads every crontab in its directory (``/var/spool/cron/crontabs``,
``-c DIR``) named after a user and owned by root, then wakes at each
minute boundary of the clock -- on the simulator the virtual one, so a
test waits minutes without waiting -- rereads what ``cron.update`` names
(crontab writes it) or the whole directory when it changed, and runs the
jobs whose fields match the local time: ``$SHELL -c CMD`` (SHELL= in the
crontab, else crond's $SHELL, else the user's shell) as the user, in their
home directory, its output on crond's own stdout and stderr -- or, after a
``MAILTO=`` line, into ``/var/spool/cron/cron.USER.PID``, which is piped to
``sendmail -ti`` if the job wrote anything (the busybox image has no
sendmail: crond says it cannot execute it).

Messages go to syslog (nowhere on the simulator: no /dev/log) unless
``-L FILE``, which also becomes the jobs' stderr.  Busybox 1.35's quirks
are kept: the level-5 "entry:" log shows ``(null)`` (the parser keeps no
copy of the line in this build) and a known ``@special`` line with a
command crashes crond with SIGSEGV while it reads the crontab (it looks for
the command in that missing copy).
"""

from __future__ import annotations

import signal
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_TRUNC, O_WRONLY, WNOHANG, Sys
from . import timefmt
from .applet_table import applet
from .daemonize import daemonize
from .libc import Die, UsageError, complain, dies, getopt, read_all, show_usage, strerror, write_all, xatou

Gen = Generator[Any, Any, Any]

CRON_DIR = "/var/spool/cron"
CRONTABS = CRON_DIR + "/crontabs"
CRON_REBOOT = "/var/run/crond.reboot"
CRONUPDATE = "cron.update"
MAXLINES = 256
SPECIALS = ("yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly", "reboot")
DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MON_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
START_ME_NORMAL = -1


@dataclass
class CronLine:
    cmd: str
    mailto: str | None
    shell: str | None
    mins: list[int] = field(default_factory=lambda: [0] * 60)
    hrs: list[int] = field(default_factory=lambda: [0] * 24)
    days: list[int] = field(default_factory=lambda: [0] * 32)
    mons: list[int] = field(default_factory=lambda: [0] * 12)
    dow: list[int] = field(default_factory=lambda: [0] * 7)
    pid: int = 0  # >0 running, -1 to start this minute
    empty_mail_size: int = 0


@dataclass
class CronFile:
    user: str
    lines: list[CronLine] = field(default_factory=list)
    wants_starting: bool = False
    has_running: bool = False
    deleted: bool = False


class Crond:
    """One crond: its options, its crontabs, its log."""

    def __init__(self, sys: Sys, log_level: int, log_file: str | None, directory: str) -> None:
        self.sys = sys
        self.log_level = log_level
        self.log_file = log_file
        self.directory = directory
        self.files: list[CronFile] = []
        self.dir_mtime = 0.0
        self.default_shell = "/bin/sh"

    # -- logging: bb_info_msg/bb_error_msg to stderr with -L, else to syslog (nowhere) ----------
    @property
    def to_stderr(self) -> bool:
        return self.log_file is not None

    def error(self, message: str) -> Gen:
        if self.to_stderr:
            yield from complain(self.sys, "crond", message)

    def log(self, level: int, message: str) -> Gen:
        if level >= self.log_level:
            yield from self.error(message)

    def reopen_log(self) -> Gen:
        if self.log_file is None:
            return
        sys = self.sys
        try:
            fd = sys.open(self.log_file, O_WRONLY | O_CREAT | O_APPEND, 0o666)
        except OSError as e:
            yield from complain(sys, "crond", f"can't open '{self.log_file}': {strerror(e)}")
            return
        if fd != 2:
            sys.dup2(fd, 2)
            sys.close(fd)

    # -- reading crontabs ----------------------------------------------------------------------
    def delete(self, user: str) -> None:
        kept = []
        for f in self.files:
            if f.user == user:
                f.deleted = True
                f.lines = [line for line in f.lines if line.pid > 0]
                f.has_running = bool(f.lines)
                if not f.has_running:
                    continue
            kept.append(f)
        self.files = kept

    def load(self, name: str) -> Gen:
        from .libc import passwd_entry

        sys = self.sys
        self.delete(name)
        if (yield from passwd_entry(sys, name)) is None:
            yield from self.log(7, f"ignoring file '{name}' (no such user)")
            return
        try:
            fd = sys.open(name, O_RDONLY)
        except OSError as e:
            yield from self.error(f"can't open '{name}': {strerror(e)}")
            return
        try:
            data = yield from read_all(sys, fd)
        except OSError:
            data = b""
        finally:
            sys.close(fd)
        if sys.stat(name).uid != 0:
            return
        cron = CronFile(name)
        max_lines = 65535 if name == "root" else MAXLINES
        mailto: str | None = None
        shell: str | None = None
        lines = iter(_config_lines(data.decode("utf-8", "surrogateescape")))
        while True:
            max_lines -= 1
            if not max_lines:
                yield from self.error(f"user {name}: too many lines")
                break
            tokens = next(lines, None)
            if tokens is None:
                break
            yield from self.log(4, f"user:{name} entry:(null)")
            if tokens[0].startswith("MAILTO="):
                mailto = tokens[0][7:] or None
                continue
            if tokens[0].startswith("SHELL="):
                shell = tokens[0][6:]
                continue
            if tokens[0].startswith("@"):
                if len(tokens) >= 2 and tokens[0][1:] in SPECIALS:
                    # busybox looks for the command in the parser's copy of the
                    # line, which this build does not keep: a NULL dereference
                    sys.signal(signal.SIGSEGV, signal.SIG_DFL)
                    sys.kill(sys.getpid(), signal.SIGSEGV)
                continue
            if len(tokens) < 6:
                continue
            line = CronLine(tokens[5], mailto, shell)
            for ary, mod, off, names, text in (
                (line.mins, 60, 0, None, tokens[0]),
                (line.hrs, 24, 0, None, tokens[1]),
                (line.days, 32, 0, None, tokens[2]),
                (line.mons, 12, -1, MON_NAMES, tokens[3]),
                (line.dow, 7, 0, DOW_NAMES, tokens[4]),
            ):
                ok = _parse_field(ary, mod, off, names, text)
                if not ok:
                    yield from self.error(f"user {name}: parse error at {text}")
                elif self.log_level <= 5 and self.to_stderr:
                    yield from write_all(sys, 2, "".join(str(v) for v in ary) + "\n")
            _fix_day_dow(line)
            cron.lines.append(line)
        self.files.insert(0, cron)

    def rescan(self) -> Gen:
        sys = self.sys
        for f in list(self.files):
            if not f.deleted:
                self.delete(f.user)
        try:
            sys.unlink(CRONUPDATE)
        except OSError:
            pass
        try:
            sys.chdir(self.directory)
        except OSError as e:
            raise Die(f"can't change directory to '{self.directory}': {strerror(e)}") from None
        try:
            names = sys.listdir(".")
        except OSError:
            raise Die(f"can't open '{self.directory}'") from None
        for name in names:
            if "." not in name:
                yield from self.load(name)

    def process_update_file(self) -> Gen:
        sys = self.sys
        try:
            fd = sys.open(CRONUPDATE, O_RDONLY)
        except OSError:
            return
        try:
            sys.unlink(CRONUPDATE)
        except OSError:
            pass
        data = yield from read_all(sys, fd)
        sys.close(fd)
        for raw in data.decode("utf-8", "surrogateescape").splitlines():
            yield from self.load(raw.split()[0] if raw.split() else "")

    # -- running jobs ------------------------------------------------------------------------
    def flag_starting(self, t1: int, t2: int, zone: Any) -> Gen:
        t = t1 - t1 % 60
        while t <= t2:
            if t > t1:
                tm = timefmt.localtime(zone, t)
                for f in self.files:
                    yield from self.log(4, f"file {f.user}:")
                    if f.deleted:
                        continue
                    for line in f.lines:
                        yield from self.log(4, f" line {line.cmd}")
                        if (
                            line.mins[tm.min]
                            and line.hrs[tm.hour]
                            and (line.days[tm.mday] or line.dow[tm.wday])
                            and line.mons[tm.mon - 1]
                        ):
                            yield from self.log(4, f" job: {line.pid} {line.cmd}")
                            if line.pid > 0:
                                yield from self.log(8, f"user {f.user}: process already running: {line.cmd}")
                            elif line.pid == 0:
                                line.pid = START_ME_NORMAL
                                f.wants_starting = True
            t += 60

    def start_jobs(self) -> Gen:
        for f in self.files:
            if not f.wants_starting:
                continue
            f.wants_starting = False
            for line in f.lines:
                if line.pid != START_ME_NORMAL:
                    continue
                pid = yield from self.start_one(f.user, line)
                yield from self.log(8, f"USER {f.user} pid {pid:3d} cmd {line.cmd}")
                if pid > 0:
                    f.has_running = True

    def start_one(self, user: str, line: CronLine) -> Gen:
        sys = self.sys
        line.pid = 0
        line.empty_mail_size = 0
        mail_fd = -1
        mail_file = f"{CRON_DIR}/cron.{user}.{sys.getpid()}"
        if line.mailto:
            try:
                mail_fd = sys.open(mail_file, O_CREAT | O_TRUNC | O_WRONLY | O_EXCL | O_APPEND, 0o600)
            except OSError:
                yield from self.error(
                    f"can't create mail file {mail_file} for user {user}, discarding output"
                )
            else:
                header = f"To: {line.mailto}\nSubject: cron: {line.cmd}\n\n".encode()
                yield from write_all(sys, mail_fd, header)
                line.empty_mail_size = len(header)
        line.pid = yield from self.fork_job(user, mail_fd, line, sendmail=False)
        if mail_fd >= 0:
            if line.pid <= 0:
                try:
                    sys.unlink(mail_file)
                except OSError:
                    pass
            else:
                try:
                    sys.rename(mail_file, f"{CRON_DIR}/cron.{user}.{line.pid}")
                except OSError:
                    pass
        return line.pid

    def fork_job(self, user: str, mail_fd: int, line: CronLine, sendmail: bool) -> Gen:
        from .applets_su import change_identity
        from .libc import passwd_entry
        from .spawn import find_in_path

        sys = self.sys
        pw = yield from passwd_entry(sys, user)
        if pw is None:
            yield from self.error(f"can't get uid for {user}")
            if mail_fd >= 0:
                sys.close(mail_fd)
            return 0
        shell = line.shell if line.shell is not None else self.default_shell
        prog = "sendmail" if sendmail else shell
        env = sys.env
        env.update(LOGNAME=pw[0], USER=pw[0], HOME=pw[5], SHELL=shell)
        exec_started: dict[str, bool] = {}
        crond = self

        def job(csys: Sys) -> Gen:
            try:
                yield from change_identity(csys, pw)
                try:
                    csys.chdir(pw[5])
                except OSError:
                    yield from crond.error(f"can't change directory to '{pw[5]}'")
                    try:
                        csys.chdir(CRON_DIR)
                    except OSError as e:
                        raise Die(f"can't change directory to '{CRON_DIR}': {strerror(e)}") from None
                yield from crond.log(4, f"child running {prog}")
                if mail_fd >= 0:
                    csys.dup2(mail_fd, 0 if sendmail else 1)
                    if mail_fd not in (0, 1):
                        csys.close(mail_fd)
                    csys.dup2(1, 2)
                argv = [prog, "-ti"] if sendmail else [prog, "-c", line.cmd]
                path = find_in_path(csys, prog)
                exec_started["done"] = True
                try:
                    if path is None:
                        raise OSError(2, "No such file or directory")
                    yield from csys.execve(path, argv, dict(csys.env))
                except OSError:
                    pass
                # the error goes to stderr as well as the log (logmode |= LOGMODE_STDIO)
                yield from complain(csys, "crond", f"can't execute '{prog}' for user {user}")
                return 1
            except Die as e:
                if e.message is not None:
                    yield from crond.error(e.message)
                return e.status
            finally:
                exec_started.setdefault("done", True)

        pid = sys.fork(job)
        for _ in range(100000):  # vfork: the parent waits until the child execs or exits
            if exec_started:
                break
            yield from sys.sched_yield()
        if mail_fd >= 0:
            sys.close(mail_fd)
        return pid

    def finished(self, user: str, line: CronLine) -> Gen:
        """process_finished_job: mail what a MAILTO job wrote."""
        sys = self.sys
        pid, line.pid = line.pid, 0
        if pid <= 0 or line.empty_mail_size <= 0:
            return
        mail_file = f"{CRON_DIR}/cron.{user}.{pid}"
        try:
            fd = sys.open(mail_file, O_RDONLY)
        except OSError:
            fd = -1
        try:
            sys.unlink(mail_file)
        except OSError:
            pass
        if fd < 0:
            return
        kind, size = sys.fd_info(fd)
        if kind != "file" or size == line.empty_mail_size:
            sys.close(fd)
            return
        line.empty_mail_size = 0
        line.pid = yield from self.fork_job(user, fd, line, sendmail=True)

    def check_completions(self) -> Gen:
        still = 0
        for f in self.files:
            if not f.has_running:
                continue
            f.has_running = False
            for line in f.lines:
                if line.pid <= 0:
                    continue
                try:
                    done = (yield from self.sys.waitpid(line.pid, WNOHANG)) is not None
                except OSError:
                    done = True
                if done:
                    yield from self.finished(f.user, line)
                    if line.pid == 0:
                        continue
                f.has_running = True
            still += f.has_running
        return still

    # -- the daemon ----------------------------------------------------------------------------
    def run(self) -> Gen:
        sys = self.sys
        yield from self.reopen_log()
        try:
            sys.chdir(self.directory)
        except OSError as e:
            yield from self.error(f"can't change directory to '{self.directory}': {strerror(e)}")
            return 1
        self.default_shell = yield from _shell_name(sys)
        yield from self.log(8, f"crond (busybox 1.35.0) started, log level {self.log_level}")
        try:
            yield from self.rescan()
        except Die as e:
            yield from self.error(e.message or "")
            return 1
        yield from _write_pidfile(sys, "/var/run/crond.pid")
        try:
            sys.close(sys.open(CRON_REBOOT, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0))
        except OSError:
            pass  # not the first start since boot; @reboot lines never get this far anyway
        zone = yield from timefmt.load_zone(sys)
        t2 = int(sys.wall_time())
        rescan = 60
        sleep_time = 60
        while True:
            t1 = t2
            yield from sys.sleep(sleep_time - int(sys.wall_time()) % sleep_time)
            t2 = int(sys.wall_time())
            dt = t2 - t1
            yield from self.reopen_log()
            try:
                mtime = sys.inode_info(self.directory).mtime
            except OSError:
                mtime = 0
            if self.dir_mtime != mtime:
                self.dir_mtime = mtime
                rescan = 1
            rescan -= 1
            if rescan == 0:
                rescan = 60
                try:
                    yield from self.rescan()
                except Die as e:
                    yield from self.error(e.message or "")
                    return 1
            yield from self.process_update_file()
            yield from self.log(4, f"wakeup dt={dt}")
            if dt < -3600 or dt > 3600:
                yield from self.error(f"time disparity of {int(dt / 60)} minutes detected")
            elif dt > 0:
                yield from self.flag_starting(t1, t2, zone)
                yield from self.start_jobs()
                sleep_time = 60
                if (yield from self.check_completions()) > 0:
                    sleep_time = 10


def _config_lines(text: str) -> list[list[str]]:
    """config_read(parser, tokens, 6, 1, "# \\t", PARSE_NORMAL): each
    non-empty line without its comment, split on blanks into at most 6
    tokens, the last taking the rest of the line."""
    result = []
    for raw in text.split("\n"):
        rest = raw.split("#", 1)[0].strip(" \t")
        if not rest:
            continue
        tokens: list[str] = []
        while rest and len(tokens) < 5:
            end = 0
            while end < len(rest) and rest[end] not in " \t":
                end += 1
            tokens.append(rest[:end])
            rest = rest[end:].lstrip(" \t")
        if rest:
            tokens.append(rest)
        result.append(tokens)
    return result


def _parse_field(ary: list[int], modvalue: int, off: int, names: tuple[str, ...] | None, text: str) -> bool:
    """ParseField: fill ``ary`` from a cron field; False on a parse error."""
    i = 0
    n1 = n2 = -1
    while True:
        skip = 0
        if text[i : i + 1] == "*":
            n1, n2, skip = 0, modvalue - 1, 1
            i += 1
        elif text[i : i + 1].isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            value = int(text[i:j]) + off
            if n1 < 0:
                n1 = value
            else:
                n2 = value
            i, skip = j, 1
        elif names is not None:
            for k, name in enumerate(names):
                if text[i : i + 3].lower() == name:
                    i += 3
                    if n1 < 0:
                        n1 = k
                    else:
                        n2 = k
                    skip = 1
                    break
        if skip == 0:
            return False
        if text[i : i + 1] == "-" and n2 < 0:
            i += 1
            continue
        if n2 < 0:
            n2 = n1
        if text[i : i + 1] == "/":
            j = i + 1
            sign = 1
            if j < len(text) and text[j] in "+-":
                sign = -1 if text[j] == "-" else 1
                j += 1
            k = j
            while k < len(text) and text[k].isdigit():
                k += 1
            skip = sign * int(text[j:k]) if k > j else 0
            i = k if k > j else i + 1
        s0 = 1
        failsafe = 1024
        n1 -= 1
        while True:
            n1 = (n1 + 1) % modvalue
            s0 -= 1
            if s0 == 0:
                ary[n1 % modvalue] = 1
                s0 = skip
            failsafe -= 1
            if failsafe == 0:
                return False
            if n1 == n2:
                break
        if text[i : i + 1] != ",":
            break
        i += 1
        n1 = n2 = -1
    return i >= len(text)


def _fix_day_dow(line: CronLine) -> None:
    week_used = 0 in line.dow
    days_used = 0 in line.days
    if week_used != days_used:
        if week_used:
            line.days[:] = [0] * 32
        else:
            line.dow[:] = [0] * 7


def _shell_name(sys: Sys) -> Gen:
    """get_shell_name: $SHELL, else the user's login shell, else /bin/sh."""
    from .libc import id_to_name, passwd_entry

    shell = sys.env.get("SHELL")
    if shell:
        return shell
    name = yield from id_to_name(sys, "/etc/passwd", sys.getuid())
    pw = (yield from passwd_entry(sys, name)) if name else None
    if pw is not None and pw[6]:
        return pw[6]
    return "/bin/sh"


def _write_pidfile(sys: Sys, path: str) -> Gen:
    try:
        fd = sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    except OSError:
        return
    try:
        yield from write_all(sys, fd, f"{sys.getpid()}\n")
    finally:
        sys.close(fd)


def _last_of(argv: list[str], letters: str) -> str | None:
    """Which of ``letters`` came last among the options (getopt32's "f-b:b-f")."""
    last = None
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("-") and not arg.startswith("--"):
            for ch in arg[1:]:
                if ch in letters:
                    last = ch
                if ch in "lLc":  # the rest of the word is the option's value
                    break
    return last


@applet("crond")
@dies("crond")
def crond_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "l:L:fbSc:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "crond", e.message)
        yield from show_usage(sys, "crond")
        return 1
    level = 8
    if "l" in opts:
        level = xatou(opts.value("l") or "", 0, 2**31 - 1)
    crond = Crond(sys, level, opts.value("L"), opts.value("c", CRONTABS) or "")
    foreground = "f" in opts and _last_of(sys.argv[1:], "fb") == "f"
    if not foreground:
        return (
            yield from daemonize(
                sys, lambda child: Crond(child, level, crond.log_file, crond.directory).run()
            )
        )
    return (yield from crond.run())
