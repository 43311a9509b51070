"""bb_daemonize_or_rexec (libbb/vfork_daemon_rexec.c), as the daemon
applets (klogd, crond, start-stop-daemon -b) use it: the program forks; the
parent exits 0 at once, the child -- after chdir("/") if asked -- carries
on with stdin, stdout and stderr on /dev/null.  (The simulator has no
sessions: busybox's setsid() in the child has nothing to change.)"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from ..sys_api import O_RDWR, Sys

Gen = Generator[Any, Any, Any]


def daemonize(sys: Sys, body: Callable[[Sys], Gen], chdir_root: bool = False) -> Gen:
    """Run ``body(child_sys)`` in a background child; returns 0 for the parent to exit with."""
    if chdir_root:
        sys.chdir("/")

    def child(csys: Sys) -> Gen:
        try:
            null = csys.open("/dev/null", O_RDWR)
        except OSError:
            null = -1
        if null >= 0:
            for fd in (0, 1, 2):
                csys.dup2(null, fd)
            if null > 2:
                csys.close(null)
        return (yield from body(csys))

    sys.fork(child)
    return 0
    yield  # pragma: no cover -- a generator, like every step of a program
