"""The acceptance: the real ``docker`` CLI (v28) drives the stepbox daemon.

Each test runs docker commands as a user would, with ``DOCKER_HOST`` set to
the daemon's socket, on both kernels behind the daemon.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import time

from .conftest import needs_docker_cli

pytestmark = needs_docker_cli
LONG = ["sleep", "1000"]


def test_version_and_info(docker):
    out = docker.ok("version", "--format", "{{json .}}")
    version = json.loads(out)
    assert version["Server"]["ApiVersion"] == "1.44"
    info = docker.ok("info", "--format", "{{json .}}")
    assert json.loads(info)["OSType"] == "linux"


def test_run_prints_and_passes_the_exit_status_through(docker):
    result = docker("run", "--rm", "busybox", "echo", "hi")
    assert (result.code, result.out) == (0, "hi\n"), result.err
    assert docker("run", "--rm", "busybox", "sh", "-c", "exit 3").code == 3
    # --rm really removed them
    assert docker.ok("ps", "-aq") == ""


def test_run_separates_stdout_and_stderr(docker):
    result = docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert result.out == "out\n"
    assert "err\n" in result.err


def test_unknown_command_exits_127(docker):
    result = docker("run", "--rm", "busybox", "no-such-command")
    assert result.code == 127, (result.out, result.err)


def test_images_and_ps(docker):
    docker.ok("run", "--name", "ps-me", "busybox", "true")
    images = docker.ok("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    assert "busybox:latest" in images
    rows = docker.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").splitlines()
    assert any(row.startswith("ps-me Exited (0)") for row in rows), rows
    docker.ok("rm", "ps-me")


def test_detached_run_logs_and_logs_follow(docker):
    cid = docker.ok(
        "run", "-d", "--name", "logger", "busybox", "sh", "-c", "echo one; echo two >&2; echo three"
    ).strip()
    assert len(cid) == 64
    follow = docker("logs", "-f", "logger")  # returns when the container exits
    assert follow.out == "one\nthree\n" and "two" in follow.err
    logs = docker("logs", "logger")
    assert logs.out == "one\nthree\n"
    assert docker.ok("logs", "--tail", "1", "logger") == "three\n"
    # dockerd reads tail with Go's Atoi: what is not a number, or is negative, means all
    for tail, shown in (
        ("+1", "three\n"),
        ("x", "one\nthree\n"),
        ("-1", "one\nthree\n"),
        ("1.5", "one\nthree\n"),
    ):
        assert docker.ok("logs", "--tail", tail, "logger") == shown, tail
    assert docker.ok("wait", "logger").strip() == "0"
    docker.ok("rm", "logger")


def test_exec_top_pause_unpause_stop(docker):
    docker.ok("run", "-d", "--name", "svc", "busybox", *LONG)
    result = docker("exec", "svc", "sh", "-c", "echo inside; exit 4")
    assert (result.code, result.out) == (4, "inside\n")
    top = docker.ok("top", "svc")
    assert "sleep 1000" in top
    docker.ok("pause", "svc")
    assert docker.ok("inspect", "-f", "{{.State.Status}}", "svc").strip() == "paused"
    docker.ok("unpause", "svc")
    assert docker.ok("inspect", "-f", "{{.State.Status}}", "svc").strip() == "running"
    docker.ok("stop", "-t", "1", "svc")  # sh as PID 1 ignores SIGTERM: SIGKILL after 1s
    state = json.loads(docker.ok("inspect", "svc"))[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    docker.ok("rm", "svc")


def test_kill_and_rm(docker):
    docker.ok("run", "-d", "--name", "victim", "busybox", *LONG)
    rm = docker("rm", "victim")
    assert rm.code != 0 and "running" in rm.err  # 409 Conflict
    docker.ok("kill", "victim")
    assert docker.ok("inspect", "-f", "{{.State.ExitCode}}", "victim").strip() == "137"
    docker.ok("rm", "victim")
    missing = docker("rm", "victim")
    assert missing.code != 0 and "No such container" in missing.err


def test_rm_force_removes_a_running_container(docker):
    docker.ok("run", "-d", "--name", "forced", "busybox", *LONG)
    docker.ok("rm", "-f", "forced")
    assert "forced" not in docker.ok("ps", "-a", "--format", "{{.Names}}")


def test_inspect_uses_docker_field_names(docker):
    docker.ok("create", "--name", "insp", "-e", "A=1", "busybox", "echo", "x")
    doc = json.loads(docker.ok("inspect", "insp"))[0]
    assert doc["Name"] == "/insp" and doc["State"]["Status"] == "created"
    assert "A=1" in doc["Config"]["Env"] and doc["Config"]["Cmd"] == ["echo", "x"]
    assert doc["GraphDriver"]["Name"] == "overlay2"
    docker.ok("start", "-a", "insp")
    docker.ok("rm", "insp")


def test_diff_commit_history_tag_rmi(docker):
    docker.ok("run", "--name", "changer", "busybox", "sh", "-c", "echo hello > /greeting; rm /etc/group")
    diff = docker.ok("diff", "changer").splitlines()
    assert "A /greeting" in diff and "D /etc/group" in diff
    image_id = docker.ok("commit", "-m", "a greeting", "changer", "greeter:1").strip()
    assert image_id.startswith("sha256:")
    history = docker.ok("history", "--no-trunc", "--format", "{{.Comment}}", "greeter:1").splitlines()
    assert history[0] == "a greeting"
    docker.ok("tag", "greeter:1", "localhost:5000/team/greeter:2")
    result = docker("run", "--rm", "localhost:5000/team/greeter:2", "cat", "/greeting")
    assert result.out == "hello\n", result.err
    assert docker("run", "--rm", "greeter:1", "cat", "/etc/group").code == 1  # the whiteout holds
    docker.ok("rm", "changer")
    out = docker.ok("rmi", "localhost:5000/team/greeter:2")
    assert "Untagged: localhost:5000/team/greeter:2" in out
    out = docker.ok("rmi", "greeter:1")
    assert "Deleted:" in out
    assert "greeter" not in docker.ok("images")


def test_save_and_load(docker):
    docker.ok("tag", "busybox", "saved:1")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "saved.tar")
        docker.ok("save", "-o", path, "saved:1")
        with tarfile.open(path) as archive:
            assert "manifest.json" in archive.getnames()
        docker.ok("rmi", "saved:1")
        out = docker.ok("load", "-i", path)
        assert "Loaded image: saved:1" in out
    assert docker.ok("run", "--rm", "saved:1", "echo", "back").strip() == "back"
    docker.ok("rmi", "saved:1")


def test_export_and_import(docker):
    docker.ok("run", "--name", "exported", "busybox", "sh", "-c", "echo data > /payload")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "fs.tar")
        docker.ok("export", "-o", path, "exported")
        with tarfile.open(path) as archive:
            assert "payload" in [n.lstrip("./") for n in archive.getnames()]
        docker.ok("import", "-m", "from a tarball", path, "imported:1")
    assert docker.ok("run", "--rm", "imported:1", "cat", "/payload") == "data\n"
    docker.ok("rm", "exported")
    docker.ok("rmi", "imported:1")


def test_errors_come_back_as_docker_prints_them(docker):
    result = docker("inspect", "no-such-thing")
    assert result.code != 0 and "no-such-thing" in result.err
    result = docker("run", "--rm", "--name", "bad/name", "busybox", "true")
    assert result.code == 125 and "Invalid container name" in result.err
    docker.ok("create", "--name", "twice", "busybox")
    result = docker("create", "--name", "twice", "busybox")
    assert result.code != 0 and "already in use" in result.err
    docker.ok("rm", "twice")


def test_pull_of_busybox_works_offline(docker):
    """busybox "pulls" from the host's binary (core/image/bootstrap.py)."""
    assert docker("pull", "busybox").code == 0
    assert docker.ok("run", "--rm", "busybox", "echo", "still fine") == "still fine\n"


def test_build_with_the_classic_builder(docker):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write(
                "FROM busybox\nCOPY greeting.txt /greeting.txt\nRUN echo built > /built\n"
                "ENV WHO=world\nCMD [\"sh\", \"-c\", \"cat /built /greeting.txt; echo $WHO\"]\n"
            )
        with open(os.path.join(d, "greeting.txt"), "w") as f:
            f.write("hello\n")
        result = docker("build", "-t", "built:1", d)
        assert result.code == 0, result.err
        assert "Successfully tagged built:1" in result.out
    assert docker.ok("run", "--rm", "built:1") == "built\nhello\nworld\n"
    assert len(docker.ok("history", "-q", "built:1").split()) >= 4
    docker.ok("rmi", "built:1")


def test_a_failing_build_says_why(docker):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM busybox\nRUN exit 7\n")
        result = docker("build", d)
    assert result.code != 0 and "non-zero code: 7" in result.err + result.out
    assert docker.ok("run", "--rm", "busybox", "echo", "up") == "up\n"


def test_restart_start_and_events(docker):
    docker.ok("run", "-d", "--name", "again", "busybox", *LONG)
    docker.ok("restart", "-t", "0", "again")
    assert docker.ok("inspect", "-f", "{{.State.Status}}", "again").strip() == "running"
    docker.ok("kill", "again")
    docker.ok("start", "again")
    assert docker.ok("inspect", "-f", "{{.State.Status}}", "again").strip() == "running"
    docker.ok("rm", "-f", "again")
    until = str(int(time.time()) + 1)
    events = docker.ok(
        "events", "--since", "0", "--until", until, "--filter", "container=again", "--format", "{{.Action}}"
    ).split()
    assert {"create", "start", "die", "destroy"} <= set(events), events
