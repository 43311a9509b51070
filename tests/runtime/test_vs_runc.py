"""stepbox-runc against runc on the same bundle: what a caller can observe.

Both runtimes get the very config ``runc spec`` writes (every device
allowed: stepbox-runc has no device cgroup yet).  Compared: the state JSON
(fields and statuses through the lifecycle), exit codes, the errors callers
match, and -- from inside -- the init's /proc/self/status (capabilities,
no_new_privs, groups), its hostname and its mount table."""

from __future__ import annotations

import json
import os
import time

import pytest
from bundles import linux_root, make_bundle

pytestmark = linux_root

INSIDE = (
    "grep -E '^(Cap|NoNewPrivs|Groups|Seccomp:)' /proc/self/status; hostname; "
    "cat /proc/self/mounts; ulimit -n; echo READY; exec sleep 1000"
)


def lifecycle(rt, bundle: str, tmp_path, name: str) -> dict:
    """Drive one runtime through create/start/exec/kill/delete; what it showed."""
    seen: dict = {}
    out_path = tmp_path / f"{name}.out"
    with open(out_path, "wb") as out, open(tmp_path / f"{name}.err", "wb") as err:
        assert rt("create", "--bundle", bundle, name, stdout=out, stderr=err).returncode == 0
    seen["created"] = rt.state(name)
    assert rt("start", name).returncode == 0
    deadline = time.monotonic() + 20
    while b"READY" not in out_path.read_bytes():
        assert time.monotonic() < deadline, "the container did not start"
        time.sleep(0.02)
    seen["running"] = rt.state(name)
    seen["inside"] = out_path.read_text()
    seen["start_again"] = (rt("start", name).returncode, rt.last_error())
    seen["delete_running"] = (rt("delete", name).returncode, rt.last_error())
    process = {"args": ["sh", "-c", "exit 7"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
    (tmp_path / f"{name}-p.json").write_text(json.dumps(process))
    with open(os.devnull, "wb") as null:
        seen["exec_exit"] = rt(
            "exec", "--process", str(tmp_path / f"{name}-p.json"), name, stdout=null
        ).returncode
    assert rt("kill", name, "KILL").returncode == 0
    deadline = time.monotonic() + 20
    while rt.state(name)["status"] != "stopped":
        assert time.monotonic() < deadline, "the container did not stop"
        time.sleep(0.02)
    seen["stopped"] = rt.state(name)
    seen["kill_stopped"] = (rt("kill", name, "KILL").returncode, rt.last_error())
    assert rt("delete", name).returncode == 0
    seen["state_deleted"] = (rt("state", name).returncode, rt.last_error())
    return seen


# Known differences, documented in docs/oci-runtime.md: stepbox-runc binds
# the host's device nodes where runc (as root) makes them with mknod, so they
# show as mounts, and the files it masks are bound from that /dev/null.
DEVICE_NODES = {f"/dev/{name}" for name in ("null", "zero", "full", "random", "urandom", "tty")}


def mount_table(inside: str) -> list[tuple[str, str, bool]]:
    """(target, fstype, read-only) of each mount the container sees, sorted
    (runc makes the read-only paths before the masked ones, stepbox after)."""
    rows = []
    for line in inside.splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[1].startswith("/") and fields[1] not in DEVICE_NODES:
            fstype = "tmpfs" if fields[2] == "devtmpfs" else fields[2]  # a file masked with /dev/null
            rows.append((fields[1], fstype, "ro" in fields[3].split(",")))
    return sorted(rows)


def status_lines(inside: str) -> list[str]:
    return [
        line
        for line in inside.splitlines()
        if line.split(":")[0]
        in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Groups", "Seccomp")
    ]


@pytest.fixture
def both(runtime, runc, tmp_path):
    bundle_a = make_bundle(str(tmp_path / "a"), ["sh", "-c", INSIDE], cgroups_path="/stepbox-runc-test/vs-a")
    bundle_b = make_bundle(str(tmp_path / "b"), ["sh", "-c", INSIDE], cgroups_path="/stepbox-runc-test/vs-b")
    ours = lifecycle(runtime, bundle_a, tmp_path, "ours")
    theirs = lifecycle(runc, bundle_b, tmp_path, "theirs")
    return ours, theirs


def test_state_json_and_errors_agree(both):
    ours, theirs = both
    for phase in ("created", "running", "stopped"):
        assert sorted(ours[phase]) == sorted(theirs[phase]), phase
        assert ours[phase]["status"] == theirs[phase]["status"] == phase
        assert ours[phase]["ociVersion"] == theirs[phase]["ociVersion"]
        assert (ours[phase]["pid"] == 0) == (theirs[phase]["pid"] == 0)
    for key in ("start_again", "delete_running", "kill_stopped", "state_deleted"):
        assert ours[key] == (theirs[key][0], theirs[key][1].replace("theirs", "ours")), key
    assert ours["exec_exit"] == theirs["exec_exit"] == 7


def test_the_inside_agrees(both):
    ours, theirs = both
    assert status_lines(ours["inside"]) == status_lines(theirs["inside"])
    lines_ours, lines_theirs = ours["inside"].splitlines(), theirs["inside"].splitlines()
    assert lines_ours[-2:] == lines_theirs[-2:]  # ulimit -n, READY
    hostname = [line for line in lines_ours if line == "runc"]
    assert hostname == [line for line in lines_theirs if line == "runc"] == ["runc"]
    assert mount_table(ours["inside"]) == mount_table(theirs["inside"])
