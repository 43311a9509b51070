"""Text encodings of binary data: base64, uuencode, uudecode -- busybox
1.35's (``coreutils/uudecode.c``, ``uuencode.c``, ``libbb/uuencode.c``).

Decoding is busybox's own, which matters for bad input: characters
outside the alphabet are skipped, ``=`` counts only where padding can be,
input is taken in runs of up to 80 characters that stop at any blank or
control character, and a final group that is not complete is "truncated
input".
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    getopt,
    read_all,
    read_chunk,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
UU_STD = "`!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"


class Die(Exception):
    pass


def uuencode_block(data: bytes, table: str) -> str:
    """bb_uuencode: 3 bytes -> 4 characters, the last group padded."""
    out = []
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        s0 = chunk[0]
        s1 = chunk[1] if len(chunk) > 1 else 0
        s2 = chunk[2] if len(chunk) > 2 else 0
        out.append(table[s0 >> 2])
        out.append(table[((s0 & 3) << 4) + (s1 >> 4)])
        out.append(table[((s1 & 0xF) << 2) + (s2 >> 6)])
        out.append(table[s2 & 0x3F])
    rem = len(data) % 3
    if rem:
        for k in range(3 - rem):
            out[-1 - k] = table[64]
    return "".join(out)


def decode_base64(text: str) -> tuple[bytes, str]:
    """libbb's decode_base64: (bytes, the input left unconsumed)."""
    out = bytearray()
    ch = 0
    i = 0
    pos = 0
    n = len(text)
    while pos < n:
        t = ord(text[pos])
        pos += 1
        if 48 <= t <= 57:
            t = t - 48 + 52
        elif 65 <= t <= 90:
            t -= 65
        elif 97 <= t <= 122:
            t = t - 97 + 26
        elif t == 43:
            t = 62
        elif t == 47:
            t = 63
        elif t == 61 and (i == 3 or (i == 2 and pos < n and text[pos] == "=")):
            t = 0x1000000
        else:
            continue
        ch = (ch << 6) | t
        i = (i + 1) & 3
        if i == 0:
            block = bytes(((ch >> 16) & 0xFF, (ch >> 8) & 0xFF, ch & 0xFF))
            if ch & 0x1000000:
                block = block[:-2] if ch & (0x1000000 << 6) else block[:-1]
                out += block
                break
            out += block
            ch = 0
    return bytes(out), text[pos - i :]


class _Chars:
    """fgetc() over an fd."""

    def __init__(self, sys: Sys, fd: int) -> None:
        self.sys, self.fd, self.buf, self.pos, self.eof = sys, fd, b"", 0, False

    def getc(self) -> Gen:
        if self.pos >= len(self.buf):
            if self.eof:
                return None
            self.buf = yield from read_chunk(self.sys, self.fd)
            self.pos = 0
            if not self.buf:
                self.eof = True
                return None
        c = self.buf[self.pos]
        self.pos += 1
        return c

    def readline(self) -> Gen:
        line = bytearray()
        while True:
            c = yield from self.getc()
            if c is None:
                return bytes(line) if line else None
            line.append(c)
            if c == 10:
                return bytes(line)


def read_base64(src: _Chars, out: BufferedOutput, uu_stop: bool, exit_char: int | None) -> Gen:
    """libbb's read_base64: decode runs of up to 80 characters."""
    pending = ""
    while True:
        buf = pending
        term = False
        while len(buf) < 80:
            c = yield from src.getc()
            if c is not None and exit_char is not None and c == exit_char:
                if not buf:
                    return
                term = True
                break
            if c is None:
                term = True
                break
            if c <= 32:
                break
            buf += chr(c)
        if uu_stop and buf == "====":
            return
        data, tail = decode_base64(buf)
        out.write(data)
        yield from out.drain()
        if term:
            if not tail:
                return
            raise Die("truncated input")
        pending = tail


def _input(sys: Sys, prog: str, path: str) -> Gen:
    if path == "-":
        return 0
    try:
        return sys.open(path, 0)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    yield  # pragma: no cover


def _usage(sys: Sys, prog: str, e: UsageError | None = None) -> Gen:
    if e is not None and e.message:
        yield from complain(sys, prog, e.message)
    yield from show_usage(sys, prog)
    return 1


@applet("base64")
def base64_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "diw:")
    except UsageError as e:
        return (yield from _usage(sys, "base64", e))
    if len(opts.operands) > 1:
        return (yield from _usage(sys, "base64"))
    out = BufferedOutput(sys, 1)
    try:
        col = 76
        if "w" in opts.values:
            text = opts.value("w") or ""
            if not text.isdigit():
                raise Die(f"invalid number '{text}'")
            col = int(text)
        fd = yield from _input(sys, "base64", opts.operands[0] if opts.operands else "-")
        if "d" in opts:
            yield from read_base64(_Chars(sys, fd), out, uu_stop=False, exit_char=None)
        else:
            data = yield from read_all(sys, fd)
            encoded = uuencode_block(data, B64)
            if col:
                lines = [encoded[i : i + col] for i in range(0, len(encoded), col)]
                out.write("\n".join(lines) + ("\n" if encoded else ""))
            else:
                out.write(encoded + ("\n" if encoded else ""))
        yield from out.flush()
        return 0
    except Die as e:
        yield from out.flush_quietly()
        yield from complain(sys, "base64", str(e))
        return 1


@applet("uuencode")
def uuencode_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "m")
    except UsageError as e:
        return (yield from _usage(sys, "uuencode", e))
    if not 1 <= len(opts.operands) <= 2:
        return (yield from _usage(sys, "uuencode"))
    table = B64 if "m" in opts else UU_STD
    old = sys.umask(0o666)
    sys.umask(old)
    mode = 0o666 & ~old
    fd = 0
    name = opts.operands[-1]
    if len(opts.operands) == 2:
        try:
            fd = sys.open(opts.operands[0], 0)
            mode = sys.stat(opts.operands[0]).mode & 0o777
        except OSError as e:
            yield from complain(sys, "uuencode", f"can't open '{opts.operands[0]}': {strerror(e)}")
            return 1
    out = BufferedOutput(sys, 1)
    out.write(f"begin{'' if table is UU_STD else '-base64'} {mode:o} {name}")
    data = yield from read_all(sys, fd)
    close_quietly(sys, fd)
    for i in range(0, len(data), 45):
        chunk = data[i : i + 45]
        out.write("\n")
        if table is UU_STD:
            out.write(table[len(chunk)])
        out.write(uuencode_block(chunk, table))
    out.write("\n`\nend\n" if table is UU_STD else "\n====\n")
    yield from out.flush()
    return 0


def read_stduu(src: _Chars, out: BufferedOutput) -> Gen:
    while True:
        raw = yield from src.readline()
        if raw is None:
            break
        line = raw.rstrip(b"\r\n").decode("latin-1")
        if line == "end":
            return
        vals = [(ord(c) - 0x20) & 0x3F for c in line]
        if not vals:
            break
        encoded_len = vals[0] * 4 // 3
        if len(vals) <= encoded_len:
            break
        if encoded_len <= 0:
            continue
        if encoded_len > 60:
            raise Die("line too long")
        data = bytearray()
        p = 1
        while True:
            data.append(((vals[p] << 2) | (vals[p + 1] >> 4)) & 0xFF)
            encoded_len -= 1
            if encoded_len == 0:
                break
            data.append(((vals[p + 1] << 4) | (vals[p + 2] >> 2)) & 0xFF)
            encoded_len -= 1
            if encoded_len == 0:
                break
            data.append(((vals[p + 2] << 6) | vals[p + 3]) & 0xFF)
            p += 4
            encoded_len -= 2
            if encoded_len <= 0:
                break
        out.write(bytes(data))
        yield from out.drain()
    raise Die("short file")


@applet("uudecode")
def uudecode_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "o:")
    except UsageError as e:
        return (yield from _usage(sys, "uudecode", e))
    if len(opts.operands) > 1:
        return (yield from _usage(sys, "uudecode"))
    out: BufferedOutput | None = None
    try:
        fd = yield from _input(sys, "uudecode", opts.operands[0] if opts.operands else "-")
        src = _Chars(sys, fd)
        outname = opts.value("o")
        while True:
            raw = yield from src.readline()
            if raw is None:
                break
            line = raw.rstrip(b"\n").decode("latin-1")
            if line.startswith("begin-base64 "):
                rest, base64 = line[13:], True
            elif line.startswith("begin "):
                rest, base64 = line[6:], False
            else:
                continue
            digits = rest.split(" ", 1)[0]
            mode = int(digits, 8) if digits and all(c in "01234567" for c in digits) else 0
            if outname is None:
                if " " not in rest:
                    break
                outname = rest.split(" ", 1)[1].strip()
                if not outname:
                    break
            out_fd = 1
            if outname not in ("-", "/dev/stdout"):
                try:
                    out_fd = sys.open(outname, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
                except OSError as e:
                    raise Die(f"can't open '{outname}': {strerror(e)}") from None
                sys.chmod(outname, mode & 0o777)
            out = BufferedOutput(sys, out_fd)
            if base64:
                yield from read_base64(src, out, uu_stop=True, exit_char=None)
            else:
                yield from read_stduu(src, out)
            yield from out.flush()
            close_quietly(sys, out_fd)
            return 0
        raise Die("no 'begin' line")
    except Die as e:
        if out is not None:
            yield from out.flush_quietly()
        yield from complain(sys, "uudecode", str(e))
        return 1
