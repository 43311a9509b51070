"""svok and svc -- after busybox 1.35's runit/sv.c (daemontools' names for
runit's supervisor tools).

Both talk to a supervisor (runsv, which this busybox lacks) through the
service directory's ``supervise/`` files: svok opens ``supervise/ok`` for
writing (a FIFO runsv holds open; no such file: exit 100); svc, for each
of its flags in the order ``udopchaitkx`` and each service, reads the 20
bytes of ``supervise/status`` and writes the command letter to
``supervise/control`` unless the status already wants it.

The simulated kernel has no FIFOs (SIMPLIFICATIONS.md): the files are
regular files there, which is what the differential tests use on both
sides; runsv's "not running" (ENODEV/ENXIO of a FIFO with no reader) and
svok's blocking open of a FIFO cannot happen.

A service name that starts with neither ``/`` nor ``.`` is looked up under
``$SVDIR`` or Debian's default service directory, which is empty: chdir("")
fails with ENOENT, as the real one does.
"""

from __future__ import annotations

import errno
from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, O_WRONLY, Sys
from .applet_table import applet
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, show_usage, strerror, xatou

Gen = Generator[Any, Any, Any]

DEFAULT_SERVICE_DIR = ""  # Debian's CONFIG_SV_DEFAULT_SERVICE_DIR
SVC_FLAGS = "udopchaitkx"


def _relative(name: str) -> bool:
    """A name runit looks up under the default service directory."""
    return not name.startswith(("/", ".")) and not name.endswith("/")


@applet("svok")
@dies("svok")
def svok_main(sys: Sys) -> Gen:
    if len(sys.argv) < 2:
        yield from show_usage(sys, "svok")
        return 1
    directory = sys.argv[1]
    for target in ([DEFAULT_SERVICE_DIR] if _relative(directory) else []) + [directory]:
        try:
            sys.chdir(target)
        except OSError as e:
            raise Die(f"can't change directory to '{target}': {strerror(e)}", 111) from None
    try:
        fd = sys.open("supervise/ok", O_WRONLY)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENXIO):
            return 100
        raise Die(f"can't open 'supervise/ok': {strerror(e)}", 111) from None
    sys.close(fd)
    return 0


class _Control:
    """One run of sv's control action over the services (what svc calls
    once per flag): prints "warning:"/"fail:" lines and counts them."""

    def __init__(self, sys: Sys, out: BufferedOutput, varservice: str) -> None:
        self.sys, self.out, self.varservice = sys, out, varservice
        self.failures = 0

    def _say(self, prefix: str, service: str, message: str, e: OSError | None) -> None:
        self.failures += 1
        tail = f": {strerror(e)}" if e is not None else ""
        self.out.write(f"{prefix}{service}: {message}{tail}\n")

    def _status(self, service: str) -> Gen:
        """svstatus_get: the 20 status bytes, or None after a warning."""
        sys = self.sys
        try:
            sys.close(sys.open("supervise/ok", O_WRONLY))
        except OSError as e:
            self._say("warning: ", service, "can't open supervise/ok", e)
            return None
        try:
            fd = sys.open("supervise/status", O_RDONLY)
        except OSError as e:
            self._say("warning: ", service, "can't open supervise/status", e)
            return None
        try:
            data = yield from sys.read(fd, 20)
        except OSError as e:
            self._say("warning: ", service, "can't read supervise/status", e)
            return None
        finally:
            sys.close(fd)
        if len(data) != 20:
            self._say("warning: ", service, "can't read supervise/status: bad format", None)
            return None
        return data

    def _control(self, service: str, command: str) -> Gen:
        status = yield from self._status(service)
        if status is None:
            return
        want, got_term = chr(status[17]), status[18]
        if want == command and (command != "d" or got_term == 1):
            return
        sys = self.sys
        try:
            fd = sys.open("supervise/control", O_WRONLY)
        except OSError as e:
            self._say("warning: ", service, "can't open supervise/control", e)
            return
        try:
            written = sys.write(fd, command.encode())
        except OSError:
            written = -1
        finally:
            sys.close(fd)
        if written != 1:
            self._say("warning: ", service, "can't write to supervise/control", None)

    def run(self, command: str, services: list[str]) -> Gen:
        sys = self.sys
        home = sys.getcwd()
        for service in services:
            try:
                if _relative(service):
                    sys.chdir(self.varservice)
                sys.chdir(service)
            except OSError as e:
                self._say("fail: ", service, "can't change to service directory", e)
            else:
                yield from self._control(service, command)
            try:
                sys.chdir(home)
            except OSError as e:
                yield from self.out.flush()
                raise Die(f"fatal: can't change to original directory: {strerror(e)}", 151) from None
            yield from self.out.drain()


@applet("svc")
@dies("svc")
def svc_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], SVC_FLAGS)
        if not opts.operands or not any(flag in opts for flag in SVC_FLAGS):
            raise UsageError(None)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "svc", e.message)
        yield from show_usage(sys, "svc")
        return 1
    out = BufferedOutput(sys, 1)
    varservice = sys.env.get("SVDIR", DEFAULT_SERVICE_DIR)
    for flag in SVC_FLAGS:
        if flag not in opts:
            continue
        if "SVWAIT" in sys.env:  # sv reads it (for waiting, which svc never does) on every call
            try:
                xatou(sys.env["SVWAIT"])
            except Die as e:
                raise Die(e.message, 100) from None
        control = _Control(sys, out, varservice)
        yield from control.run(flag, list(opts.operands))
        if control.failures:
            yield from out.flush()
            return 1
    yield from out.flush()
    return 0
