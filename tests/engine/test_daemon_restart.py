"""Containers outlive CLI calls, and the daemon's state outlives the daemon.

After a restart, images and container records are all still there; on the
real kernel a container that kept running (its shim holds it) is re-attached,
on the simulator (whose processes live inside the daemon) it is reported
exited with the reason.
"""

from __future__ import annotations

import pytest

from .conftest import BACKENDS
from .daemon_process import TestDaemon


@pytest.fixture(params=BACKENDS)
def fresh_daemon(request):
    d = TestDaemon(request.param)
    try:
        yield d.start()
    finally:
        d.cleanup()


@pytest.mark.parametrize("how", ["sigterm", "kill -9"])
def test_state_survives_a_daemon_restart(fresh_daemon, how):
    d = fresh_daemon
    client = d.client()
    done = client.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo kept"]}, name="done")
    client.run_attached(done)
    client.request("POST", "/images/busybox/tag", query={"repo": "kept", "tag": "1"})
    running = client.create({"Image": "busybox", "Cmd": ["sleep", "1000"]}, name="running")
    client.start(running)
    pid = client.inspect(running)["State"]["Pid"]

    d.stop() if how == "sigterm" else d.kill()
    d.start()
    client = d.client()

    names = {c["Names"][0]: c for c in client.containers(all_=True)}
    assert set(names) == {"/done", "/running"}
    assert client.logs(done) == (b"kept\n", b"")
    assert "kept:1" in client.image("kept:1")["RepoTags"]
    state = client.inspect(running)["State"]
    if d.backend == "linux":
        assert (state["Status"], state["Pid"]) == ("running", pid)  # re-attached
        assert client.exec(running, ["echo", "still here"])[:2] == (0, b"still here\n")
        client.request("POST", f"/containers/{running}/kill")
        assert client.inspect(running)["State"]["ExitCode"] == 137  # the new daemon saw it exit
    else:
        assert state["Status"] == "exited"
        assert state["Error"], "the reason must be recorded"
    client.remove(running, force=True)
    client.remove(done)


def test_detached_container_keeps_running_between_cli_calls(fresh_daemon):
    client = fresh_daemon.client()
    cid = client.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo a; sleep 1000"]})
    client.start(cid)
    other = fresh_daemon.client()  # a later "CLI call"
    assert other.inspect(cid)["State"]["Status"] == "running"
    code, out, _ = other.exec(cid, ["echo", "b"])
    assert (code, out) == (0, b"b\n")
    other.remove(cid, force=True)


def test_socket_is_0660_and_a_second_daemon_refuses_it(fresh_daemon):
    import os
    import stat
    import subprocess
    import sys

    assert stat.S_IMODE(os.stat(fresh_daemon.socket_path).st_mode) == 0o660
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepbox.core.engine",
            "-H",
            fresh_daemon.host,
            "--backend",
            fresh_daemon.backend,
            "--root",
            fresh_daemon.root + "-2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0 and "already listening" in second.stderr
    assert fresh_daemon.client().ping() == "1.44"


def test_a_stale_socket_file_is_replaced(fresh_daemon):
    fresh_daemon.kill()  # kill -9 leaves the socket file behind
    fresh_daemon.start()
    assert fresh_daemon.client().ping() == "1.44"


@pytest.mark.parametrize("damage", [b"", b'{"id": "trunc', b"\x00\x00\x00", b'{"id": 5}'])
def test_a_damaged_record_is_quarantined_and_the_daemon_starts(fresh_daemon, damage):
    import glob
    import os

    d = fresh_daemon
    client = d.client()
    good = client.create({"Image": "busybox", "Cmd": ["true"]}, name="good")
    bad = client.create({"Image": "busybox", "Cmd": ["true"]}, name="bad")
    d.stop()
    record = glob.glob(os.path.join(d.root, "*", "containers", bad, "config.json"))[0]
    with open(record, "wb") as f:
        f.write(damage)  # what a crash of the disk (or a hand) may leave
    d.start()
    client = d.client()
    assert [c["Names"][0] for c in client.containers(all_=True)] == ["/good"]
    assert f"container record {bad} is damaged" in d.log()
    quarantined = glob.glob(os.path.join(d.root, "*", "quarantine", f"{bad}-*", "config.json"))
    assert len(quarantined) == 1 and open(quarantined[0], "rb").read() == damage
    # The name is free again, and everything else works.
    client.remove(client.create({"Image": "busybox", "Cmd": ["true"]}, name="bad"))
    client.remove(good)
