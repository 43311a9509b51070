"""ctypes bindings for the system calls Python's ``os`` module does not offer.

Python 3.11 has no ``os.unshare``/``os.setns`` (3.12 added them), and no
version wraps ``mount``, ``pivot_root``, ``sethostname``, ``prctl``,
``capset`` or ``openat2``.  They are all thin wrappers around one system call,
so we call glibc (or the raw ``syscall(2)`` entry when glibc has no wrapper).

Every function raises :class:`OSError` with the kernel's errno on failure,
exactly like the ``os`` module does, so callers can write
``except OSError as e: if e.errno == errno.EBUSY``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
from typing import NoReturn

from stepbox.core.kernel.capabilities import CAPABILITIES


class _NoLibc:
    """Not a glibc/musl system: the module imports, but every call fails."""

    def __getattr__(self, name: str) -> NoReturn:
        raise OSError(38, f"{name}: no C library with Linux syscalls on this system")


def _load_libc() -> ctypes.CDLL | _NoLibc:
    # glibc's soname first: ctypes.util.find_library runs `ldconfig -p` (a
    # fork and exec, milliseconds each time this module is imported -- in
    # every stepbox-runc command); it is only the fallback (musl: libc.so).
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        pass
    from ctypes.util import find_library

    try:
        return ctypes.CDLL(find_library("c") or "libc.so", use_errno=True)
    except OSError:
        return _NoLibc()


_libc: ctypes.CDLL | _NoLibc = _load_libc()

# -- flags (values from <linux/sched.h>, <sys/mount.h>, <linux/prctl.h>) -----

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

CLONE_FLAG_NAMES = {
    CLONE_NEWNS: "CLONE_NEWNS",
    CLONE_NEWCGROUP: "CLONE_NEWCGROUP",
    CLONE_NEWUTS: "CLONE_NEWUTS",
    CLONE_NEWIPC: "CLONE_NEWIPC",
    CLONE_NEWUSER: "CLONE_NEWUSER",
    CLONE_NEWPID: "CLONE_NEWPID",
    CLONE_NEWNET: "CLONE_NEWNET",
}
CLONE_FLAG_BY_NAME = {v: k for k, v in CLONE_FLAG_NAMES.items()}

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

MOUNT_FLAG_NAMES = [
    (MS_RDONLY, "MS_RDONLY"),
    (MS_NOSUID, "MS_NOSUID"),
    (MS_NODEV, "MS_NODEV"),
    (MS_NOEXEC, "MS_NOEXEC"),
    (MS_SYNCHRONOUS, "MS_SYNCHRONOUS"),
    (MS_REMOUNT, "MS_REMOUNT"),
    (MS_NOATIME, "MS_NOATIME"),
    (MS_NODIRATIME, "MS_NODIRATIME"),
    (MS_BIND, "MS_BIND"),
    (MS_MOVE, "MS_MOVE"),
    (MS_REC, "MS_REC"),
    (MS_SILENT, "MS_SILENT"),
    (MS_UNBINDABLE, "MS_UNBINDABLE"),
    (MS_PRIVATE, "MS_PRIVATE"),
    (MS_SLAVE, "MS_SLAVE"),
    (MS_SHARED, "MS_SHARED"),
    (MS_RELATIME, "MS_RELATIME"),
    (MS_STRICTATIME, "MS_STRICTATIME"),
]

MNT_FORCE = 1
MNT_DETACH = 2

# mount_setattr(2) (Linux 5.12), <linux/mount.h> and <fcntl.h>
MOUNT_ATTR_RDONLY = 0x1
AT_RECURSIVE = 0x8000
AT_EMPTY_PATH = 0x1000

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# openat2(2) "resolve" flags
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10

_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Raw syscall numbers for the calls glibc does not wrap.
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "openat2": 437, "mount_setattr": 442},
    "aarch64": {"pivot_root": 41, "openat2": 437, "mount_setattr": 442},
}


def flag_names(flags: int, table) -> str:
    """``MS_BIND|MS_REC`` for a flag word, the way strace prints it."""
    names = [name for bit, name in table if flags & bit]
    rest = flags & ~sum(bit for bit, _ in table)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0"


def clone_flag_names(flags: int) -> str:
    return flag_names(flags, sorted(CLONE_FLAG_NAMES.items()))


def mount_flag_names(flags: int) -> str:
    return flag_names(flags, MOUNT_FLAG_NAMES)


def _check(result: int, what: str, *paths: str | None) -> int:
    if result == -1:
        err = ctypes.get_errno()
        filenames = [p for p in paths if p is not None][:2]
        raise OSError(err, f"{what}: {os.strerror(err)}", *filenames)
    return result


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def _syscall_number(name: str) -> int:
    machine = platform.machine()
    try:
        return _SYSCALLS[machine][name]
    except KeyError:
        raise OSError(38, f"{name}: no syscall number known for {machine}") from None


# -- namespaces ---------------------------------------------------------------


def unshare(flags: int) -> None:
    """unshare(2): move the caller into new namespaces (CLONE_NEWPID only
    affects the children it forks afterwards)."""
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
        return
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2): join the namespace that ``fd`` (an open /proc/PID/ns/* file)
    refers to."""
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, nstype)
        return
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def sethostname(name: str) -> None:
    data = name.encode()
    _check(_libc.sethostname(data, ctypes.c_size_t(len(data))), "sethostname")


# -- mounts -------------------------------------------------------------------


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), "mount", target)


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), ctypes.c_int(flags)), "umount2", target)


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2) has no glibc wrapper: call it by number."""
    nr = _syscall_number("pivot_root")
    _check(_libc.syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)), "pivot_root", new_root)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def mount_setattr(dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int = 0) -> None:
    """mount_setattr(2) (Linux 5.12): change the flags of a mount -- with
    ``AT_RECURSIVE`` of every mount below it too, which the old
    ``MS_REMOUNT`` cannot do (it changes one mount at a time)."""
    attr = _MountAttr(attr_set, attr_clr, 0, 0)
    nr = _syscall_number("mount_setattr")
    _check(
        _libc.syscall(
            ctypes.c_long(nr),
            ctypes.c_int(dirfd),
            _b(path),
            ctypes.c_uint(flags),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        ),
        "mount_setattr",
        path,
    )


def has_mount_setattr() -> bool:
    """Does this kernel have mount_setattr(2)?  (Asked with a bad fd: a
    kernel that has it says EBADF, one that does not ENOSYS.)"""
    try:
        mount_setattr(-1, "", AT_EMPTY_PATH, 0)
    except OSError as e:
        return e.errno != 38  # ENOSYS
    return True


# -- process attributes ---------------------------------------------------------


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(
        _libc.prctl(
            ctypes.c_int(option),
            ctypes.c_ulong(arg2),
            ctypes.c_ulong(arg3),
            ctypes.c_ulong(arg4),
            ctypes.c_ulong(arg5),
        ),
        "prctl",
    )


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def capget(pid: int = 0) -> tuple[int, int, int]:
    """(effective, permitted, inheritable) as 64-bit masks."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data), "capget")
    join = lambda field: getattr(data[0], field) | (getattr(data[1], field) << 32)  # noqa: E731
    return join("effective"), join("permitted"), join("inheritable")


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """capset(2) with the version-3 header: two 32-bit words per set."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc.capset(ctypes.byref(header), data), "capset")


# -- openat2 --------------------------------------------------------------------


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    """openat2(2) (Linux 5.6): open with *resolve* restrictions.  With
    ``RESOLVE_IN_ROOT`` the kernel resolves ``path`` as if ``dirfd`` were
    the root directory: ``..`` stops there and absolute symlinks start
    there, so nothing can lead outside -- what a container engine needs
    when it touches files inside an untrusted root filesystem."""
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    nr = _syscall_number("openat2")
    # A ``..`` resolved while any rename or mount happens anywhere on the machine
    # fails with EAGAIN: the kernel cannot then prove the walk stayed inside, and
    # openat2(2) asks the caller to retry.  On a busy host (containers starting,
    # mounting) that is not rare.
    for _ in range(_OPENAT2_TRIES):
        result = _libc.syscall(
            ctypes.c_long(nr),
            ctypes.c_int(dirfd),
            _b(path),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
        if result != -1 or ctypes.get_errno() != errno.EAGAIN:
            break
    return _check(result, "openat2", path)


_OPENAT2_TRIES = 100  # after that, the EAGAIN is said (an attack keeps renaming)


# -- capabilities ------------------------------------------------------------------


def last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(CAPABILITIES) - 1  # the ones stepbox knows of


# <asm-generic/resource.h>: setrlimit(2)'s resource numbers by docker's names
# (Python's resource module lacks some, RLIMIT_LOCKS among them).
RLIMIT_NUMBERS = {
    "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7,
    "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13,
    "rtprio": 14, "rttime": 15,
}  # fmt: skip
