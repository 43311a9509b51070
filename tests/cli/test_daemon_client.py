"""The ``stepbox`` CLI is a client of the daemon: it finds (or starts) the
daemon of its state directory, talks to another one with ``-H``, refuses a
daemon on the wrong backend, and streams what the container prints."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from .conftest import Stepbox


def test_the_first_command_starts_the_roots_daemon_and_says_so(stepbox):
    socket_path = os.path.join(stepbox.root, "stepbox.sock")
    first = stepbox("ps")
    assert first.code == 0, first.err
    assert f"stepbox: started a daemon on unix://{socket_path} (backend {stepbox.backend})" in first.err
    assert os.path.exists(socket_path) and stepbox.daemon_pid() is not None
    assert "stepbox daemon:" in open(os.path.join(stepbox.root, "daemon.log")).read()
    second = stepbox("ps")
    assert second.code == 0 and "started a daemon" not in second.err  # the same daemon answers

    stopped = stepbox("daemon", "stop")
    assert stopped.code == 0 and "stopped the daemon" in stopped.err
    assert stepbox.daemon_pid() is None and not os.path.exists(socket_path)
    again = stepbox("daemon", "stop")
    assert again.code == 0 and "no daemon is running" in again.err


def test_a_daemon_on_another_backend_is_a_clear_error(stepbox):
    assert stepbox("ps").code == 0
    other = "linux" if stepbox.backend == "sim" else "sim"
    r = stepbox("ps", options=("--backend", other, "--root", stepbox.root))
    assert r.code == 125
    assert f"runs containers on the {stepbox.backend} backend, not {other}" in r.err
    assert stepbox("ps", options=("--backend", "auto", "--root", stepbox.root)).code == 0


def test_H_talks_to_another_daemon_and_never_starts_one(stepbox):
    other = Stepbox(stepbox.backend, tempfile.mkdtemp(prefix="stepbox-cli-other-"))
    try:
        assert other("run", "--name", "elsewhere", "busybox", "true").code == 0  # starts other's daemon
        via_host = stepbox("ps", "-a", options=("-H", f"unix://{other.socket_path}"))
        assert via_host.code == 0 and "elsewhere" in via_host.out
        assert "elsewhere" not in stepbox("ps", "-a").out  # this root's own daemon

        nobody = os.path.join(stepbox.root, "nobody.sock")
        r = stepbox("ps", options=("-H", f"unix://{nobody}"))
        assert r.code == 1 and f"Cannot connect to the stepbox daemon at unix://{nobody}" in r.err
        # docker 28: 125 for run only (its StatusError), 1 for every other verb, create too
        for argv, code in ((("run", "busybox"), 125), (("create", "busybox"), 1), (("logs", "x"), 1)):
            r = stepbox(*argv, options=("-H", f"unix://{nobody}"))
            assert r.code == code and "Cannot connect" in r.err, (argv, r)
        # an address it cannot read: "Failed to initialize", 1 for run too
        assert stepbox("run", "busybox", options=("-H", "bogus://x")).code == 1
        assert not os.path.exists(nobody)
    finally:
        try:
            other.cleanup()
        finally:
            shutil.rmtree(other.root, ignore_errors=True)


def test_run_shows_output_while_the_container_runs(stepbox):
    """The first line arrives while the container still waits for the
    second one's go-ahead: output buffered until the exit would never let
    this test give it."""
    argv = [
        sys.executable,
        "-m",
        "stepbox",
        "--backend",
        stepbox.backend,
        "--root",
        stepbox.root,
        "run",
        "--rm",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo ready; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo done",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _readline_within(proc.stdout, 60)
        assert first == "ready\n", proc.stderr.read() if proc.poll() is not None else first
        assert stepbox("exec", "live", "touch", "/tmp/go").code == 0
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (0, "done\n"), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stepbox("ps", "-aq").out == ""  # --rm


def test_exit_statuses_pass_through(stepbox):
    assert stepbox("create", "--name", "five", "busybox", "sh", "-c", "echo five; exit 5").code == 0
    started = stepbox("start", "-a", "five")
    assert (started.code, started.out) == (5, "five\n")
    assert stepbox("wait", "five").out == "5\n"
    assert stepbox("run", "--rm", "busybox", "/no/such/file").code == 127
    assert stepbox("exec", "five", "true").code == 1  # not running: the daemon refuses (docker: 1)


def test_ctrl_c_reaches_the_container(stepbox):
    """docker's --sig-proxy: SIGINT to the attached CLI is sent on to the
    container, whose command decides what it means."""
    argv = [
        sys.executable,
        "-m",
        "stepbox",
        "--backend",
        stepbox.backend,
        "--root",
        stepbox.root,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "trap 'echo interrupted; exit 3' INT; echo ready; while true; do sleep 0.1; done",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _readline_within(proc.stdout, 60) == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (3, "interrupted\n"), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_client_imports_no_backend_and_no_runtime():
    """Every CLI call pays for its imports: the client path must not load
    the kernel backends, the runtime or the renderer of `step`."""
    code = (
        "import sys; import stepbox.core.cli.main as m; "
        "from stepbox.core.cli import attach, build, connection, containers, daemon, images, "
        "registry, stepthrough; import stepbox.core.engine.daemon_process; "
        "heavy = ('stepbox.backends', 'stepbox.core.container.runtime', 'stepbox.core.kernel', "
        "'stepbox.core.image.store', 'stepbox.core.dockerfile.builder', 'rich'); "
        "print(sorted(n for n in sys.modules if n.startswith(heavy)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr


def _readline_within(stream, seconds: float) -> str:
    """A line from ``stream``, or "" if none came in time (a test must not hang)."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return line[0] if line else ""


def test_every_verb_is_in_the_map_of_modules_loaded_on_demand():
    """A verb missing from VERB_MODULES would be "No such command" unless
    some other verb's module happened to be imported first."""
    import click
    from stepbox.core.cli.main import VERB_MODULES, cli

    registered = set(cli.list_commands(click.Context(cli)))
    assert registered == {verb for verbs in VERB_MODULES.values() for verb in verbs}
