"""The shell: one shell process's state and the parts that act on it.

:class:`Shell` is assembled from parts with one job each, as ash's source
is split into eval, exec, redir, jobs and var sections:

* :mod:`.sh_eval` -- lists, pipelines and compound commands;
* :mod:`.sh_command` -- simple commands: builtins, functions, programs;
* :mod:`.sh_redirect` -- redirections and here-documents;
* :mod:`.sh_subshell` -- forked subshells, waiting, traps;
* :mod:`.sh_vars` -- variables and parameters.

Each part is a :class:`~.sh_base.ShellBase`, which declares the state set
up here and the methods the parts call on one another (for mypy).  Word
expansion (:mod:`.sh_expand`) and the builtins (:mod:`.sh_builtins`) are
separate modules that take a ``Shell``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .libc import err
from .sh_ast import Command
from .sh_command import SimpleCommands, run_script_file
from .sh_errors import ShellControl
from .sh_eval import Evaluator
from .sh_expand import Expander
from .sh_redirect import Redirections
from .sh_subshell import Subshells, decode_wait_status
from .sh_vars import Variables

Gen = Generator[Any, Any, Any]

DEFAULT_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"


class Shell(Evaluator, SimpleCommands, Redirections, Subshells, Variables):
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
        self.getopts_state: tuple[int, int, int] | None = None
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

    # -- messages ---------------------------------------------------------------
    def error(self, msg: str, line: int | None = None) -> Gen:
        """ash's message format: ``$0: [command: ][line N: ]msg``."""
        prefix = f"{self.arg0}: "
        if self.commandname:
            if self.commandname != self.arg0:
                prefix += f"{self.commandname}: "
            prefix += f"line {self.lineno if line is None else line}: "
        yield from err(self.sys, prefix + msg + "\n")

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


__all__ = ["Shell", "ShellControl", "decode_wait_status", "run_script_file"]
