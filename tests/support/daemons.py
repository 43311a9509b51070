"""Stopping the daemon a test's ``stepbox`` calls started.

Any ``stepbox`` command with ``--root DIR`` starts DIR's own daemon when
none listens (``DIR/stepbox.sock``).  A test that runs such commands with
its own state directory stops that daemon at the end, failed or not::

    with stopping_daemons(root):
        CliRunner().invoke(cli, ["--root", root, "pull", name])
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

from stepbox.core.engine.locations import pid_path_of, socket_for_root
from stepbox.core.engine.pidfile import running_pid


def daemon_pid(root: str) -> int | None:
    return running_pid(pid_path_of(socket_for_root(root)))


def stop_daemon(root: str) -> None:
    """Stop DIR's daemon, if one runs, and check that it is gone."""
    if daemon_pid(root) is None:
        return
    stopped = subprocess.run(
        [sys.executable, "-m", "stepbox", "--root", root, "daemon", "stop"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stopped.returncode == 0, stopped.stderr
    assert daemon_pid(root) is None


@contextlib.contextmanager
def stopping_daemons(*roots: str):
    try:
        yield
    finally:
        for root in roots:
            stop_daemon(root)
