"""``SimHostMounts``: the host's side of volumes, for the simulator.

Volumes and bind sources are real directories of the machine (a volume's
data is on the disk, in the state directory, on both backends).  What the
simulator adds is what the real kernel would mount over such a directory:
Docker's ``local`` driver with ``-o type=tmpfs`` mounts a tmpfs over the
volume's ``_data`` while a container uses it.  Here that tmpfs is a
:class:`MemFS` kept in a table by host path; a bind mount of a host path in
a simulated container looks in that table first and otherwise shows the
real files (:class:`HostDirFS`).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stepbox.core.kernel.host_mounts import HostMounts
from stepbox.core.kernel.unionfs import EntryKind, FileOps

from .host_dir import HostDirFS
from .memfs import MemFS
from .vfs import parse_mount_options, show_fs_data

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel

# How the simulated machine shows a directory of its (real) disk in a mount
# table: as its own root filesystem.  The real kernel shows the device and
# options of whatever filesystem holds the path.
DISK_SOURCE, DISK_FSTYPE = "/dev/sda1", "ext4"


@dataclass(frozen=True)
class HostMount:
    fs: FileOps
    source: str
    fstype: str
    flags: frozenset
    data: str


_SHOWN_FLAGS = ("ro", "nosuid", "nodev", "noexec", "noatime", "strictatime")


def _disk_of(real: str) -> tuple[str, str, frozenset, str]:
    """How a mount table shows a bind of the real path ``real``: as the
    filesystem of the machine that holds it (read from the real
    /proc/self/mounts where there is one), its device, type and options."""
    try:
        with open("/proc/self/mounts") as f:
            lines = [line.split() for line in f]
    except OSError:
        return DISK_SOURCE, DISK_FSTYPE, frozenset(), ""
    best = None
    for fields in lines:
        if len(fields) < 4:
            continue
        point = fields[1].replace("\\040", " ")
        if (real + "/").startswith(point.rstrip("/") + "/") and (best is None or len(point) >= len(best[1])):
            best = fields
    if best is None:
        return DISK_SOURCE, DISK_FSTYPE, frozenset(), ""
    words = best[3].split(",")
    flags = frozenset(w for w in words if w in _SHOWN_FLAGS)
    data = ",".join(w for w in words if w not in _SHOWN_FLAGS and w not in ("rw", "relatime"))
    return best[0], best[2], flags, data


class SimHostMounts(HostMounts):
    def __init__(self, kernel: SimKernel):
        self.k = kernel
        self.table: dict[str, HostMount] = {}

    def mount(self, source: str, target: str, fstype: str, options: str) -> None:
        target = os.path.realpath(target)
        if not os.path.isdir(target):
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), target)
        flags, data, bind, _propagation = parse_mount_options(tuple(options.split(",")))
        if self.k.tracer.enabled:
            self.k.tracer.record("mount", f'"{source}", "{target}", "{fstype}", {options or "0"}, NULL')
        if bind:
            if not os.path.exists(source):
                raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), source)
            self.table[target] = HostMount(HostDirFS(source), DISK_SOURCE, DISK_FSTYPE, flags, "")
        elif fstype == "tmpfs":
            fs = MemFS(clock=self.k.wall_clock, root_mode=0o1777)
            for opt in data:
                key, _, value = opt.partition("=")
                if key == "mode":
                    fs.chmod("/", int(value, 8))
                elif key in ("uid", "gid"):
                    fs.chown("/", int(value) if key == "uid" else -1, int(value) if key == "gid" else -1)
            self.table[target] = HostMount(fs, source, "tmpfs", flags, show_fs_data("tmpfs", tuple(data)))
        else:
            raise OSError(errno.ENODEV, f"the simulator cannot mount a {fstype!r} filesystem", target)

    def unmount(self, target: str) -> None:
        self.table.pop(os.path.realpath(target), None)

    def is_mounted(self, target: str) -> bool:
        return os.path.realpath(target) in self.table

    def files(self, path: str) -> FileOps:
        mount, inside = self._lookup(path)
        if mount is None:
            return HostDirFS(path)
        if inside == "/":
            return mount.fs
        raise OSError(errno.EXDEV, "a directory inside a volume's own mount is not a host directory", path)

    def bind_source(self, path: str) -> tuple[HostMount, str, bool]:
        """What a bind mount of the host path ``path`` shows: (the mount
        that holds it, the path inside that filesystem, is it a directory)."""
        mount, inside = self._lookup(path)
        if mount is not None:
            return mount, inside, mount.fs.stat(inside).kind is EntryKind.DIR
        real = os.path.realpath(path)
        source, fstype, flags, data = _disk_of(real)
        if os.path.isdir(real):
            return HostMount(HostDirFS(real), source, fstype, flags, data), "/", True
        if not os.path.exists(real):
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        # A single file: the directory that holds it, shown from that file.
        parent, name = os.path.split(real)
        return HostMount(HostDirFS(parent), source, fstype, flags, data), "/" + name, False

    def mounted_below(self, path: str) -> list[tuple[str, HostMount]]:
        """What is mounted strictly below ``path``, shallowest first, each as
        (its path relative to ``path``, the mount) -- what an rbind of
        ``path`` takes along."""
        real = os.path.realpath(path).rstrip("/") + "/"
        below = [(t[len(real) :], m) for t, m in self.table.items() if t.startswith(real)]
        return sorted(below, key=lambda item: item[0].count("/"))

    def _lookup(self, path: str) -> tuple[HostMount | None, str]:
        real = os.path.realpath(path)
        best = None
        for target in self.table:
            if (real == target or real.startswith(target.rstrip("/") + "/")) and (
                best is None or len(target) > len(best)
            ):
                best = target
        if best is None:
            return None, ""
        return self.table[best], "/" + real[len(best) :].strip("/")

    def propagation(self, path: str) -> tuple[str, str]:
        # The simulator does not model the real host's mount propagation: a
        # host directory is seen as on a private mount (SIMPLIFICATIONS.md).
        mount, _inside = self._lookup(path)
        if mount is not None:
            held = max((t for t in self.table if self.table[t] is mount), key=len)
            return held, "private"
        return "/", "private"

    @property
    def recursive_readonly(self) -> bool:
        return True
