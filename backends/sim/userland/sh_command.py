"""Simple commands: expand the words, then run a special builtin, a
function, a regular builtin, or -- after looking the name up (an applet
name first, as Debian's FEATURE_SH_STANDALONE busybox does, then
``$PATH``) -- a program in a forked child that applies the redirections
and ``execve``\\ s it while the shell waits.  The last command of ``sh -c``
(and of a subshell) is exec'd without a fork, as ash does -- which is why
``docker run busybox sh -c ps`` shows ``ps`` as PID 1 and no shell.
A part of :class:`~.sh_shell.Shell`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ..sys_api import O_RDONLY, Sys
from .applet_table import NOEXEC, REAL_APPLETS, STANDALONE_APPLET
from .libc import err, errno_is, strerror
from .sh_ast import Redirect, SimpleCommand
from .sh_base import ShellBase
from .sh_errors import ReturnFromFunction, ShellFatal
from .spawn import run_in_process

if TYPE_CHECKING:  # pragma: no cover
    from .sh_shell import Shell

Gen = Generator[Any, Any, Any]

X_OK = 1


class SimpleCommands(ShellBase):
    """Mixin of :class:`~.sh_shell.Shell`."""

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
            status = yield from fn(self.as_shell(), argv)
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
            if name in NOEXEC:
                # ash's tryexec: a NOEXEC applet runs right here, in the
                # forked child (or the shell itself at its last command),
                # and the process ends with it -- no execve, so
                # /proc/self/cmdline stays the shell's.
                status = yield from run_in_process(self.sys, argv, env)
                self.sys.exit(status)
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


def run_script_file(sys: Sys, path: str, args: list[str], env: dict[str, str]) -> Gen:
    """Run a file without ``#!`` as a shell script in this process."""
    from .libc import read_all
    from .sh_shell import Shell

    fd = sys.open(path, O_RDONLY)
    try:
        src = (yield from read_all(sys, fd)).decode("utf-8", "surrogateescape")
    finally:
        sys.close(fd)
    shell = Shell(sys, arg0=path, args=args, line_base=1, commandname=path)
    return (yield from shell.run_as_process(lambda sh: sh.run_source(src)))
