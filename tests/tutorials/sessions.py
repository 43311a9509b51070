"""A terminal and a Python prompt that a tutorial's blocks are typed into.

:class:`ShellSession` is one ``bash`` for the whole tutorial, as a reader's
terminal would be: each command is written to it, followed by a line that
prints a marker and the command's exit status, and the output up to the
marker is the command's.  :class:`PythonSession` does the same for Python
blocks with one interpreter and one namespace.  Both run in their own
process group, so closing them also ends anything they left in the
background.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import uuid

COMMAND_TIMEOUT = 300.0  # seconds: a hung command fails the tutorial


class SessionError(RuntimeError):
    pass


def _new_marker() -> str:
    """A line no command prints by accident: where one command's output ends."""
    return f"__stepbox_tutorial_{uuid.uuid4().hex}__"


class _Session:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, marker: str):
        self.marker = marker
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both PIPE
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self._pending = b""

    def _send(self, text: str) -> None:
        self.stdin.write(text.encode())
        self.stdin.flush()

    def _read_until_marker(self, timeout: float) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        marker = self.marker.encode()
        while marker not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SessionError(
                    f"no answer within {timeout:g}s; output so far:\n"
                    + self._pending.decode(errors="replace")[-4000:]
                )
            ready, _, _ = select.select([self.stdout], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(self.stdout.fileno(), 65536)
                if not chunk:
                    raise SessionError(
                        "the session ended; output so far:\n" + self._pending.decode(errors="replace")[-4000:]
                    )
                self._pending += chunk
        before, _, after = self._pending.partition(marker)
        status_line, _, rest = after.partition(b"\n")
        self._pending = rest
        return before.decode(errors="replace"), int(status_line.strip() or b"0")

    def close(self) -> None:
        """End the session and everything started in it."""
        if self.proc.poll() is None:
            try:
                self.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # background jobs of the session too
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.stdout.close()


class ShellSession(_Session):
    def __init__(self, env: dict[str, str], cwd: str):
        super().__init__(["bash", "--noprofile", "--norc"], env, cwd, _new_marker())
        self._send("exec 2>&1\n")

    def run(self, command: str, timeout: float = COMMAND_TIMEOUT) -> tuple[str, int]:
        """The command's output (stdout and stderr, as a terminal shows them) and exit status."""
        self._send(f"{command}\n__status=$?; printf '\\n%s%s\\n' '{self.marker}' \"$__status\"\n")
        output, status = self._read_until_marker(timeout)
        # The marker's own leading newline ends the command's last line.
        return output[:-1] if output.endswith("\n") else output, status


_PYTHON_SERVER = r'''
import sys, traceback
namespace = {"__name__": "__main__"}
marker = sys.argv[1]
while True:
    header = sys.stdin.readline()
    if not header:
        break
    name, size = header.rsplit(" ", 1)
    source = sys.stdin.read(int(size))
    status = 0
    try:
        exec(compile(source, name, "exec"), namespace)
    except BaseException:
        traceback.print_exc(file=sys.stdout)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    print(f"\n{marker}{status}", flush=True)
# Whatever labs a failed tutorial left open: close them (containers, mounts, state).
from stepbox.core.notebook.lab import Lab
for value in list(namespace.values()):
    if isinstance(value, Lab):
        value.close()
'''


class PythonSession(_Session):
    def __init__(self, env: dict[str, str], cwd: str):
        marker = _new_marker()
        super().__init__(
            [sys.executable, "-u", "-c", _PYTHON_SERVER, marker],
            {**env, "PYTHONIOENCODING": "utf-8"},
            cwd,
            marker,
        )

    def run(self, source: str, name: str, timeout: float = COMMAND_TIMEOUT) -> tuple[str, int]:
        data = source.encode()
        self.stdin.write(f"{name} {len(source)}\n".encode() + data)
        self.stdin.flush()
        output, status = self._read_until_marker(timeout)
        return output[:-1] if output.endswith("\n") else output, status


__all__ = ["PythonSession", "SessionError", "ShellSession"]
