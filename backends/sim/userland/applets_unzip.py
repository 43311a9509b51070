"""unzip -- after busybox 1.35's archival/unzip.c (Debian's build: central
directory support, stored, deflated and bzip2 members).

A seekable archive is read through its central directory (the last
end-of-central-directory record in the final 64 KiB says where it is);
from a pipe (``unzip -``) the local headers are read in order.  Options
are taken in order among the operands (getopt's "-" mode): the first
operand is the archive (tried as NAME, NAME.zip, NAME.ZIP), the rest are
patterns to extract -- or, after ``-x``, to leave out.  An existing file
is asked about (``replace F? [y]es, [n]o, [A]ll, [N]one, [r]ename:``) on
stdin unless ``-o``/``-n``; a member's Unix mode (archives made on Unix)
is kept, symlinks are made last when their target is absolute or climbs
with "..".  Listings: ``-l`` busybox's short form, ``-v`` with method,
size, ratio and CRC.
"""

from __future__ import annotations

import bz2
import errno
import struct
import zlib
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .applets_tar import _make_dirs
from .fnmatch_c import fnmatch
from .libc import BufferedOutput, Die, LineReader, complain, dies, read_chunk, show_usage, strerror, write_all

Gen = Generator[Any, Any, Any]

FILEHEADER_MAGIC, CDF_MAGIC, CDE_MAGIC, DD_MAGIC = 0x04034B50, 0x02014B50, 0x06054B50, 0x08074B50
ZIP64_CDE_MAGIC = 0x06064B50
PEEK_FROM_END = 64 * 1024
CDE_LEN = 16
BAD_CDF_OFFSET = 0xFFFFFFFF
S_IFMT, S_IFDIR, S_IFREG, S_IFLNK = 0o170000, 0o040000, 0o100000, 0o120000
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
PROMPT, NEVER, ALWAYS = 0, 1, 2


def printable(name: bytes) -> str:
    """printable_string: bytes outside ' '..'~' as '?'."""
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in name)


def strip_unsafe_prefix(name: bytes) -> bytes:
    i = 0
    while True:
        if name[i : i + 1] == b"/":
            i += 1
            continue
        if name[i:].startswith(b"../"):
            i += 3
            continue
        j = name.find(b"/../", i)
        if j < 0:
            break
        i = j + 4
    return name[i:]


class Header:
    """The local file header's fields (after the magic)."""

    FORMAT = "<HHHHHIIIHH"
    LEN = 26

    def __init__(self, raw: bytes) -> None:
        (
            self.version,
            self.flags,
            self.method,
            self.modtime,
            self.moddate,
            self.crc32,
            self.cmpsize,
            self.ucmpsize,
            self.filename_len,
            self.extra_len,
        ) = struct.unpack(self.FORMAT, raw)


class _Unzip:
    def __init__(self, sys: Sys) -> None:
        self.sys = sys
        self.out = BufferedOutput(sys, 1)
        self.fd = -1
        self.stdin: LineReader | None = None
        self.warned_unsafe = False
        self.symlinks: list[tuple[str, str]] = []

    # -- reading the archive -----------------------------------------------------------------

    def xread(self, n: int) -> Gen:
        data = b""
        while len(data) < n:
            chunk = yield from read_chunk(self.sys, self.fd, n - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) != n:
            yield from self.out.flush()
            raise Die("short read")
        return data

    def skip(self, n: int) -> Gen:
        if not n:
            return
        try:
            self.sys.lseek(self.fd, n, SEEK_CUR)
        except OSError:
            yield from self.xread(n)

    def find_cdf_offset(self) -> Gen:
        try:
            end = self.sys.lseek(self.fd, 0, SEEK_END)
        except OSError:
            return BAD_CDF_OFFSET
        end = max(end - PEEK_FROM_END, 0)
        self.sys.lseek(self.fd, end, SEEK_SET)
        buf = b""
        while len(buf) < PEEK_FROM_END:
            chunk = yield from read_chunk(self.sys, self.fd, PEEK_FROM_END - len(buf))
            if not chunk:
                break
            buf += chunk
        buf = buf.ljust(PEEK_FROM_END, b"\0")
        found = BAD_CDF_OFFSET
        p = 0
        while p <= PEEK_FROM_END - CDE_LEN - 4:
            if buf[p] != ord("P"):
                p += 1
                continue
            p += 1
            if buf[p] != ord("K"):
                continue
            p += 1
            if buf[p] != 5:
                continue
            p += 1
            if buf[p] != 6:
                continue
            offset = struct.unpack_from("<I", buf, p + 1 + 12)[0]
            if offset < end + p:
                found = offset
        return found

    def read_next_cdf(self, offset: int) -> Gen:
        """The next central directory entry: (next offset or 0 at the
        end, version made by, external attributes, local header offset,
        crc, sizes)."""
        self.sys.lseek(self.fd, offset, SEEK_SET)
        magic = struct.unpack("<I", (yield from self.xread(4)))[0]
        if magic in (CDE_MAGIC, ZIP64_CDE_MAGIC):
            return None
        raw = yield from self.xread(42)
        fields = struct.unpack("<HHHHHHIIIHHHHHII", raw)
        made_by, crc, cmpsize, ucmpsize = fields[0], fields[6], fields[7], fields[8]
        fn_len, extra_len, comment_len, ext_attr, rel = (
            fields[9],
            fields[10],
            fields[11],
            fields[14],
            fields[15],
        )
        nxt = (offset + 4 + 42 + fn_len + extra_len + comment_len) & 0xFFFFFFFF
        return nxt, made_by, ext_attr, rel, crc, cmpsize, ucmpsize

    # -- writing -------------------------------------------------------------------------------

    def extract(self, zip_: Header, dst_fd: int) -> Gen:
        if zip_.method == 0:
            remaining = zip_.ucmpsize
            while remaining:
                chunk = yield from read_chunk(self.sys, self.fd, min(remaining, 65536))
                if not chunk:
                    yield from self.out.flush()
                    raise Die("short read")
                remaining -= len(chunk)
                if dst_fd >= 0:
                    yield from write_all(self.sys, dst_fd, chunk)
            return
        if zip_.method == 12:
            yield from self.extract_bzip2(zip_, dst_fd)
            return
        if zip_.method != 8:
            yield from self.out.flush()
            raise Die(f"unsupported method {zip_.method}")
        inflater = zlib.decompressobj(-15)
        remaining = zip_.cmpsize
        crc = 0
        produced = 0
        try:
            while remaining and not inflater.eof:
                chunk = yield from read_chunk(self.sys, self.fd, min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
                data = inflater.decompress(chunk)
                crc = zlib.crc32(data, crc)
                produced += len(data)
                if dst_fd >= 0 and data:
                    yield from write_all(self.sys, dst_fd, data)
        except zlib.error:
            yield from self.out.flush()
            raise Die("inflate error") from None
        if not inflater.eof:
            yield from self.out.flush()
            raise Die("inflate error")
        if zip_.crc32 != crc & 0xFFFFFFFF:
            yield from self.out.flush()
            raise Die("crc error")
        if zip_.ucmpsize != 0xFFFFFFFF and zip_.ucmpsize != produced:
            yield from self.out.flush()
            yield from complain(self.sys, "unzip", "bad length")

    def extract_bzip2(self, zip_: Header, dst_fd: int) -> Gen:
        """Method 12 (Debian's build has FEATURE_UNZIP_BZIP2): no CRC check."""
        unpacker = bz2.BZ2Decompressor()
        remaining = zip_.cmpsize
        produced = 0
        try:
            while remaining and not unpacker.eof:
                chunk = yield from read_chunk(self.sys, self.fd, min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
                data = unpacker.decompress(chunk)
                produced += len(data)
                if dst_fd >= 0 and data:
                    yield from write_all(self.sys, dst_fd, data)
        except (OSError, ValueError):
            yield from self.out.flush()
            raise Die("inflate error") from None
        if not unpacker.eof:
            yield from self.out.flush()
            raise Die("inflate error")
        if zip_.ucmpsize != 0xFFFFFFFF and zip_.ucmpsize != produced:
            yield from self.out.flush()
            yield from complain(self.sys, "unzip", "bad length")

    def lstat_mode(self, name: str) -> int:
        try:
            st = self.sys.lstat(name)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise Die(f"can't stat '{name}': {strerror(e)}") from None
            return -1
        kind = {"dir": S_IFDIR, "symlink": S_IFLNK}.get(st.kind.value, S_IFREG)
        if getattr(st, "is_device", False) or st.kind.value not in ("dir", "symlink", "file"):
            kind = 0o020000
        return kind | st.mode

    def ask(self, prompt: str) -> Gen:
        """my_fgets80: the prompt, then up to 79 characters of a line."""
        self.out.write(prompt)
        yield from self.out.flush()
        if self.stdin is None:
            self.stdin = LineReader(self.sys, 0)
        reader = self.stdin
        line = yield from reader.readline()
        if not line:
            raise Die("can't read standard input")
        if len(line) > 79:
            reader.buf = line[79:] + reader.buf
            line = line[:79]
        return line.decode("latin-1")

    def leading_dirs(self, name: str) -> Gen:
        parent = name.rsplit("/", 1)[0] if "/" in name else "."
        from .applets_tar import TarDie

        try:
            yield from _make_dirs(self.sys, parent)
        except TarDie as e:
            yield from self.out.flush()
            raise Die(str(e.args[0]) if e.args else None) from None

    # -- the applet ------------------------------------------------------------------------------

    def run(self, argv: list[str]) -> Gen:
        listing = exclude = junk = False
        quiet = verbose = 0
        overwrite = PROMPT
        dst_fd = -1
        src: str | None = None
        accept: list[str] = []
        reject: list[str] = []
        base_dir: str | None = None
        i = 0
        while i < len(argv):
            arg = argv[i]
            i += 1
            if arg == "--":
                break
            if not arg.startswith("-") or arg == "-":
                if src is None:
                    src = arg
                elif not exclude:
                    accept.insert(0, arg)
                else:
                    reject.insert(0, arg)
                continue
            j = 1
            while j < len(arg):
                ch = arg[j]
                j += 1
                if ch == "d":
                    if j < len(arg):
                        base_dir = arg[j:]
                    elif i < len(argv):
                        base_dir, i = argv[i], i + 1
                    else:
                        yield from complain(self.sys, "unzip", "option requires an argument -- 'd'")
                        yield from show_usage(self.sys, "unzip")
                        return 1
                    break
                if ch == "l":
                    listing = True
                elif ch == "n":
                    overwrite = NEVER
                elif ch == "o":
                    overwrite = ALWAYS
                elif ch in "tpq":
                    if ch == "t":
                        devnull = self.sys.open("/dev/null", O_WRONLY)
                        self.sys.dup2(devnull, 1)
                        self.sys.close(devnull)
                    if ch in "tp":
                        dst_fd = 1
                    quiet += 1
                elif ch == "v":
                    verbose += 1
                    listing = True
                elif ch == "x":
                    exclude = True
                elif ch == "j":
                    junk = True
                else:
                    yield from complain(self.sys, "unzip", f"invalid option -- '{ch}'")
                    yield from show_usage(self.sys, "unzip")
                    return 1
        if src is None:
            yield from show_usage(self.sys, "unzip")
            return 1
        if src == "-":
            self.fd = 0
            if overwrite == PROMPT:
                overwrite = NEVER
        else:
            for name in (src, src + ".zip", src + ".ZIP", None):
                if name is None:
                    raise Die(f"can't open {src}[.zip]")
                try:
                    self.fd = self.sys.open(name, O_RDONLY)
                except OSError:
                    continue
                src = name
                break
        if base_dir is not None:
            try:
                self.sys.mkdir(base_dir, 0o777)
            except OSError:
                pass
            try:
                self.sys.chdir(base_dir)
            except OSError as e:
                raise Die(f"can't change directory to '{base_dir}': {strerror(e)}") from None
        if quiet <= 1:
            if quiet == 0:
                self.out.write(f"Archive:  {printable(src.encode('utf-8', 'surrogateescape'))}\n")
            if listing:
                self.out.write(
                    " Length   Method    Size  Cmpr    Date    Time   CRC-32   Name\n"
                    "--------  ------  ------- ---- ---------- ----- --------  ----\n"
                    if verbose
                    else "  Length      Date    Time    Name\n---------  ---------- -----   ----\n"
                )
        total_usize = total_size = total_entries = 0
        cdf_offset = yield from self.find_cdf_offset()
        while True:
            dir_mode = 0o777
            file_mode = 0o666
            if cdf_offset == BAD_CDF_OFFSET:
                magic = struct.unpack("<I", (yield from self.xread(4)))[0]
                if magic == CDF_MAGIC:
                    break
                if magic == DD_MAGIC:
                    yield from self.skip(12)
                    continue
                if magic != FILEHEADER_MAGIC:
                    yield from self.out.flush()
                    raise Die(f"invalid zip magic {magic:08X}")
                zip_ = Header((yield from self.xread(Header.LEN)))
                if zip_.flags & 8:
                    yield from self.out.flush()
                    raise Die("zip flag 8 (streaming) is not supported")
            else:
                cdf = yield from self.read_next_cdf(cdf_offset)
                if cdf is None:
                    break
                cdf_offset, made_by, ext_attr, rel, crc, cmpsize, ucmpsize = cdf
                self.sys.lseek(self.fd, rel + 4, SEEK_SET)
                zip_ = Header((yield from self.xread(Header.LEN)))
                if zip_.flags & 8:
                    zip_.crc32, zip_.cmpsize, zip_.ucmpsize = crc, cmpsize, ucmpsize
                if made_by >> 8 == 3:
                    dir_mode = file_mode = ext_attr >> 16
            if zip_.flags & 1:
                yield from self.out.flush()
                raise Die("zip flag 1 (encryption) is not supported")
            if zip_.filename_len > 0xFFF:
                yield from self.out.flush()
                raise Die("bad archive")
            raw_name = (yield from self.xread(zip_.filename_len)).split(b"\0", 1)[0]
            yield from self.skip(zip_.extra_len)
            safe = strip_unsafe_prefix(raw_name)
            if safe != raw_name and not self.warned_unsafe:
                self.warned_unsafe = True
                yield from self.out.flush()
                cut = raw_name[: len(raw_name) - len(safe)].decode("latin-1")
                yield from complain(self.sys, "unzip", f"removing leading '{cut}' from member names")
            name = safe.decode("utf-8", "surrogateescape")
            total_entries += 1
            if any(fnmatch(p, name) for p in reject) or (
                accept and not any(fnmatch(p, name) for p in accept)
            ):
                yield from self.skip(zip_.cmpsize)
                continue
            if listing:
                date = (
                    f"{(zip_.moddate >> 5) & 0xF:02d}-{zip_.moddate & 0x1F:02d}-{(zip_.moddate >> 9) + 1980:04d} "
                    f"{zip_.modtime >> 11:02d}:{(zip_.modtime >> 5) & 0x3F:02d}"
                )
                shown = printable(safe)
                if not verbose:
                    self.out.write(f"{zip_.ucmpsize:9d}  {date}   {shown}\n")
                else:
                    method = {0: "Stored", 8: "Defl:" + "NXFS"[(zip_.flags >> 1) & 3]}.get(
                        zip_.method, f"{zip_.method:6d}"
                    )
                    saved = (zip_.ucmpsize - zip_.cmpsize) & 0xFFFFFFFFFFFFFFFF
                    if saved & 0x80000000:
                        saved = 0
                    saved = (saved & 0xFFFFFFFF) * 100
                    if zip_.ucmpsize:
                        saved //= zip_.ucmpsize
                    self.out.write(
                        f"{zip_.ucmpsize:8d}  {method}{zip_.cmpsize:9d}{saved & 0xFFFFFFFF:4d}% {date} "
                        f"{zip_.crc32:08x}  {shown}\n"
                    )
                    total_size += zip_.cmpsize
                total_usize += zip_.ucmpsize
                yield from self.skip(zip_.cmpsize)
                continue
            if dst_fd == 1:
                yield from self.out.flush()
                if file_mode & S_IFMT != S_IFLNK:
                    yield from self.extract(zip_, 1)
                continue
            if junk:
                name = name.rsplit("/", 1)[-1]
            if not name:
                yield from self.skip(zip_.cmpsize)
                continue
            if name.endswith("/"):
                mode = self.lstat_mode(name)
                if mode == -1:
                    if not quiet:
                        self.out.write(f"   creating: {printable(name.encode('utf-8', 'surrogateescape'))}\n")
                    yield from self.leading_dirs(name)
                    yield from self.make_directory(name, dir_mode)
                elif mode & S_IFMT != S_IFDIR:
                    yield from self.out.flush()
                    raise Die(
                        f"'{printable(name.encode('utf-8', 'surrogateescape'))}' exists but is not a directory"
                    )
                yield from self.skip(zip_.cmpsize)
                continue
            action = yield from self.decide(name, overwrite)
            while action[0] == "rename":
                name = action[1]
                action = yield from self.decide(name, overwrite)
            kind, name, overwrite = action
            if kind == "skip":
                yield from self.skip(zip_.cmpsize)
                continue
            yield from self.leading_dirs(name)
            out_fd = -1
            if file_mode & S_IFMT != S_IFLNK:
                try:
                    out_fd = self.sys.open(name, O_WRONLY | O_CREAT | O_TRUNC, file_mode & 0o7777)
                except OSError as e:
                    yield from self.out.flush()
                    raise Die(f"can't open '{name}': {strerror(e)}") from None
            if not quiet:
                self.out.write(f"  inflating: {printable(name.encode('utf-8', 'surrogateescape'))}\n")
            if file_mode & S_IFMT == S_IFLNK:
                yield from self.extract_symlink(zip_, name)
            else:
                try:
                    yield from self.extract(zip_, out_fd)
                finally:
                    self.sys.close(out_fd)
        for target, link in self.symlinks:
            try:
                self.sys.symlink(target, link)
            except OSError:
                yield from self.out.flush()
                raise Die(f"can't create symlink '{link}' to '{target}'") from None
        if listing and quiet <= 1:
            if not verbose:
                self.out.write(f" --------{'':21}-------\n{total_usize:9d}{'':21}{total_entries} files\n")
            else:
                pct = total_usize - total_size
                pct = 0 if pct < 0 else pct * 100
                if total_usize:
                    pct //= total_usize
                self.out.write(
                    f"--------          ------- ----{'':28}----\n"
                    f"{total_usize:8d}{total_size:17d}{pct:4d}%{'':28}{total_entries} files\n"
                )
        yield from self.out.flush()
        return 0

    def make_directory(self, name: str, mode: int) -> Gen:
        """bb_make_directory(name, mode, FILEUTILS_IGNORE_CHMOD_ERR)."""
        path = name.rstrip("/") or name
        try:
            self.sys.mkdir(path, 0o777)
        except OSError as e:
            if e.errno != errno.EEXIST:
                yield from self.out.flush()
                raise Die(f"can't create directory '{path}': {strerror(e)}") from None
        try:
            self.sys.chmod(path, mode & 0o7777)
        except OSError as e:
            yield from complain(
                self.sys, "unzip", f"can't set permissions of directory '{path}': {strerror(e)}"
            )

    def decide(self, name: str, overwrite: int) -> Gen:
        """check_file: what to do with a member whose name may exist:
        ("extract"|"skip", name, overwrite) or ("rename", new name)."""
        while True:
            shown = printable(name.encode("utf-8", "surrogateescape"))
            mode = self.lstat_mode(name)
            if mode == -1:
                return "extract", name, overwrite
            if overwrite == NEVER:
                return "skip", name, overwrite
            if mode & S_IFMT != S_IFREG:
                yield from self.out.flush()
                raise Die(f"'{shown}' exists but is not a regular file")
            if overwrite == ALWAYS:
                return "extract", name, overwrite
            key = yield from self.ask(f"replace {shown}? [y]es, [n]o, [A]ll, [N]one, [r]ename: ")
            if self.lstat_mode(name) & S_IFMT != S_IFREG:
                yield from self.out.flush()
                raise Die(f"'{shown}' exists but is not a regular file")
            first = key[:1]
            if first == "A":
                return "extract", name, ALWAYS
            if first == "y":
                return "extract", name, overwrite
            if first == "N":
                return "skip", name, NEVER
            if first == "n":
                return "skip", name, overwrite
            if first == "r":
                new = yield from self.ask("new name: ")
                return "rename", new[:-1] if new.endswith("\n") else new
            self.out.write(f"error: invalid response [{first or chr(0)}]\n")

    def extract_symlink(self, zip_: Header, name: str) -> Gen:
        if zip_.ucmpsize > 0xFFF:
            yield from self.out.flush()
            raise Die("bad archive")
        if zip_.method != 0:
            yield from self.out.flush()
            raise Die("compressed symlink is not supported")
        target = (yield from self.xread(zip_.ucmpsize)).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if target.startswith("/") or ".." in target:
            self.symlinks.append((target, name))
            return
        try:
            self.sys.symlink(target, name)
        except OSError as e:
            yield from self.out.flush()
            raise Die(f"can't create symlink '{name}' to '{target}': {strerror(e)}") from None


@applet("unzip")
@dies("unzip")
def unzip_main(sys: Sys) -> Gen:
    job = _Unzip(sys)
    try:
        return (yield from job.run(sys.argv[1:]))
    finally:
        yield from job.out.flush_quietly()
