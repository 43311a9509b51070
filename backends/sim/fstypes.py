"""Which filesystem ``mount -t TYPE`` creates.

In the kernel each filesystem type registers a ``mount`` function that makes
a superblock; this table is the simulator's version.  Some types make a new,
empty filesystem every time (``tmpfs``, ``mqueue``, ``devpts`` with
``newinstance``); some show one kernel-wide object in a per-mount way
(``proc`` shows the PID namespace of whoever mounts it); ``sysfs`` and
``cgroup2`` are one shared tree.
"""

from __future__ import annotations

import errno
import functools
from typing import TYPE_CHECKING

from .affinity import mask_list
from .files import DEVICE_NODES
from .flow import oserror
from .memfs import MemFS, makedev
from .mounts import show_fs_data
from .procfs import ProcFS

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process


def _mode_option(data: tuple[str, ...], default: int) -> int:
    for opt in data:
        if opt.startswith("mode="):
            return int(opt[5:], 8)
    return default


@functools.lru_cache(maxsize=256)
def _tmpfs_options(data: tuple[str, ...]) -> tuple[int, str]:
    """A tmpfs's root mode and the options /proc/mounts shows, by its data
    words (a function of them alone: every start mounts the same two)."""
    return _mode_option(data, 0o1777), show_fs_data("tmpfs", data)


def new_filesystem(k: SimKernel, proc: Process, fstype: str, data: tuple[str, ...]):
    """(filesystem, options string /proc/mounts shows) for a new mount."""
    if fstype == "proc":
        return ProcFS(k, proc.pidns), ""
    if fstype == "tmpfs":
        mode, shown = _tmpfs_options(data)
        return MemFS(clock=k.wall_clock, root_mode=mode), shown
    if fstype == "devpts":
        fs = MemFS(clock=k.wall_clock, root_mode=0o755)
        fs.mknod_in(fs.root, "ptmx", "/ptmx", 0o666, makedev(*DEVICE_NODES["ptmx"]))
        return fs, show_fs_data("devpts", data)
    if fstype == "mqueue":
        return MemFS(clock=k.wall_clock, root_mode=0o1777), ""
    if fstype == "sysfs":
        return k.sysfs, ""
    if fstype == "cgroup2":
        return k.cgroupfs, ""
    if fstype == "devtmpfs":
        return k.devfs, k.devfs_options
    raise oserror(errno.ENODEV)  # "unknown filesystem type"


def make_devtmpfs(k: SimKernel) -> MemFS:
    """The host's /dev: the device nodes every program expects."""
    fs = MemFS(clock=k.wall_clock)
    for name, (major, minor) in DEVICE_NODES.items():
        fs.mknod(f"/{name}", 0o666, makedev(major, minor))
    for d in ("pts", "shm", "mqueue"):
        fs.mkdir(f"/{d}")
    fs.chmod("/shm", 0o1777)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        fs.symlink(target, f"/{name}")
    return fs


def make_sysfs(k: SimKernel) -> MemFS:
    """A skeleton of /sys: enough for the paths runtimes mask and mount over."""
    fs = MemFS(clock=k.wall_clock)
    for d in (
        "/fs",
        "/fs/cgroup",
        "/kernel",
        "/class",
        "/class/net",
        "/firmware",
        "/devices",
        "/devices/virtual",
        "/devices/virtual/powercap",
        "/devices/virtual/net",
        "/devices/virtual/net/lo",
    ):
        fs.mkdir(d)
    fs.symlink("../../devices/virtual/net/lo", "/class/net/lo")
    # The CPUs (nproc --all counts the cpuN entries), as .affinity sees them.
    fs.mkdir("/devices/system")
    fs.mkdir("/devices/system/cpu")
    for cpu in range(k.cpus_online.bit_length()):
        if k.cpus_online >> cpu & 1:
            fs.mkdir(f"/devices/system/cpu/cpu{cpu}")
    fs.write("/devices/system/cpu/online", f"{mask_list(k.cpus_online)}\n".encode())
    # lo's attributes as a container sees them once lo is up (a static
    # snapshot: see SIMPLIFICATIONS.md, "Network namespaces").
    for name, value in (
        ("operstate", "unknown"),
        ("flags", "0x9"),
        ("mtu", "65536"),
        ("address", "00:00:00:00:00:00"),
        ("type", "772"),
    ):
        fs.write(f"/devices/virtual/net/lo/{name}", f"{value}\n".encode())
    fs.write("/kernel/uevent_seqnum", b"1\n")
    return fs
