"""halt, poweroff, reboot -- after busybox 1.35's init/halt.c, as Debian
builds it (FEATURE_WTMP, FEATURE_WAIT_FOR_INIT, LINUXRC; no telinit).

Without ``-f`` they ask init: a process named linuxrc, else PID 1, gets
SIGUSR1 (halt), SIGUSR2 (poweroff) or SIGTERM (reboot).  In a container
PID 1 is the container's own init, which the kernel spares every signal it
has no handler for -- so ``reboot`` in ``sh -c`` does nothing unless the
shell traps SIGTERM.  With ``-f`` they call reboot(2): refused (EPERM) in a
default container, which lacks CAP_SYS_BOOT; with it, the container's init
dies of SIGHUP (reboot) or SIGINT (halt, poweroff).
"""

from __future__ import annotations

import signal
import struct
from collections.abc import Generator
from typing import Any

from ..sys_api import O_APPEND, O_WRONLY, Sys
from .applet_table import applet
from .libc import UsageError, complain, getopt, show_usage, strerror, xatou

Gen = Generator[Any, Any, Any]

_SIGNALS = {"halt": signal.SIGUSR1, "poweroff": signal.SIGUSR2, "reboot": signal.SIGTERM}
_COMMANDS = {"halt": 0xCDEF0123, "poweroff": 0x4321FEDC, "reboot": 0x01234567}  # RB_*
WTMP = "/var/log/wtmp"
RUN_LVL = 1


def _utmpx_record(now: float, release: str) -> bytes:
    """glibc's struct utmpx (x86_64, 384 bytes) as halt's write_wtmp fills it."""
    return struct.pack(
        "<hxxi32s4s32s256shhiii4i20x",
        RUN_LVL,
        0,
        b"~~",
        b"~~",
        b"shutdown",
        release.encode()[:255],
        0,
        0,
        0,
        int(now),
        int(now % 1 * 1_000_000),
        0,
        0,
        0,
        0,
    )


def _write_wtmp(sys: Sys) -> None:
    """updwtmpx(): appends to /var/log/wtmp only if it exists (it is never created)."""
    try:
        fd = sys.open(WTMP, O_WRONLY | O_APPEND)
    except OSError:
        return
    try:
        sys.write(fd, _utmpx_record(sys.wall_time(), sys.uname()[2]))
    except OSError:
        pass
    sys.close(fd)


def _linuxrc_pid(sys: Sys) -> Gen:
    from .applets_sysinfo import _scan, find_pid_by_name

    procs, cmdlines, exes = yield from _scan(sys)
    found = find_pid_by_name(procs, "linuxrc", cmdlines, exes)
    return found[0] if found else 0


def _init_was_not_there(sys: Sys) -> Gen:
    """FEATURE_WAIT_FOR_INIT: up to 4 s for /proc/meminfo (init mounted /proc)."""
    waited = 0
    while not sys.access("/proc/meminfo", 0) and waited < 4:
        yield from sys.sleep(1)
        waited += 1
    return waited != 0


@applet("halt", "poweroff", "reboot")
def halt_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    if prog not in _SIGNALS:
        prog = "halt"  # busybox picks by the first letter; "h" when none match
    try:
        opts = getopt(sys.argv[1:], "d:nfwi")
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return 1
    if "d" in opts:
        from .libc import Die

        try:
            delay = xatou(opts.value("d") or "", 0, 2**31 - 1)
        except Die as e:
            yield from complain(sys, prog, e.message or "")
            return 1
        if delay:
            yield from sys.sleep(delay)
    _write_wtmp(sys)
    if "w" in opts:
        return 0
    failure: OSError | None = None
    if "f" not in opts:
        sig = _SIGNALS[prog]
        target = yield from _linuxrc_pid(sys)
        sent = False
        if target:
            try:
                sys.kill(target, sig)
                sent = True
            except OSError:
                pass
        if not sent:
            try:
                sys.kill(1, sig)
            except OSError as e:
                failure = e
            if (yield from _init_was_not_there(sys)):
                try:
                    sys.kill(1, sig)
                    failure = None
                except OSError as e:
                    failure = e
    else:
        try:
            sys.reboot(_COMMANDS[prog])
        except OSError as e:
            failure = e
    if failure is not None:
        yield from complain(sys, prog, f"(null): {strerror(failure)}")  # bb_perror_nomsg_and_die
        return 1
    return 0
