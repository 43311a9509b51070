"""The evaluator: walks the syntax tree of lists, pipelines and compound
commands (``if``, loops, ``case``, groups, subshells, functions).

How a shell really runs things, all visible here and in its sibling parts
of :class:`~.sh_shell.Shell`:

* a *pipeline* creates a pipe between each pair of commands and forks every
  stage (ash forks even builtins in a pipeline, so ``echo x | read v`` does
  not set ``v`` in the shell);
* ``( ... )`` and ``&`` fork a copy of the shell (:mod:`.sh_subshell`);
* a simple command is :mod:`.sh_command`'s job.

Control flow (``break``, ``return``, ``exit``) unwinds with the exceptions of
:mod:`.sh_errors`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ..sys_api import O_RDONLY
from .sh_ast import (
    AndOr,
    BraceGroup,
    Case,
    Command,
    CommandList,
    For,
    FuncDef,
    If,
    Loop,
    Pipeline,
    Redirected,
    SimpleCommand,
    Subshell,
)
from .sh_base import ShellBase
from .sh_errors import BreakLoop, ContinueLoop, ShellExit, ShellFatal
from .sh_lexer import ShellSyntaxError
from .sh_parser import Parser
from .sh_pattern import match

if TYPE_CHECKING:  # pragma: no cover
    from .sh_shell import Shell

Gen = Generator[Any, Any, Any]


class Evaluator(ShellBase):
    """Mixin of :class:`~.sh_shell.Shell`."""

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


def parser_at_eof(parser: Parser) -> bool:
    """Is the parser at the end of the input?  (A syntax error further on
    is not ours to report yet: the command before it runs first.)"""
    try:
        parser.skip_newlines()
        return parser.peek().kind == "EOF"
    except ShellSyntaxError as e:
        parser.deferred_error = e
        return False
