"""A real daemon process for the engine notebook, and the real CLI to talk to it.

The seed's Docker Engine is "常驻后台进程Dockerd" plus a CLI that talks to
it over REST.  The lab's in-process engine is neither, so the engine notebook
starts the real thing: ``stepbox daemon`` as a separate, long-running process
on its own socket and state directory, and runs the real ``stepbox``
command against it, each call a new process -- as a learner's shell would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from stepbox.core.engine.client import EngineClient
from stepbox.core.engine.locations import someone_listening

START_TIMEOUT = 60.0


@dataclass
class DaemonProcess:
    backend: str
    root: str
    socket_path: str
    log_path: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def client(self) -> EngineClient:
        return EngineClient(self.socket_path)

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self) -> None:
        """Remove its containers (``docker rm -f``), then SIGTERM: a clean shutdown."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            client = self.client()
            for container in client.containers(all_=True):
                client.remove(container["Id"], force=True)
        except Exception:  # a daemon too broken to answer is still stopped below
            pass
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_daemon(backend: str, directory: str) -> DaemonProcess:
    """``stepbox daemon`` in the background, state and socket in ``directory``."""
    root = os.path.join(directory, "root")
    os.makedirs(directory, exist_ok=True)
    daemon = DaemonProcess(
        backend, root, os.path.join(directory, "stepbox.sock"), os.path.join(directory, "daemon.log")
    )
    with open(daemon.log_path, "ab") as log:
        daemon.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stepbox.core.engine",
                "-H",
                daemon.host,
                "--backend",
                backend,
                "--root",
                root,
                "--debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not someone_listening(daemon.socket_path):
        if daemon.process.poll() is not None:
            raise RuntimeError(f"the daemon exited with status {daemon.process.returncode}:\n{daemon.log()}")
        if time.monotonic() > deadline:
            daemon.stop()
            raise RuntimeError(f"the daemon did not listen within {START_TIMEOUT:g}s:\n{daemon.log()}")
        time.sleep(0.05)
    return daemon


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
        from .tables import code_list

        shown = " ".join(self.result.argv[:1] + self.result.argv[3:])  # without -H: the reader's view
        lines = str(self.result).rstrip("\n").splitlines() or ["(no output)"]
        return (
            code_list([f"$ {shown}", *lines], limit=20)
            + f"<div>exit status {self.result.status} · {len(self.requests)} HTTP requests "
            "crossed the socket:</div>" + requests_table(self.requests)
        )


def traced_command(spy, *args: str, timeout: float = 120) -> TracedCommand:
    """``stepbox ARGS…`` pointed at ``spy``: what it printed and what it sent."""
    mark = spy.mark()
    result = stepbox_command(spy.host, *args, timeout=timeout)
    return TracedCommand(result, spy.since(mark))


__all__ = [
    "CommandResult",
    "DaemonProcess",
    "TracedCommand",
    "start_daemon",
    "stepbox_command",
    "traced_command",
]
