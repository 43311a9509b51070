"""``LinuxHostMounts``: the host's side of volumes, on the real kernel.

Docker's ``local`` volume driver with options runs ``mount -t TYPE -o O
DEVICE /var/lib/docker/volumes/NAME/_data`` when a container starts using
the volume and unmounts it when the last one stops; ``-o type=none -o
o=bind -o device=/path`` is a bind mount of ``/path`` there.  These mounts
live in the host's (the daemon's) mount namespace, like the union mounts.
"""

from __future__ import annotations

import errno
import functools
import json
import os

from stepbox.core.kernel.host_mounts import HostMounts
from stepbox.core.kernel.trace import Tracer
from stepbox.core.kernel.unionfs import FileOps

from . import libc, procfs
from .fileops import HostFileOps

# mount(8)'s option words that are flags (moby's mount.parseOptions): set or clear.
_FLAG_WORDS = {
    "ro": (libc.MS_RDONLY, False),
    "rw": (libc.MS_RDONLY, True),
    "nosuid": (libc.MS_NOSUID, False),
    "suid": (libc.MS_NOSUID, True),
    "nodev": (libc.MS_NODEV, False),
    "dev": (libc.MS_NODEV, True),
    "noexec": (libc.MS_NOEXEC, False),
    "exec": (libc.MS_NOEXEC, True),
    "sync": (libc.MS_SYNCHRONOUS, False),
    "async": (libc.MS_SYNCHRONOUS, True),
    "noatime": (libc.MS_NOATIME, False),
    "atime": (libc.MS_NOATIME, True),
    "nodiratime": (libc.MS_NODIRATIME, False),
    "diratime": (libc.MS_NODIRATIME, True),
    "relatime": (libc.MS_RELATIME, False),
    "strictatime": (libc.MS_STRICTATIME, False),
    "bind": (libc.MS_BIND, False),
    "rbind": (libc.MS_BIND | libc.MS_REC, False),
    "remount": (libc.MS_REMOUNT, False),
}


def parse_mount_options(options: str) -> tuple[int, str]:
    """``"bind,ro,size=1m"`` -> (mount flags, the filesystem's data)."""
    flags, data = 0, []
    for word in filter(None, options.split(",")):
        if word in _FLAG_WORDS:
            bit, clear = _FLAG_WORDS[word]
            flags = flags & ~bit if clear else flags | bit
        elif word != "defaults":
            data.append(word)
    return flags, ",".join(data)


def _q(text: str | None) -> str:
    return "NULL" if text is None else json.dumps(text)


def propagation_of(optional: tuple[str, ...]) -> str:
    """mountinfo's optional fields -> "shared", "slave" or "private"."""
    if any(field.startswith("shared:") for field in optional):
        return "shared"
    if any(field.startswith("master:") for field in optional):
        return "slave"
    return "private"


class LinuxHostMounts(HostMounts):
    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def mount(self, source: str, target: str, fstype: str, options: str) -> None:
        flags, data = parse_mount_options(options)
        if fstype in ("", "none") and not flags & libc.MS_BIND:
            fstype = "none"
        shown_type = None if flags & libc.MS_BIND else fstype
        self.tracer.record(
            "mount",
            f"{_q(source)}, {_q(target)}, {_q(shown_type)}, {libc.mount_flag_names(flags)}, {_q(data or None)}",
        )
        ro_bind = flags & libc.MS_BIND and flags & libc.MS_RDONLY
        libc.mount(source, target, shown_type, flags & ~libc.MS_RDONLY if ro_bind else flags, data or None)
        if ro_bind:  # a bind ignores MS_RDONLY until it is remounted
            libc.mount(None, target, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY, None)

    def unmount(self, target: str) -> None:
        try:
            libc.umount2(target, libc.MNT_DETACH)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT):
                raise
            return
        self.tracer.record("umount2", f'"{target}", MNT_DETACH')

    def is_mounted(self, target: str) -> bool:
        real = os.path.realpath(target)
        return any(m.mountpoint == real for m in procfs.read_mountinfo())

    def files(self, path: str) -> FileOps:
        return HostFileOps(path)

    def propagation(self, path: str) -> tuple[str, str]:
        """Of the mount that holds ``path``: the longest mount point that is
        a parent of it (moby's getSourceMount)."""
        real = os.path.realpath(path)
        best = None
        for m in procfs.read_mountinfo():
            point = m.mountpoint.rstrip("/") + "/"
            if (real + "/").startswith(point) and (best is None or len(m.mountpoint) >= len(best.mountpoint)):
                best = m
        if best is None:
            return "/", "private"
        return best.mountpoint, propagation_of(best.optional)

    @property
    def recursive_readonly(self) -> bool:
        return _has_mount_setattr()


@functools.lru_cache(maxsize=1)
def _has_mount_setattr() -> bool:
    return libc.has_mount_setattr()
