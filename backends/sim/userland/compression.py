"""The compressed formats busybox reads and writes: gzip, bzip2, xz,
lzma and compress (.Z) -- bytes in, bytes out, with busybox's error words.

The codecs are Python's zlib, bz2 and lzma; what busybox decides around
them is here: the gzip header busybox writes (no name, mtime 0, OS 3),
multi-member gzip with trailing garbage ignored, the checks and messages
of ``unpack_gz_stream`` ("invalid magic", "corrupted data", "unexpected
end of file", "crc error", "incorrect length"), and what a decoder had
already written when it failed (busybox writes whole 32 KiB windows).

zlib's level-6 deflate equals busybox's own deflate for text; on some
binary data the compressed bytes differ (the content never does): see
SIMPLIFICATIONS.md.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib

GZIP_MAGIC = b"\x1f\x8b"
Z_MAGIC = b"\x1f\x9d"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
WINDOW = 32768


class DecodeError(Exception):
    """Decoding failed: ``partial`` is what busybox had written by then."""

    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.message, self.partial = message, partial


def gzip_compress(data: bytes) -> bytes:
    """What busybox's gzip writes: a bare header, deflate, crc and size."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    body = c.compress(data) + c.flush()
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
        + body
        + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    )


def _whole_windows(out: bytes) -> bytes:
    return out[: len(out) - len(out) % WINDOW]


def gunzip(data: bytes, magic_checked: bool = False) -> tuple[bytes, int]:
    """unpack_gz_stream: (content, mtime of the first member); raises
    DecodeError.  ``magic_checked``: the caller already took the first two
    bytes as gzip's magic (tar's and zcat's autodetection)."""
    pos = 0
    if not magic_checked:
        if data[:2] == Z_MAGIC:
            return uncompress(data), 0
        if data[:2] != GZIP_MAGIC:
            raise DecodeError("invalid magic")
    pos = 2
    out = bytearray()
    mtime = None
    while True:
        header = data[pos : pos + 8]
        if len(header) < 8 or header[0] != 8:
            raise DecodeError("corrupted data", bytes(out))
        flags = header[1]
        if mtime is None:
            mtime = struct.unpack("<I", header[2:6])[0]
        pos += 8
        if flags & 0x04:
            if pos + 2 > len(data):
                raise DecodeError("corrupted data", bytes(out))
            (extra,) = struct.unpack("<H", data[pos : pos + 2])
            pos += 2 + extra
            if pos > len(data):
                raise DecodeError("corrupted data", bytes(out))
        if flags & 0x18:
            for _ in range(2 if (flags & 0x18) == 0x18 else 1):
                end = data.find(b"\0", pos)
                if end < 0:
                    raise DecodeError("corrupted data", bytes(out))
                pos = end + 1
        if flags & 0x02:
            pos += 2
            if pos > len(data):
                raise DecodeError("corrupted data", bytes(out))
        d = zlib.decompressobj(-15)
        try:
            member = d.decompress(data[pos:])
        except zlib.error:
            raise DecodeError("corrupted data", bytes(out) + _whole_windows(b"")) from None
        if not d.eof:
            raise DecodeError("unexpected end of file", bytes(out) + _whole_windows(member))
        out += member
        rest = d.unused_data
        if len(rest) < 8:
            raise DecodeError("corrupted data", bytes(out))
        crc, size = struct.unpack("<II", rest[:8])
        if crc != zlib.crc32(member) & 0xFFFFFFFF:
            raise DecodeError("crc error", bytes(out))
        if size != len(member) & 0xFFFFFFFF:
            raise DecodeError("incorrect length", bytes(out))
        rest = rest[8:]
        if rest[:2] != GZIP_MAGIC:
            return bytes(out), mtime or 0
        data = rest
        pos = 2


def bzip2_compress(data: bytes, level: int = 9) -> bytes:
    return bz2.compress(data, level)


def bunzip2(data: bytes) -> bytes:
    if data[:3] != BZIP2_MAGIC:
        raise DecodeError("invalid magic")
    out = bytearray()
    while data:
        d = bz2.BZ2Decompressor()
        try:
            out += d.decompress(data)
        except OSError:
            raise DecodeError("bunzip error -5", bytes(out)) from None
        if not d.eof:
            raise DecodeError("bunzip error -3", bytes(out))
        data = d.unused_data
        if data[:3] != BZIP2_MAGIC:
            break
    return bytes(out)


def unxz(data: bytes) -> bytes:
    """unpack_xz_stream: input without xz's magic gives nothing, silently."""
    if data[:6] != XZ_MAGIC:
        return b""
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        out = d.decompress(data)
    except lzma.LZMAError:
        raise DecodeError("corrupted data") from None
    if not d.eof:
        raise DecodeError("corrupted data", out)
    return out


def unlzma(data: bytes) -> bytes:
    if len(data) < 13:
        raise DecodeError("bad lzma header")
    d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    try:
        out = d.decompress(data)
    except lzma.LZMAError:
        raise DecodeError("bad lzma header") from None
    return out


def uncompress(data: bytes) -> bytes:
    """The LZW of compress(1) (.Z)."""
    if data[:2] != Z_MAGIC:
        raise DecodeError("invalid magic")
    if len(data) < 3:
        raise DecodeError("short read")
    flags = data[2]
    maxbits = flags & 0x1F
    block_mode = bool(flags & 0x80)
    if maxbits < 9 or maxbits > 16:
        raise DecodeError(f"compressed with {maxbits} bits, can only handle 16 bits")
    out = bytearray()
    bits = 9
    pos_bits = 3 * 8
    total_bits = len(data) * 8
    table: list[bytes] = [bytes([i]) for i in range(256)]
    if block_mode:
        table.append(b"")  # 256: CLEAR
    prev: bytes | None = None
    group_start = pos_bits
    while pos_bits + bits <= total_bits:
        byte = pos_bits // 8
        chunk = int.from_bytes(data[byte : byte + 4], "little")
        code = (chunk >> (pos_bits % 8)) & ((1 << bits) - 1)
        pos_bits += bits
        if block_mode and code == 256:
            table = [bytes([i]) for i in range(256)] + [b""]
            prev = None
            # skip to the end of the current group of 8 codes
            used = (pos_bits - group_start) % (bits * 8)
            if used:
                pos_bits += bits * 8 - used
            bits = 9
            group_start = pos_bits
            continue
        if code < len(table):
            entry = table[code]
        elif code == len(table) and prev is not None:
            entry = prev + prev[:1]
        else:
            raise DecodeError("corrupted data", bytes(out))
        out += entry
        if prev is not None and len(table) < (1 << maxbits):
            table.append(prev + entry[:1])
        prev = entry
        if len(table) >= (1 << bits) and bits < maxbits:
            used = (pos_bits - group_start) % (bits * 8)
            if used:
                pos_bits += bits * 8 - used
            bits += 1
            group_start = pos_bits
    return bytes(out)


def sniff(data: bytes) -> str | None:
    """Which compressed format data starts with (zcat's "seamless magic")."""
    if data[:2] == GZIP_MAGIC:
        return "gz"
    if data[:2] == Z_MAGIC:
        return "Z"
    if data[:3] == BZIP2_MAGIC:
        return "bz2"
    if data[:6] == XZ_MAGIC:
        return "xz"
    return None


def decompress(kind: str, data: bytes) -> bytes:
    if kind == "gz":
        return gunzip(data)[0]
    if kind == "Z":
        return uncompress(data)
    if kind == "bz2":
        return bunzip2(data)
    if kind == "xz":
        return unxz(data)
    if kind == "lzma":
        return unlzma(data)
    raise ValueError(kind)
