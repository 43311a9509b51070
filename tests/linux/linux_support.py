"""Helpers shared by the Linux backend's tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import sys

import pytest

IS_LINUX_ROOT = sys.platform == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0
NOT_LINUX_ROOT_REASON = (
    f"needs the real Linux kernel as root (this host: {sys.platform}, "
    f"uid {os.geteuid() if hasattr(os, 'geteuid') else 'n/a'})"
)

# Put `@linux_root` on every test that touches the real kernel.
linux_root = pytest.mark.skipif(not IS_LINUX_ROOT, reason=NOT_LINUX_ROOT_REASON)


def state_mounts(state_dir: str) -> list[str]:
    prefix = os.path.abspath(state_dir).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if f" {prefix}" in line]


def base_dirs(base: str) -> list[str]:
    found = []
    for ctrl in os.listdir("/sys/fs/cgroup"):
        d = f"/sys/fs/cgroup/{ctrl}/{base}"
        if os.path.isdir(d):
            found.append(d)
    return found


def leaks(kernel) -> dict:
    """What the kernel object still holds: for tests to assert their own
    undo steps left nothing behind (before the fixture's clean-up runs)."""
    return {
        "mounts": state_mounts(kernel.state_dir),
        "union_mounts": kernel.unionfs.mounted(),
        "cgroups": kernel.cgroups.list(),
        "processes": kernel.processes.alive_runs(),
    }


NO_LEAKS: dict[str, list] = {"mounts": [], "union_mounts": [], "cgroups": [], "processes": []}


# -- a container, started by hand through the interfaces only ------------------------------------

MASKED_PATHS = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}


class Started:
    """What a started container consists of, so the test can undo it."""

    def __init__(self, kernel, name):
        self.kernel, self.name = kernel, name
        self.cgroup = f"stepbox/{name}"
        self.mount = None
        self.handle = None
        self.stdout = os.path.join(kernel.state_dir, f"{name}.out")
        self.stderr = os.path.join(kernel.state_dir, f"{name}.err")

    def out(self) -> str:
        with open(self.stdout) as f:
            return f.read()

    def err(self) -> str:
        with open(self.stderr) as f:
            return f.read()

    def undo(self) -> None:
        """Every setup step's undo, in reverse order; each is idempotent."""
        k = self.kernel
        if self.handle is not None and k.processes.exists(self.handle.pid):
            try:
                self.handle.signal(9)
            except OSError:
                pass
        if self.handle is not None:
            self.handle.wait(timeout=30)
        if self.mount is not None:
            k.unionfs.unmount(self.mount)
        k.cgroups.remove(self.cgroup)
        for layer in (f"{self.name}-init", self.name):
            k.unionfs.remove_layer(layer)


def start_container(
    kernel, busybox_entries, name, argv, limits=None, hostname=None, image_layer="busybox", exec_=True
):
    """The lifecycle, step by step: layers, mount, cgroup, spawn, the
    in-container operations, exec.  Returns a :class:`Started`."""
    from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES, CgroupLimits, MountSpec, SpawnSpec, Stdio

    k = kernel
    c = Started(k, name)
    try:
        if not k.unionfs.has_layer(image_layer):
            k.unionfs.import_layer(image_layer, busybox_entries)
        k.unionfs.create_layer(f"{name}-init")
        init_files = k.unionfs.layer_files(f"{name}-init")
        init_files.mkdir("/etc")
        init_files.write("/etc/hostname", f"{hostname or name}\n".encode())
        k.unionfs.create_layer(name)
        c.mount = k.unionfs.mount([f"{name}-init", image_layer], name, name)
        k.cgroups.create(c.cgroup)
        k.cgroups.set_limits(c.cgroup, limits or CgroupLimits())
        c.handle = h = k.processes.spawn(
            SpawnSpec(cgroup=c.cgroup, stdio=Stdio(stdout=c.stdout, stderr=c.stderr))
        )
        h.sethostname(hostname or name)
        h.make_mounts_private()
        root = c.mount.target
        h.mount(MountSpec("proc", "/proc", "proc", ("nosuid", "nodev", "noexec")), root)
        h.mount(
            MountSpec("tmpfs", "/dev", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")), root
        )
        for dev in ("null", "zero", "urandom"):
            h.mount(MountSpec(f"/dev/{dev}", f"/dev/{dev}", "bind", ()), root)
        h.mount(MountSpec("sysfs", "/sys", "sysfs", ("nosuid", "nodev", "noexec", "ro")), root)
        h.pivot_root(root)
        h.mask_paths(MASKED_PATHS, READONLY_PATHS)
        h.bring_up_loopback()
        if exec_:
            h.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)
            h.exec(argv, ENV)
        return c
    except BaseException:
        c.undo()
        raise
