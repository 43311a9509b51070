"""A stepbox daemon in a subprocess for a test: its own state directory, socket and log."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

from stepbox.core.engine.daemon_process import DaemonProcess


class TestDaemon(DaemonProcess):
    """:class:`DaemonProcess` in a temporary directory of its own, which
    :meth:`cleanup` deletes -- after removing what the daemon left, even
    when the test failed.  (Not started yet: ``start()`` it.)  ``args``
    are more options of ``stepbox daemon`` (``--bridge=none``, ``-H tcp://127.0.0.1:0``,
    ``--tlsverify`` ...), ``env`` more environment."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        backend: str,
        *,
        prefix: tuple[str, ...] = (),
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ):
        # /tmp, not pytest's tmp_path: a UNIX socket path must fit in 108 bytes
        self.own_dir = tempfile.mkdtemp(prefix=f"sbxd-{backend}-")
        super().__init__(
            backend,
            os.path.join(self.own_dir, "root"),
            os.path.join(self.own_dir, "stepbox.sock"),
            os.path.join(self.own_dir, "daemon.log"),
            debug=True,
            prefix=tuple(prefix),
            args=tuple(args),
            env=dict(env or {}),
        )

    def log(self, lines: int | None = 300) -> str:
        return super().log(lines)

    def tcp_address(self) -> tuple[str, int]:
        """The tcp:// listener's host and port (the kernel chose the port of
        ``-H tcp://127.0.0.1:0``; the daemon says which when it starts)."""
        deadline = time.monotonic() + 10  # it says so just after it starts listening
        while (match := re.search(r"API [0-9.]+ on .*?tcp://([0-9.]+):(\d+)", self.log(None))) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the daemon names no tcp:// listener:\n{self.log()}")
            time.sleep(0.05)
        return match.group(1), int(match.group(2))

    def peak_memory(self) -> int:
        """The daemon's peak resident memory so far (VmHWM), in bytes."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc/PID/status")

    def cleanup(self) -> None:
        """Stop everything this daemon started and delete its state."""
        self.close()
        if self.backend == "linux":
            _linux_leftovers(self.root)
        shutil.rmtree(self.own_dir, ignore_errors=True)


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
