"""The sealed copy of the Python interpreter every process that enters a
container runs from (see :mod:`.launcher`; stepbox-runc: :func:`reexec_sealed`).

Small on purpose: ``stepbox-runc create`` imports it before anything else
to re-execute itself from the copy."""

from __future__ import annotations

import fcntl
import os
import sys

_SEALED: int | None = None


def sealed_interpreter() -> int:
    """A memfd holding a copy of this Python interpreter's binary, sealed
    against any change; made once per program."""
    global _SEALED
    if _SEALED is None:
        fd = os.memfd_create(SEALED_NAME, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        with open(os.path.realpath(sys.executable), "rb") as f:
            while chunk := f.read(1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        fcntl.fcntl(
            fd,
            fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE,
        )
        _SEALED = fd
    return _SEALED


SEALED_NAME = "stepbox-python"


def running_sealed() -> bool:
    """Whether this program runs from a sealed interpreter copy (its
    ``/proc/self/exe`` is our memfd, see :func:`sealed_interpreter`)."""
    try:
        return os.readlink("/proc/self/exe").startswith(f"/memfd:{SEALED_NAME}")
    except OSError:
        return False


def reexec_sealed() -> None:
    """Run this program again from the sealed interpreter copy, unless it
    already does; call it first thing (before any thread, before the heavy
    imports).  ``stepbox-runc create`` and ``exec`` do (:mod:`stepbox.core.runtime.entry`):
    they then fork the container's shim themselves, and the processes that
    enter the container have the sealed copy as their ``/proc/PID/exe``
    (CVE-2019-5736) -- runc re-executes itself from a sealed memfd the same
    way (its ``cloned_binary``)."""
    if running_sealed():
        return
    interpreter = sealed_interpreter()  # close-on-exec: not inherited past the exec
    # argv[0] stays the interpreter's path (Python finds its prefix and venv
    # from it); sys.orig_argv[1:]: the script (or -m/-c) and its arguments.
    os.execv(f"/proc/self/fd/{interpreter}", [sys.executable, *sys.orig_argv[1:]])
