"""One daemon per socket: a pid file the daemon keeps locked while it lives.

dockerd writes ``/var/run/docker.pid`` for the same two reasons: a second
daemon must refuse to start on the same socket and state, and ``stop`` must
know whom to signal.  A pid alone cannot say whether that process still
runs (pids are reused; an exited child stays a zombie until reaped), so the
daemon also holds an exclusive ``flock`` on the file: the kernel drops it
when the process ends, however it ends.  "Is a daemon running here?" is
then "is the file locked?", and "has it stopped?" is "is the lock gone?"
-- which is why a daemon never lets go of it before it exits.  (So the file
itself may outlive its daemon: a pid file nobody locks means nothing.)
"""

from __future__ import annotations

import fcntl
import os
import time


class DaemonRunning(RuntimeError):
    """Another daemon holds the pid file."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


class PidFile:
    def __init__(self, path: str, fd: int):
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: str) -> PidFile:
        """Lock ``path`` and write our pid into it, or raise DaemonRunning."""
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = running_pid(path)
            raise DaemonRunning(f"another daemon (pid {pid}) holds {path}", pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """For a daemon that did not get to serve: remove the file and let go
        of the lock.  A daemon that served keeps both until it exits."""
        if self._fd < 0:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = -1


def running_pid(path: str) -> int | None:
    """The pid of the daemon holding ``path``; None if no daemon holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # nobody holds it: a stale file
        except BlockingIOError:
            pass
        for _ in range(100):  # locked, the pid maybe not written yet
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            if text.isdecimal() and int(text) > 0:
                return int(text)
            time.sleep(0.01)
        raise DaemonRunning(f"{path} is locked but holds no pid")
    finally:
        os.close(fd)
