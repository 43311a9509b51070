"""A command run on a real pseudo-terminal, driven like a user at a keyboard.

``docker run -it`` behaves differently when its stdin is a terminal (raw
mode, window size, detach keys), so the interactive tests run the docker
CLI and the stepbox CLI on a pty made with Python's :mod:`pty` -- no mocks:
the kernel's own line discipline sits between the test and the CLI::

    with PtySession(["stepbox", "run", "-it", "busybox", "sh"], env) as s:
        s.expect(b"# ")
        s.send(b"echo $((6*7))\\r")
        s.expect(b"42")
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


class PtyTimeout(AssertionError):
    pass


class PtySession:
    def __init__(self, argv: list[str], env: dict[str, str] | None = None, rows: int = 24, columns: int = 80):
        self.argv = argv
        self.env = env
        self.rows, self.columns = rows, columns
        self.output = b""  # everything the command showed so far
        self.pid = 0
        self.fd = -1
        self.status: int | None = None

    def __enter__(self) -> PtySession:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty's slave is its stdin, stdout and stderr
            try:
                os.execvpe(self.argv[0], self.argv, self.env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.resize(self.rows, self.columns, signal_child=False)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def resize(self, rows: int, columns: int, signal_child: bool = True) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        if signal_child:
            try:
                os.kill(self.pid, signal.SIGWINCH)  # the kernel signals the foreground job; be sure
            except ProcessLookupError:
                pass

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the command closed the terminal (exited)
            data = b""
        if not data:
            return False
        self.output += data
        return True

    def expect(self, wanted: bytes, timeout: float = 20.0, after: int = 0) -> int:
        """Wait until ``wanted`` shows up (at or after offset ``after``);
        the offset just past it."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.output.find(wanted, after)
            if at >= 0:
                return at + len(wanted)
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                at = self.output.find(wanted, after)
                if at >= 0:
                    return at + len(wanted)
                if left <= 0:
                    raise PtyTimeout(f"{wanted!r} did not show up; the screen so far:\n{self.output!r}")
                raise PtyTimeout(f"the command ended before {wanted!r}; its output:\n{self.output!r}")

    def wait(self, timeout: float = 30.0) -> int:
        """The command's exit status (reading what it still shows meanwhile)."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, raw = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(raw)
                break
            if time.monotonic() > deadline:
                raise PtyTimeout(f"{self.argv} did not exit; its output:\n{self.output!r}")
            self._read(0.1)
        while self._read(0.05):
            pass
        return self.status

    def close(self) -> None:
        if self.status is None and self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
