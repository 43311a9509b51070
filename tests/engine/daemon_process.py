"""A stepbox daemon in a subprocess for a test: its own state directory, socket and log."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from stepbox.core.engine.daemon_process import DaemonProcess


class TestDaemon(DaemonProcess):
    """:class:`DaemonProcess` in a temporary directory of its own, which
    :meth:`cleanup` deletes -- after removing what the daemon left, even
    when the test failed.  (Not started yet: ``start()`` it.)"""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, backend: str, *, prefix: tuple[str, ...] = (), args: tuple[str, ...] = ()):
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
        )

    def log(self, lines: int | None = 300) -> str:
        return super().log(lines)

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
