"""Time inside the daemon passes as it does outside, on both backends.

On the simulator that is a choice: its clock is virtual and could jump to
the next timer at once (as it does in-process), but in the daemon it keeps
pace with the wall clock -- so a container that sleeps ends, and one that
sleeps for long is still running when someone looks.
"""

from __future__ import annotations

import time


def test_a_container_that_sleeps_ends(client):
    cid = client.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo before; sleep 1; echo after"]})
    code, out, _err = client.run_attached(cid, auto_remove=False)
    assert (code, out) == (0, b"before\nafter\n")
    client.remove(cid)


def test_a_detached_sleeper_keeps_running_until_stopped(client):
    cid = client.create({"Image": "busybox", "Cmd": ["sleep", "1000"]})
    client.start(cid)
    try:
        # Polling the exit monitor for a while lets the simulated clock move
        # (it only moves while someone polls): the container must still run.
        for _ in range(20):
            assert client.inspect(cid)["State"]["Running"] is True
            time.sleep(0.05)
        client.request("POST", f"/containers/{cid}/stop", query={"t": 1})
        assert client.inspect(cid)["State"]["Running"] is False
    finally:
        client.remove(cid, force=True)
