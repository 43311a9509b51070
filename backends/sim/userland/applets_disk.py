"""du and df, after busybox 1.35's coreutils/du.c and df.c.

du walks with lstat in directory order, counts st_blocks (``-b``: sizes)
once per hard-linked inode, prints in 1K units (``-h``, ``-m``, ``-k``,
``-b``) with coreutils' rounding up; df reads /proc/mounts, statfs(2)s
each mount point and prints busybox's columns.  The simulator's disk
behind every overlay is a made-up one (see SIMPLIFICATIONS.md), so df's
numbers are its own.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    UsageError,
    complain,
    dies,
    full_stat,
    getopt,
    human_readable,
    read_text,
    show_usage,
    strerror,
    xatou,
)

Gen = Generator[Any, Any, Any]


def _ordered(argv: list[str], groups: dict[str, str], with_value: str = "") -> list[str]:
    """The option letters in the order given (getopt32's "x-y" rules are
    applied in that order)."""
    seen = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            continue
        for j, ch in enumerate(arg[1:], 1):
            seen.append(ch)
            if ch in with_value:
                if j == len(arg) - 1:
                    i += 1
                break
    return seen


def _apply_rules(seen: list[str], off: dict[str, str]) -> set[str]:
    flags: set[str] = set()
    for ch in seen:
        flags.add(ch)
        flags.difference_update(off.get(ch, ""))
    return flags


# -- du ------------------------------------------------------------------------------------

_DU_OFF = {"h": "km", "k": "hm", "m": "hk", "H": "L", "L": "H", "s": "d", "d": "s"}


class _Du:
    def __init__(self, sys: Sys, flags: set[str], unit: int, max_depth: int, slink_depth: int) -> None:
        self.sys, self.flags, self.unit = sys, flags, unit
        self.max_depth, self.slink_depth = max_depth, slink_depth
        self.depth = 0
        self.status = 0
        self.seen: set[tuple[int, int]] = set()
        self.dir_dev = 0
        self.out = BufferedOutput(sys, 1)

    def print(self, size: int, name: str) -> Gen:
        if self.unit:
            size += (self.unit - 1) // 1024
        text = human_readable(size, 1 if "b" in self.flags else 512, self.unit)
        self.out.write(f"{text}\t{name}\n".encode("utf-8", "surrogateescape"))
        yield from self.out.drain()

    def du(self, name: str) -> Gen:
        try:
            st = full_stat(self.sys, name, follow=False)
        except OSError as e:
            yield from self.out.flush()
            yield from complain(self.sys, "du", f"{name}: {strerror(e)}")
            self.status = 1
            return 0
        if "x" in self.flags:
            if self.depth == 0:
                self.dir_dev = st.dev
            elif st.dev != self.dir_dev:
                return 0
        total = st.size if "b" in self.flags else st.blocks
        if st.kind == "symlink" and self.slink_depth > self.depth:
            try:
                st = full_stat(self.sys, name)
            except OSError as e:
                yield from self.out.flush()
                yield from complain(self.sys, "du", f"{name}: {strerror(e)}")
                self.status = 1
                return 0
            total = st.size if "b" in self.flags else st.blocks
            if self.slink_depth == 1:
                self.slink_depth = 1 << 30
        if "l" not in self.flags and st.nlink > 1:
            key = (st.dev, st.ino)
            if key in self.seen:
                return 0
            self.seen.add(key)
        if st.kind == "dir":
            try:
                entries = self.sys.listdir(name)
            except OSError as e:
                yield from self.out.flush()
                yield from complain(self.sys, "du", f"can't open '{name}': {strerror(e)}")
                self.status = 1
                return total
            for entry in entries:
                if entry in (".", ".."):
                    continue
                self.depth += 1
                total += yield from self.du(
                    name.rstrip("/") + "/" + entry if name.rstrip("/") else "/" + entry
                )
                self.depth -= 1
        elif "a" not in self.flags and self.depth != 0:
            return total
        if self.depth <= self.max_depth:
            yield from self.print(total, name)
        return total


@applet("du")
@dies("du")
def du_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "aHkLsxd:lcbhm")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "du", e.message)
        yield from show_usage(sys, "du")
        return 1
    flags = _apply_rules(_ordered(sys.argv[1:], _DU_OFF, "d"), _DU_OFF)
    max_depth = 1 << 30
    if "d" in flags:
        max_depth = xatou(opts.value("d") or "", 0, 2**31 - 1)
    unit = 512 if "POSIXLY_CORRECT" in sys.env else 1024
    if "b" in flags:
        unit = 1
    if "h" in flags:
        unit = 0
    if "m" in flags:
        unit = 1024 * 1024
    if "k" in flags:
        unit = 1024
    slink_depth = 0
    if "H" in flags:
        slink_depth = 1
    if "L" in flags:
        slink_depth = 1 << 30
    if "s" in flags:
        max_depth = 0
    operands = opts.operands
    if not operands:
        operands = ["."]
        if slink_depth == 1:
            slink_depth = 0
    du = _Du(sys, flags, unit, max_depth, slink_depth)
    total = 0
    for name in operands:
        total += yield from du.du(name)
        du.slink_depth = slink_depth
    if "c" in flags:
        yield from du.print(total, "total")
    yield from du.out.flush()
    return du.status


# -- df ------------------------------------------------------------------------------------

_KMG = {"KiB": 1024, "kiB": 1024, "K": 1024, "k": 1024, "MiB": 1 << 20, "miB": 1 << 20, "M": 1 << 20,
        "m": 1 << 20, "GiB": 1 << 30, "giB": 1 << 30, "G": 1 << 30, "g": 1 << 30}  # fmt: skip


def _unescape(field: str) -> str:
    """getmntent's octal escapes (\\040 for a space...)."""
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def read_mounts(sys: Sys) -> Gen:
    """/proc/mounts as getmntent gives it: (fsname, dir, type) a line."""
    text = yield from read_text(sys, "/proc/mounts")
    table = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.lstrip().startswith("#"):
            table.append((_unescape(fields[0]), _unescape(fields[1]), _unescape(fields[2])))
    return table


def _find_mount_point(sys: Sys, name: str, table: list[tuple[str, str, str]]) -> tuple[str, str, str] | None:
    try:
        st = full_stat(sys, name)
    except OSError:
        return None
    devno = st.rdev if st.is_device else st.dev
    for entry in table:
        fsname, mnt_dir, _type = entry
        if fsname == "rootfs":
            continue
        if name in (mnt_dir, fsname):
            return entry
        if fsname.startswith("/"):
            try:
                if full_stat(sys, fsname).rdev == devno:
                    return entry
            except OSError:
                pass
        try:
            if full_stat(sys, mnt_dir).dev == devno:
                return entry
        except OSError:
            pass
    return None


@applet("df")
@dies("df")
def df_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "kPTt:aiB:hHm")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "df", e.message)
        yield from show_usage(sys, "df")
        return 1
    flags = _apply_rules(_ordered(sys.argv[1:], {}, "tB"), {"k": "mB", "m": "Bk", "B": "km"})
    disp = 512 if "POSIXLY_CORRECT" in sys.env else 1024
    if "m" in flags:
        disp = 1 << 20
    if "B" in flags:
        b = opts.value("B") or ""
        disp = _KMG[b] if b in _KMG else xatou(b, 1, 2**64 - 1, _KMG)
    header = None
    if "h" in flags or "H" in flags:
        disp = 0
        header = "     Size"
    if "i" in flags:
        header = "   Inodes"
    if header is None:
        header = human_readable(disp, 0, int("P" in flags)) + "-blocks"
    out = BufferedOutput(sys, 1)
    out.write(
        f"Filesystem           {'Type       ' if 'T' in flags else ''}{header:<15}Used Available "
        f"{'Capacity' if 'P' in flags else 'Use%'} Mounted on\n"
    )
    table = yield from read_mounts(sys)
    status = 0
    entries: list[tuple[str, str, str] | None] = []
    names = list(opts.operands)
    if not names:
        entries = list(table)
    for name in names:
        entry = _find_mount_point(sys, name, table)
        if entry is None:
            yield from out.flush()
            yield from complain(sys, "df", f"{name}: can't find mount point")
            status = 1
            continue
        entries.append(entry)
    for entry in entries:
        assert entry is not None
        device, mount_point, fs_type = entry
        if device == "rootfs":
            continue
        if "t" in flags and fs_type != opts.value("t"):
            continue
        try:
            s = sys.statfs(mount_point)
        except OSError as e:
            yield from out.flush()
            yield from complain(sys, "df", f"{mount_point}: {strerror(e)}")
            status = 1
            continue
        blocks, bfree, bavail, frsize = s.blocks, s.bfree, s.bavail, s.bsize
        unit = disp
        if not (blocks > 0 or names or "a" in flags):
            continue
        if "i" in flags:
            blocks, bfree, bavail, frsize = s.files, s.ffree, s.ffree, 1
            if unit:
                unit = 1
        used = blocks - bfree
        total = used + bavail
        percent = total
        if total:
            while total >= (2**31 - 1) // 101:
                total >>= 1
                used >>= 1
            percent = ((used * 100 + total // 2) & 0xFFFFFFFF) // total
        # the UNICODE_SUPPORT branch: printf("%s%*s", dev, 20 - width, "")
        if len(device) > 20 and "P" not in flags:
            line = device + "\n" + " " * 20
        else:
            line = device + " " * abs(20 - len(device))
        if "T" in flags:
            if len(fs_type) > 10 and "P" not in flags:
                line += " " + fs_type + "\n" + " " * 31
            else:
                line += " " + fs_type + " " * abs(10 - len(fs_type))
        line += f" {human_readable(blocks, frsize, unit):>9} "
        line += f"{human_readable(blocks - bfree, frsize, unit):>9} "
        line += f"{human_readable(bavail, frsize, unit):>9} {percent:3d}% {mount_point}\n"
        out.write(line.encode("utf-8", "surrogateescape"))
    yield from out.flush()
    return status
