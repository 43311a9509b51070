"""The main command as a user without root, as issue #2 asks: ``auto``
picks the simulator, state goes under the user's home, the daemon's socket
under the user's runtime dir.

The test runs the CLI in a user namespace where it is uid 65534 (nobody):
to stepbox it is not root, while the files it needs (the interpreter under
/root) stay readable -- the namespace maps that id to the caller outside.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

pytestmark = pytest.mark.skipif(
    not IS_LINUX_ROOT or shutil.which("unshare") is None,
    reason=LINUX_ONLY_REASON + " (and unshare(1) to become a non-root user)",
)


def as_nobody(home: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HOME": home,
        "XDG_RUNTIME_DIR": os.path.join(home, "run"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
    }
    for name in ("STEPBOX_ROOT", "STEPBOX_BACKEND", "STEPBOX_HOST"):
        env.pop(name, None)
    return subprocess.run(
        [
            "unshare",
            "--user",
            "--map-user=65534",
            "--map-group=65534",
            sys.executable,
            "-m",
            "stepbox",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_user_without_root_runs_containers_on_the_simulator(tmp_path):
    home = str(tmp_path)
    os.makedirs(os.path.join(home, "run"))
    try:
        result = as_nobody(
            home, "run", "--rm", "--hostname", "box1", "busybox", "sh", "-c", "hostname; echo $$"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "box1\n1\n"
        assert "(backend sim)" in result.stderr  # auto chose the simulator
        assert os.path.exists(os.path.join(home, "run", "stepbox.sock"))  # its daemon's socket
        assert os.path.isdir(os.path.join(home, "data", "stepbox", "images"))
    finally:
        as_nobody(home, "daemon", "stop")
