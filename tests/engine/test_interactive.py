"""Interactive containers, tried as a user would: on a real pseudo-terminal.

The docker CLI and the stepbox CLI, each against the stepbox daemon on both
backends, driven through Python's ``pty`` (the kernel's own line discipline
between the test and the CLI, nothing mocked): ``run -it`` gives a prompt,
``echo $((6*7))`` prints 42, ctrl-p ctrl-q detaches, ``attach`` finds the
shell again, ``exit 3`` ends it with status 3; ``echo x | docker run -i``
reaches cat; ``exec -it`` gets a terminal of its own (issue 19's done-when).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.pty_session import PtySession

from .conftest import DOCKER

CTRL_P_CTRL_Q = b"\x10\x11"


def _clients(daemon) -> dict[str, tuple[list[str], dict]]:
    clients = {
        "stepbox": ([sys.executable, "-m", "stepbox"], {**os.environ, "STEPBOX_HOST": daemon.host}),
    }
    if DOCKER:
        clients["docker"] = (
            [DOCKER],
            {
                **os.environ,
                "DOCKER_HOST": daemon.host,
                "DOCKER_CLI_HINTS": "false",
                "DOCKER_CONFIG": "/nonexistent",
            },
        )
    return clients


@pytest.fixture(params=["stepbox", "docker"])
def cli(request, daemon):
    clients = _clients(daemon)
    if request.param not in clients:
        pytest.skip("the docker CLI is not installed")
    argv, env = clients[request.param]
    return request.param, argv, env


def _run(argv, env, *args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*argv, *args], input=input, env=env, capture_output=True, timeout=60)


def test_run_it_prompt_detach_attach_exit(cli, daemon):
    kind, argv, env = cli
    name = f"it-{kind}"
    try:
        with PtySession([*argv, "run", "-it", "--name", name, "busybox", "sh"], env) as s:
            at = s.expect(b"/ # ")
            s.send(b"echo $((6*7))\r")
            at = s.expect(b"\r\n42\r\n", after=at)
            s.expect(b"/ # ", after=at)
            s.send(CTRL_P_CTRL_Q)
            assert s.wait() == 0  # detached: the CLI ends, the container runs on
        state = _run(argv, env, "inspect", "-f", "{{.State.Running}}", name)
        assert state.stdout.decode().strip() == "true"
        with PtySession([*argv, "attach", name], env) as s:
            s.send(b"echo back\r")
            s.expect(b"back\r\n")
            s.send(b"exit 3\r")
            assert s.wait() == 3
        code = _run(argv, env, "inspect", "-f", "{{.State.ExitCode}}", name)
        assert code.stdout.decode().strip() == "3"
    finally:
        _run(argv, env, "rm", "-f", name)


def test_stdin_piped_reaches_the_container(cli, daemon):
    kind, argv, env = cli
    out = _run(argv, env, "run", "--rm", "-i", "busybox", "cat", input=b"x\n")
    assert (out.returncode, out.stdout, out.stderr) == (0, b"x\n", b"")
    lines = _run(argv, env, "run", "--rm", "-i", "busybox", "wc", "-l", input=b"a\nb\nc\n" * 1000)
    assert lines.stdout.split() == [b"3000"]


def test_exec_it_gets_a_terminal_of_its_own(cli, daemon):
    kind, argv, env = cli
    name = f"ex-{kind}"
    try:
        assert _run(argv, env, "run", "-dit", "--name", name, "busybox", "sh").returncode == 0
        with PtySession([*argv, "exec", "-it", name, "sh"], env) as s:
            s.expect(b"/ # ")
            s.send(b"tty; echo $((1+2))\r")
            s.expect(b"/dev/pts/1\r\n3\r\n")
            s.send(b"exit 5\r")
            assert s.wait() == 5
        piped = _run(argv, env, "exec", "-i", name, "cat", input=b"through exec\n")
        assert piped.stdout == b"through exec\n"
    finally:
        _run(argv, env, "rm", "-f", name)


def _wait_for_process(argv, env, name: str, command: bytes) -> None:
    """Until ``command`` runs in the container (then it is the terminal's
    foreground job: a ^C typed earlier could reach the shell instead)."""
    for _ in range(200):
        if command in _run(argv, env, "exec", name, "ps").stdout:
            return
    raise AssertionError(f"{command!r} never ran in {name}")


def test_ctrl_c_ends_the_foreground_command_not_the_shell(cli, daemon):
    kind, argv, env = cli
    name = f"cc-{kind}"
    with PtySession([*argv, "run", "-it", "--rm", "--name", name, "busybox", "sh"], env) as s:
        at = s.expect(b"/ # ")
        s.send(b"sleep 100\r")
        at = s.expect(b"sleep 100\r\n", after=at)
        _wait_for_process(argv, env, name, b"sleep 100")
        s.send(b"\x03")
        at = s.expect(b"^C\r\n/ # ", after=at)
        s.send(b"echo status $?\r")
        s.expect(b"status 130\r\n", after=at)
        s.send(b"exit\r")
        assert s.wait() == 0  # the status of the echo before it


def test_custom_detach_keys_and_a_near_miss(cli, daemon):
    kind, argv, env = cli
    name = f"dk-{kind}"
    try:
        with PtySession(
            [*argv, "run", "-it", "--detach-keys", "q,q", "--name", name, "busybox", "sh"], env
        ) as s:
            at = s.expect(b"/ # ")
            # q then w is not the sequence: both reach the shell's line
            s.send(b"echo qwq!\r")
            at = s.expect(b"\r\nqwq!\r\n", after=at)
            s.send(b"qq")
            assert s.wait() == 0
        assert _run(argv, env, "inspect", "-f", "{{.State.Running}}", name).stdout.strip() == b"true"
    finally:
        _run(argv, env, "rm", "-f", name)


def test_it_without_a_terminal_is_refused(cli, daemon):
    kind, argv, env = cli
    out = _run(argv, env, "run", "-it", "--rm", "busybox", "true", input=b"")
    assert out.returncode == 1
    assert b"the input device is not a TTY" in out.stderr
