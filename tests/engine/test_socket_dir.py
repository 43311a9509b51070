"""The socket directory of a user without ``XDG_RUNTIME_DIR``: ``/tmp/stepbox-UID``.

It is in a directory everybody may write to, so another user could make it
first and listen there for what our commands send.  stepbox makes it 0700 and
uses it only if it is ours alone; anything else is refused with a message that
says what to do.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest
from stepbox.core.engine import locations
from stepbox.core.engine.locations import UnsafeSocketDir, fallback_socket_dir, private_socket_dir

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.support.nonroot import NOBODY, as_nobody

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOMEONE_ELSE = 12345


@pytest.fixture
def fallback(tmp_path, monkeypatch):
    """The fallback directory of the user running the test, as if not root, in a temp dir of its own."""
    monkeypatch.setattr(locations, "_is_root", lambda: False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    directory = fallback_socket_dir()
    assert directory == os.path.join(str(tmp_path), f"stepbox-{os.getuid()}")
    assert locations.default_socket_path() == os.path.join(directory, "stepbox.sock")
    return directory


def mode_of(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_it_is_made_0700(fallback):
    private_socket_dir(os.path.join(fallback, "stepbox.sock"))
    assert mode_of(fallback) == 0o700 and os.lstat(fallback).st_uid == os.getuid()


def test_one_of_ours_that_others_may_only_read_is_tightened(fallback):
    os.mkdir(fallback)
    os.chmod(fallback, 0o755)  # as an older stepbox made it
    private_socket_dir(os.path.join(fallback, "stepbox.sock"))
    assert mode_of(fallback) == 0o700


def test_one_others_may_write_to_is_refused(fallback):
    os.mkdir(fallback)
    os.chmod(fallback, 0o777)
    with pytest.raises(UnsafeSocketDir, match="may be written by others .mode 0777.*XDG_RUNTIME_DIR"):
        private_socket_dir(os.path.join(fallback, "stepbox.sock"))
    assert mode_of(fallback) == 0o777  # not ours to fix: something may be planted in it already


def test_a_symlink_in_its_place_is_refused(fallback, tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    os.symlink(tmp_path / "elsewhere", fallback)
    with pytest.raises(UnsafeSocketDir, match="is not a directory"):
        private_socket_dir(os.path.join(fallback, "stepbox.sock"))


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory someone else's needs root")
def test_someone_elses_is_refused(fallback):
    os.mkdir(fallback, 0o700)
    os.chown(fallback, SOMEONE_ELSE, SOMEONE_ELSE)
    with pytest.raises(UnsafeSocketDir, match=f"belongs to uid {SOMEONE_ELSE}, not to you"):
        private_socket_dir(os.path.join(fallback, "stepbox.sock"))


def test_other_socket_directories_are_left_alone(fallback, tmp_path):
    for directory in (tmp_path / "xdg", tmp_path / "state"):
        private_socket_dir(str(directory / "stepbox.sock"))
        assert not directory.exists()


# -- as a real user without root, through the CLI ---------------------------------------------


@pytest.fixture
def reachable():
    """A directory nobody can reach (pytest's tmp_path is root's alone)."""
    path = tempfile.mkdtemp(prefix="sockdir-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def run_as_nobody(tmp_path, *args: str) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    os.chown(home, NOBODY, NOBODY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPBOX_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp_path / "shared-tmp"))
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    argv = as_nobody([sys.executable, "-m", "stepbox", *args], CHECKOUT, str(scratch))
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not IS_LINUX_ROOT or shutil.which("setpriv") is None, reason=LINUX_ONLY_REASON)
def test_a_user_without_xdg_runtime_dir_gets_a_private_socket_dir_and_refuses_someone_elses(reachable):
    tmp_path = reachable
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    theirs = shared / f"stepbox-{NOBODY}"
    theirs.mkdir(mode=0o777)
    os.chown(theirs, SOMEONE_ELSE, SOMEONE_ELSE)

    refused = run_as_nobody(tmp_path, "--backend", "sim", "ps")
    # a client that cannot set up its connection to the daemon: 1 for every verb but
    # run, as docker 28's "Failed to initialize" (issue 18's client change, ffab380)
    assert refused.returncode == 1, refused.stderr
    assert f"{theirs} belongs to uid {SOMEONE_ELSE}, not to you (uid {NOBODY})" in refused.stderr
    assert "XDG_RUNTIME_DIR" in refused.stderr
    assert os.listdir(theirs) == []  # no daemon was started there, nothing was sent

    shutil.rmtree(theirs)
    try:
        ran = run_as_nobody(tmp_path, "--backend", "sim", "run", "--rm", "busybox", "echo", "hello")
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == "hello\n"
        assert f"unix://{theirs}/stepbox.sock" in ran.stderr  # "started a daemon on ..."
        st = os.lstat(theirs)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY, 0o700)
    finally:
        stopped = run_as_nobody(tmp_path, "daemon", "stop")
        assert stopped.returncode == 0, stopped.stderr
