"""Issue #3's checks that only mean something on the real kernel."""

from __future__ import annotations

import os
import socket

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .conftest import Stepbox, leftovers

pytestmark = pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)


@pytest.fixture
def linux(tmp_path):
    box = Stepbox("linux", str(tmp_path / "state"))
    try:
        yield box
    finally:
        box.cleanup()  # containers removed, the daemon stopped, nothing left


def test_inside_a_real_container(linux):
    host_name = socket.gethostname()
    r = linux(
        "run",
        "--rm",
        "--hostname",
        "inside",
        "busybox",
        "sh",
        "-c",
        "grep ' / ' /proc/mounts; grep CapEff /proc/self/status; ps -o pid,comm; hostname",
    )
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("overlay / overlay ")
    assert lines[1].split() == ["CapEff:", "00000000a80425fb"]
    assert lines[-1] == "inside"
    processes = [line.split() for line in lines[2:-1] if line.split()[0].isdigit()]
    assert processes[0] == ["1", "sh"]  # the container's command is PID 1
    assert {comm for _pid, comm in processes} == {"sh", "ps"}  # and no host process is visible
    assert socket.gethostname() == host_name


def test_rm_f_of_everything_leaves_nothing(linux):
    for i in range(3):
        assert linux("run", "-d", "--name", f"bg{i}", "busybox", "sleep", "1000").code == 0
    assert linux("run", "--name", "done", "busybox", "true").code == 0
    ids = linux("ps", "-aq").out.split()
    assert len(ids) == 4
    assert linux("rm", "-f", *ids).code == 0
    assert linux("ps", "-aq").out == ""
    assert linux("daemon", "stop").code == 0  # the daemon's command line names the root too
    assert leftovers(linux.root, ids) == {"mounts": [], "cgroups": [], "processes": []}


def test_detached_container_outlives_the_cli_and_stops(linux):
    assert linux("run", "-d", "--name", "bg", "busybox", "sh", "-c", "echo started; sleep 1000").code == 0
    assert linux("inspect", "-f", "{{.State.Running}}", "bg").out == "true\n"
    r = linux("stop", "-t", "1", "bg")  # sh as PID 1 ignores SIGTERM: SIGKILL after 1s
    assert r.code == 0, r.err
    assert linux("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "bg").out == "exited 137\n"
    assert linux("logs", "bg").out == "started\n"


def test_a_walk_through_killed_mid_way_leaves_nothing(linux):
    """The CLI ended by SIGTERM (a closed terminal) while paused inside a real
    lifecycle -- mounted, in its cgroup, the process started -- undoes it all."""
    import re
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stepbox",
            "--backend",
            "linux",
            "--root",
            linux.root,
            "step",
            "busybox",
            "sleep",
            "1000",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        proc.stdin.write("\n" * 9)  # through "start the process", then wait at a prompt
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not leftovers(linux.root, [])["mounts"] and time.monotonic() < deadline:
            time.sleep(0.05)
        output = ""
        while "Step 9/" not in output and time.monotonic() < deadline:
            output += os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
        assert "Step 9/" in output
        short_id = re.search(r"read-write layer\s+-\s+([0-9a-f]{12})", output).group(1)
        before = leftovers(linux.root, [short_id])
        assert before["mounts"] and before["cgroups"]  # it was really mounted, in its cgroup
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert leftovers(linux.root, [short_id]) == {"mounts": [], "cgroups": [], "processes": []}
