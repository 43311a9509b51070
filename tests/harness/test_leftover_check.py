"""The suite's leftover check (tests/support/leftovers.py) counts what its own run made -- and only that.

Each case runs a small pytest session of its own with the check loaded, on the
real kernel, while containers that are not the session's are alive: one
started before the session (a reader's own ``stepbox --root /tmp/x run -d
busybox sleep 1000``), one started during it by someone else (another
checkout's suite).  The session passes beside them, and fails when it leaks a
container itself, naming that container's mount, daemon and cgroup and nothing
of the others'.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from tests.support.daemons import stop_daemon
from tests.support.leftovers import TOKEN_VARIABLE, checks_here

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not checks_here(), reason="the leftover check runs only as root on Linux"),
]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USUAL_TMP = os.environ.get("PYTEST_DEBUG_TEMPROOT") or "/tmp"  # outside this run's own temp dir

SESSION = textwrap.dedent(
    """
    import os, subprocess, sys, tempfile

    def stepbox(root, *args, env=None):
        subprocess.run([sys.executable, "-m", "stepbox", "--root", root, *args],
                       check=True, capture_output=True, env=env, start_new_session=True)

    def test_leaves_a_container_running():
        root = os.path.join(tempfile.gettempdir(), "leaky")
        with open(os.environ["RECORD"], "w") as f:
            f.write(root)
        stepbox(root, "run", "-d", "busybox", "sleep", "1000")

    def test_someone_else_starts_a_container_meanwhile():
        # as another checkout's suite would: its own environment, its own directory
        env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "TESTRUN_OF_STEPBOX")}
        root = tempfile.mkdtemp(prefix="someone-else-", dir=os.environ["ELSEWHERE"])
        with open(os.environ["RECORD"], "w") as f:
            f.write(root)
        stepbox(root, "run", "-d", "busybox", "sleep", "1000", env=env)

    def test_cleans_up():
        pass
    """
)


def stepbox(root: str, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "stepbox", "--root", root, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def remove_everything_of(root: str) -> None:
    if os.path.exists(os.path.join(root, "stepbox.sock")) or os.path.isdir(root):
        listed = subprocess.run(
            [sys.executable, "-m", "stepbox", "--root", root, "ps", "-aq"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for cid in listed.stdout.split():
            stepbox(root, "rm", "-f", cid)
        stop_daemon(root)
    shutil.rmtree(root, ignore_errors=True)


def running_container(root: str) -> str:
    """The full ID of the one container running in ``root``."""
    (short,) = stepbox(root, "ps", "-q").split()
    return stepbox(root, "inspect", "-f", "{{.Id}}", short)


def someone_elses_env() -> dict[str, str]:
    """Not this run's: no token, the usual temp dir."""
    env = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    env["TMPDIR"] = USUAL_TMP
    return env


@pytest.fixture
def container_from_before():
    """``stepbox --root /tmp/x run -d busybox sleep 1000``, started by someone else before the session."""
    root = tempfile.mkdtemp(prefix="x-", dir=USUAL_TMP)
    try:
        cid = stepbox(root, "run", "-d", "busybox", "sleep", "1000", env=someone_elses_env())
        yield root, cid
    finally:
        remove_everything_of(root)


def run_session(tmp_path, test: str) -> tuple[subprocess.CompletedProcess, str]:
    """A pytest session with the leftover check, running one test of SESSION;
    its output, and the state directory that test recorded."""
    folder = tmp_path / "session"
    folder.mkdir(exist_ok=True)
    (folder / "test_session.py").write_text(SESSION)
    record = tmp_path / f"{test}.root"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        PYTHONPATH=REPO,
        RECORD=str(record),
        ELSEWHERE=USUAL_TMP,
        PYTEST_DEBUG_TEMPROOT=str(tmp_path),  # the session's tmp_path: not among other runs'
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.leftovers", "-p", "no:cacheprovider"]
        + ["-q", "--no-header", f"test_session.py::{test}"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, record.read_text() if record.exists() else ""


def test_a_session_passes_beside_containers_that_are_not_its_own(tmp_path, container_from_before):
    before_root, before_id = container_from_before
    done, during_root = run_session(tmp_path, "test_someone_else_starts_a_container_meanwhile")
    try:
        assert during_root and os.path.isdir(during_root)
        during_id = running_container(during_root)
        assert len(during_id) == 64  # it was still running when the session ended
        assert done.returncode == 0, done.stdout + done.stderr
        assert "left things behind" not in done.stdout
        for name in (before_root, before_id, during_root, during_id):
            assert name not in done.stdout
    finally:
        if during_root:
            remove_everything_of(during_root)
    # ...and the session removed its own temp dir
    leftover_dirs = [d for d in os.listdir(os.environ["TMPDIR"]) if d.startswith("stepbox-tests-")]
    assert leftover_dirs == []


def test_a_session_that_leaks_a_container_fails_naming_it_and_only_it(tmp_path, container_from_before):
    before_root, before_id = container_from_before
    done, leaky_root = run_session(tmp_path, "test_leaves_a_container_running")
    try:
        assert leaky_root
        leaked_id = running_container(leaky_root)
        assert len(leaked_id) == 64
        assert done.returncode == 1, done.stdout + done.stderr
        assert "1 passed" in done.stdout
        report = done.stdout[done.stdout.index("the test run left things behind:") :]
        assert f"mounts: {leaky_root}/" in report  # the container's overlay
        assert f"--root {leaky_root} daemon" in report  # its daemon
        assert f"/stepbox/{leaked_id}" in report  # its cgroup
        assert before_root not in report and before_id not in report
    finally:
        if leaky_root:
            remove_everything_of(leaky_root)
            shutil.rmtree(os.path.dirname(leaky_root), ignore_errors=True)  # the session's temp dir, kept


def test_a_slirp4netns_the_run_started_is_a_leftover(tmp_path):
    """A rootless container's user-mode network outliving it is counted (by its
    program's name and the run's token it inherits), one from elsewhere is not."""
    from tests.support.leftovers import Run

    run = Run.begin("t-slirp", [str(tmp_path)])
    ours = subprocess.Popen(
        ["bash", "-c", "exec -a slirp4netns sleep 100"], env={**os.environ, TOKEN_VARIABLE: "t-slirp"}
    )
    theirs = subprocess.Popen(
        ["bash", "-c", "exec -a slirp4netns sleep 100"], env={**os.environ, TOKEN_VARIABLE: "another run"}
    )
    try:
        for _ in range(100):  # until both have exec'd
            with (
                open(f"/proc/{ours.pid}/cmdline", "rb") as f1,
                open(f"/proc/{theirs.pid}/cmdline", "rb") as f2,
            ):
                if f1.read().startswith(b"slirp4netns") and f2.read().startswith(b"slirp4netns"):
                    break
            time.sleep(0.05)
        found = run.leftovers().get("processes", [])
        assert [line.split(":")[0] for line in found if "slirp4netns" in line] == [str(ours.pid)]
    finally:
        for p in (ours, theirs):
            p.kill()
            p.wait()
