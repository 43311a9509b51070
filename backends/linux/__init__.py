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
    if _rootless():
        from .rootless import unavailable_reason as rootless_reason

        return rootless_reason()
    return None


def _rootless() -> bool:
    """Without root, or as the root of a user namespace: no host privileges."""
    from .rootless import in_initial_user_namespace

    return os.geteuid() != 0 or not in_initial_user_namespace()


def describe() -> str:
    """How this backend would run containers here (for ``--backend auto``'s choice)."""
    if not _rootless():
        return "root on Linux: real namespaces, cgroups and overlayfs"
    from .rootless import id_maps, in_initial_user_namespace

    if not in_initial_user_namespace():
        return "rootless, in the user namespace this program runs in"
    return f"rootless: uid {os.getuid()} as root of a user namespace, {id_maps().describe()}"


def reexec_sealed() -> None:
    """See :func:`.sealed.reexec_sealed` (stepbox-runc create/exec call it first)."""
    from .sealed import reexec_sealed as reexec

    reexec()


def create_kernel(state_dir: str, tracer=None, *, cgroup_base: str | None = None, fork_shims: bool = False):
    """The real-kernel backend for ``state_dir``.  Raises
    :class:`~stepbox.core.kernel.errors.BackendUnavailable` when it cannot run here.

    Without root, this program first joins (or makes) the state dir's user
    and mount namespaces (:mod:`.rootless`): it must not have started any
    thread yet.

    ``fork_shims``: the program is single-threaded and short-lived and runs
    from the sealed interpreter (stepbox-runc, :func:`.sealed.reexec_sealed`); it forks
    its shims itself instead of starting a launcher interpreter."""
    from stepbox.core.kernel.errors import BackendUnavailable

    reason = unavailable_reason()
    if reason:
        raise BackendUnavailable(reason)
    if os.geteuid() != 0:
        from .rootless import enter

        try:
            enter(os.path.abspath(state_dir))
        except OSError as e:
            raise BackendUnavailable(f"rootless containers cannot start here: {e.strerror or e}") from None
    from .kernel import LinuxKernel

    return LinuxKernel(state_dir, tracer, cgroup_base=cgroup_base, fork_shims=fork_shims)


__all__ = ["create_kernel", "reexec_sealed", "describe", "unavailable_reason"]
