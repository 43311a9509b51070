"""Running the real ``stepbox`` command, as a user would, on either backend.

Each test has its own state directory, so the first command of a test
starts that directory's own daemon (listening on ``ROOT/stepbox.sock``).
The fixtures remove what the test left, stop that daemon, and then check
that nothing remains: no process started from the state directory, no
mount under it, no cgroup of its containers -- even when the test failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import pytest
from stepbox.core.engine.locations import pid_path_of, socket_for_root
from stepbox.core.engine.pidfile import running_pid

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]


@dataclass
class Result:
    code: int
    out: str
    err: str


class Stepbox:
    """``stepbox --backend B --root TMP ...`` as a subprocess."""

    def __init__(self, backend: str, root: str):
        self.backend, self.root = backend, root
        self.seen_ids: set[str] = set()

    @property
    def socket_path(self) -> str:
        return socket_for_root(self.root)

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 120,
        options: tuple[str, ...] | None = None,
        env: dict | None = None,
    ) -> Result:
        """``options`` replace ``--backend B --root TMP``; ``env`` adds variables."""
        if options is None:
            options = ("--backend", self.backend, "--root", self.root)
        proc = subprocess.run(
            [sys.executable, "-m", "stepbox", *options, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def daemon_pid(self) -> int | None:
        return running_pid(pid_path_of(self.socket_path))

    def cleanup(self) -> None:
        """Remove every container, stop the daemon, check nothing is left."""
        if self.daemon_pid() is not None:
            host = ("-H", f"unix://{self.socket_path}")  # never start a daemon just for this
            ids = self("ps", "-aq", options=host).out.split()
            self.seen_ids.update(ids)
            if ids:
                self("rm", "-f", *ids, options=host)
            stopped = self("daemon", "stop", options=("--root", self.root))
            assert stopped.code == 0, stopped.err
        assert self.daemon_pid() is None
        assert leftovers(self.root, sorted(self.seen_ids)) == {"mounts": [], "cgroups": [], "processes": []}


def leftovers(root: str, ids: list[str]) -> dict:
    """Mounts under the state dir, cgroups named after the containers, and
    processes started from this state dir, still present."""
    mounts = []
    if os.path.exists("/proc/mounts"):
        with open("/proc/mounts") as f:
            mounts = [line for line in f if root in line]
    cgroups = []
    for base, dirs, _files in os.walk("/sys/fs/cgroup"):
        cgroups += [os.path.join(base, d) for d in dirs if any(d.startswith(i) for i in ids)]
        if base.count("/") > 7:
            dirs[:] = []
    processes = []
    for pid in filter(str.isdigit, os.listdir("/proc") if os.path.isdir("/proc") else []):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if root.encode() in f.read():
                    processes.append(pid)
        except OSError:
            pass
    return {"mounts": mounts, "cgroups": cgroups, "processes": processes}


@pytest.fixture(params=BACKENDS)
def stepbox(request):
    root = tempfile.mkdtemp(prefix=f"stepbox-cli-{request.param}-")
    box = Stepbox(request.param, root)
    try:
        yield box
    finally:
        try:
            box.cleanup()
        finally:
            shutil.rmtree(root, ignore_errors=True)
