"""lzop -- after busybox 1.35's archival/lzop.c on bbunpack (bbunzip.c).

``lzop [-cfUvqdt123456789CFk] [FILE]...``: FILE becomes FILE.lzo (or,
with -d, loses ".lzo" -- any other name gives FILE.out); unlike the other
compressors the input is kept unless -U (-k keeps it again).  -c writes
to stdout, -t sends the output to /dev/null (without -d it compresses),
-f overwrites.  -1 is LZO1X-1(15), -2..-6 and none LZO1X-1 at level 5;
-7..-9 need busybox's LZOP_COMPR_HIGH, which Debian's build lacks ("high
compression not compiled in").  The file header is busybox's: no name,
mode or mtime; an Adler-32 of each block unless -F, also of the
compressed block with -C.  A compressed file is written block by block
(256 KiB each), so an error part-way leaves what came before it, and the
output file stays, as when busybox dies.  The codec is :mod:`.lzo1x`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, Sys
from . import lzo1x
from .applet_table import applet
from .libc import (
    Die,
    UsageError,
    close_quietly,
    complain,
    dies,
    err,
    getopt,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
MAGIC = b"\x89LZO\x00\r\n\x1a\n"
BLOCK = 256 * 1024
MAX_BLOCK = 64 * 1024 * 1024
F_ADLER32_D, F_ADLER32_C, F_H_EXTRA_FIELD = 0x1, 0x2, 0x40
F_CRC32_D, F_CRC32_C, F_H_FILTER, F_H_CRC32 = 0x100, 0x200, 0x800, 0x1000
F_OS_UNIX = 0x03000000
F_RESERVED = (0x3FFF | 0xFF000000 | 0x00F00000) ^ 0xFFFFFFFF
M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999 = 1, 2, 3


class Input:
    """stdin as xread sees it: exactly N bytes, else "short read"."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.adler, self.crc = 1, 0  # the header's running checksums

    def read(self, n: int, checksum: bool = False) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        if len(chunk) != n:
            raise Die("short read")
        if checksum:
            self.adler = zlib.adler32(chunk, self.adler)
            self.crc = zlib.crc32(chunk, self.crc)
        return chunk

    def read32(self, checksum: bool = False) -> int:
        return int(struct.unpack(">I", self.read(4, checksum))[0])


def compress_blocks(data: bytes, level_opts: set[str], no_checksum: bool, block_checksum: bool) -> Gen:
    """do_lzo_compress: the header, then each block, as they are written."""
    if level_opts & set("789"):
        raise Die("high compression not compiled in")
    method, level = (M_LZO1X_1_15, 1) if "1" in level_opts else (M_LZO1X_1, 5)
    flags = F_OS_UNIX
    if not no_checksum:
        flags |= F_ADLER32_D
        if block_checksum:
            flags |= F_ADLER32_C
    header = struct.pack(">HHHBBIIII", 0x1010, 0x2030, 0x0940, method, level, flags, 0, 0, 0) + b"\0"
    yield MAGIC + header + struct.pack(">I", zlib.adler32(header, 1))
    compressor = lzo1x.Compressor(15 if method == M_LZO1X_1_15 else 14)
    for start in range(0, len(data), BLOCK):
        block = data[start : start + BLOCK]
        packed = compressor.compress(block)
        words = [len(block), len(packed) if len(packed) < len(block) else len(block)]
        if flags & F_ADLER32_D:
            words.append(zlib.adler32(block, 1))
        if len(packed) < len(block) and flags & F_ADLER32_C:
            words.append(zlib.adler32(packed, 1))
        yield struct.pack(f">{len(words)}I", *words) + (packed if len(packed) < len(block) else block)
    yield b"\0\0\0\0"


def _read_header(src: Input) -> int:
    """read_header: the header's flags, or raises Die("header_error N")."""
    raw = src.read(25, checksum=True)
    version, _lib, needed, method, level, flags = struct.unpack(">HHHBBI", raw[:12])
    name_len = raw[24]
    code = 0
    if version < 0x0940:
        code = 3
    elif needed > 0x1010:
        code = 16
    elif needed < 0x0940:
        code = 3
    elif method == 0:
        code = 14
    elif method not in (M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999):
        code = -1
    else:
        if level == 0:
            level = {M_LZO1X_1: 3, M_LZO1X_1_15: 1, M_LZO1X_999: 9}[method]
        if not 1 <= level <= 9:
            code = 15
        elif flags & F_H_FILTER:
            code = 16
        elif flags & F_RESERVED:
            code = -13
    if code:
        raise Die(f"header_error {code}")
    if name_len:
        src.read(name_len, checksum=True)
    expected = src.crc if flags & F_H_CRC32 else src.adler
    if src.read32() != expected:
        raise Die("header_error 2")
    if flags & F_H_EXTRA_FIELD:
        src.adler, src.crc = 1, 0
        extra = src.read32(checksum=True)
        for _ in range(extra):
            src.read(1, checksum=True)
        expected = src.crc if flags & F_H_CRC32 else src.adler
        if src.read32() != expected:
            raise Die("header_error 3")
    return flags


def decompress_blocks(data: bytes, verify: bool) -> Gen:
    """do_lzo_decompress: each block's data as it is written; Die at the
    first error (what came before is out already)."""
    src = Input(data)
    if src.read(9) != MAGIC:
        raise Die("bad magic number")
    flags = _read_header(src)
    while True:
        dst_len = src.read32()
        if dst_len == 0:
            return
        if dst_len == 0xFFFFFFFF:
            raise Die("this file is a split lzop file")
        if dst_len > MAX_BLOCK:
            raise Die("corrupted data")
        src_len = src.read32()
        if src_len <= 0 or src_len > dst_len:
            raise Die("corrupted data")
        d_adler = src.read32() if flags & F_ADLER32_D else 1
        d_crc = src.read32() if flags & F_CRC32_D else 0
        c_adler, c_crc = 1, 0
        if src_len < dst_len:
            if flags & F_ADLER32_C:
                c_adler = src.read32()
            if flags & F_CRC32_C:
                c_crc = src.read32()
        block = src.read(src_len)
        if src_len < dst_len:
            if verify:
                if flags & F_ADLER32_C and zlib.adler32(block, 1) != c_adler:
                    raise Die("checksum error")
                if flags & F_CRC32_C and zlib.crc32(block) != c_crc:
                    raise Die("checksum error")
            try:
                out = lzo1x.decompress(block, dst_len)
            except lzo1x.Corrupt:
                raise Die("corrupted data") from None
            if len(out) != dst_len:
                raise Die("corrupted data")
        else:
            out = block
        if verify:
            if flags & F_ADLER32_D and zlib.adler32(out, 1) != d_adler:
                raise Die("checksum error")
            if flags & F_CRC32_D and zlib.crc32(out) != d_crc:
                raise Die("checksum error")
        yield out


def _new_name(name: str, decompress: bool) -> str:
    if decompress:
        dot = name.rfind(".")
        return name[:dot] if dot >= 0 and name[dot + 1 :] == "lzo" else name + ".out"
    return name + ".lzo"


@applet("lzop")
@dies("lzop")
def lzop_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "cfUvqdt123456789CFk")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "lzop", e.message)
        yield from show_usage(sys, "lzop")
        return 1
    keep = "U" not in opts or "k" in opts
    to_stdout, test, decompress = "c" in opts, "t" in opts, "d" in opts
    levels = {c for c in "123456789" if c in opts}
    status = 0
    names: list[str | None] = list(opts.operands) or [None]
    for name in names:
        if name == "-":
            name = None
        in_fd = 0
        size = 0
        if name is not None:
            try:
                st = sys.stat(name)
                in_fd = sys.open(name, O_RDONLY, 0)
            except OSError as e:
                yield from complain(sys, "lzop", f"{name}: {strerror(e)}")
                status = 1
                continue
            size = st.size
        out_fd = 1
        new_name = None
        if test:
            try:
                out_fd = sys.open("/dev/null", O_WRONLY, 0)
            except OSError as e:
                raise Die(f"can't open '/dev/null': {strerror(e)}") from None
        if name is not None and not (to_stdout or test):
            new_name = _new_name(name, decompress)
            if "f" in opts:
                try:
                    sys.unlink(new_name)
                except OSError:
                    pass
            try:
                out_fd = sys.open(new_name, O_WRONLY | O_CREAT | O_EXCL, st.mode & 0o7777)
            except OSError as e:
                yield from complain(sys, "lzop", f"can't open '{new_name}': {strerror(e)}")
                status = 1
                close_quietly(sys, in_fd)
                continue
        data = yield from read_all(sys, in_fd, charge=True)
        if in_fd != 0:
            close_quietly(sys, in_fd)
        yield from sys.burn(1 + len(data) // 16)
        if decompress:
            pieces = decompress_blocks(data, "F" not in opts)
        else:
            pieces = compress_blocks(data, levels, "F" in opts, "C" in opts)
        for piece in pieces:
            yield from write_all(sys, out_fd, piece)
        if out_fd != 1:
            close_quietly(sys, out_fd)
        if name is not None and new_name is not None:
            if "v" in opts:
                percent = (size * 100) & 0xFFFFFFFF  # busybox divides by the unpacker's 1
                yield from err(sys, f"{name}: {(100 - percent) & 0xFFFFFFFF}% - replaced with {new_name}\n")
            if not keep:
                try:
                    sys.unlink(name)
                except OSError as e:
                    raise Die(f"can't remove file '{name}': {strerror(e)}") from None
    return status
