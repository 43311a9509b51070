"""A stepbox daemon in a process of its own, started in the background.

Three kinds of program start one, all with :func:`start_daemon`: a
``stepbox`` command that finds no daemon listening (``core/cli/connection.py``),
the engine notebook (a real daemon to put a tap on), and the tests.  It is
``stepbox daemon`` in a new session -- so the terminal's Ctrl-C, or the end
of the program that started it, does not reach it -- with stdin on
/dev/null, its output appended to a log file (not to our stdout, which may
be a pipe someone reads to its end), and the working directory ``/`` (a
daemon must not keep the caller's directory busy).  We wait until it
listens.

Two programs may find no daemon at the same moment and both start one; the
daemon's locked pid file lets only the first live.  The other's exits at
once -- and :meth:`DaemonProcess.start` then waits for the one that lives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .locations import log_path_of, pid_path_of, socket_for_root, someone_listening
from .pidfile import running_pid

if TYPE_CHECKING:
    from .client import EngineClient

START_TIMEOUT = 60.0  # seconds; the first start of the linux backend sets up cgroups
STOP_TIMEOUT = 30.0  # seconds after SIGTERM before SIGKILL


class DaemonDidNotStart(RuntimeError):
    pass


@dataclass
class DaemonProcess:
    backend: str  # "auto", "sim" or "linux"
    root: str  # its state directory
    socket_path: str
    log_path: str
    debug: bool = False  # log every request
    args: tuple[str, ...] = ()  # more of `stepbox daemon`'s options: --bridge=none, -H tcp://…, --tlsverify …
    prefix: tuple[str, ...] = ()  # a command that runs it (nsenter --net=...: in a network namespace)
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    @property
    def lives(self) -> bool:
        """Whether the process we started is the daemon that serves the socket."""
        return self.process is not None and running_pid(pid_path_of(self.socket_path)) == self.process.pid

    def client(self) -> EngineClient:
        from .client import EngineClient

        return EngineClient(self.socket_path)

    def start(self, timeout: float = START_TIMEOUT) -> DaemonProcess:
        """Start it and wait until a daemon listens on the socket (ours, or
        one that another program started a moment earlier)."""
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        argv = [*self.prefix, sys.executable, "-m", "stepbox", "--backend", self.backend, "--root", self.root]
        argv += ["daemon", "-H", self.host] + (["--debug"] if self.debug else []) + list(self.args)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd="/",
                env={**os.environ, **self.env} if self.env else None,
            )
        deadline = time.monotonic() + timeout
        while not someone_listening(self.socket_path):
            ended = self.process.poll()
            if ended is not None and running_pid(pid_path_of(self.socket_path)) is None:
                raise DaemonDidNotStart(
                    f"the daemon did not start (exit status {ended}); its log, {self.log_path}, "
                    f"ends with:\n{self.log(lines=15)}"
                )
            if time.monotonic() > deadline:
                raise DaemonDidNotStart(f"the daemon did not listen within {timeout:g}s; see {self.log_path}")
            time.sleep(0.01)
        return self

    def log(self, lines: int | None = None) -> str:
        """What it said (the last ``lines`` lines)."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return "(no log)"
        return text if lines is None else "".join(text.splitlines(keepends=True)[-lines:]).rstrip()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a clean shutdown: on the real kernel its containers keep
        running), SIGKILL if it does not go in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """kill -9: the crash case."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def remove_all_containers(self) -> None:
        """``docker rm -f`` each of its containers (best effort: a daemon too
        broken to answer is stopped all the same)."""
        try:
            client = self.client()
            for container in client.containers(all_=True):
                try:
                    client.remove(container["Id"], force=True)
                except Exception:
                    pass
        except Exception:
            pass

    def close(self) -> None:
        """Remove its containers, then stop it."""
        if self.process is not None and self.process.poll() is None:
            self.remove_all_containers()
        self.stop()


def start_daemon(
    backend: str,
    root: str,
    socket_path: str | None = None,
    log_path: str | None = None,
    *,
    debug: bool = False,
    timeout: float = START_TIMEOUT,
) -> DaemonProcess:
    """``stepbox daemon`` for state directory ``root`` in the background,
    listening on ``socket_path`` (default: the directory's own socket) and
    logging to ``log_path`` (default: ``ROOT/daemon.log``); returns once a
    daemon listens there.  Raises :class:`DaemonDidNotStart` saying why not."""
    daemon = DaemonProcess(
        backend,
        root,
        socket_path or socket_for_root(root),
        log_path or log_path_of(root),
        debug=debug,
    )
    return daemon.start(timeout)


__all__ = ["DaemonDidNotStart", "DaemonProcess", "start_daemon"]
