"""Starting a private dockerd for comparisons (Debian's docker.io).

Everything it owns lives under one temporary directory -- data root, exec
root, socket, pid file -- and it runs with no iptables and no bridge, so it
touches nothing of the host's and goes away completely on exit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


class Dockerd:
    def __init__(self, root: str):
        self.root = root
        self.socket = os.path.join(root, "docker.sock")
        self.cli = ["docker", "-H", f"unix://{self.socket}"]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Dockerd":
        os.makedirs(self.root, exist_ok=True)
        log = open(os.path.join(self.root, "dockerd.log"), "wb")
        self.proc = subprocess.Popen(
            ["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
             "--data-root", os.path.join(self.root, "data"), "--exec-root", os.path.join(self.root, "exec"),
             "--pidfile", os.path.join(self.root, "dockerd.pid"), "-H", f"unix://{self.socket}"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while subprocess.run([*self.cli, "version"], capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start; see {self.root}/dockerd.log")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["umount", "-R", os.path.join(self.root, "data")], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def load_busybox(docker: Dockerd, stepbox_root: str) -> None:
    """Give dockerd the same busybox image stepbox uses (no registry needed)."""
    save = subprocess.run([sys.executable, "-m", "stepbox", "--root", stepbox_root, "save", "busybox"],
                          check=True, capture_output=True)
    subprocess.run([*docker.cli, "load"], input=save.stdout, check=True, capture_output=True)
