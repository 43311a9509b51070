"""rpm2cpio and rpm -- after busybox 1.35's archival/rpm.c.

A .rpm is a 96-byte lead, the signature header (its store padded to 8
bytes), the main header, then the compressed cpio payload.  The tags of
both headers go into one list (the signature's numbered 743 lower) that
busybox looks up with bsearch(3) -- glibc's bisection over a list that
is not necessarily sorted, with busybox's int subtraction as comparison;
that lookup is kept as is, so a package whose tags are out of order
shows what busybox shows.

``rpm2cpio [PACKAGE.rpm]`` (stdin without one) writes the payload
decompressed (gzip, bzip2, xz by their magic; lzma when the
PAYLOADCOMPRESSOR tag says so); ``rpm -qp`` prints name-version-release,
``-qpi`` the information block, ``-qpl``/``-qpd``/``-qpc`` the file
list (all, docs, config files); ``rpm -i`` installs (see _install).
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from . import compression, timefmt
from .applet_table import applet
from .applets_cpio import Extractor
from .libc import BufferedOutput, Die, complain, dies, name_to_id, read_all, show_usage, strerror, write_all

Gen = Generator[Any, Any, Any]
HEADER_MAGIC = 0x8EADE801
STRING, STRING_ARRAY, I18NSTRING = 6, 8, 9
INT8, INT16, INT32 = 2, 3, 4
TAG = {
    "NAME": 1000, "VERSION": 1001, "RELEASE": 1002, "SUMMARY": 1004, "DESCRIPTION": 1005,
    "BUILDTIME": 1006, "BUILDHOST": 1007, "SIZE": 1009, "VENDOR": 1011, "LICENSE": 1014,
    "GROUP": 1016, "URL": 1020, "FILEFLAGS": 1037, "FILEUSERNAME": 1039, "FILEGROUPNAME": 1040, "SOURCERPM": 1044, "PREFIXS": 1098,
    "DIRINDEXES": 1116, "BASENAMES": 1117, "DIRNAMES": 1118, "PAYLOADCOMPRESSOR": 1125,
}  # fmt: skip
RPMFILE_CONFIG, RPMFILE_DOC = 1, 2


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class Package:
    """rpm_gettags: the tag index of both headers and the file's bytes
    (offsets are into the file, as busybox's mmap)."""

    def __init__(self, data: bytes, filename: str) -> None:
        self.data = data
        pos = 96
        if len(data) < pos:
            raise Die("short read")  # busybox's xlseek passes, the xread then fails
        self.tags: list[tuple[int, int, int, int]] = []  # tag, type, offset, count
        for sig in (True, False):
            head = data[pos : pos + 16]
            if len(head) < 16:
                raise Die("short read")
            magic, _reserved, entries, size = struct.unpack(">IIII", head)
            if magic != HEADER_MAGIC:
                raise Die(f"invalid RPM header magic in '{filename}'")
            index = data[pos + 16 : pos + 16 + 16 * entries]
            if len(index) < 16 * entries:
                raise Die("short read")
            store = pos + 16 + 16 * entries
            for k in range(entries):
                tag, typ, offset, count = struct.unpack(">IIII", index[16 * k : 16 * k + 16])
                if sig:
                    tag = (tag - 743) & 0xFFFFFFFF
                self.tags.append((tag, typ, (store + offset) & 0xFFFFFFFF, count))
            if sig:
                size = (size + 7) & ~7
            pos = store + size
        self.payload_offset = pos

    def find(self, tag: int) -> tuple[int, int, int, int] | None:
        """glibc's bsearch with busybox's ``*key - item->tag``."""
        lo, hi = 0, len(self.tags)
        while lo < hi:
            mid = (lo + hi) // 2
            cmp = _s32(tag - self.tags[mid][0])
            if cmp < 0:
                hi = mid
            elif cmp > 0:
                lo = mid + 1
            else:
                return self.tags[mid]
        return None

    def getstr(self, name: str, item: int = 0) -> bytes | None:
        found = self.find(TAG[name])
        if not found or not 0 <= item < found[3] or found[1] not in (STRING, I18NSTRING, STRING_ARRAY):
            return None
        pos = found[2]
        for _ in range(item):
            pos = self.data.index(b"\0", pos) + 1
        end = self.data.find(b"\0", pos)
        return self.data[pos : end if end >= 0 else len(self.data)]

    def getint(self, name: str, item: int = 0) -> int:
        found = self.find(TAG[name])
        if not found or not 0 <= item < found[3]:  # unsigned comparison in C
            return -1
        pos = found[2]
        width = {INT32: 4, INT16: 2, INT8: 1}.get(found[1])
        if width is None:
            return -1
        raw = self.data[pos + item * width : pos + item * width + width].rjust(width, b"\0")
        return int.from_bytes(raw, "big", signed=True)

    def count(self, name: str) -> int:
        found = self.find(TAG[name])
        return found[3] if found else 0

    def payload(self) -> bytes:
        """setup_unzip_on_fd(fd, fail_if_not_compressed=1), or lzma."""
        body = self.data[self.payload_offset :]
        if self.getstr("PAYLOADCOMPRESSOR") == b"lzma":
            kind = "lzma"
        else:
            if len(body) < 2:
                raise Die("short read")
            if body[:2] == b"\x1f\x8b":
                kind = "gz"
            elif body[:2] == b"\x1f\x9d":
                kind = "Z"
            elif body[:2] == b"BZ":
                kind = "bz2"
            elif body[:2] == b"\xfd7":
                if len(body) < 6:
                    raise Die("short read")
                if body[:6] != b"\xfd7zXZ\0":
                    raise Die("no gzip/bzip2/xz magic")
                kind = "xz"
            else:
                raise Die("no gzip/bzip2/xz magic")
        try:
            return compression.decompress(kind, body)
        except compression.DecodeError as e:
            raise Die(e.message) from None


def _load(sys: Sys, path: str | None) -> Gen:
    if path is None:
        fd, name = 0, "standard output"  # busybox's bb_msg_standard_output
    else:
        try:
            fd = sys.open(path, O_RDONLY, 0)
        except OSError as e:
            raise Die(f"can't open '{path}': {strerror(e)}") from None
        name = path
    try:
        data = yield from read_all(sys, fd)
    except OSError:
        raise Die("short read") from None
    finally:
        if fd != 0:
            sys.close(fd)
    return Package(data, name)


@applet("rpm2cpio")
@dies("rpm2cpio")
def rpm2cpio_main(sys: Sys) -> Gen:
    pkg = yield from _load(sys, sys.argv[1] if len(sys.argv) > 1 else None)
    yield from write_all(sys, 1, pkg.payload())
    return 0


def _file_names(pkg: Package) -> list[tuple[int, str]]:
    """loop_through_files: DIRNAME[DIRINDEX] + BASENAME for each file."""
    names = []
    count = 0
    while pkg.getstr("BASENAMES", count) is not None:
        directory = pkg.getstr("DIRNAMES", pkg.getint("DIRINDEXES", count))
        names.append((count, _text(directory) + _text(pkg.getstr("BASENAMES", count))))
        count += 1
    return names


def _install(sys: Sys, pkg: Package) -> Gen:
    """rpm -i: config files already there kept as NAME.rpmorig, the
    payload extracted (into / for a binary package, which names its
    source rpm; else here) with leading directories, mtimes, and files
    replaced by rename; then each file chowned by its user/group name."""
    for item, name in _file_names(pkg):
        if pkg.getint("FILEFLAGS", item) & RPMFILE_CONFIG:
            try:
                st = sys.lstat(name)
            except OSError:
                continue
            if st.kind == "file":
                yield from _backup(sys, name)
    if pkg.getstr("SOURCERPM") is not None:
        try:
            sys.chdir("/")
        except OSError as e:
            raise Die(f"can't change directory to '/': {strerror(e)}") from None
    ex = Extractor(sys, {"i", "d", "m", "\xfd"}, [], (-1, -1))
    ex.prog = "rpm"
    try:
        yield from ex.run(pkg.payload())
        ex.links()
    finally:
        yield from ex.out.flush()
    for item, name in _file_names(pkg):
        user, group = pkg.getstr("FILEUSERNAME", item), pkg.getstr("FILEGROUPNAME", item)
        uid = (yield from name_to_id(sys, "/etc/passwd", _text(user))) if user is not None else None
        gid = (yield from name_to_id(sys, "/etc/group", _text(group))) if group is not None else None
        try:
            sys.chown(name, sys.getuid() if uid is None else uid, sys.getgid() if gid is None else gid)
        except OSError:
            pass


def _backup(sys: Sys, name: str) -> Gen:
    """copy_file(NAME, NAME.rpmorig, preserving status), then remove NAME."""
    st = sys.lstat(name)
    fd = sys.open(name, O_RDONLY, 0)
    try:
        data = yield from read_all(sys, fd)
    finally:
        sys.close(fd)
    backup = name + ".rpmorig"
    out = sys.open(backup, O_WRONLY | O_CREAT | O_TRUNC, st.mode & 0o7777)
    yield from write_all(sys, out, data)
    sys.close(out)
    for call in (
        lambda: sys.chown(backup, st.uid, st.gid),
        lambda: sys.chmod(backup, st.mode),
        lambda: sys.set_mtime(backup, st.mtime),
    ):
        try:
            call()
        except OSError:
            pass
    sys.unlink(name)


def _text(value: bytes | None) -> str:
    return "(null)" if value is None else value.decode("utf-8", "surrogateescape")


@applet("rpm")
@dies("rpm")
def rpm_main(sys: Sys) -> Gen:
    func: set[str] = set()
    args = sys.argv[1:]
    k = 0
    while k < len(args):  # glibc getopt, permuting
        arg = args[k]
        if arg == "--":
            args = args[:k] + args[k + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            k += 1
            continue
        args = args[:k] + args[k + 1 :]
        for ch in arg[1:]:
            if ch == "i":
                func.add("install" if not func else "info")
            elif ch == "q":
                if func:
                    yield from show_usage(sys, "rpm")
                    raise Die(None)
                func = {"query"}
            elif ch == "p":
                func.add("package")
            elif ch in "ldc":
                func.add("list")
                if ch != "l":
                    func.add(ch)
            else:
                yield from complain(sys, "rpm", f"invalid option -- '{ch}'")
                yield from show_usage(sys, "rpm")
                raise Die(None)
    if not args:
        yield from show_usage(sys, "rpm")
        raise Die(None)
    out = BufferedOutput(sys, 1)
    zone = None
    try:
        for path in args:
            pkg = yield from _load(sys, path)
            if "install" in func:
                yield from out.flush()
                yield from _install(sys, pkg)
                continue
            if not {"query", "package"} <= func:
                yield from out.flush()
                yield from show_usage(sys, "rpm")
                raise Die(None)
            if not func & {"info", "list"}:
                out.write(
                    f"{_text(pkg.getstr('NAME'))}-{_text(pkg.getstr('VERSION'))}-{_text(pkg.getstr('RELEASE'))}\n"
                )
            if "info" in func:
                if zone is None:
                    zone = yield from timefmt.load_zone(sys)
                source = pkg.getstr("SOURCERPM")
                built = timefmt.localtime(zone, _s32(pkg.getint("BUILDTIME")))
                lines = [
                    ("Name", _text(pkg.getstr("NAME"))),
                    ("Version", _text(pkg.getstr("VERSION"))),
                    ("Release", _text(pkg.getstr("RELEASE"))),
                    ("Group", _text(pkg.getstr("GROUP"))),
                    ("Size", str(pkg.getint("SIZE"))),
                    ("License", _text(pkg.getstr("LICENSE"))),
                    ("Source RPM", _text(source) if source is not None else "(none)"),
                    ("Build Date", timefmt.strftime("%a %d %b %Y %T %Z", built)),
                    ("Build Host", _text(pkg.getstr("BUILDHOST"))),
                    ("Relocations", _text(pkg.getstr("PREFIXS")) if pkg.getstr("PREFIXS") is not None else "(not relocatable)"),
                ]  # fmt: skip
                for label in ("VENDOR", "URL"):
                    value = pkg.getstr(label)
                    if value is not None:
                        lines.append((label.capitalize() if label == "VENDOR" else "URL", _text(value)))
                lines.append(("Summary", _text(pkg.getstr("SUMMARY"))))
                for label, value in lines:
                    out.write(f"{label:<12s}: {value}\n")
                out.write(f"Description :\n{_text(pkg.getstr('DESCRIPTION'))}\n")
            if "list" in func:
                for item in range(pkg.count("BASENAMES")):
                    flags = pkg.getint("FILEFLAGS", item)
                    wanted = {"d": RPMFILE_DOC, "c": RPMFILE_CONFIG}
                    mask = sum(v for key, v in wanted.items() if key in func)
                    if mask and not flags & mask:
                        continue
                    directory = pkg.getstr("DIRNAMES", pkg.getint("DIRINDEXES", item))
                    out.write(f"{_text(directory)}{_text(pkg.getstr('BASENAMES', item))}\n")
    finally:
        yield from out.flush()
    return 0
