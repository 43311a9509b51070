"""Fixtures of the OCI runtime tests: a bundle, and stepbox-runc with a root of its own."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from bundles import IS_LINUX_ROOT, Runtime, stepbox_runc  # noqa: E402


@pytest.fixture
def runtime(tmp_path):
    """stepbox-runc with its own --root; whatever a test leaves is deleted."""
    rt = Runtime(stepbox_runc(), str(tmp_path / "runc-root"), str(tmp_path / "log.json"))
    yield rt
    for cid in os.listdir(rt.root) if os.path.isdir(rt.root) else []:
        if not cid.startswith("."):
            rt("delete", "--force", cid)
    shutil.rmtree(rt.root, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def remove_empty_parent_cgroups():
    """The runtimes remove a container's cgroup, not the parents a
    cgroupsPath made (runc neither): the tests' own go at the end, if empty."""
    yield
    if not IS_LINUX_ROOT:
        return
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        for parent in ("stepbox-runc-test", "stepbox-runc", "default"):
            try:
                os.rmdir(f"/sys/fs/cgroup/{hierarchy}/{parent}")
            except OSError:
                pass  # not there, or still in use


@pytest.fixture
def runc(tmp_path):
    """The real runc, for differential tests."""
    path = shutil.which("runc")
    if path is None:
        pytest.skip("runc is not installed (apt-get install runc)")
    rt = Runtime([path], str(tmp_path / "real-runc-root"), str(tmp_path / "runc-log.json"))
    yield rt
    for cid in os.listdir(rt.root) if os.path.isdir(rt.root) else []:
        rt("delete", "--force", cid)
