"""The simulated kernel: the whole container lifecycle in pure Python.

``create_kernel(state_dir)`` returns a :class:`~stepbox.core.kernel.Kernel`
that needs no root and no Linux.  See ``SIMPLIFICATIONS.md`` beside this file
for the one list of ways it knowingly differs from the real kernel.
"""

from __future__ import annotations

from stepbox.core.kernel.trace import Tracer

from .kernel import SimKernel

__all__ = ["SimKernel", "create_kernel", "describe"]


def create_kernel(state_dir: str | None = None, tracer: Tracer | None = None) -> SimKernel:
    """A freshly booted simulated kernel.  ``state_dir`` is where the union
    filesystem keeps image layers between programs (None: in memory only)."""
    return SimKernel(state_dir=state_dir, tracer=tracer)


def describe() -> str:
    """How this backend runs containers (for ``--backend``'s choice)."""
    return "the simulated kernel, in pure Python (no root, any OS)"


def oci_runtime_unavailable() -> str | None:
    """Why the OCI runtime's plan (``stepbox step --bundle``) cannot run on
    this kernel: create must leave the container's process waiting at a
    start gate (runc's exec.fifo) for a later command, and the simulated
    kernel's processes do not outlive the program that made them."""
    return (
        "the simulated kernel cannot leave a process waiting at a start gate (runc's exec.fifo) "
        "for its caller, so create cannot stop where start takes over"
    )
