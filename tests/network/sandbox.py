"""A network namespace of the test's own, and a stepbox daemon wired inside it.

The networking-safety rule: a test that builds bridges, veths or rules, or
publishes ports, does it inside a network namespace it created -- never in
the host's.  :class:`Netns` is one (``ip netns add stepbox-test-...``, with
only ``lo``, up); :func:`daemon_in` starts a stepbox daemon that *joins* it
(``nsenter --net``: the network namespace only, so its mounts stay visible
to the test) with its default bridge on.  Traffic goes to loopback or to
addresses inside the namespaces the test made (the containers').
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

from tests.engine.daemon_process import TestDaemon


class Netns:
    def __init__(self):
        # The run's token in the name: the suite's leftover check knows its own.
        run = os.environ.get("TESTRUN_OF_STEPBOX", "")[:8] or "norun"
        self.name = f"stepbox-test-{run}-{secrets.token_hex(4)}"
        self.path = f"/run/netns/{self.name}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run(["ip", "link", "set", "lo", "up"], check=True)

    @property
    def enter(self) -> list[str]:
        """The prefix that runs a command in this namespace (and nothing else changed)."""
        return ["nsenter", f"--net={self.path}"]

    def run(
        self, argv: list[str], check: bool = False, timeout: float = 60, **kw
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.enter, *argv], capture_output=True, text=True, check=check, timeout=timeout, **kw
        )

    def links(self) -> list[str]:
        out = self.run(["ip", "-o", "link", "show"], check=True).stdout
        return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())

    def nft(self) -> str:
        return self.run(["nft", "list", "ruleset"], check=True).stdout

    def listening(self) -> str:
        return self.run(["ss", "-ltnu"], check=True).stdout

    def delete(self) -> None:
        pids = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True
        ).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def daemon_in(netns: Netns, *args: str) -> TestDaemon:
    """A linux-backend daemon joined to ``netns``, its bridge on (the suite
    sets STEPBOX_BRIDGE=none for every other daemon)."""
    daemon = TestDaemon("linux", prefix=tuple(netns.enter), args=("--bridge", "stepbox0", *args))
    daemon.start()
    return daemon


def stepbox(daemon: TestDaemon, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The stepbox CLI against ``daemon``."""
    exe = shutil.which("stepbox", path=os.path.dirname(sys.executable)) or "stepbox"
    return subprocess.run([exe, "-H", daemon.host, *argv], capture_output=True, text=True, timeout=timeout)


def wait_for(predicate, timeout: float = 15, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
