"""Reading and writing cgroupfs files, with every write traced.

cgroupfs is an API made of files: you configure a cgroup by writing a
number into a file (``echo 8388608 > memory.limit_in_bytes``) and read its
counters back as text.  Every write goes through :class:`CgroupIO` so the
learner sees it in the trace as ``write /sys/fs/cgroup/.../FILE "VALUE"``.
"""

from __future__ import annotations

import errno
import os
import time

from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.trace import Tracer


class CgroupIO:
    def __init__(self, tracer: Tracer | None = None):
        self.tracer = tracer or Tracer(enabled=False)

    def write(self, path: str, value: str) -> None:
        self.tracer.record(f"write {path}", f'"{value}"')
        # One write(2) per value: cgroupfs parses each write separately, so a
        # buffered writer that splits or joins writes would change meaning.
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def read(self, path: str) -> str:
        with open(path) as f:
            return f.read()

    def read_int(self, path: str, default: int = 0) -> int:
        try:
            return int(self.read(path).strip())
        except (OSError, ValueError):
            return default

    def read_keyed(self, path: str) -> dict[str, int]:
        """Flat keyed files (cpu.stat, memory.events, pids.events ...): ``key value`` lines."""
        result: dict[str, int] = {}
        try:
            text = self.read(path)
        except OSError:
            return result
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2:
                try:
                    result[parts[0]] = int(parts[1])
                except ValueError:
                    pass
        return result

    def mkdir(self, path: str) -> bool:
        """mkdir; False if it already existed."""
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
        self.tracer.record("mkdir", f'"{path}", 0755')
        return True

    def rmdir(self, path: str, attempts: int = 100) -> None:
        """rmdir a cgroup.  A cgroup cannot be removed while it has tasks;
        right after they are killed they may still be exiting, and rmdir
        says EBUSY until they are gone, so retry for a while."""
        delay = 0.005
        for attempt in range(attempts):
            try:
                os.rmdir(path)
            except FileNotFoundError:
                return
            except OSError as e:
                if e.errno != errno.EBUSY or attempt == attempts - 1:
                    if e.errno == errno.EBUSY:
                        raise KernelError(
                            f"cannot remove cgroup {path}: it still has processes "
                            f"(rmdir: EBUSY); kill them first"
                        ) from e
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
            else:
                self.tracer.record("rmdir", f'"{path}"')
                return


def wait_until(predicate, what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until true (for state changes the kernel completes
    asynchronously, like FREEZING -> FROZEN)."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not predicate():
        if time.monotonic() > deadline:
            raise KernelError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
