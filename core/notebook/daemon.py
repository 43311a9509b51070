"""The real CLI talking to a real daemon, for the engine notebook.

The seed's Docker Engine is "常驻后台进程Dockerd" plus a CLI that talks to
it over REST.  The lab's in-process engine is neither, so the engine notebook
starts the real thing -- ``stepbox daemon`` as a separate, long-running
process on its own socket and state directory
(:func:`stepbox.core.engine.daemon_process.start_daemon`) -- and runs the real
``stepbox`` command against it, each call a new process, as a learner's
shell would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class CommandResult:
    argv: list[str]
    status: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return self.stdout + self.stderr


def stepbox_command(host: str, *args: str, timeout: float = 120) -> CommandResult:
    """``stepbox -H HOST ARGS…`` as its own process; what it printed."""
    argv = ["stepbox", "-H", host, *args]
    proc = subprocess.run(
        [sys.executable, "-m", "stepbox", "-H", host, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "160"},
    )
    return CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)


@dataclass
class TracedCommand:
    """A CLI call and the HTTP requests it sent, as seen by a SocketSpy."""

    result: CommandResult
    requests: list

    def _repr_html_(self) -> str:
        from .spy import requests_table
        from .tables import code_list, no_math

        shown = " ".join(self.result.argv[:1] + self.result.argv[3:])  # without -H: the reader's view
        lines = str(self.result).rstrip("\n").splitlines() or ["(no output)"]
        return no_math(
            code_list([f"$ {shown}", *lines], limit=20)
            + f"<div>exit status {self.result.status} · {len(self.requests)} HTTP requests "
            "crossed the socket:</div>" + requests_table(self.requests)
        )


def traced_command(spy, *args: str, timeout: float = 120) -> TracedCommand:
    """``stepbox ARGS…`` pointed at ``spy``: what it printed and what it sent."""
    mark = spy.mark()
    result = stepbox_command(spy.host, *args, timeout=timeout)
    return TracedCommand(result, spy.since(mark))


__all__ = ["CommandResult", "TracedCommand", "stepbox_command", "traced_command"]
