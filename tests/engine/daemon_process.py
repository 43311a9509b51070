"""A stepbox daemon in a subprocess, with its own state directory and socket."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from stepbox.core.engine.client import EngineClient
from stepbox.core.engine.locations import someone_listening


@dataclass
class DaemonProcess:
    backend: str
    root: str = ""
    socket_path: str = ""
    proc: subprocess.Popen | None = None
    log_path: str = ""
    _own_dir: str = field(default="", repr=False)

    def __post_init__(self):
        if not self.root:
            # /tmp, not pytest's tmp_path: a UNIX socket path must fit in 108 bytes
            self._own_dir = tempfile.mkdtemp(prefix=f"sbxd-{self.backend}-")
            self.root = os.path.join(self._own_dir, "root")
            self.socket_path = os.path.join(self._own_dir, "stepbox.sock")
            self.log_path = os.path.join(self._own_dir, "daemon.log")

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 60) -> DaemonProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stepbox.core.engine",
                "-H",
                self.host,
                "--backend",
                self.backend,
                "--root",
                self.root,
                "--debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {self.proc.returncode}:\n{self.log()}")
            if someone_listening(self.socket_path):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"the daemon did not listen within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-20000:]
        except OSError:
            return ""

    def client(self) -> EngineClient:
        return EngineClient(self.socket_path)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a clean shutdown), SIGKILL if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """kill -9: the crash case."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def remove_all_containers(self) -> None:
        try:
            client = self.client()
            for c in client.containers(all_=True):
                try:
                    client.remove(c["Id"], force=True)
                except Exception:
                    pass
        except Exception:
            pass

    def cleanup(self) -> None:
        """Stop everything this daemon started and delete its state."""
        if self.proc is not None and self.proc.poll() is None:
            self.remove_all_containers()
        self.stop()
        if self.backend == "linux":
            _linux_leftovers(self.root)
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)


def _linux_leftovers(root: str) -> None:
    """Kill container processes and unmount rootfs a failed test left."""
    try:
        from stepbox.backends.linux.processes import LinuxProcesses

        LinuxProcesses(os.path.join(root, "linux", "kernel")).kill_all(timeout=5)
    except Exception:
        pass
    try:
        with open("/proc/self/mounts") as f:
            targets = [line.split()[1] for line in f if root in line.split()[1]]
        for target in sorted(targets, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)
    except OSError:
        pass
