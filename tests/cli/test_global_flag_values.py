"""A global flag with a value it cannot take ends as docker 28's CLI ends it: 125.

docker's Go flags parse ``--tls=maybe`` with strconv.ParseBool and fail the
command line (cobra's flag error: status 125); click's own status for a
usage error is 2, which a script could take for the container's.  Checked
against the real docker CLI, before either tries to reach a daemon.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.dockerd import DOCKER_CANDIDATES

NOWHERE = "unix:///nonexistent/stepbox-test.sock"
DOCKER = next((c for c in DOCKER_CANDIDATES if shutil.which(c)), None)


@pytest.mark.parametrize(
    "flags",
    [["--tls=maybe"], ["--tlsverify=maybe"], ["--tls=maybe", "ps"], ["--tlsverify=2", "run", "busybox"]],
)
def test_a_bad_boolean_value_is_a_flag_error(flags, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "STEPBOX_"))}
    env["HOME"] = str(tmp_path)  # no client config of the machine's
    ours = subprocess.run(
        [sys.executable, "-m", "stepbox", "-H", NOWHERE, *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert ours.returncode == 125, ours.stderr
    assert "maybe" in ours.stderr or "2" in ours.stderr, ours.stderr  # it says which value
    if DOCKER is None:
        pytest.skip("no docker CLI on this host to compare with (scripts/install.sh installs docker.io)")
    docker = subprocess.run(
        [DOCKER, "-H", NOWHERE, *flags], capture_output=True, text=True, env=env, timeout=60
    )
    assert docker.returncode == ours.returncode, docker.stderr
    assert "flag" in docker.stderr and "strconv.ParseBool" in docker.stderr, docker.stderr  # the same failure
