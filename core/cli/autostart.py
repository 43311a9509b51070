"""Starting a daemon when a command finds none listening.

The daemon is ``stepbox daemon`` in a process of its own: in its own
session (so the terminal's Ctrl-C, or the end of the CLI call that started
it, does not reach it), with stdin on /dev/null and its output appended to
``daemon.log`` in the state directory -- not to our stdout, which may be a
pipe someone reads to its end.  We wait until it answers ``/_ping``.

Two commands may find no daemon at the same moment and both start one; the
daemon's locked pid file lets only the first live, and both commands then
talk to it.  Only the command whose daemon lives says it started one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from stepbox.core.engine.locations import log_path_of, pid_path_of
from stepbox.core.engine.pidfile import running_pid

from .errors import CommandFailed

START_TIMEOUT = 60.0  # seconds; the first start of the linux backend sets up cgroups


def start_daemon(socket_path: str, backend: str, root: str, say, timeout: float = START_TIMEOUT) -> str:
    """Start a daemon for state directory ``root`` listening on
    ``socket_path``; its backend once it answers."""
    from .connection import daemon_backend

    os.makedirs(root, exist_ok=True)
    log_path = log_path_of(root)
    argv = [
        sys.executable,
        "-m",
        "stepbox",
        "--backend",
        backend,
        "--root",
        root,
        "daemon",
        "-H",
        f"unix://{socket_path}",
    ]
    with open(log_path, "ab") as log:
        # cwd /: a daemon must not keep the directory we were called from busy.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
        )
    deadline = time.monotonic() + timeout
    while True:
        answered = daemon_backend(socket_path)
        if answered is not None:
            if running_pid(pid_path_of(socket_path)) == process.pid:
                say(f"stepbox: started a daemon on unix://{socket_path} (backend {answered})")
            return answered
        if process.poll() is not None:
            raise CommandFailed(
                f"stepbox: Error: the daemon did not start (exit status {process.returncode});"
                f" its log, {log_path}, ends with:\n{_tail(log_path)}",
                125,
            )
        if time.monotonic() > deadline:
            raise CommandFailed(
                f"stepbox: Error: the daemon did not answer within {timeout:g}s; see {log_path}", 125
            )
        time.sleep(0.01)


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return "(no log)"
