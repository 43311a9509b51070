"""The sealed copy of the Python interpreter every process that enters a
container runs from (see :mod:`.launcher` and :mod:`.runc_entry`).

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
