"""The shell's evaluator: walks the syntax tree and runs it on a :class:`Sys`.

How a shell really runs things, all visible here:

* a *simple command* expands its words, then runs a special builtin, a
  function, a regular builtin, or -- after searching ``$PATH`` -- forks a
  child that applies the redirections and ``execve``\\ s the program, while
  the parent waits for it;
* a *pipeline* creates a pipe between each pair of commands and forks every
  stage (ash forks even builtins in a pipeline, so ``echo x | read v`` does
  not set ``v`` in the shell);
* ``( ... )``, ``$(...)`` and ``&`` fork a copy of the shell (a *subshell*):
  a :meth:`Shell.clone` running on the child's own ``Sys``;
* the last command of ``sh -c`` (and of a subshell) is exec'd without a fork,
  as ash does -- which is why ``docker run busybox sh -c ps`` shows ``ps`` as
  PID 1 and no shell.

Control flow (``break``, ``return``, ``exit``) unwinds with the exceptions of
:mod:`.sh_errors`.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable, Generator
from typing import Any

from ..sys_api import (
    O_APPEND,
    O_CREAT,
    O_RDONLY,
    O_RDWR,
    O_TRUNC,
    O_WRONLY,
    WNOHANG,
    Sys,
)
from .applet_table import REAL_APPLETS, STANDALONE_APPLET
from .libc import err, errno_is, read_all, strerror, write_all
from .sh_ast import (
    AndOr,
    BraceGroup,
    Case,
    Command,
    CommandList,
    For,
    FuncDef,
    HereDoc,
    If,
    Loop,
    Pipeline,
    Redirect,
    Redirected,
    SimpleCommand,
    Subshell,
    Word,
)
from .sh_errors import (
    BreakLoop,
    ContinueLoop,
    ReturnFromFunction,
    ShellControl,
    ShellExit,
    ShellFatal,
)
from .sh_expand import Expander
from .sh_lexer import ShellSyntaxError, is_name, parse_dquoted_text
from .sh_parser import Parser
from .sh_pattern import match

Gen = Generator[Any, Any, Any]

DEFAULT_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"
X_OK = 1
# Signals whose death a shell does not announce (the user pressed ^C, or a
# pipe reader went away -- both are expected).
_QUIET_SIGNALS = {2, 13, 3}
_SIGNAL_TEXT = {
    1: "Hangup",
    3: "Quit",
    4: "Illegal instruction",
    5: "Trace/breakpoint trap",
    6: "Aborted",
    7: "Bus error",
    8: "Floating point exception",
    9: "Killed",
    10: "User defined signal 1",
    11: "Segmentation fault",
    12: "User defined signal 2",
    14: "Alarm clock",
    15: "Terminated",
    24: "CPU time limit exceeded",
    25: "File size limit exceeded",
    26: "Virtual timer expired",
    27: "Profiling timer expired",
}


def decode_wait_status(raw: int) -> tuple[int, int | None]:
    """(exit code as $? shows it, killing signal or None) from a raw wait
    status -- by hand, because ``os.WIFSIGNALED`` does not exist on Windows."""
    sig = raw & 0x7F
    if sig == 0:
        return (raw >> 8) & 0xFF, None
    return 128 + sig, sig


class Shell:
    """One shell process's state: variables, functions, options, traps,
    background jobs -- and the ``Sys`` it runs on."""

    def __init__(
        self,
        sys: Sys,
        arg0: str = "sh",
        args: list[str] | None = None,
        line_base: int = 1,
        commandname: str | None = None,
    ) -> None:
        self.sys = sys
        self.arg0 = arg0
        self.positional: list[str] = list(args or [])
        self.vars: dict[str, str] = {}
        self.exported: set[str] = set()
        self.readonly: set[str] = set()
        self.funcs: dict[str, Command] = {}
        self.opts: set[str] = set()
        self.status = 0
        self.last_bg: int | None = None
        self.rootpid = sys.getpid()  # $$ stays the parent's in subshells
        self.traps: dict[int, str] = {}  # 0 = EXIT
        self.pending_signals: list[int] = []
        self.last_signal: int | None = None  # what killed the last child waited for
        self.jobs: list[int] = []
        self.reaped: dict[int, int] = {}  # pid -> raw wait status
        self.local_frames: list[dict[str, tuple[str | None, bool]]] = []
        self.loop_depth = 0
        self.cond_depth = 0  # >0: set -e does not apply
        self.line_base = line_base
        self.lineno = line_base
        self.base_commandname = commandname
        self.commandname = commandname  # ash's name for "which command" in errors
        self.saved_fds: list[int] = []
        self.next_saved_fd = 10
        self.cmdsub_status: int | None = None
        self.user_homes: dict[str, str] = {}
        self.expand = Expander(self)
        self._init_vars()

    def _init_vars(self) -> None:
        for k, v in self.sys.env.items():
            self.vars[k] = v
            self.exported.add(k)
        self.vars.setdefault("IFS", " \t\n")
        self.vars.setdefault("PS1", "\\w \\$ ")
        self.vars.setdefault("PS2", "> ")
        self.vars.setdefault("PS4", "+ ")
        self.vars["OPTIND"] = "1"
        self.vars["PPID"] = str(self.sys.getppid())
        if "PATH" not in self.vars:
            self.vars["PATH"] = DEFAULT_PATH
            self.exported.add("PATH")
        try:
            level = int(self.vars.get("SHLVL", "0"))
        except ValueError:
            level = 0
        self.vars["SHLVL"] = str(level + 1)
        self.exported.add("SHLVL")
        try:
            self.vars["PWD"] = self.sys.getcwd()
            self.exported.add("PWD")
        except OSError:
            pass
        try:
            self.vars.setdefault("HOSTNAME", self.sys.gethostname())
        except OSError:
            pass

    # -- subshells ------------------------------------------------------------
    def snapshot(self) -> Shell:
        """A copy of this shell's state for a child about to be forked.  It
        must be taken *at fork time*: the child's code runs later, when the
        parent may already have changed its variables (``for i ...; do
        cmd $i & done``)."""
        sub = Shell.__new__(Shell)
        sub.__dict__.update(self.__dict__)
        sub.positional = list(self.positional)
        sub.vars = dict(self.vars)
        sub.exported = set(self.exported)
        sub.readonly = set(self.readonly)
        sub.funcs = dict(self.funcs)
        sub.opts = set(self.opts)
        sub.traps = dict(self.traps)
        sub.pending_signals = []
        sub.jobs = []
        sub.reaped = {}
        sub.local_frames = [dict(f) for f in self.local_frames]
        sub.saved_fds = list(self.saved_fds)
        return sub

    def become_child(self, sys: Sys) -> None:
        """Finish turning a snapshot into the forked child running on ``sys``."""
        parent_traps = self.traps
        self.sys = sys
        self.expand = Expander(self)
        # traps are reset in a subshell, but ignored signals stay ignored
        self.traps = {k: v for k, v in parent_traps.items() if v == ""}
        for fd in self.saved_fds:  # the parent's saved copies are not ours
            try:
                sys.close(fd)
            except OSError:
                pass
        self.saved_fds = []
        for sig, action in parent_traps.items():
            if sig:
                try:
                    sys.signal(sig, _signal.SIG_IGN if action == "" else None)
                except (OSError, ValueError):
                    pass

    def spawn(self, body: Callable[[Shell], Gen]) -> Gen:
        """Fork a subshell running ``body(subshell)``; returns its PID.
        A failed fork is fatal to a non-interactive ash, with status 2."""
        yield from self.reap_finished()
        sub = self.snapshot()

        def child(csys: Sys) -> Gen:
            sub.become_child(csys)
            return (yield from sub.run_as_process(body))

        try:
            return self.sys.fork(child)
        except OSError as e:
            raise ShellFatal(2, f"can't fork: {strerror(e)}") from None

    def run_as_process(self, body: Callable[[Shell], Gen]) -> Gen:
        """Run ``body`` as the whole life of this (sub)shell process."""
        try:
            status = yield from body(self)
        except ShellExit as e:
            status = e.status
        except ReturnFromFunction as e:
            status = e.status
        except ShellFatal as e:
            if e.message:
                yield from self.error(e.message)
            status = e.status
        except (BreakLoop, ContinueLoop):
            status = 0
        status = yield from self.run_exit_trap(status)
        return status & 0xFF

    def command_substitution(self, source: str) -> Gen:
        """``$(...)``: run ``source`` in a forked subshell whose stdout is a
        pipe; the result is what it wrote, minus trailing newlines.  Its
        status becomes the status of a command that has no command name
        (``x=$(false)`` sets ``$?`` to 1)."""
        read_end, write_end = self.sys.pipe()

        def body(sub: Shell) -> Gen:
            sub.sys.close(read_end)
            sub.sys.dup2(write_end, 1)
            sub.sys.close(write_end)
            return (yield from sub.run_source(source, exit_after=True, first_line=self.lineno))

        try:
            pid = yield from self.spawn(body)
        finally:
            self.sys.close(write_end)
        try:
            data = yield from read_all(self.sys, read_end)
        finally:
            self.sys.close(read_end)
        status = yield from self.wait_pid(pid)
        self.cmdsub_status = status
        self.status = status
        return data.decode("utf-8", "surrogateescape").rstrip("\n")

    # -- messages ---------------------------------------------------------------
    def error(self, msg: str, line: int | None = None) -> Gen:
        """ash's message format: ``$0: [command: ][line N: ]msg``."""
        prefix = f"{self.arg0}: "
        if self.commandname:
            if self.commandname != self.arg0:
                prefix += f"{self.commandname}: "
            prefix += f"line {self.lineno if line is None else line}: "
        yield from err(self.sys, prefix + msg + "\n")

    # -- variables --------------------------------------------------------------
    def get_var(self, name: str) -> str | None:
        return self.vars.get(name)

    def param_value(self, name: str) -> str | None:
        if name.isdigit():
            n = int(name)
            if n == 0:
                return self.arg0
            return self.positional[n - 1] if n <= len(self.positional) else None
        special = {
            "?": lambda: str(self.status),
            "$": lambda: str(self.rootpid),
            "#": lambda: str(len(self.positional)),
            "!": lambda: None if self.last_bg is None else str(self.last_bg),
            "-": lambda: "".join(sorted(self.opts)),
        }
        if name in special:
            return special[name]()
        if name == "LINENO":
            return str(self.lineno)
        return self.vars.get(name)

    def set_var(self, name: str, value: str, export: bool | None = None) -> None:
        if name in self.readonly:
            raise ShellFatal(2, f"{name}: is read only")
        self.vars[name] = value
        if export or (export is None and "a" in self.opts):
            self.exported.add(name)

    def set_var_checked(self, name: str, value: str) -> None:
        self.set_var(name, value)

    def assign_param(self, name: str, value: str) -> None:
        if not is_name(name):
            raise ShellFatal(2, f"{name}: bad variable name")
        self.set_var(name, value)

    def unset_var(self, name: str) -> None:
        if name in self.readonly:
            raise ShellFatal(2, f"{name}: is read only")
        self.vars.pop(name, None)
        self.exported.discard(name)

    def environment(self, extra: list[tuple[str, str]] = ()) -> dict[str, str]:  # type: ignore[assignment]
        env = {k: self.vars[k] for k in sorted(self.exported) if k in self.vars}
        for k, v in extra:
            env[k] = v
        return env

    # -- running source text ------------------------------------------------------
    def run_source(self, src: str, exit_after: bool = False, first_line: int | None = None) -> Gen:
        """Parse and run ``src`` one complete command at a time."""
        parser = Parser(src, self.line_base if first_line is None else first_line)
        status = 0
        while True:
            try:
                node = parser.parse_next()
                last = exit_after and node is not None and parser_at_eof(parser)
            except ShellSyntaxError as e:
                yield from self.syntax_error(str(e), parser.line)
                raise ShellFatal(2, "") from None
            if node is None:
                return status
            status = yield from self.run_list(node, exit_after=last)

    def syntax_error(self, msg: str, line: int) -> Gen:
        # inside `eval` ash names the builtin: "sh: eval: line 2: syntax error"
        saved = self.commandname
        self.commandname = saved or self.base_commandname
        yield from self.error(f"syntax error: {msg}", line)
        self.commandname = saved
        return None

    # -- lists ------------------------------------------------------------------
    def run_list(self, node: CommandList, exit_after: bool = False) -> Gen:
        status = self.status
        last = len(node.items) - 1
        for i, item in enumerate(node.items):
            if item.background:
                status = yield from self.run_background(item.node)
            else:
                status = yield from self.run_and_or(item.node, exit_after and i == last)
            if self.pending_signals:
                yield from self.run_pending_traps()
        return status

    def run_background(self, node: AndOr) -> Gen:
        def body(sub: Shell) -> Gen:
            # without job control, an async command reads /dev/null (POSIX)
            try:
                fd = sub.sys.open("/dev/null", O_RDONLY)
                if fd != 0:
                    sub.sys.dup2(fd, 0)
                    sub.sys.close(fd)
            except OSError:
                pass
            return (yield from sub.run_and_or(node, exit_after=True))

        pid = yield from self.spawn(body)
        self.last_bg = pid
        self.jobs.append(pid)
        self.status = 0
        return 0

    def run_and_or(self, node: AndOr, exit_after: bool = False) -> Gen:
        chain = [("", node.first)] + node.rest
        status = self.status
        errexit_applies = False
        for idx, (op, pipe) in enumerate(chain):
            if (op == "&&" and status != 0) or (op == "||" and status == 0):
                errexit_applies = False
                continue
            final = idx == len(chain) - 1
            if not final:
                self.cond_depth += 1
            try:
                status = yield from self.run_pipeline(pipe, exit_after and final)
            finally:
                if not final:
                    self.cond_depth -= 1
            errexit_applies = final and not pipe.negate
        self.status = status
        if status and errexit_applies and "e" in self.opts and self.cond_depth == 0:
            raise ShellExit(status)
        return status

    def run_pipeline(self, pipe: Pipeline, exit_after: bool = False) -> Gen:
        if len(pipe.commands) == 1:
            if pipe.negate:
                self.cond_depth += 1
            try:
                status = yield from self.run_command(pipe.commands[0], exit_after and not pipe.negate)
            finally:
                if pipe.negate:
                    self.cond_depth -= 1
        else:
            status = yield from self.run_stages(pipe.commands)
        if pipe.negate:
            status = int(status == 0)
        self.status = status
        return status

    def run_stages(self, commands: list[Command]) -> Gen:
        """``a | b | c``: a pipe between each pair, every stage forked."""
        pids: list[int] = []
        prev_read: int | None = None
        sys = self.sys
        try:
            for i, cmd in enumerate(commands):
                last = i == len(commands) - 1
                read_end, write_end = (None, None) if last else sys.pipe()

                def body(
                    sub: Shell,
                    cmd: Command = cmd,
                    stdin: int | None = prev_read,
                    stdout: int | None = write_end,
                    other: int | None = read_end,
                ) -> Gen:
                    if stdin is not None:
                        sub.sys.dup2(stdin, 0)
                        sub.sys.close(stdin)
                    if stdout is not None:
                        sub.sys.dup2(stdout, 1)
                        sub.sys.close(stdout)
                    if other is not None:
                        sub.sys.close(other)
                    return (yield from sub.run_command(cmd, exit_after=True))

                try:
                    pids.append((yield from self.spawn(body)))
                finally:
                    if prev_read is not None:
                        sys.close(prev_read)
                    if write_end is not None:
                        sys.close(write_end)
                    prev_read = read_end
        except ShellFatal:
            if prev_read is not None:
                sys.close(prev_read)
            raise
        status = 0
        for pid in pids:
            status = yield from self.wait_pid(pid)
        return status

    # -- commands -------------------------------------------------------------------
    def run_command(self, node: Command, exit_after: bool = False) -> Gen:
        if isinstance(node, SimpleCommand):
            return (yield from self.run_simple(node, exit_after))
        if isinstance(node, BraceGroup):
            return (yield from self.run_list(node.body, exit_after))
        if isinstance(node, Subshell):
            if exit_after and not self.traps:
                return (yield from self.run_list(node.body, exit_after=True))
            pid = yield from self.spawn(lambda sub: sub.run_list(node.body, exit_after=True))
            return (yield from self.wait_pid(pid))
        if isinstance(node, If):
            return (yield from self.run_if(node, exit_after))
        if isinstance(node, For):
            return (yield from self.run_for(node))
        if isinstance(node, Loop):
            return (yield from self.run_loop(node))
        if isinstance(node, Case):
            return (yield from self.run_case(node, exit_after))
        if isinstance(node, FuncDef):
            self.funcs[node.name] = node.body
            return 0
        if isinstance(node, Redirected):
            undo = yield from self.redirect(node.redirects, save=True)
            if undo is None:
                return 1
            try:
                return (yield from self.run_command(node.node))
            finally:
                self.undo_redirects(undo)
        raise TypeError(f"unknown node {node!r}")

    def run_if(self, node: If, exit_after: bool) -> Gen:
        for cond, body in node.clauses:
            self.cond_depth += 1
            try:
                c = yield from self.run_list(cond)
            finally:
                self.cond_depth -= 1
            if c == 0:
                return (yield from self.run_list(body, exit_after))
        if node.else_body is not None:
            return (yield from self.run_list(node.else_body, exit_after))
        return 0

    def _loop_step(self, body: CommandList) -> Gen:
        """Run one loop body; returns (status, "break"/"continue"/None)."""
        try:
            return (yield from self.run_list(body)), None
        except BreakLoop as b:
            if b.levels > 1:
                raise BreakLoop(b.levels - 1) from None
            return self.status, "break"
        except ContinueLoop as c:
            if c.levels > 1:
                raise ContinueLoop(c.levels - 1) from None
            return self.status, "continue"

    def run_for(self, node: For) -> Gen:
        items = list(self.positional) if node.words is None else (yield from self.expand.words(node.words))
        status = 0
        self.loop_depth += 1
        try:
            for item in items:
                self.set_var(node.var, item)
                status, how = yield from self._loop_step(node.body)
                if how == "break":
                    break
        finally:
            self.loop_depth -= 1
        return status

    def run_loop(self, node: Loop) -> Gen:
        status = 0
        self.loop_depth += 1
        try:
            while True:
                self.cond_depth += 1
                try:
                    c, how = yield from self._loop_step(node.cond)
                finally:
                    self.cond_depth -= 1
                if how == "break":
                    break
                if how == "continue":
                    continue
                if (c == 0) == node.until:
                    break
                status, how = yield from self._loop_step(node.body)
                if how == "break":
                    break
        finally:
            self.loop_depth -= 1
        return status

    def run_case(self, node: Case, exit_after: bool) -> Gen:
        subject = yield from self.expand.string(node.word)
        for item in node.items:
            for pat in item.patterns:
                chars = yield from self.expand.pattern(pat)
                if match(chars, subject):
                    if item.body is None:
                        return 0
                    return (yield from self.run_list(item.body, exit_after))
        return 0

    # -- simple commands --------------------------------------------------------------
    def run_simple(self, cmd: SimpleCommand, exit_after: bool = False) -> Gen:
        from .sh_builtins import BUILTINS, SPECIAL_BUILTINS

        self.lineno = cmd.line
        # every command costs the shell a little CPU; this is also what lets
        # the scheduler preempt `while :; do :; done`
        yield from self.sys.burn(2)
        if self.pending_signals:  # a signal that arrived meanwhile
            yield from self.run_pending_traps()
        self.cmdsub_status = None
        argv = yield from self.expand.words(cmd.words)
        assigns = []
        for a in cmd.assigns:
            assigns.append((a.name, (yield from self.expand.string(a.value))))
        if "x" in self.opts:
            yield from self.trace(assigns, argv)
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            undo = yield from self.redirect(cmd.redirects, save=True)
            if undo is None:
                return 1
            self.undo_redirects(undo)
            return self.cmdsub_status or 0
        name = argv[0]
        if name == "exec" and len(argv) == 1:  # exec >file: for the rest of the shell
            for n, v in assigns:
                self.set_var(n, v)
            undo = yield from self.redirect(cmd.redirects, save=False)
            if undo is None:
                raise ShellFatal(1, "")  # exec is a special builtin: its redirection error is fatal
            return 0
        if name in SPECIAL_BUILTINS:
            for n, v in assigns:
                self.set_var(n, v)
            return (yield from self.run_builtin(SPECIAL_BUILTINS[name], argv, cmd.redirects))
        if name in self.funcs:
            return (
                yield from self.with_temp_vars(
                    assigns, lambda: self.run_function_redirected(name, argv, cmd.redirects)
                )
            )
        if name in BUILTINS:
            return (
                yield from self.with_temp_vars(
                    assigns, lambda: self.run_builtin(BUILTINS[name], argv, cmd.redirects)
                )
            )
        path = self.find_command(name)
        env = self.environment(assigns)
        if exit_after and not self.traps:
            undo = yield from self.redirect(cmd.redirects, save=False)
            if undo is None:
                return 1
            return (yield from self.exec_external(name, path, argv, env))

        def body(sub: Shell) -> Gen:
            undo = yield from sub.redirect(cmd.redirects, save=False)
            if undo is None:
                return 1
            return (yield from sub.exec_external(name, path, argv, env))

        pid = yield from self.spawn(body)
        return (yield from self.wait_pid(pid))

    def trace(self, assigns: list[tuple[str, str]], argv: list[str]) -> Gen:
        """``set -x``: PS4 and the command as it will run, quoted to re-read."""
        from .sh_builtins import shell_quote

        words = [f"{n}={shell_quote(v, only_if_needed=True)}" for n, v in assigns]
        words += [shell_quote(w, only_if_needed=True) for w in argv]
        yield from err(self.sys, self.vars.get("PS4", "+ ") + " ".join(words) + "\n")

    def with_temp_vars(self, assigns: list[tuple[str, str]], run: Callable[[], Gen]) -> Gen:
        saved = [(n, self.vars.get(n), n in self.exported) for n, _ in assigns]
        for n, v in assigns:
            self.set_var(n, v, export=True)
        try:
            return (yield from run())
        finally:
            for n, old, was_exported in saved:
                if old is None:
                    self.vars.pop(n, None)
                else:
                    self.vars[n] = old
                if not was_exported:
                    self.exported.discard(n)

    def run_builtin(
        self, fn: Callable[[Shell, list[str]], Gen], argv: list[str], redirects: list[Redirect]
    ) -> Gen:
        from .sh_builtins import SPECIAL_BUILTINS, BuiltinError

        undo = yield from self.redirect(redirects, save=True)
        if undo is None:
            if argv[0] in SPECIAL_BUILTINS:
                raise ShellFatal(1, "")  # POSIX: a special builtin's redirection error ends the shell
            return 1
        saved_name = self.commandname
        self.commandname = argv[0]
        try:
            status = yield from fn(self, argv)
        except BuiltinError as e:
            yield from self.error(str(e))
            if argv[0] in SPECIAL_BUILTINS:
                raise ShellFatal(2, "") from None
            status = 2
        finally:
            self.commandname = saved_name
            self.undo_redirects(undo)
        self.status = status
        return status

    def run_function_redirected(self, name: str, argv: list[str], redirects: list[Redirect]) -> Gen:
        undo = yield from self.redirect(redirects, save=True)
        if undo is None:
            return 1
        try:
            return (yield from self.call_function(name, argv))
        finally:
            self.undo_redirects(undo)

    def call_function(self, name: str, argv: list[str]) -> Gen:
        body = self.funcs[name]
        saved_pos, saved_loop = self.positional, self.loop_depth
        self.positional = argv[1:]
        self.loop_depth = 0
        self.local_frames.append({})
        try:
            status = yield from self.run_command(body)
        except ReturnFromFunction as r:
            status = r.status
        finally:
            frame = self.local_frames.pop()
            for var, (old, was_exported) in frame.items():
                if old is None:
                    self.vars.pop(var, None)
                else:
                    self.vars[var] = old
                if was_exported:
                    self.exported.add(var)
                else:
                    self.exported.discard(var)
            self.positional, self.loop_depth = saved_pos, saved_loop
        self.status = status
        return status

    # -- external programs ------------------------------------------------------------
    def find_command(self, name: str) -> str | None:
        """Where ``name`` runs from.  Debian's busybox is built with
        FEATURE_SH_STANDALONE: an applet name is run by the shell's own binary
        before ``$PATH`` is looked at (``type ls`` says "ls is ls", and ``ls``
        works with /bin/ls deleted).  Other names: search ``$PATH`` the way
        execvp does, for the first regular file we may execute."""
        if "/" in name:
            return name
        if name in REAL_APPLETS:
            return STANDALONE_APPLET
        for directory in self.vars.get("PATH", "").split(":"):
            candidate = f"{directory or '.'}/{name}"
            try:
                st = self.sys.stat(candidate)
            except OSError:
                continue
            if st.kind.value == "file" and self.sys.access(candidate, X_OK):
                return candidate
        return None

    def exec_external(
        self, name: str, path: str | None, argv: list[str], env: dict[str, str], from_builtin: bool = False
    ) -> Gen:
        """execve in this process (a forked child, or the shell at its last
        command).  Only returns on failure, with ash's status and message
        (which names the builtin when it is ``exec``)."""
        report = self.error if from_builtin else self.error_plain
        if path is None:
            yield from report(f"{name}: not found")
            return 127
        if path == STANDALONE_APPLET:
            path = "/proc/self/exe"  # the shell's own busybox, which runs the applet argv[0] names
        try:
            result = yield from self.sys.execve(path, argv, env)
            return result if isinstance(result, int) else 0
        except OSError as e:
            if errno_is(e, "ENOEXEC"):
                # no #! line: POSIX shells run the file as a shell script
                return (yield from run_script_file(self.sys, path, argv[1:], env))
            if errno_is(e, "ENOENT") or errno_is(e, "ENOTDIR"):
                yield from report(f"{name}: not found")
                return 127
            yield from report(f"{name}: {strerror(e)}")
            return 126

    # -- waiting ------------------------------------------------------------------------
    def reap_finished(self) -> Gen:
        """Collect finished background jobs so they do not stay zombies
        (which would count against a pids limit)."""
        if not self.jobs:
            return
        while True:
            try:
                res = yield from self.sys.waitpid(-1, WNOHANG)
            except OSError:
                return
            if res is None:
                return
            self.reaped[res.pid] = res.status

    def wait_pid(self, pid: int, announce: bool = True) -> Gen:
        """Wait for one child; returns its status as ``$?`` shows it."""
        raw = self.reaped.pop(pid, None)
        while raw is None:
            try:
                res = yield from self.sys.waitpid(pid, 0)
            except OSError as e:
                if errno_is(e, "EINTR"):
                    yield from self.run_pending_traps()
                    continue
                return 127
            if res is None:
                continue
            raw = res.status
        if pid in self.jobs:
            self.jobs.remove(pid)
        status, sig = decode_wait_status(raw)
        self.last_signal = sig  # an interactive shell ends a ^C'd job's line (sh_interactive)
        if sig is not None and announce and sig not in _QUIET_SIGNALS:
            yield from err(self.sys, _SIGNAL_TEXT.get(sig, f"Signal {sig}") + "\n")
        self.status = status
        return status

    # -- traps --------------------------------------------------------------------------
    def on_signal(self, sig: int) -> None:
        """The handler given to the kernel: remember the signal; the trap
        action runs at the next safe point, between commands (as in ash)."""
        self.pending_signals.append(sig)

    def run_pending_traps(self) -> Gen:
        while self.pending_signals:
            sig = self.pending_signals.pop(0)
            action = self.traps.get(sig)
            if action:
                saved = self.status
                yield from self.run_source(action)
                self.status = saved

    def run_exit_trap(self, status: int) -> Gen:
        action = self.traps.pop(0, None)
        if action:
            self.status = status
            try:
                yield from self.run_source(action)
            except ShellExit as e:
                return e.status
            except ShellFatal as e:
                if e.message:
                    yield from self.error(e.message)
                return e.status
        return status

    # -- redirections ---------------------------------------------------------------------
    def redirect(self, redirects: list[Redirect], save: bool) -> Gen:
        """Apply redirections.  With ``save`` the old fds are kept (on fds
        >= 10, as ash does) so :meth:`undo_redirects` can put them back;
        returns that undo list, or None after printing an error."""
        undo: list[tuple[int, int | None]] = []
        sys = self.sys
        for r in redirects:
            try:
                new_fd = yield from self._open_redirect(r)
            except _RedirectError as e:
                self.undo_redirects(undo)
                yield from self.error_plain(e.message)
                return None
            if save:
                saved = self._save_fd(r.fd)
                undo.append((r.fd, saved))
            if new_fd is None:  # n>&-
                try:
                    sys.close(r.fd)
                except OSError:
                    pass
            elif new_fd != r.fd:
                try:
                    sys.dup2(new_fd, r.fd)
                except OSError as e:
                    self.undo_redirects(undo)
                    yield from self.error_plain(f"{new_fd}: {strerror(e)}")
                    return None
                if r.op not in ("<&", ">&"):
                    sys.close(new_fd)
        return undo

    def error_plain(self, msg: str) -> Gen:
        """A message about no builtin in particular (``not found``, a failed
        redirection): ``$0: [line N: ]msg``, the line shown when ash
        names a script or a ``$0`` given to ``-c``."""
        saved = self.commandname
        self.commandname = self.base_commandname
        try:
            yield from self.error(msg)
        finally:
            self.commandname = saved

    def _save_fd(self, fd: int) -> int | None:
        saved = self.next_saved_fd
        try:
            self.sys.dup2(fd, saved)
        except OSError:
            return None  # fd was closed: close it again
        self.next_saved_fd += 1
        self.saved_fds.append(saved)
        return saved

    def undo_redirects(self, undo: list[tuple[int, int | None]]) -> None:
        for fd, saved in reversed(undo):
            try:
                if saved is None:
                    self.sys.close(fd)
                else:
                    self.sys.dup2(saved, fd)
                    self.sys.close(saved)
                    self.saved_fds.remove(saved)
                    self.next_saved_fd = min(self.next_saved_fd, saved)
            except OSError:
                pass

    def _open_redirect(self, r: Redirect) -> Gen:
        sys = self.sys
        if r.op == "<<":
            doc = r.target
            assert isinstance(doc, HereDoc)
            body = doc.body if doc.quoted else (yield from self.expand.string(parse_dquoted_text(doc.body)))
            return (yield from self._heredoc_fd(body))
        assert isinstance(r.target, Word)
        target = yield from self.expand.string(r.target)
        if r.op in ("<&", ">&"):
            if target == "-":
                return None
            if target.isdigit():
                fd = int(target)
                try:
                    sys.dup2(fd, fd)  # is it open?
                except OSError as e:
                    raise _RedirectError(f"{target}: {strerror(e)}") from None
                return fd
            raise _RedirectError(f"{target}: Bad file descriptor")
        flags = {
            "<": O_RDONLY,
            ">": O_WRONLY | O_CREAT | O_TRUNC,
            ">|": O_WRONLY | O_CREAT | O_TRUNC,
            ">>": O_WRONLY | O_CREAT | O_APPEND,
            "<>": O_RDWR | O_CREAT,
        }[r.op]
        try:
            return sys.open(target, flags, 0o666)
        except OSError as e:
            creating = r.op != "<"
            if errno_is(e, "ENOENT") or errno_is(e, "ENOTDIR"):  # ash's errmsg()
                what = "nonexistent directory" if creating else "no such file"
            else:
                what = strerror(e)
            verb = "create" if creating else "open"
            raise _RedirectError(f"can't {verb} {target}: {what}") from None

    def _heredoc_fd(self, body: str) -> Gen:
        read_end, write_end = self.sys.pipe()
        data = body.encode("utf-8", "surrogateescape")
        if len(data) <= 4096:
            yield from write_all(self.sys, write_end, data)
            self.sys.close(write_end)
            return read_end
        # a big document could fill the pipe before anyone reads it: let a
        # child write it, as ash does

        def writer(sub: Shell) -> Gen:
            sub.sys.close(read_end)
            yield from write_all(sub.sys, write_end, data)
            return 0

        yield from self.spawn(writer)
        self.sys.close(write_end)
        return read_end


class _RedirectError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parser_at_eof(parser: Parser) -> bool:
    """Is the parser at the end of the input?  (A syntax error further on
    is not ours to report yet: the command before it runs first.)"""
    try:
        parser.skip_newlines()
        return parser.peek().kind == "EOF"
    except ShellSyntaxError as e:
        parser.deferred_error = e
        return False


def run_script_file(sys: Sys, path: str, args: list[str], env: dict[str, str]) -> Gen:
    """Run a file without ``#!`` as a shell script in this process."""
    from .libc import read_all

    fd = sys.open(path, O_RDONLY)
    try:
        src = (yield from read_all(sys, fd)).decode("utf-8", "surrogateescape")
    finally:
        sys.close(fd)
    shell = Shell(sys, arg0=path, args=args, line_base=1, commandname=path)
    return (yield from shell.run_as_process(lambda sh: sh.run_source(src)))


__all__ = ["Shell", "ShellControl", "decode_wait_status", "run_script_file"]
