"""A private ``containerd`` for tests and benchmarks: its own config, root,
state and sockets (the CRI plugin off), stopped and removed after.

    daemon = Containerd()
    daemon.ctr("images", "import", "busybox.tar")
    daemon.stop()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "containerd needs root"
    if shutil.which("containerd") is None or shutil.which("ctr") is None:
        return "containerd is not installed (apt-get install containerd)"
    return None


class Containerd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sbc-", dir="/tmp")  # short: socket paths
        self.socket = os.path.join(self.dir, "c.sock")
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            f.write(
                f'version = 2\nroot = "{self.dir}/root"\nstate = "{self.dir}/state"\n'
                'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                f'[grpc]\n  address = "{self.socket}"\n[ttrpc]\n  address = "{self.socket}.ttrpc"\n'
            )
        self.log = open(os.path.join(self.dir, "containerd.log"), "wb")
        self.process = subprocess.Popen(
            ["containerd", "--config", config],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("containerd did not come up")
            time.sleep(0.2)

    def ctr(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["ctr", "-a", self.socket, *args], capture_output=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: {done.returncode}\n{done.stdout!r}\n{done.stderr!r}")
        return done

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        with open("/proc/self/mounts") as f:
            mounted = [line.split()[1] for line in f if line.split()[1].startswith(self.dir)]
        for target in sorted(mounted, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
