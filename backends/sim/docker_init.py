"""``docker run --init``: tini, the tiny init Docker mounts at /sbin/docker-init.

A container's PID 1 has two jobs a normal program does not do: *reap*
orphaned children (every process of the namespace whose parent died is
re-parented to it; unreaped, they stay zombies), and *pass signals on* --
the kernel delivers no signal to a namespace's init unless it installed a
handler, so ``docker stop`` would only ever end a plain program after the
grace period, by SIGKILL.  tini runs the command as its child, forwards the
signals it gets to it, reaps everything, and exits as the command did.

On the real kernel Docker binds the host's static tini (Debian:
``tini-static``); the simulator runs this program in its place, registered
as a binary format of its own (binfmt_misc), the file at /usr/bin/docker-init
of the simulated host.
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Generator
from typing import Any

from .sys_api import Sys

NAME = "docker-init"
USAGE = "Usage: tini [OPTIONS] PROGRAM -- [ARGS] | --version\n"
# What tini forwards (everything but the ones it handles itself and SIGKILL/SIGSTOP).
FORWARDED = (
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCONT,
)


def tini_main(sys: Sys) -> Generator[Any, Any, int]:
    argv = list(sys.argv[1:])
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        yield from _say(sys, USAGE)
        return 1
    pending: list[int] = []
    for sig in FORWARDED:
        sys.signal(sig, pending.append)

    def child(csys: Sys) -> Generator[Any, Any, int]:
        for sig in FORWARDED:
            csys.signal(sig, None)  # the command gets the default dispositions
        path = csys.env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        candidates = [argv[0]] if "/" in argv[0] else [f"{d or '.'}/{argv[0]}" for d in path.split(":")]
        last = errno.ENOENT
        for candidate in candidates:
            try:
                yield from csys.execve(candidate, argv, dict(csys.env))
            except OSError as e:
                last = e.errno or errno.ENOENT
        yield from _say(csys, f"[FATAL tini (7)] exec {argv[0]} failed: {_strerror(last)}\n")
        return 127 if last == errno.ENOENT else 126

    command = sys.fork(child)
    while True:
        try:
            result = yield from sys.waitpid(-1, 0)
        except OSError as e:
            if e.errno == errno.EINTR:
                while pending:
                    try:
                        sys.kill(command, pending.pop(0))
                    except OSError:
                        pass
                continue
            return 0  # no children left (cannot happen before the command ended)
        if result is None:
            continue
        if result.pid == command:
            raw = result.status
            if raw & 0x7F:
                return 128 + (raw & 0x7F)
            return (raw >> 8) & 0xFF


def _strerror(code: int) -> str:
    import os

    return os.strerror(code)


def _say(sys: Sys, text: str) -> Generator[Any, Any, None]:
    try:
        sys.write(2, text.encode())
    except OSError:
        pass
    return
    yield  # pragma: no cover - a generator
