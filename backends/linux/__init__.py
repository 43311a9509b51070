"""The real Linux backend: namespaces, cgroupfs and overlayfs via syscalls.

One module per kernel feature, like runc's libcontainer:

* :mod:`.libc`       -- ctypes bindings (unshare, setns, mount, pivot_root, capset, openat2 ...)
* :mod:`.procfs`     -- parsers for /proc (mountinfo, status, stat, cgroup, ns)
* :mod:`.cgroups`    -- cgroup v1 / v2 / hybrid drivers and :class:`LinuxCgroups`
* :mod:`.unionfs`    -- layers on disk and overlayfs mounts (:class:`LinuxUnionFS`)
* :mod:`.fileops`    -- file operations confined to a root (openat2 RESOLVE_IN_ROOT)
* :mod:`.shim`       -- the parent of a container's PID 1; records its exit status
* :mod:`.init`       -- the joiner and PID 1's command loop (before exec)
* :mod:`.nsenter`    -- ``docker exec``: joining a running container
* :mod:`.processes`  -- :class:`LinuxProcesses`, the engine's side of it all
* :mod:`.namespaces` -- inspecting namespaces from the host
* :mod:`.kernel`     -- :class:`LinuxKernel`, the bundle

Importing this package is cheap (the shim imports it too); the heavy
modules load in :func:`create_kernel`.
"""

from __future__ import annotations

import os
import sys


def unavailable_reason() -> str | None:
    """Why the real kernel cannot be used here, as a sentence; None if it can."""
    if sys.platform != "linux":
        return f"the linux backend needs Linux (this is {sys.platform}); use the simulated kernel instead"
    if os.geteuid() != 0:
        return (
            "the linux backend needs root (mount, namespaces and cgroups are "
            "privileged); run as root or use the simulated kernel"
        )
    try:
        with open("/proc/filesystems") as f:
            filesystems = f.read().split()
    except OSError:
        return "cannot read /proc/filesystems: is /proc mounted?"
    if "overlay" not in filesystems:
        return (
            "this kernel has no overlayfs (not in /proc/filesystems); "
            "try `modprobe overlay` or use the simulated kernel"
        )
    return None


def create_kernel(state_dir: str, tracer=None, *, cgroup_base: str | None = None):
    """The real-kernel backend for ``state_dir``.  Raises
    :class:`~stepbox.core.kernel.errors.BackendUnavailable` when it cannot run here."""
    from stepbox.core.kernel.errors import BackendUnavailable

    reason = unavailable_reason()
    if reason:
        raise BackendUnavailable(reason)
    from .kernel import LinuxKernel

    return LinuxKernel(state_dir, tracer, cgroup_base=cgroup_base)


__all__ = ["create_kernel", "unavailable_reason"]
