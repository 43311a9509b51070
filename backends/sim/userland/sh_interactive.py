"""The shell's interactive mode: a prompt, a line, a command, again.

``sh`` with no script and a terminal on stdin (``docker run -it busybox
sh``) -- or ``sh -i`` -- is interactive, as in ash: it prints Debian's
busybox banner, then ``PS1`` (by default ``\\w \\$ ``: ``/ # `` for root in
/), reads a line, runs it, and asks again; ``PS2`` (``> ``) while a command
is unfinished (``if true`` ... ``fi``).  An error does not end it, ``exit``
does, and so does end-of-file (^D at the prompt).  SIGINT (^C) is caught:
at the prompt it drops the line and prompts anew; during a command the
command dies of it and the prompt comes back.  SIGTERM and SIGQUIT are
ignored, as ash does when interactive.

The terminal does the line editing (its canonical mode: erase, kill,
echo).  Real busybox edits lines itself (libbb's lineedit: raw mode,
history, arrow keys, and the ``ESC[6n`` cursor query after each prompt);
the simulator leaves that to the terminal -- see SIMPLIFICATIONS.md.
"""

from __future__ import annotations

import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .libc import err, errno_is
from .sh_errors import ShellFatal
from .sh_lexer import ShellSyntaxError
from .sh_parser import Parser

Gen = Generator[Any, Any, int]

SHELL_BANNER = (
    "\n\nBusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) built-in shell (ash)\n"
    "Enter 'help' for a list of built-in commands.\n\n"
)
DEFAULT_PS1 = "\\w \\$ "  # ash with FEATURE_EDITING_FANCY_PROMPT
DEFAULT_PS2 = "> "


def is_interactive(sys: Sys, opts: set[str]) -> bool:
    """ash: -i, or commands from stdin with stdin and stderr on a terminal."""
    if "i" in opts:
        return True
    try:
        return sys.isatty(0) and sys.isatty(2)
    except OSError:
        return False


def expand_prompt(shell, text: str) -> str:
    """The prompt escapes busybox's fancy prompt knows best: \\w \\W \\u \\h \\$ \\\\."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            code = text[i + 1]
            i += 2
            if code == "w":
                cwd = shell.sys.getcwd()
                home = shell.get_var("HOME")
                if home and home != "/" and (cwd == home or cwd.startswith(home + "/")):
                    cwd = "~" + cwd[len(home) :]
                out.append(cwd)
            elif code == "W":
                cwd = shell.sys.getcwd()
                out.append(cwd.rsplit("/", 1)[-1] or "/")
            elif code == "$":
                out.append("#" if shell.sys.getuid() == 0 else "$")
            elif code == "h":
                out.append(shell.sys.gethostname().split(".")[0])
            elif code == "u":
                out.append(shell.get_var("USER") or str(shell.sys.getuid()))
            elif code == "\\":
                out.append("\\")
            else:
                out.append("\\" + code)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _unfinished(source: str) -> bool:
    """Does ``source`` stop in the middle of a command (more lines wanted)?"""
    parser = Parser(source, 1)
    try:
        while parser.parse_next() is not None:
            pass
    except ShellSyntaxError as e:
        return "end of file" in str(e) or "unterminated" in str(e)
    return False


def run_interactive(shell) -> Gen:
    """The read-eval loop of an interactive shell (run inside ``run_as_process``)."""
    sys = shell.sys
    shell.opts.add("i")
    sys.signal(signal.SIGINT, shell.on_signal)
    for ignored in (signal.SIGTERM, signal.SIGQUIT):
        sys.signal(ignored, signal.SIG_IGN)
    yield from err(sys, SHELL_BANNER)
    source = ""
    while True:
        if source:
            prompt = shell.get_var("PS2") or DEFAULT_PS2
        else:
            prompt = expand_prompt(shell, shell.get_var("PS1") or DEFAULT_PS1)
        yield from err(sys, prompt)
        line = yield from _read_line(sys)
        if line is None:  # ^C: the line is dropped
            shell.pending_signals.clear()
            source = ""
            yield from err(sys, "\n")
            continue
        if line == "":  # end of file
            yield from err(sys, "\n")
            return shell.status
        source += line if line.endswith("\n") else line + "\n"
        if _unfinished(source):
            continue
        text, source = source, ""
        shell.last_signal = None
        try:
            yield from shell.run_source(text)
        except ShellFatal as e:  # an interactive shell survives its errors
            if e.message:
                yield from shell.error(e.message)
            shell.status = e.status
        interrupted = signal.SIGINT in shell.pending_signals or shell.last_signal == signal.SIGINT
        if shell.pending_signals:
            yield from shell.run_pending_traps()
        if interrupted and signal.SIGINT not in shell.traps:
            yield from err(sys, "\n")  # ends the line the terminal's ^C echo left


def _read_line(sys: Sys) -> Generator[Any, Any, str | None]:
    """One line from the terminal (canonical mode hands over whole lines);
    "" at end of file, None if ^C interrupted the read."""
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = yield from sys.read(0, 4096)
        except OSError as e:
            if errno_is(e, "EINTR"):
                return None
            return ""
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "surrogateescape")
