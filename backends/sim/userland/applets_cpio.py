"""cpio -- after busybox 1.35's archival/cpio.c with libarchive's
get_header_cpio and data_extract_all: the "newc" format only (070701,
and 070702 read as if it were one), -o reads names from stdin and writes
the archive to stdout (hardlinked files last, their data with the last
name), -i extracts (by default only over older files: "not created:
newer or same age file exists"), -t lists.  Debian's busybox is built
without -p (pass-through): it is an invalid option there too.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from . import timefmt
from .applet_table import applet
from .applets_owners import _owner_spec  # libbb's parse_chown_usergroup_or_die
from .applets_tar import TarDie, _make_dirs
from .fnmatch_c import fnmatch
from .libc import (
    BufferedOutput,
    Die,
    LineReader,
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    mode_string,
    read_all,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
TRAILER = "TRAILER!!!"
S_IFMT, S_IFDIR, S_IFREG, S_IFLNK = 0o170000, 0o040000, 0o100000, 0o120000

_LONGOPTS = {
    "extract": "i",
    "list": "t",
    "create": "o",
    "format": "H",
    "owner": "R",
    "verbose": "v",
    "null": "0",
    "quiet": "\xff",
    "to-stdout": "\xfe",
    "ignore-devno": "\xfd",
    "renumber-inodes": "\xfc",
}


def _pad4(n: int) -> int:
    return -n & 3


# -- -o ----------------------------------------------------------------------------------------


def _header(name: str, fields: list[int]) -> bytes:
    text = "070701" + "".join(f"{v & 0xFFFFFFFF:08X}" for v in fields)
    encoded = name.encode("utf-8", "surrogateescape")
    text_b = text.encode() + f"{len(encoded) + 1:08X}".encode() + b"00000000" + encoded + b"\0"
    return text_b


def create(sys: Sys, flags: set[str], owner: tuple[int, int]) -> Gen:
    """cpio_o: the archive of the names on stdin, to stdout."""
    out = BufferedOutput(sys, 1)
    written = 0
    links: list[dict[str, Any]] = []  # newest inode first, as busybox's list
    next_inode = 0
    reader = LineReader(sys, 0)
    pending = b""

    def emit(data: bytes) -> None:
        nonlocal written
        out.write(data)
        written += len(data)

    def pad() -> None:
        emit(b"\0" * _pad4(written))

    def entry(name: str, st: dict[str, Any]) -> Gen:
        size = st["size"]
        emit(
            _header(
                name,
                [
                    st["ino"], st["mode"], st["uid"], st["gid"], st["nlink"], st["mtime"], size,
                    os.major(st["dev"]), os.minor(st["dev"]), os.major(st["rdev"]), os.minor(st["rdev"]),
                ],
            )
        )  # fmt: skip
        pad()
        if size:
            if st["mode"] & S_IFMT == S_IFLNK:
                try:
                    emit(sys.readlink(name).encode("utf-8", "surrogateescape"))
                except OSError as e:
                    raise Die(f"{name}: {strerror(e)}") from None
            else:
                try:
                    fd = sys.open(name, O_RDONLY)
                except OSError as e:
                    raise Die(f"can't open '{name}': {strerror(e)}") from None
                try:
                    data = yield from read_all(sys, fd)
                finally:
                    close_quietly(sys, fd)
                if len(data) < size:
                    raise Die("short read")
                emit(data[:size])
            pad()
        yield from out.drain()

    while True:
        if "0" in flags:
            while b"\0" not in pending:
                chunk = yield from read_chunk(sys, 0)
                if not chunk:
                    break
                pending += chunk
            if not pending:
                break
            raw, _, pending = pending.partition(b"\0")
        else:
            raw = yield from reader.readline()
            if not raw:
                break
            raw = raw[:-1] if raw.endswith(b"\n") else raw
        name = raw.decode("utf-8", "surrogateescape")
        while name.startswith("./"):  # "./", ".//", "././"...
            name = name[1:].lstrip("/")
        if not name:
            continue
        try:
            info = sys.inode_info(name, follow="L" in flags)
            st_ = sys.stat(name) if "L" in flags else sys.lstat(name)
        except OSError as e:
            yield from out.flush()
            raise Die(f"{name}: {strerror(e)}") from None
        mode = _st_mode(st_)
        st = {
            "ino": info.ino, "mode": mode, "uid": st_.uid, "gid": st_.gid, "nlink": st_.nlink,
            "mtime": int(info.mtime), "size": st_.size, "dev": info.dev, "rdev": info.rdev,
        }  # fmt: skip
        if owner[0] != -1:
            st["uid"] = owner[0]
        if owner[1] != -1:
            st["gid"] = owner[1]
        if mode & S_IFMT not in (S_IFLNK, S_IFREG):
            st["size"] = 0
        if mode & S_IFMT != S_IFDIR and st["nlink"] > 1:
            for link in links:
                if link["st"]["ino"] == st["ino"]:
                    break
            else:
                link = {"st": st, "names": []}
                if "\xfc" in flags:
                    next_inode += 1
                    link["mapped"] = next_inode
                links.insert(0, link)
            link["names"].insert(0, name)
            continue
        if "\xfc" in flags:
            next_inode += 1
            st["ino"] = next_inode
        if "\xfd" in flags:
            st["dev"] = st["rdev"] = 0
        yield from entry(name, st)
    while links:
        link = links[0]
        st = dict(link["st"])
        name = link["names"].pop(0)
        if "mapped" in link:
            st["ino"] = link["mapped"]
        if not link["names"]:
            links.pop(0)  # GNU cpio's way: the data goes with the last name only
        else:
            st["size"] = 0
        if "\xfd" in flags:
            st["dev"] = st["rdev"] = 0
        yield from entry(name, st)
    emit(_header(TRAILER, [0] * 11))
    pad()
    yield from out.flush()
    return 0


def _st_mode(st) -> int:
    kind = st.kind.value
    if kind == "dir":
        bits = S_IFDIR
    elif kind == "symlink":
        bits = S_IFLNK
    elif st.is_device or kind == "chardev":
        bits = 0o020000
    else:
        bits = S_IFREG
    return bits | st.mode


# -- -i, -t ------------------------------------------------------------------------------------


@dataclass
class Member:
    name: str
    ino: int
    mode: int
    uid: int
    gid: int
    nlink: int
    mtime: int
    size: int
    rdev: tuple[int, int]
    link: str | None = None
    data: bytes = b""


class Extractor:
    def __init__(self, sys: Sys, flags: set[str], patterns: list[str], owner: tuple[int, int]) -> None:
        self.sys, self.flags, self.patterns, self.owner = sys, flags, patterns, owner
        self.out = BufferedOutput(sys, 1)
        self.placeholders: list[tuple[bool, str, str]] = []
        self.zone = None
        self.prog = "cpio"  # rpm -i extracts its payload with this code too

    def complain(self, message: str) -> Gen:
        yield from self.out.flush()
        yield from complain(self.sys, self.prog, message)

    def accept(self, name: str) -> bool:
        return not self.patterns or any(fnmatch(p, name) for p in self.patterns)

    def header(self, m: Member) -> Gen:
        if "v" in self.flags and "t" in self.flags:
            if self.zone is None:
                self.zone = yield from timefmt.load_zone(self.sys)
            t = timefmt.localtime(self.zone, m.mtime)
            line = (
                f"{mode_string(m.mode)} {m.uid}/{m.gid} {m.size:9d} "
                f"{t.year:4d}-{t.mon:02d}-{t.mday:02d} {t.hour:02d}:{t.min:02d}:{t.sec:02d} {m.name}"
            )
            if m.link is not None:
                line += f" -> {m.link}"
            self.out.write((line + "\n").encode("utf-8", "surrogateescape"))
        elif "v" in self.flags or "t" in self.flags:
            self.out.write((m.name + "\n").encode("utf-8", "surrogateescape"))

    def extract(self, m: Member) -> Gen:
        """data_extract_all with cpio's flags."""
        sys, flags = self.sys, self.flags
        if "\xfe" in flags:  # --to-stdout
            if m.mode & S_IFMT == S_IFREG:
                yield from self.out.flush()
                yield from write_all(sys, 1, m.data)
            return
        kind = m.mode & S_IFMT
        hard = m.link if kind == S_IFREG and m.size == 0 else None
        name = m.name
        if "d" in flags:
            slash = name.rfind("/")
            if slash >= 0:
                try:
                    yield from _make_dirs(sys, name[:slash])
                except TarDie as e:
                    raise Die(str(e)) from None
        if "u" in flags:
            if kind != S_IFDIR:
                if hard is not None and hard == name:
                    return
                try:
                    sys.unlink(name)
                except OSError as e:
                    if e.errno != errno.ENOENT:
                        raise Die(f"can't remove old file {name}: {strerror(e)}") from None
        elif "\xfd" not in flags:  # not rpm's ARCHIVE_REPLACE_VIA_RENAME: cpio's EXTRACT_NEWER
            try:
                existing = sys.inode_info(name, follow=False)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise Die(f"can't stat old file: {strerror(e)}") from None
            else:
                if int(existing.mtime) >= m.mtime:
                    if kind != S_IFDIR:
                        yield from self.complain(f"{name} not created: newer or same age file exists")
                    return
                try:
                    sys.unlink(name)
                except OSError as e:
                    if e.errno not in (errno.EISDIR, errno.EPERM):
                        raise Die(f"can't remove old file {name}: {strerror(e)}") from None
        if hard is not None:
            self.placeholders.append((True, name, hard))
            return
        if kind == S_IFREG:
            # rpm writes "NAME;PID" (hex) and renames it over NAME
            temp = f"{name};{sys.getpid():x}" if "\xfd" in flags else name
            try:
                fd = sys.open(temp, O_WRONLY | O_CREAT | O_EXCL, m.mode & 0o7777)
            except OSError as e:
                raise Die(f"can't open '{temp}': {strerror(e)}") from None
            yield from write_all(sys, fd, m.data)
            close_quietly(sys, fd)
            if temp != name:
                try:
                    sys.rename(temp, name)
                except OSError as e:
                    raise Die(f"can't move '{temp}' to '{name}': {strerror(e)}") from None
        elif kind == S_IFDIR:
            try:
                sys.mkdir(name, m.mode & 0o7777)
            except OSError as e:
                if e.errno not in (errno.EISDIR, errno.EEXIST):
                    yield from self.complain(f"can't make dir {name}: {strerror(e)}")
        elif kind == S_IFLNK:
            target = m.link or ""
            if target.startswith("/") or ".." in target:
                self.placeholders.append((False, name, target))
            else:
                try:
                    sys.symlink(target, name)
                except OSError as e:
                    raise Die(f"can't create symlink '{name}' to '{target}': {strerror(e)}") from None
            return
        else:
            try:
                sys.mknod(name, m.mode, (m.rdev[0] << 8) | m.rdev[1])
            except OSError as e:
                yield from self.complain(f"can't create node {name}: {strerror(e)}")
        try:
            sys.chown(name, m.uid, m.gid)
        except OSError:
            pass
        try:
            sys.chmod(name, m.mode & 0o7777)
        except OSError:
            pass
        if "m" in flags:
            try:
                sys.set_mtime(name, float(m.mtime))
            except OSError:
                pass

    def links(self) -> None:
        for hard, name, target in self.placeholders:
            try:
                if hard:
                    self.sys.link(target, name)
                else:
                    self.sys.symlink(target, name)
            except OSError:
                raise Die(f"can't create {'hard' if hard else 'sym'}link '{name}' to '{target}'") from None

    def run(self, data: bytes) -> Gen:
        """get_header_cpio until the trailer; the "N blocks" count, or None
        when the archive had no trailer."""
        off = 0
        to_create: list[Member] = []  # hardlinked names without data, newest first
        created: list[Member] = []
        blocks = None
        while True:
            off += _pad4(off)
            head = data[off : off + 110]
            if not head:
                break
            if len(head) != 110:
                raise Die("short read")
            off += 110
            if not head.startswith(b"07070") or head[5:6] not in (b"1", b"2"):
                raise Die("unsupported cpio format, use newc or crc")
            try:
                f = [int(head[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
            except ValueError:
                raise Die("damaged cpio file") from None
            ino, mode, uid, gid, nlink, mtime, size = f[:7]
            rmajor, rminor, namesize = f[9], f[10], f[11] & 0x1FFF
            if self.owner[0] != -1:
                uid = self.owner[0]
            if self.owner[1] != -1:
                gid = self.owner[1]
            raw = data[off : off + namesize]
            if len(raw) != namesize:
                raise Die("short read")
            off += namesize
            name = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape").lstrip("/")
            off += _pad4(off)
            if name == TRAILER:
                blocks = (off + 511) >> 9
                break
            m = Member(name, ino, mode, uid, gid, nlink, mtime, size, (rmajor, rminor))
            if mode & S_IFMT == S_IFLNK:
                size &= 0x1FFF
                target = data[off : off + size]
                if len(target) != size:
                    raise Die("short read")
                m.link = target.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                off += size
                m.size = size = 0
            if nlink > 1 and mode & S_IFMT == S_IFREG:
                if size == 0:
                    to_create.insert(0, m)
                    continue
                created.insert(0, m)
            m.data = data[off : off + size]
            if len(m.data) != size:
                raise Die("short read")
            off += size
            if self.accept(m.name):
                if "i" in self.flags and "t" not in self.flags:
                    yield from self.extract(m)
                yield from self.header(m)
            yield from self.out.drain()
        for m in to_create:
            source = next((c for c in created if c.ino == m.ino), None)
            m.size, m.data = 0, b""
            if source is not None:
                m.link = source.name
            else:
                created.insert(0, m)
            if self.accept(m.name) and "i" in self.flags and "t" not in self.flags:
                yield from self.extract(m)
        return blocks


@applet("cpio")
@dies("cpio")
def cpio_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "it0uvdmLF:R:oH:", longopts=_LONGOPTS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "cpio", e.message)
        yield from show_usage(sys, "cpio")
        return 1
    flags = set(opts.flags)
    owner = (-1, -1)
    if "R" in opts:
        ids = yield from _owner_spec(sys, "cpio", opts.value("R") or "")
        if ids is None:
            return 1
        owner = ids
    archive_file = opts.value("F")
    if archive_file is not None and "o" not in flags:
        try:
            fd = sys.open(archive_file, O_RDONLY)
        except OSError as e:
            raise Die(f"can't open '{archive_file}': {strerror(e)}") from None
        sys.dup2(fd, 0)
        close_quietly(sys, fd)
    operands = list(opts.operands)
    if "o" in flags:
        if not (opts.value("H") or "").startswith("n"):
            yield from show_usage(sys, "cpio")
            return 1
        if archive_file is not None:
            try:
                fd = sys.open(archive_file, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
            except OSError as e:
                raise Die(f"can't open '{archive_file}': {strerror(e)}") from None
            sys.dup2(fd, 1)
            close_quietly(sys, fd)
        return (yield from create(sys, flags, owner))
    if not flags & {"t", "i"}:
        yield from show_usage(sys, "cpio")
        return 1
    archive = yield from read_all(sys, 0)
    ex = Extractor(sys, flags, operands, owner)
    try:
        blocks = yield from ex.run(archive)
        ex.links()
    finally:
        yield from ex.out.flush()
    if blocks is not None and "\xff" not in flags:
        yield from complain_blocks(sys, blocks)
    return 0


def complain_blocks(sys: Sys, blocks: int) -> Gen:
    yield from write_all(sys, 2, f"{blocks} blocks\n")
