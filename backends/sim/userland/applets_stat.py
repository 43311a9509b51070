"""stat, after busybox 1.35's coreutils/stat.c: print_it's walk over the
format (each ``%`` directive with its printf flags, width and precision),
the default and terse formats for files and (``-f``) filesystems.

The simulated inode keeps one time: access, modification and change times
are all its mtime; fractions of seconds are the kernel clock's.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .cprintf import cformat
from .libc import FullStat, complain, full_stat, id_to_name, mode_string, out, parse_options, strerror

Gen = Generator[Any, Any, Any]

_FS_TYPES = {
    0xADFF: "affs", 0x1CD1: "devpts", 0x137D: "ext", 0xEF51: "ext2", 0xEF53: "ext2/ext3", 0x3153464A: "jfs",
    0x58465342: "xfs", 0xF995E849: "hpfs", 0x9660: "isofs", 0x4000: "isofs", 0x4004: "isofs", 0x137F: "minix",
    0x138F: "minix (30 char.)", 0x2468: "minix v2", 0x2478: "minix v2 (30 char.)", 0x4D44: "msdos", 0x4006: "fat",
    0x564C: "novell", 0x6969: "nfs", 0x9FA0: "proc", 0x517B: "smb", 0x012FF7B4: "xenix", 0x012FF7B5: "sysv4",
    0x012FF7B6: "sysv2", 0x012FF7B7: "coh", 0x00011954: "ufs", 0x012FD16D: "xia", 0x5346544E: "ntfs",
    0x1021994: "tmpfs", 0x52654973: "reiserfs", 0x28CD3D45: "cramfs", 0x7275: "romfs", 0x858458F6: "ramfs",
    0x73717368: "squashfs", 0x62656572: "sysfs",
}  # fmt: skip

_FILE_FORMAT = (
    "  File: %N\n"
    "  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n"
    "Device: %Dh/%dd\tInode: %-10i  Links: %h\n"
    "Access: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\n"
    "Access: %x\nModify: %y\nChange: %z"
)
_DEVICE_FORMAT = (
    "  File: %N\n"
    "  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n"
    "Device: %Dh/%dd\tInode: %-10i  Links: %-5h Device type: %t,%T\n"
    "Access: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\n"
    "Access: %x\nModify: %y\nChange: %z"
)
_TERSE = "%n %s %b %f %u %g %D %i %h %t %T %X %Y %Z %o"
_FS_FORMAT = (
    '  File: "%n"\n'
    "    ID: %-8i Namelen: %-7l Type: %T\n"
    "Block size: %-10s\n"
    "Blocks: Total: %-10b Free: %-10f Available: %a\n"
    "Inodes: Total: %-10c Free: %d"
)
_FS_TERSE = "%n %i %l %t %s %b %f %a %c %d"


def file_type(st: FullStat) -> str:
    if st.kind == "file" and not st.is_device:
        return "regular empty file" if st.size == 0 else "regular file"
    if st.kind == "dir":
        return "directory"
    if st.is_device:
        return "character special file"
    if st.kind == "symlink":
        return "symbolic link"
    if st.kind == "socket":
        return "socket"
    return "weird file"


def major(dev: int) -> int:
    return (dev >> 8) & 0xFFF | (dev >> 32) & ~0xFFF


def minor(dev: int) -> int:
    return dev & 0xFF | (dev >> 12) & ~0xFF


def _human_time(zone: Any, t: float) -> str:
    secs = int(t // 1)
    nsec = int(round((t - secs) * 1e9))
    if nsec >= 1_000_000_000:
        secs, nsec = secs + 1, 0
    tm = timefmt.localtime(zone, secs)
    return timefmt.strftime(f"%Y-%m-%d %H:%M:%S.{nsec:09d} %z", tm, secs)


def print_it(fmt: str, conv: Any) -> str:
    """print_it: literal text, ``%%``, and ``%<flags>X`` handed to ``conv``
    (which returns the text printf would make); puts() adds the newline."""
    result, i = [], 0
    while True:
        p = fmt.find("%", i)
        if p < 0:
            result.append(fmt[i:] + "\n")
            return "".join(result)
        m = re.compile(r"%[#\-+.I 0-9]*").match(fmt, p)
        assert m is not None
        result.append(fmt[i:p])
        spec = m.group()
        ch = fmt[m.end() : m.end() + 1]
        if ch == "":
            result.append("%")
            return "".join(result)
        if ch == "%":
            result.append("%")
        else:
            result.append(conv(spec.replace("I", ""), ch))
        i = m.end() + 1


def _fmt(spec: str, conv: str, value: Any) -> str:
    try:
        return cformat(spec + conv, value)
    except ValueError:
        return ""


class _Stat:
    def __init__(self, path: str, st: FullStat, user: str, group: str, link: str | None, zone: Any) -> None:
        self.path, self.st, self.user, self.group, self.link, self.zone = path, st, user, group, link, zone

    def __call__(self, spec: str, m: str) -> str:
        st = self.st
        if m == "n":
            return _fmt(spec, "s", self.path)
        if m == "N":
            if st.kind == "symlink":
                return f"'{self.path}' -> '{self.link}'" if self.link is not None else ""
            return _fmt(spec, "s", self.path)
        ints = {
            "d": ("u", st.dev), "D": ("x", st.dev), "i": ("u", st.ino),
            "a": ("o", st.st_mode & 0o7777), "f": ("x", st.st_mode), "h": ("u", st.nlink),
            "u": ("u", st.uid), "g": ("u", st.gid), "t": ("x", major(st.rdev)), "T": ("x", minor(st.rdev)),
            "s": ("u", st.size), "B": ("u", 512), "b": ("u", st.blocks), "o": ("u", 4096),
            "X": ("d", int(st.mtime // 1)), "Y": ("d", int(st.mtime // 1)), "Z": ("d", int(st.mtime // 1)),
        }  # fmt: skip
        if m in ints:
            c, v = ints[m]
            return _fmt(spec, c, v)
        if m == "A":
            return _fmt(spec, "s", mode_string(st.st_mode))
        if m == "F":
            return _fmt(spec, "s", file_type(st))
        if m == "U":
            return _fmt(spec, "s", self.user)
        if m == "G":
            return _fmt(spec, "s", self.group)
        if m in "xyz":
            return _fmt(spec, "s", _human_time(self.zone, st.mtime))
        return _fmt(spec, "c", m)


class _StatFs:
    def __init__(self, path: str, fs: Any) -> None:
        self.path, self.fs = path, fs

    def __call__(self, spec: str, m: str) -> str:
        fs = self.fs
        if m == "n":
            return _fmt(spec, "s", self.path)
        if m == "T":
            return _fmt(spec, "s", _FS_TYPES.get(fs.type, "UNKNOWN"))
        ints = {
            "i": ("x", 0), "l": ("u", 255), "t": ("x", fs.type), "b": ("u", fs.blocks), "f": ("u", fs.bfree),
            "a": ("u", fs.bavail), "s": ("u", fs.bsize), "S": ("u", fs.bsize), "c": ("u", fs.files),
            "d": ("u", fs.ffree),
        }  # fmt: skip
        if m in ints:
            c, v = ints[m]
            return _fmt(spec, c, v)
        return _fmt(spec, "c", m)


@applet("stat")
def stat_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "stat", "tLfc:", need_operands=True)
    if opts is None:
        return 1
    fmt = opts.value("c")
    zone = None
    status = 0
    for path in opts.operands:
        if "f" in opts:
            try:
                fs = sys.statfs(path)
            except OSError as e:
                yield from complain(
                    sys, "stat", f"can't read file system information for '{path}': {strerror(e)}"
                )
                status = 1
                continue
            text = print_it(
                fmt if fmt is not None else (_FS_TERSE if "t" in opts else _FS_FORMAT), _StatFs(path, fs)
            )
            yield from out(sys, text)
            continue
        try:
            st = full_stat(sys, path, "L" in opts)
        except OSError as e:
            yield from complain(sys, "stat", f"can't stat '{path}': {strerror(e)}")
            status = 1
            continue
        if zone is None:
            zone = yield from timefmt.load_zone(sys)
        user = (yield from id_to_name(sys, "/etc/passwd", st.uid)) or "UNKNOWN"
        group = (yield from id_to_name(sys, "/etc/group", st.gid)) or "UNKNOWN"
        link = None
        if st.kind == "symlink":
            try:
                link = sys.readlink(path)
            except OSError:
                link = None
        if fmt is None:
            fmt_used = _TERSE if "t" in opts else (_DEVICE_FORMAT if st.is_device else _FILE_FORMAT)
        else:
            fmt_used = fmt
        yield from out(sys, print_it(fmt_used, _Stat(path, st, user, group, link, zone)))
    return status
