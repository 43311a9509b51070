"""init and linuxrc -- after busybox 1.35's init/init.c, as Debian builds it
(FEATURE_USE_INITTAB, FEATURE_INIT_SYSLOG, FEATURE_INIT_QUIET, LINUXRC).

``init -q`` sends SIGHUP to PID 1.  Otherwise init must be PID 1 (linuxrc
need not).  It reads /etc/inittab (``id:runlevels:action:command``; the id
is the tty, the runlevels are ignored) or, without one, uses busybox's
default table; runs the sysinit entries and waits for each, then the wait
entries likewise, then starts the once entries; then loops: (re)starts
respawn and askfirst entries, sleeps a second, reaps every child (orphans
included).  Signals only set a flag, looked at between those steps:
SIGHUP rereads the inittab, SIGINT runs ctrlaltdel, SIGQUIT the restart
entry, and SIGTERM, SIGUSR1 and SIGUSR2 the shutdown -- shutdown entries,
SIGTERM then (a second later) SIGKILL to every other process, then
reboot(2) from a child, which a container may not (EPERM), and exit 0.

Messages for the console go to stderr as ``\\rtext\\n``; those busybox only
logs go to syslog(3), which the simulator does not model (see
SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import O_RDWR, Sys
from .applet_table import applet
from .libc import complain, strerror, write_all
from .spawn import bb_execvp

Gen = Generator[Any, Any, Any]

SYSINIT, WAIT, ONCE, RESPAWN, ASKFIRST, CTRLALTDEL, SHUTDOWN, RESTART = (1 << i for i in range(8))
_ACTIONS = ("sysinit", "wait", "once", "respawn", "askfirst", "ctrlaltdel", "shutdown", "restart")
_SHELL_CHARS = set("~`!$^&*()=|\\{}[];\"'<>?")
_LOGIN_SHELL = "-/bin/sh"  # bb_default_login_shell
_ROOT_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"  # bb_PATH_root_path
_HANDLED = (signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGTERM, signal.SIGUSR2, signal.SIGHUP)
_RESET = (*_HANDLED, signal.SIGTSTP)
_REBOOT: dict[int, tuple[str, int]] = {
    signal.SIGTERM: ("reboot", 0x01234567),
    signal.SIGUSR2: ("poweroff", 0x4321FEDC),
}
_HALT = ("halt", 0xCDEF0123)
CONSOLE_NAME_SIZE = 32


@dataclass
class Action:
    kind: int
    command: str
    terminal: str
    pid: int = 0


def message(sys: Sys, text: str) -> Gen:
    """message(L_CONSOLE): to stderr, after a carriage return, in busybox's
    128-byte buffer."""
    data = ("\r" + text).encode("utf-8", "surrogateescape")[:126] + b"\n"
    try:
        yield from write_all(sys, 2, data)
    except OSError:
        pass


class Init:
    def __init__(self, sys: Sys) -> None:
        self.sys = sys
        self.actions: list[Action] = []
        self.got_signal = 0

    # -- the table ------------------------------------------------------------------------------
    def new_action(self, kind: int, command: str, terminal: str) -> None:
        """An entry already there (same command and tty) moves to the end."""
        terminal = terminal[: CONSOLE_NAME_SIZE - 1]
        for a in self.actions:
            if a.command == command and a.terminal == terminal:
                self.actions.remove(a)
                a.kind = kind
                self.actions.append(a)
                return
        self.actions.append(Action(kind, command, terminal))

    def parse_inittab(self) -> Gen:
        sys = self.sys
        try:
            fd = sys.open("/etc/inittab")
        except OSError:
            for kind, command, tty in (
                (SYSINIT, "/etc/init.d/rcS", ""),
                (ASKFIRST, _LOGIN_SHELL, ""),
                (ASKFIRST, _LOGIN_SHELL, "/dev/tty2"),
                (ASKFIRST, _LOGIN_SHELL, "/dev/tty3"),
                (ASKFIRST, _LOGIN_SHELL, "/dev/tty4"),
                (CTRLALTDEL, "reboot", ""),
                (SHUTDOWN, "umount -a -r", ""),
                (SHUTDOWN, "swapoff -a", ""),
                (RESTART, "init", ""),
            ):
                self.new_action(kind, command, tty)
            return
        chunks = []
        while True:
            try:
                data = yield from sys.read(fd)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        sys.close(fd)
        text = b"".join(chunks).decode("latin-1")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for lineno, line in enumerate(lines, 1):
            if line == "" or line[0] == "#":
                continue
            tokens = _tokens(line)
            action = _ACTIONS.index(tokens[2]) if len(tokens) == 4 and tokens[2] in _ACTIONS else -1
            if action < 0 or not tokens[3]:
                yield from message(sys, f"Bad inittab entry at line {lineno}")
                continue
            tty = tokens[0]
            if tty:
                tty = "/dev/" + tty.removeprefix("/dev/")
            self.new_action(1 << action, tokens[3], tty)

    def reload_inittab(self) -> Gen:
        for a in self.actions:
            a.kind = 0
        yield from self.parse_inittab()
        self.actions = [a for a in self.actions if (a.kind & ~SYSINIT) or a.pid]

    # -- running entries ------------------------------------------------------------------------
    def run(self, a: Action) -> Gen:
        sys = self.sys

        def child(csys: Sys) -> Gen:
            for sig in _RESET:
                csys.signal(sig, None)
            if a.terminal:
                try:
                    csys.close(0)
                except OSError:
                    pass
                try:
                    fd = csys.open(a.terminal, O_RDWR)
                except OSError as e:
                    yield from message(csys, f"can't open {a.terminal}: {strerror(e)}")
                    return 1
                if fd != 0:
                    yield from message(csys, f"can't open {a.terminal}: Success")
                    return 1
                csys.dup2(0, 1)
                csys.dup2(0, 2)
            if a.kind & ASKFIRST:
                try:
                    yield from write_all(csys, 1, "\nPlease press Enter to activate this console. ")
                except OSError:
                    pass
                while True:
                    try:
                        c = yield from csys.read(0, 1)
                    except OSError:
                        break
                    if len(c) != 1 or c == b"\n":
                        break
            return (yield from init_exec(csys, a.command))

        try:
            return sys.fork(child)
        except OSError:
            yield from message(sys, "can't fork")
            return 0

    def waitfor(self, pid: int) -> Gen:
        """Reap any child until ``pid`` is gone (kill(pid, 0) fails)."""
        sys = self.sys
        if pid <= 0:
            return
        while True:
            try:
                res = yield from sys.waitpid(-1, 0)
            except OSError:
                res = None
            if res is not None:
                self.mark_terminated(res.pid)
            try:
                sys.kill(pid, 0)
            except OSError:
                break

    def mark_terminated(self, pid: int) -> Action | None:
        for a in self.actions:
            if pid > 0 and a.pid == pid:
                a.pid = 0
                return a
        return None

    def run_actions(self, kinds: int) -> Gen:
        for a in list(self.actions):
            if not a.kind & kinds:
                continue
            if a.terminal and not self.sys.access(a.terminal, os.R_OK | os.W_OK):
                continue  # a tty that is not there: skipped, said only to syslog
            if a.kind & (SYSINIT | WAIT | ONCE | CTRLALTDEL | SHUTDOWN):
                pid = yield from self.run(a)
                if a.kind & (SYSINIT | WAIT | CTRLALTDEL | SHUTDOWN):
                    yield from self.waitfor(pid)
            if a.kind & (RESPAWN | ASKFIRST) and a.pid == 0:
                a.pid = yield from self.run(a)

    # -- signals --------------------------------------------------------------------------------
    def record(self, sig: int) -> None:
        self.got_signal = sig

    def check_delayed_sigs(self) -> Gen:
        seen = False
        while self.got_signal:
            sig, self.got_signal = self.got_signal, 0
            seen = True
            if sig == signal.SIGHUP:
                yield from self.reload_inittab()
            if sig == signal.SIGINT:
                yield from self.run_actions(CTRLALTDEL)
            if sig == signal.SIGQUIT:
                yield from self.exec_restart()
            if sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
                yield from self.halt_reboot_pwoff(sig)
        return seen

    def reset_handlers(self) -> None:
        for sig in _RESET:
            self.sys.signal(sig, None)

    def shutdown_and_kill(self) -> Gen:
        sys = self.sys
        yield from self.run_actions(SHUTDOWN)
        yield from message(sys, "The system is going down NOW!")
        for sig, name in ((signal.SIGTERM, "TERM"), (signal.SIGKILL, "KILL")):
            try:
                sys.kill(-1, sig)
            except OSError:
                pass
            yield from message(sys, f"Sent SIG{name} to all processes")
            if sig == signal.SIGTERM:
                yield from sys.sleep(1)

    def halt_reboot_pwoff(self, sig: int) -> Gen:
        self.reset_handlers()
        yield from self.shutdown_and_kill()
        what, magic = _REBOOT.get(sig, _HALT)
        yield from message(self.sys, f"Requesting system {what}")
        yield from self.pause_and_reboot(magic)

    def pause_and_reboot(self, magic: int) -> Gen:
        """reboot(2) from a child (in a PID namespace it ends this init);
        when it is refused, as in a default container, exit 0."""
        sys = self.sys
        yield from sys.sleep(1)

        def child(csys: Sys) -> Gen:
            try:
                csys.reboot(magic)
            except OSError:
                pass
            return 0
            yield  # a generator

        pid = sys.fork(child)
        while True:
            try:
                yield from sys.waitpid(pid, 0)
                break
            except OSError as e:
                if e.errno != 4:  # EINTR
                    break
        yield from sys.sleep(1)
        sys.exit(0)

    def exec_restart(self) -> Gen:
        sys = self.sys
        for a in self.actions:
            if not a.kind & RESTART:
                continue
            self.reset_handlers()
            yield from self.shutdown_and_kill()
            try:
                sys.reboot(0)  # RB_ENABLE_CAD
            except OSError:
                pass
            ok = True
            if a.terminal:
                try:
                    sys.close(0)
                except OSError:
                    pass
                try:
                    fd = sys.open(a.terminal, O_RDWR)
                except OSError as e:
                    yield from message(sys, f"can't open {a.terminal}: {strerror(e)}")
                    ok = False
                else:
                    sys.dup2(fd, 1)
                    sys.dup2(fd, 2)
            if ok:
                yield from init_exec(sys, a.command)
            yield from self.pause_and_reboot(_HALT[1])


def _tokens(line: str) -> list[str]:
    """config_read(4 tokens, "#:", no trimming, no collapsing): the fourth
    token takes the rest of the line; '#' ends the line."""
    tokens: list[str] = []
    pos, end = 0, len(line)
    while True:
        if len(tokens) < 3:
            j = min((k for k in (line.find("#", pos), line.find(":", pos)) if k >= 0), default=end)
        else:
            j = line.find("#", pos)
            j = end if j < 0 else j
        tokens.append(line[pos:j])
        if j >= end or line[j] == "#":
            break
        pos = j + 1
        if pos >= end or line[pos] == "#" or len(tokens) == 4:
            break
    return tokens


def init_exec(sys: Sys, command: str) -> Gen:
    """Exec ``command``: through ``/bin/sh -c "exec ..."`` when it has shell
    characters, else split on blanks; a leading '-' makes a login shell."""
    dash = command.startswith("-")
    bare = command[1:] if dash else command
    if _SHELL_CHARS & set(bare):
        argv = ["-/bin/sh" if dash else "/bin/sh", "-c", f"exec {bare}"]
        path = "/bin/sh"
    else:
        argv = [w for w in command.replace("\t", " ").split(" ") if w]
        path = argv[0][1:] if dash else argv[0]
    try:
        env = dict(sys.env)
        if path == argv[0]:
            yield from bb_execvp(sys, argv, env)
        else:
            yield from _execvp_as(sys, path, argv, env)
    except OSError as e:
        yield from message(sys, f"can't run '{path}': {strerror(e)}")
    return 255


def _execvp_as(sys: Sys, path: str, argv: list[str], env: dict[str, str]) -> Gen:
    """execvp(path, argv) where argv[0] is not path (a '-' login name)."""
    from .spawn import find_in_path, is_applet

    if is_applet(path):
        yield from sys.execve("/proc/self/exe", argv, env)
    found = find_in_path(sys, path, env.get("PATH"))
    if found is None:
        raise FileNotFoundError(2, "No such file or directory")
    yield from sys.execve(found, argv, env)


@applet("init", "linuxrc")
def init_main(sys: Sys) -> Gen:
    argv = sys.argv
    if len(argv) > 1 and argv[1] == "-q":
        try:
            sys.kill(1, signal.SIGHUP)
        except OSError:
            return 255  # return kill(...): -1
        return 0
    name = argv[0].rsplit("/", 1)[-1]
    if sys.getpid() != 1 and not name.startswith("l"):
        yield from complain(sys, "init" if name != "linuxrc" else name, "must be run as PID 1")
        return 1
    try:
        sys.reboot(0)  # RB_DISABLE_CAD
    except OSError:
        pass
    init = Init(sys)
    env = sys.env
    term = env.get("TERM")
    if term is None or term == "linux":  # not a VT: VT_OPENQRY fails
        env["TERM"] = "vt102"
    sys.chdir("/")
    env.update(HOME="/", PATH=_ROOT_PATH, SHELL="/bin/sh", USER="root")
    if len(argv) > 1:
        env["RUNLEVEL"] = argv[1]
    if len(argv) > 1 and argv[1] in ("single", "-s", "1"):
        init.new_action(RESPAWN, _LOGIN_SHELL, "")
    else:
        yield from init.parse_inittab()
    sys.set_comm("init")
    for sig in _HANDLED:
        sys.signal(sig, init.record)
    yield from init.run_actions(SYSINIT)
    yield from init.check_delayed_sigs()
    yield from init.run_actions(WAIT)
    yield from init.check_delayed_sigs()
    yield from init.run_actions(ONCE)
    while True:
        maybe_nohang = yield from init.check_delayed_sigs()
        yield from init.run_actions(RESPAWN | ASKFIRST)
        maybe_nohang |= yield from init.check_delayed_sigs()
        yield from sys.sleep(1)
        maybe_nohang |= yield from init.check_delayed_sigs()
        options = 1 if maybe_nohang else 0  # WNOHANG
        while True:
            try:
                res = yield from sys.waitpid(-1, options)
            except OSError:
                break
            if res is None:
                break
            init.mark_terminated(res.pid)
            options = 1
