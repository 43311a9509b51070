"""What ``stat(2)`` and ``statfs(2)`` tell beyond :class:`StatResult`: inode
and device numbers, modification times, filesystem sizes -- and
``utimensat(2)``, which sets a time.

:class:`~stepbox.core.kernel.unionfs.StatResult` leaves these out on
purpose (they legitimately differ between two kernels); the userland still
needs them: ``find -newer``, ``tar``'s member headers, ``ls -l``, ``stat``,
``du`` and ``df``.  Each answer comes from the inode the path resolves to in
the calling process's mount namespace (for the overlay, the upper copy or the
lower inode that shows).
"""

from __future__ import annotations

import errno
import weakref
from typing import TYPE_CHECKING

from .flow import EPERM, oserror
from .memfs import Inode, InodeKind
from .sys_api import FsInfo, InodeInfo

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

W_OK = 2

# Block size statfs reports, and the made-up disk under every overlay and
# bind mount of a host file (the simulator has no disk: see SIMPLIFICATIONS.md).
BLOCK = 4096
DISK_BLOCKS = 16 * 1024 * 1024  # 64 GiB
DISK_INODES = 4 * 1024 * 1024
_MAGIC = {
    "overlay": 0x794C7630,
    "tmpfs": 0x01021994,
    "devtmpfs": 0x01021994,
    "proc": 0x9FA0,
    "sysfs": 0x62656572,
    "cgroup2": 0x63677270,
    "cgroup": 0x27E0EB,
    "mqueue": 0x19800202,
    "devpts": 0x1CD1,
}


_devices: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def device_number(fs) -> int:
    """An anonymous device number (major 0, as tmpfs and overlay get) per
    filesystem object, handed out in order of first use."""
    try:
        dev = _devices.get(fs)
        if dev is None:
            dev = _devices[fs] = 0x20 + len(_devices)
        return dev
    except TypeError:  # not weak-referenceable
        return 0x20


def _node(fs, path: str) -> Inode | None:
    lookup = getattr(fs, "lookup", None)
    if lookup is None:
        return None
    try:
        return lookup(path, follow=False)
    except OSError:
        return None


def blocks_of(size: int, kind: str) -> int:
    """st_blocks as ext4 (under an overlay) counts it: whole 4 KiB blocks, in
    512-byte units; a directory has one block (its size says 4096), a short
    symlink none (its target lives in the inode)."""
    if kind == "symlink":
        return 0
    if kind == "dir":
        return BLOCK // 512
    return (size + BLOCK - 1) // BLOCK * (BLOCK // 512)


def inode_info(k: SimKernel, proc: Process, path: str, follow: bool = True) -> InodeInfo:
    vfs = k.vfs
    loc = vfs.walk(proc, path, follow)
    fs, _m = vfs.fs_of(proc, loc)
    st = fs.lstat(loc[1])
    node = _node(fs, loc[1])
    dev = device_number(fs)
    if node is None:  # procfs, sysfs files: made up when read
        return InodeInfo(hash((id(fs), loc[1])) & 0xFFFFFF, dev, 0, k.boot_wall, 0)
    kind = node.kind.value
    blocks = blocks_of(st.size, kind) if node.kind is not InodeKind.CHARDEV else 0
    return InodeInfo(node.ino, dev, node.rdev, node.mtime, blocks)


def set_mtime(k: SimKernel, proc: Process, path: str, mtime: float | None, follow: bool = True) -> None:
    """``utimensat(path, times)``: ``None`` is "now" (the owner or anyone who
    may write the file); an explicit time only for the owner (or root with
    CAP_FOWNER)."""
    vfs = k.vfs
    loc = vfs.walk(proc, path, follow)
    fs = vfs._check_write(proc, loc, path)
    st = fs.lstat(loc[1])
    if proc.uid != 0 and st.uid != proc.uid:
        if mtime is not None:
            raise oserror(EPERM, path)
        if not vfs.may(proc, st, W_OK):
            raise oserror(errno.EACCES, path)
    fs.utime(loc[1], mtime, follow)


def _tree_usage(node: Inode, seen: set[int]) -> tuple[int, int]:
    """(bytes, inodes) under a MemFS directory, each inode counted once."""
    size, count = 0, 0
    todo = [node]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        count += 1
        if cur.kind is InodeKind.DIR:
            todo.extend(cur.data.values())
        elif cur.kind is InodeKind.FILE:
            size += len(cur.data)
    return size, count


def statfs(k: SimKernel, proc: Process, path: str) -> FsInfo:
    vfs = k.vfs
    loc = vfs.walk(proc, path, True)
    fs, m = vfs.fs_of(proc, loc)
    magic = _MAGIC.get(m.fstype, 0xEF53)  # ext4 for bind mounts of host files
    if m.fstype in ("proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue"):
        return FsInfo(magic, BLOCK, 0, 0, 0, 0, 0)
    used, inodes = 0, 0
    seen: set[int] = set()
    for root in _roots(fs):
        b, n = _tree_usage(root, seen)
        used += b
        inodes += n
    used_blocks = (used + BLOCK - 1) // BLOCK
    if m.fstype in ("tmpfs", "devtmpfs"):
        total = _tmpfs_blocks(m.data) or DISK_BLOCKS // 8
        files = max(total // 2, inodes)
    else:
        total, files = DISK_BLOCKS, DISK_INODES
    free = max(total - used_blocks, 0)
    return FsInfo(magic, BLOCK, total, free, free, files, max(files - inodes, 0))


def _roots(fs) -> list[Inode]:
    """The directories a filesystem's data hangs from (an overlay: its layers)."""
    root = getattr(fs, "root", None)
    if isinstance(root, Inode):
        return [root]
    upper = getattr(fs, "upper", None)
    roots = [upper.root] if upper is not None and isinstance(getattr(upper, "root", None), Inode) else []
    for lower in getattr(fs, "lowers", ()) or ():
        lroot = getattr(lower, "root", None)
        if isinstance(lroot, Inode):
            roots.append(lroot)
    return roots


def _tmpfs_blocks(data: str) -> int:
    for opt in data.split(","):
        if opt.startswith("size="):
            text = opt[5:]
            mult = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:].lower(), 1)
            digits = text[:-1] if mult != 1 else text
            if digits.isdigit():
                return int(digits) * mult // BLOCK
    return 0


S_IFMT, S_IFCHR, S_IFREG = 0o170000, 0o020000, 0o100000


def make_node(k: SimKernel, proc: Process, path: str, mode: int, rdev: int) -> None:
    """``mknod(2)``: a character device or an empty regular file, checked
    in vfs_mknod's order (the directory, CAP_MKNOD, the device cgroup: see
    ``SimVFS.mknod``).  Block devices, FIFOs and sockets are not modelled:
    EPERM for a block device without CAP_MKNOD as Linux answers, else EOPNOTSUPP."""
    kind = mode & S_IFMT
    vfs = k.vfs
    if kind == S_IFCHR:
        vfs.mknod(proc, path, mode & 0o7777, rdev)
        return
    dloc, full = vfs._new_name(proc, path)
    fs = vfs._check_dir_write(proc, dloc, path)
    if kind == 0o060000 and "CAP_MKNOD" not in proc.caps:
        raise oserror(EPERM, path)
    if kind not in (0, S_IFREG):
        raise oserror(errno.EOPNOTSUPP, path)
    fs.write(full, b"", append=True, mode=mode & ~proc.umask & 0o7777)
    vfs._own(proc, fs, full)
