"""slirp4netns: the user-mode network of a rootless container (see
core/kernel/user_network.py for what it is).

One slirp4netns per container, as podman runs it:
``slirp4netns --configure --mtu=65520 [--disable-host-loopback] --ready-fd=N PID tap0``.
It enters the container's network namespace (the engine is root of the
user namespace that owns it, and slirp4netns runs in that user namespace
too), makes ``tap0`` there and configures it (10.0.2.100/24, default route
via 10.0.2.2), hands the TAP's file descriptor back to its parent half, and
from then on serves the container's frames with sockets in the engine's own
network namespace.  It does not end when the container does (the TAP keeps
the namespace), so the engine stops it at the container's exit.

It runs in a session of its own: a container outlives the daemon that
started it (live restore), and so must its network; a later daemon finds it
by the PID and start time kept in the container's record.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from typing import Any

from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.trace import Tracer
from stepbox.core.kernel.user_network import UserNetwork, UserNetworkSettings

from .procfs import read_stat, start_time

READY_TIMEOUT = 10.0  # seconds for slirp4netns to configure tap0
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


class Slirp4netns(UserNetwork):
    def __init__(self, tracer: Tracer, settings: UserNetworkSettings, binary: str):
        self.tracer, self.settings, self.binary = tracer, settings, binary
        # The ones this program started: reaped by it (a later daemon's are
        # reaped by whoever adopted them).
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def command(self, pid: int, ready_fd: int) -> list[str]:
        s = self.settings
        argv = [self.binary, "--configure", f"--mtu={s.mtu}", f"--ready-fd={ready_fd}"]
        if not s.host_loopback:
            argv.append("--disable-host-loopback")
        return [*argv, str(pid), s.interface]

    def attach(self, pid: int) -> dict[str, Any]:
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        log = tempfile.TemporaryFile()  # what it says, read if it fails (unlinked: nothing left)
        try:
            argv = self.command(pid, ready_w)
            self.tracer.record("spawn", " ".join(argv))
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(ready_w,),
                start_new_session=True,  # not in the daemon's session: it outlives the daemon
            )
            os.close(ready_w)
            ready_w = -1
            with self._lock:
                self._children[child.pid] = child
            handle = {"tool": self.settings.tool, "pid": child.pid, "start": start_time(child.pid)}
            if not _wait_ready(ready_r, child):
                self.detach(handle)
                log.seek(0)
                said = log.read().decode(errors="replace").strip().splitlines()
                raise KernelError(
                    f"slirp4netns could not configure the container's network: "
                    f"{said[-1] if said else f'exit status {child.poll()}'}"
                )
            return handle
        finally:
            os.close(ready_r)
            if ready_w >= 0:
                os.close(ready_w)
            log.close()

    def detach(self, handle: dict[str, Any]) -> None:
        pid, start = int(handle.get("pid") or 0), handle.get("start")
        if not pid:
            return
        with self._lock:
            child = self._children.pop(pid, None)
        if child is not None:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            return
        # Started by an earlier daemon: ours to stop only if it is still that process.
        if start_time(pid) != start or start is None:
            return
        self.tracer.record("kill", f"{pid} SIGTERM ({self.settings.tool})")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _running(pid, start) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _running(pid, start):
            os.kill(pid, signal.SIGKILL)

    def describe(self) -> str:
        s = self.settings
        loopback = (
            f"the host's loopback at {s.gateway}"
            if s.host_loopback
            else "not the host's loopback (STEPBOX_ROOTLESS_HOST_LOOPBACK=1 allows it)"
        )
        return (
            f"{s.tool} per container: {s.interface} {s.address}/{s.prefix_len}, gateway {s.gateway}, "
            f"DNS {s.dns}, MTU {s.mtu}; reaches {loopback}; published ports are relayed by the daemon"
        )


def _wait_ready(fd: int, child: subprocess.Popen[bytes]) -> bool:
    """Until slirp4netns writes "1" to its ready fd (True) or exits first (False)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], 0.1)
        if readable:
            return os.read(fd, 1) == b"1"
        if child.poll() is not None:
            return False
    return False


def _running(pid: int, start: int) -> bool:
    """Still that process, and not a zombie waiting for its reaper."""
    try:
        stat = read_stat(pid)
    except (OSError, ValueError, IndexError):
        return False
    return stat.starttime == start and stat.state not in ("Z", "X")


def host_loopback_allowed() -> bool:
    """STEPBOX_ROOTLESS_HOST_LOOPBACK=1: the daemon's containers may reach its
    host's 127.0.0.1 at 10.0.2.2 (off by default, as in rootless Docker:
    services listening only on the host's loopback trust whoever reaches it)."""
    return os.environ.get("STEPBOX_ROOTLESS_HOST_LOOPBACK", "").lower() in ("1", "true", "yes")


TUN = "/dev/net/tun"


def find_user_network(tracer: Tracer) -> tuple[Slirp4netns | None, str]:
    """The host's slirp4netns, or None and why not."""
    binary = shutil.which("slirp4netns")
    if binary is None:
        return None, "no slirp4netns on this host (apt-get install slirp4netns)"
    try:
        if not stat.S_ISCHR(os.stat(TUN).st_mode):
            raise FileNotFoundError(TUN)
    except OSError:
        return None, f"no {TUN} here: slirp4netns needs the kernel's TUN/TAP driver (modprobe tun)"
    return Slirp4netns(tracer, UserNetworkSettings(host_loopback=host_loopback_allowed()), binary), ""
