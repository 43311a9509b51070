"""A private ``dockerd`` for tests and benchmarks: started in a temp dir, stopped after.

It never touches the host's Docker (if any): its own data root, exec root,
socket, pid file and client config, no iptables, no bridge (containers run
with ``--network none``).  Registries on 127.0.0.0/8 are insecure-allowed by
default, so it talks plain http to ours.  The oracle of the build, image and
registry interop tests and the yardstick of the benchmarks::

    with DockerDaemon() as daemon:
        daemon.docker("run", "--rm", "busybox", "true")
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

# Debian's client matches Debian's daemon; a newer client elsewhere on PATH
# would also work, but its legacy builder prints deprecation noise.
DOCKER_CANDIDATES = ("/usr/bin/docker", "docker")


def unavailable_reason() -> str | None:
    if sys.platform != "linux":
        return f"dockerd needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "dockerd needs root (run the tests as root to compare with Docker)"
    if shutil.which("dockerd") is None:
        return "dockerd is not installed (apt-get install -y docker.io; see scripts/install.sh)"
    return None


class DockerDaemon:
    def __init__(self, *extra_args: str):
        # More dockerd flags (``--add-runtime stepbox=...``).
        self.extra_args = list(extra_args)
        # Short: a unix socket path must fit in 108 bytes.
        self.root = tempfile.mkdtemp(prefix="sbd-", dir="/tmp")
        self.socket = os.path.join(self.root, "docker.sock")
        self.process: subprocess.Popen | None = None
        self.client = next((c for c in DOCKER_CANDIDATES if shutil.which(c)), "docker")
        self.log_path = os.path.join(self.root, "dockerd.log")

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "0",
            "DOCKER_CLI_HINTS": "false",
            "DOCKER_CONFIG": os.path.join(self.root, "client"),
        }

    @property
    def cli(self) -> list[str]:
        """The docker command line for this daemon (for timing it as a user runs it)."""
        return [self.client, "-H", f"unix://{self.socket}"]

    @property
    def pid(self) -> int:
        """The running dockerd's process ID."""
        if self.process is None:
            raise RuntimeError("dockerd was not started")
        return self.process.pid

    def __enter__(self) -> DockerDaemon:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> DockerDaemon:
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [
                "dockerd",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--bridge=none",
                "--data-root",
                os.path.join(self.root, "data"),
                "-H",
                f"unix://{self.socket}",
                "--exec-root",
                os.path.join(self.root, "exec"),
                "--pidfile",
                os.path.join(self.root, "pid"),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited at start-up:\n{self.log_tail()}")
            if os.path.exists(self.socket) and self.docker("version", check=False).returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not come up within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def docker(
        self, *args: str, input: bytes | None = None, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [self.client, *args], input=input, env=self.env, capture_output=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
            )
        return result

    def load(self, archive: bytes) -> None:
        self.docker("load", input=archive)

    def build(self, context: str, tag: str, *extra: str) -> subprocess.CompletedProcess:
        return self.docker("build", "-t", tag, *extra, context, check=False)

    def image_config(self, ref: str) -> dict:
        return json.loads(self.docker("image", "inspect", ref).stdout)[0]["Config"]

    def export(self, ref: str) -> tarfile.TarFile:
        """The image's filesystem as ``docker export`` of a created (never
        started) container gives it."""
        cid = self.docker("create", ref, "/nonexistent").stdout.decode().strip()
        try:
            data = self.docker("export", cid).stdout
        finally:
            self.docker("rm", "-f", cid, check=False)
        return tarfile.open(fileobj=io.BytesIO(data))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # overlay mounts of the daemon are gone with it; the directory may
        # still hold a busy mount if dockerd was killed: unmount what is left.
        with open("/proc/self/mounts") as f:
            mounted = [line.split()[1] for line in f if self.root in line.split()[1]]
        for target in sorted(mounted, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_dockerd():
    """A started private dockerd for the ``with`` block; pytest skips when the
    host has none and fails when it does not start."""
    import pytest

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    daemon = DockerDaemon()
    try:
        daemon.start()
    except Exception as e:
        daemon.stop()
        pytest.fail(f"could not start dockerd: {e}")
    try:
        yield daemon
    finally:
        daemon.stop()


def load_stepbox_busybox(daemon: DockerDaemon) -> str:
    """stepbox's busybox (bootstrapped from the host's static busybox, the same
    image ID on both backends), loaded into ``daemon`` through ``save``; its ID."""
    from stepbox.core.image.archive import save
    from stepbox.core.image.bootstrap import ensure_busybox

    from tests.core.engines import runtime_on

    runtime, cleanup = runtime_on("sim")
    try:
        image = ensure_busybox(runtime.images, runtime.kernel)
        buf = io.BytesIO()
        save(runtime.images, [(image, ["busybox:latest"])], buf)
        daemon.load(buf.getvalue())
        return image.id
    finally:
        cleanup()
