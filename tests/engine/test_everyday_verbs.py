"""The everyday verbs and run options of issue 19, tried as a user would:
the stepbox CLI (and the docker CLI where it has the flag) against the
stepbox daemon, on both backends.

``--ulimit`` and ``exec`` under it, ``--init`` as PID 1, ``rename``,
``update --memory``, ``top``, ``stats --no-stream``, ``restart``, ``wait``,
``--restart on-failure:2`` restarting twice, and ``inspect -f`` on a key
that is there and one that is not (Docker's message, never a traceback).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from .test_interactive import _clients, _run


@pytest.fixture(params=["stepbox", "docker"])
def cli(request, daemon):
    clients = _clients(daemon)
    if request.param not in clients:
        pytest.skip("the docker CLI is not installed")
    argv, env = clients[request.param]
    return request.param, argv, env


@pytest.fixture
def stepbox(daemon):
    return _clients(daemon)["stepbox"]


def _out(done) -> str:
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_ulimit_is_set_before_the_command_and_kept_by_exec(cli, daemon):
    kind, argv, env = cli
    name = f"ul-{kind}"
    try:
        limits = ["--ulimit", "nofile=100:200", "--ulimit", "core=0:-1"]
        shown = _run(
            argv, env, "run", "--rm", *limits, "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -Hc"
        )
        assert _out(shown) == "100\n200\nunlimited\n"
        _out(_run(argv, env, "run", "-d", "--name", name, *limits, "busybox", "sleep", "1000"))
        assert _out(_run(argv, env, "exec", name, "sh", "-c", "ulimit -n")) == "100\n"
        inspected = json.loads(_out(_run(argv, env, "inspect", "-f", "{{json .HostConfig.Ulimits}}", name)))
        # the docker CLI keeps --ulimit in a map: it sends them sorted by name
        assert sorted(inspected, key=lambda limit: limit["Name"]) == [
            {"Name": "core", "Soft": 0, "Hard": -1},
            {"Name": "nofile", "Soft": 100, "Hard": 200},
        ]
    finally:
        _run(argv, env, "rm", "-f", name)


@pytest.mark.parametrize(
    "flag, message",
    [
        ("nofile", "invalid ulimit argument: nofile"),
        ("bogus=1", "invalid ulimit type: bogus"),
        ("nofile=200:100", "ulimit soft limit must be less than or equal to hard limit: 200 > 100"),
    ],
)
def test_a_bad_ulimit_is_refused_with_dockers_words(cli, daemon, flag, message):
    kind, argv, env = cli
    done = _run(argv, env, "run", "--rm", "--ulimit", flag, "busybox", "true")
    assert done.returncode == 125
    assert message in done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_a_bad_ulimit_through_the_api_is_a_400(daemon):
    answer = daemon.client().request(
        "POST",
        "/containers/create",
        body={"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 9, "Hard": 3}]}},
        ok=(400,),
    )
    assert answer.status == 400
    assert "soft limit must be less than or equal to hard limit" in answer.json()["message"]


def test_init_is_pid_1(stepbox, daemon):
    argv, env = stepbox
    assert _out(_run(argv, env, "run", "--rm", "--init", "busybox", "cat", "/proc/1/comm")) == "docker-init\n"
    assert _out(_run(argv, env, "run", "--rm", "busybox", "cat", "/proc/1/comm")) == "cat\n"


def test_rename_update_top_stats_restart_wait(stepbox, daemon):
    argv, env = stepbox
    try:
        _out(_run(argv, env, "run", "-d", "--init", "--name", "verbs-a", "busybox", "sleep", "1000"))
        _out(_run(argv, env, "rename", "verbs-a", "verbs-b"))
        assert _out(_run(argv, env, "inspect", "-f", "{{.Name}}", "verbs-b")) == "/verbs-b\n"
        gone = _run(argv, env, "inspect", "verbs-a")
        assert gone.returncode != 0 and b"No such container: verbs-a" in gone.stderr

        _out(_run(argv, env, "update", "--memory", "64m", "verbs-b"))
        assert _out(_run(argv, env, "inspect", "-f", "{{.HostConfig.Memory}}", "verbs-b")) == "67108864\n"

        top = _out(_run(argv, env, "top", "verbs-b")).splitlines()
        assert top[0].split()[:3] == ["UID", "PID", "PPID"]
        assert any(line.endswith("sleep 1000") for line in top[1:]), top

        stats = _out(_run(argv, env, "stats", "--no-stream", "verbs-b")).splitlines()
        assert stats[0].split()[:3] == ["CONTAINER", "ID", "NAME"]
        assert "verbs-b" in stats[1] and "64MiB" in stats[1], stats

        started = _out(_run(argv, env, "inspect", "-f", "{{.State.StartedAt}}", "verbs-b"))
        _out(_run(argv, env, "restart", "-t", "0", "verbs-b"))
        state = _out(_run(argv, env, "inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", "verbs-b"))
        assert state.split()[0] == "true" and state.split()[1] != started.strip()

        # PID 1 is tini (--init): it passes the TERM on to sleep, and ends as sleep did
        _out(_run(argv, env, "kill", "-s", "TERM", "verbs-b"))
        assert _out(_run(argv, env, "wait", "verbs-b")) == "143\n"
    finally:
        _run(argv, env, "rm", "-f", "verbs-a", "verbs-b")


def test_restart_on_failure_2_restarts_twice(stepbox, daemon):
    argv, env = stepbox
    try:
        _out(
            _run(
                argv,
                env,
                "run",
                "-d",
                "--name",
                "again",
                "--restart",
                "on-failure:2",
                "busybox",
                "sh",
                "-c",
                "exit 3",
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = _out(
                _run(
                    argv,
                    env,
                    "inspect",
                    "-f",
                    "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}",
                    "again",
                )
            )
            if state.split() == ["2", "exited", "3"]:
                break
            time.sleep(0.2)
        assert state.split() == ["2", "exited", "3"]
    finally:
        _run(argv, env, "rm", "-f", "again")


def test_inspect_format_a_missing_key_is_dockers_message(stepbox, daemon):
    argv, env = stepbox
    try:
        _out(_run(argv, env, "create", "--name", "fmt", "busybox", "true"))
        assert _run(argv, env, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "fmt").returncode == 0
        missing = _run(argv, env, "inspect", "-f", "{{.Nope}}", "fmt")
        assert missing.returncode == 1
        assert b"map has no entry for key" in missing.stderr or b"can't evaluate field Nope" in missing.stderr
        assert b"Traceback" not in missing.stderr
    finally:
        _run(argv, env, "rm", "-f", "fmt")


def _until_trapped(argv, env, name: str) -> None:
    """Until the shell has set its trap (a signal before that is ignored by PID 1)."""
    for _ in range(100):
        if _run(argv, env, "exec", name, "sh", "-c", "test -f /ready && rm /ready").returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never set its trap")


def test_stop_and_restart_with_a_signal(cli, daemon):
    kind, argv, env = cli
    name = f"sig-{kind}"
    script = 'trap "echo got USR1 >> /sig; exit 7" USR1; touch /ready; while :; do sleep 1; done'
    try:
        _out(_run(argv, env, "run", "-d", "--name", name, "busybox", "sh", "-c", script))
        _until_trapped(argv, env, name)
        _out(_run(argv, env, "stop", "-s", "USR1", "-t", "20", name))
        assert _out(_run(argv, env, "inspect", "-f", "{{.State.ExitCode}}", name)) == "7\n"
        _out(_run(argv, env, "start", name))
        _until_trapped(argv, env, name)
        _out(_run(argv, env, "restart", "-s", "USR1", "-t", "20", name))
        assert _out(_run(argv, env, "inspect", "-f", "{{.State.Running}}", name)) == "true\n"
        # the handler ran once for stop, once for restart (the file stays in the container)
        assert _out(_run(argv, env, "exec", name, "cat", "/sig")) == "got USR1\ngot USR1\n"
    finally:
        _run(argv, env, "rm", "-f", name)


def test_what_stepbox_does_not_do_is_refused_by_name(cli, daemon):
    """docker top with ps options and logs --details: an error that names
    what is not supported, not a quiet answer that ignores it."""
    kind, argv, env = cli
    name = f"no-{kind}"
    try:
        _out(_run(argv, env, "run", "-d", "--name", name, "busybox", "sleep", "1000"))
        top = _run(argv, env, "top", name, "aux")
        assert top.returncode != 0 and b"ps_args 'aux' is not supported by stepbox" in top.stderr
        details = _run(argv, env, "logs", "--details", name)
        assert details.returncode != 0 and b"not supported by stepbox" in details.stderr + details.stdout
    finally:
        _run(argv, env, "rm", "-f", name)


def test_top_is_what_ps_ef_shows(stepbox, daemon):
    """docker top is the host's ps -ef, cut to the container's processes: on
    the real kernel every column must be ps's own; on both, a -t container's
    terminal is one the host's ps cannot name (it is in the container's own
    devpts) and a sleeping process has used no CPU time."""
    argv, env = stepbox
    try:
        _out(_run(argv, env, "run", "-dt", "--name", "topc", "busybox", "sh", "-c", "sleep 1000 & wait"))
        for _ in range(100):
            top = daemon.client().request("GET", "/containers/topc/top").json()
            if any(row[-1] == "sleep 1000" for row in top["Processes"]):
                break
            time.sleep(0.1)
        assert top["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        rows = top["Processes"]
        assert [row[-1] for row in rows] == ["sh -c sleep 1000 & wait", "sleep 1000"]
        assert rows[1][2] == rows[0][1]  # the shell is sleep's parent
        assert all(row[0] == "root" and row[6] == "00:00:00" for row in rows), rows
        # The terminal is the container's own devpts's pts/0: ps cannot name it ("?"),
        # unless the host has a pts of the same number open at that moment (another
        # test's pty, a login) -- ps names a tty by its device number, and the
        # container's devpts numbers from 0 as the host's does; then both say pts/N.
        assert all(
            row[5] == "?" or (daemon.backend == "linux" and os.path.exists("/dev/" + row[5])) for row in rows
        ), rows
        if daemon.backend == "linux" and shutil.which("ps"):
            ps = subprocess.run(["ps", "-ef"], capture_output=True, text=True, check=True).stdout
            ours = {row[1] for row in rows}
            theirs = [line.split(None, 7) for line in ps.splitlines()[1:]]
            assert [row for row in theirs if row[1] in ours] == rows
    finally:
        _run(argv, env, "rm", "-f", "topc")


# What docker 28's CLI exits with (checked against this daemon and dockerd):
# 125 for a flag it cannot parse and for the daemon's refusal of a run; 1 for
# the daemon's refusal of any other verb, a wrong number of arguments or an
# unknown verb.
EXIT_STATUSES = [
    (("rm", "nosuch-19"), 1),
    (("stop", "nosuch-19"), 1),
    (("container", "rm", "nosuch-19"), 1),
    (("create", "--name", "taken-19", "busybox", "true"), 1),
    (("run", "--name", "taken-19", "busybox", "true"), 125),
    (("container", "run", "--name", "taken-19", "busybox", "true"), 125),
    (("exec", "taken-19", "true"), 1),  # not running
    (("network", "rm", "nosuch-19"), 1),
    (("pull", "UPPER/case"), 1),
    (("--bogus-flag", "ps"), 125),
    (("ps", "--bogus-flag"), 125),
    (("run", "-m", "12q", "busybox", "true"), 125),
    (("create", "-m", "12q", "busybox", "true"), 125),
    (("ps", "extra"), 1),
    (("run",), 1),
    (("nosuchverb-19",), 1),
]


def test_exit_statuses_are_dockers(cli, daemon):
    kind, argv, env = cli
    taken = f"taken-{kind}"
    try:
        _out(_run(argv, env, "create", "--name", taken, "busybox", "true"))
        for args, status in EXIT_STATUSES:
            done = _run(argv, env, *(taken if arg == "taken-19" else arg for arg in args))
            assert done.returncode == status, (args, done.stderr.decode())
            assert b"Traceback" not in done.stderr
    finally:
        _run(argv, env, "rm", "-f", taken)
