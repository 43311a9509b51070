"""Shared test set-up: Hypothesis profiles and the backend switches.

Profiles: ``dev`` (default, quick) and ``ci`` (``HYPOTHESIS_PROFILE=ci``, set by
``.ci/run``: more examples, no deadline because the real kernel is slow to
mount and the CI machine is shared).
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
# CI runs the same examples every time (derandomize): a red CI is a change
# that broke something, not a new random example; the dev profile keeps
# exploring, and what it finds becomes a test.
settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Networking safety: a daemon the tests start (directly, through the CLI's
# autostart, a tutorial or a notebook) builds no bridge and no rules in the
# host's network namespace.  Tests of networks start theirs inside a network
# namespace of their own and ask for a bridge there (tests/network).
os.environ["STEPBOX_BRIDGE"] = "none"

# Commands the tests start (`stepbox`, `jupyter`, ...) are those of the interpreter
# running the tests -- the venv's -- as in an activated venv, whether it is or not.
_BIN = os.path.dirname(sys.executable)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

IS_LINUX_ROOT = sys.platform == "linux" and os.geteuid() == 0
_UID = os.geteuid() if hasattr(os, "geteuid") else "n/a"
LINUX_ONLY_REASON = f"needs the real Linux kernel as root (this host: {sys.platform}, uid {_UID})"


# -- nothing outlives the suite ---------------------------------------------------------------
# The net under every test's own clean-up: at the end of the run the suite fails
# if the run left a mount, a stepbox process or a container cgroup behind --
# counting only what this run made, not what other work on the machine has alive
# (see tests/support/leftovers.py).
from tests.support.leftovers import pytest_configure, pytest_sessionfinish  # noqa: E402, F401

# -- the private dockerd the comparisons run against -------------------------------------------
# One per test process (xdist worker), shared by every test directory that
# compares with Docker.  Both sides start from the same ``busybox`` image:
# stepbox bootstraps it from the host's static busybox (the same image ID on
# both backends) and ``docker load`` reads it from stepbox's ``save``.


@pytest.fixture(scope="session")
def dockerd():
    from tests.support.dockerd import private_dockerd

    with private_dockerd() as daemon:
        yield daemon


@pytest.fixture(scope="session")
def busybox_in_docker(dockerd) -> str:
    """stepbox's busybox, loaded into dockerd once; its image ID."""
    from tests.support.dockerd import load_stepbox_busybox

    return load_stepbox_busybox(dockerd)
