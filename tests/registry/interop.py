"""Real outside programs for the interop tests: the CNCF registry, skopeo,
and a private docker daemon.  Each is started on loopback only, in a
temporary directory, and stopped -- with its temporary files removed -- even
when a test fails."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import pytest
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import BOOTSTRAP_CREATED, DEFAULT_PATH, busybox_entries
from stepbox.core.image.layer_tar import write_layer
from stepbox.core.image.store import Image, ImageStore

from tests.support.dockerd import DockerDaemon

from .helpers import Http

IS_LINUX_ROOT = sys.platform == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0
NOT_LINUX_ROOT = (
    "interop tests start real daemons and need Linux as root "
    f"(this host: {sys.platform}, uid {os.geteuid() if hasattr(os, 'geteuid') else 'n/a'})"
)
APT_HINT = "apt-get install docker-registry skopeo docker.io (scripts/install.sh installs them)"

needs_linux_root = pytest.mark.skipif(not IS_LINUX_ROOT, reason=NOT_LINUX_ROOT)


def require(binary: str) -> str:
    """The path of a required program; as root on Linux its absence is a failure, not a skip."""
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed: {APT_HINT}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")


def stop_process(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def cncf_registry():
    """``docker-registry serve`` (the CNCF distribution registry) on a free loopback port."""
    binary = require("docker-registry")
    workdir = tempfile.mkdtemp(prefix="stepbox-cncf-")
    port = free_port()
    config = os.path.join(workdir, "config.yml")
    with open(config, "w") as f:
        f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {workdir}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
""")
    log = open(os.path.join(workdir, "log"), "w")
    proc = subprocess.Popen([binary, "serve", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: proc.poll() is None and Http(f"127.0.0.1:{port}")("GET", "/v2/").status == 200,
            "the CNCF registry",
        )
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(proc)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def docker_daemon():
    """A private dockerd (tests/support/dockerd.py), as a ``cli(*args)`` callable."""
    require("dockerd")
    require("docker")
    with DockerDaemon() as daemon:

        def cli(*args, check=True, input=None, timeout=300):
            result = daemon.docker(*args, input=input, check=False, timeout=timeout)
            if check and result.returncode != 0:
                raise AssertionError(
                    f"docker {' '.join(args)} failed ({result.returncode}): "
                    f"{result.stderr.decode(errors='replace')}"
                )
            return result

        yield cli


def busybox_image(store: ImageStore, tag: str) -> Image:
    """Docker Hub's busybox layout, from the host's static busybox (as bootstrap does)."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(candidate):
            break
    else:
        pytest.fail("no static busybox on this host: apt-get install busybox-static")
    with open(candidate, "rb") as f:
        binary = f.read()
    applets = subprocess.run([candidate, "--list"], capture_output=True, text=True).stdout.split()
    buf = io.BytesIO()
    write_layer(busybox_entries(binary, applets), buf)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": BOOTSTRAP_CREATED,
        "config": {"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": ["sh"]},
        "history": [{"created": BOOTSTRAP_CREATED, "created_by": "stepbox interop test"}],
    }
    return store.add_image([buf.getvalue()], config, tag=tag)


def saved_archive(store: ImageStore, image: Image, names: list[str], path: str) -> str:
    """``stepbox save`` of an image, as ``docker load`` and skopeo read it."""
    with open(path, "wb") as f:
        save(store, [(image, names)], f)
    return path
