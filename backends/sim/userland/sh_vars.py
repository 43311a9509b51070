"""The shell's parameters: variables (exported, read-only, ``local``),
positional and special parameters (``$?``, ``$$``, ``$!``...), and the
environment a command is given.  A part of :class:`~.sh_shell.Shell`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from .sh_base import ShellBase
from .sh_errors import ShellFatal
from .sh_lexer import is_name

Gen = Generator[Any, Any, Any]


class Variables(ShellBase):
    """Mixin of :class:`~.sh_shell.Shell`: the state it reads is set up in
    ``Shell.__init__`` (``vars``, ``exported``, ``readonly``, ``positional``)."""

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

    def environment(self, extra: list[tuple[str, str]] | None = None) -> dict[str, str]:
        env = {k: self.vars[k] for k in sorted(self.exported) if k in self.vars}
        for k, v in extra or ():
            env[k] = v
        return env

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
