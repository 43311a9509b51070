"""Errors a kernel backend raises.

File-system operations raise plain :class:`OSError` with the errno the Linux
kernel would give (``ENOENT``, ``EXDEV``, ``ENOTEMPTY`` ...): that is the
contract the differential tests check, so the simulator must not invent its
own exception types for them.  The classes here are for everything else.
"""

from __future__ import annotations


class KernelError(Exception):
    """A kernel operation failed in a way a user can understand and act on."""


class NotSupported(KernelError):
    """This host/backend cannot do the operation (e.g. no user namespaces)."""


class BackendUnavailable(KernelError):
    """The backend cannot run here at all (not Linux, not root, no overlayfs...)."""


class ExecFailed(KernelError):
    """execve() failed: the command does not exist or is not executable.

    ``exit_code`` follows Docker: 127 when the file is missing, 126 when it is
    not executable.
    """

    def __init__(self, message: str, exit_code: int = 127):
        super().__init__(message)
        self.exit_code = exit_code
