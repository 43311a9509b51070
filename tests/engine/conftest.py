"""Fixtures: a stepbox daemon per backend, and the real docker CLI pointed at it.

The daemon runs as a subprocess with its own state directory and socket, so
the tests talk to it exactly as a user's ``docker`` would; it is stopped and
its state deleted even when a test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .daemon_process import TestDaemon

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]
DOCKER = shutil.which("docker")
needs_docker_cli = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


@pytest.fixture(scope="module", params=BACKENDS)
def daemon(request):
    d = TestDaemon(request.param)
    try:
        d.start()
        # Every test may assume busybox (under xdist a module's tests are
        # spread over workers, each with its own daemon).
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.cleanup()


@pytest.fixture
def client(daemon):
    return daemon.client()


@dataclass
class Result:
    code: int
    out: str
    err: str


class DockerCLI:
    """The real ``docker`` command with ``DOCKER_HOST`` at our daemon."""

    def __init__(self, daemon: TestDaemon, config_dir: str):
        self.daemon = daemon
        self.env = {
            **os.environ,
            "DOCKER_HOST": daemon.host,
            "DOCKER_CONFIG": config_dir,
            "DOCKER_CLI_HINTS": "false",
            "DOCKER_BUILDKIT": "0",
        }
        self.env.pop("DOCKER_CONTEXT", None)

    def __call__(
        self, *args: str, input: bytes | None = None, timeout: float = 120, check: bool = False
    ) -> Result:
        assert DOCKER is not None  # (the tests that use it are marked needs_docker_cli)
        proc = subprocess.run(
            [DOCKER, *args], input=input, capture_output=True, timeout=timeout, env=self.env
        )
        result = Result(
            proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        )
        if check and result.code != 0:
            raise AssertionError(
                f"docker {' '.join(args)} failed ({result.code}):\n{result.err}\n"
                f"daemon log:\n{self.daemon.log()[-4000:]}"
            )
        return result

    def ok(self, *args: str, **kw) -> str:
        return self(*args, check=True, **kw).out


@pytest.fixture(scope="module")
def docker(daemon):
    if DOCKER is None:
        pytest.skip("the docker CLI is not installed")
    config_dir = tempfile.mkdtemp(prefix="sbx-docker-config-")
    try:
        yield DockerCLI(daemon, config_dir)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)
