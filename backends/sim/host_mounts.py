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
import select
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stepbox.core.kernel.host_mounts import HostMounts
from stepbox.core.kernel.unionfs import EntryKind, FileOps

from .host_dir import HostDirFS, is_normal_absolute
from .memfs import MemFS
from .mounts import parse_mount_options, show_fs_data

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


class _RealMountTable:
    """The machine's own mount table (/proc/self/mounts), read again only
    when the kernel says it changed (poll(2) on the open file reports
    POLLPRI after every mount or unmount), so that showing a bind as the
    filesystem that holds it costs nothing per container."""

    def __init__(self):
        self._file = None
        self._poll = None
        self.by_point: dict[str, list[str]] = {}
        try:
            self._file = open("/proc/self/mounts", "rb")  # noqa: SIM115  (kept open: it is polled)
            self._poll = select.poll()
            self._poll.register(self._file, select.POLLPRI | select.POLLERR)
        except (OSError, AttributeError):  # no /proc, or no poll(): the default disk
            self._file = None
        self._read()

    def _read(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        lines = [line.split() for line in self._file.read().decode(errors="replace").splitlines()]
        # mount point -> its line; a later mount on the same point hides an earlier one
        self.by_point = {f[1].replace("\\040", " "): f for f in lines if len(f) >= 4}

    def changed(self) -> bool:
        """Has the machine's mount table changed since it was last read?
        (Read again if so.)"""
        if self._poll is not None and self._poll.poll(0):
            self._read()
            return True
        return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


Disk = tuple[str, str, frozenset, str]  # source, fstype, per-mount flags, filesystem data


def _disk_of(table: _RealMountTable, real: str) -> Disk:
    """How a mount table shows a bind of the real path ``real``: as the
    filesystem of the machine that holds it (its device, type and options;
    /dev/sda1 ext4 where the machine has no /proc).  (The caller asks the
    table whether it changed.)"""
    points = table.by_point
    path, best = real, None
    while best is None:
        best = points.get(path)
        if path == "/" or not path:
            break
        path = os.path.dirname(path)
    if best is None:
        return DISK_SOURCE, DISK_FSTYPE, frozenset(), ""
    words = best[3].split(",")
    flags = frozenset(w for w in words if w in _SHOWN_FLAGS)
    data = ",".join(w for w in words if w not in _SHOWN_FLAGS and w not in ("rw", "relatime"))
    return best[0], best[2], flags, data


def _split_absolute(path: str) -> tuple[str, str]:
    """os.path.split(os.path.abspath(path)), without normpath's work for a
    normal absolute path."""
    if is_normal_absolute(path):
        parent, _, name = path.rpartition("/")
        return parent or "/", name
    return os.path.split(os.path.abspath(path))


class SimHostMounts(HostMounts):
    def __init__(self, kernel: SimKernel):
        self.k = kernel
        self.table: dict[str, HostMount] = {}
        self.real_mounts = _RealMountTable()
        self._last: tuple[str, HostMount] | None = None  # see _directory
        # real path and filesystem of the directories that hold bind sources
        # (every container's own directory is in the same one)
        self._parents: dict[str, tuple[str, Disk]] = {}
        euid = os.geteuid() if hasattr(os, "geteuid") else 0
        self._owner = None if euid == 0 else (euid, os.getegid())

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
        if self.table:
            mount, inside = self._lookup(path)
            if mount is not None:
                return mount, inside, mount.fs.stat(inside).kind is EntryKind.DIR
        parent, name = _split_absolute(path)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):  # a symlink at the end: resolved in full
                parent, name = os.path.split(os.path.realpath(path))
                st = os.stat(path)
        except FileNotFoundError:
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), path) from None
        if stat.S_ISDIR(st.st_mode):
            return self._directory(os.path.join(parent, name)), "/", True
        # A single file: the directory that holds it, shown from that file.
        return self._directory(parent), "/" + name, False

    def _directory(self, path: str) -> HostMount:
        """A host directory as a mount's filesystem, with the device, type and
        options of what holds it.  Kept for the directory last asked: a
        container's three /etc files, mounted one after the other, share it."""
        if self._last is not None and self._last[0] == path:
            return self._last[1]
        table = self.real_mounts
        if table.changed():
            self._parents.clear()
        real, disk = self._resolve(path, table)
        mount = HostMount(HostDirFS(real, self._owner), *disk)
        self._last = (path, mount)
        return mount

    def _resolve(self, path: str, table: _RealMountTable) -> tuple[str, Disk]:
        """The real path of directory ``path`` and the filesystem that holds
        it.  What is known of its parent directory is kept (until the
        machine's mount table changes): a new container's directory then
        costs one lstat, not a realpath and a look through the table."""
        if is_normal_absolute(path):
            parent, _, name = path.rpartition("/")  # os.path.split's answer for it
            parent = parent or "/"
        else:
            parent, name = os.path.split(path)
        if not name or stat.S_ISLNK(os.lstat(path).st_mode):
            real = os.path.realpath(path)
            return real, _disk_of(table, real)
        known = self._parents.get(parent)
        if known is None:
            if len(self._parents) >= 64:
                self._parents.clear()
            real_parent = os.path.realpath(parent)
            known = self._parents[parent] = (real_parent, _disk_of(table, real_parent))
        # os.path.join of a name without a "/" in it:
        real = known[0] + name if known[0].endswith("/") else f"{known[0]}/{name}"
        if real in table.by_point:  # a mount point itself
            return real, _disk_of(table, real)
        return real, known[1]

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
