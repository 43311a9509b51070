"""dumpleases -- after busybox 1.35's networking/udhcp/dumpleases.c.

``dumpleases [-r|-a] [-d] [-f LEASEFILE]`` prints the leases udhcpd wrote
(default /var/lib/misc/udhcpd.leases): a 64-bit big-endian time the file
was written at, then 36-byte ``struct dyn_lease`` records (expiry in
seconds after that time, IPv4 address, 6 bytes of MAC, a 20-byte host
name, 2 bytes of padding).  A file written "in the future" counts as
written now.  Each lease is "expired", or its remaining time
(``[N days ]HH:MM:SS``, with -d in seconds), or with -a its expiry as
ctime(3) in the local zone (with -d seconds since the epoch).  A trailing
partial record is ignored; a file shorter than its 8-byte header (or
unreadable, a directory) is "short read" after the header line.

The host name goes through busybox's unicode_conv_to_printable_fixedwidth
(19 columns): bytes outside printable ASCII become ``?`` -- unless
LC_ALL/LC_CTYPE/LANG names a UTF-8 locale, when it is decoded as UTF-8
and what busybox's own wcwidth does not know (past U+02FF, busybox's
LAST_SUPPORTED_WCHAR in Debian's build) or cannot decode is ``?``.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from . import timefmt
from .applet_table import applet
from .libc import BufferedOutput, UsageError, complain, getopt, show_usage, strerror

Gen = Generator[Any, Any, Any]
LEASES_FILE = "/var/lib/misc/udhcpd.leases"
LEASE_SIZE = 36
HOST_WIDTH = 19
LAST_SUPPORTED_WCHAR = 0x2FF
LONGOPTS = {"absolute": "a", "remaining": "r", "file": "f", "decimal": "d"}


@applet("dumpleases")
def dumpleases_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "arf:d", longopts=LONGOPTS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "dumpleases", e.message)
        yield from show_usage(sys, "dumpleases")
        return 1
    # "=0:a--r:r--a": no operands, and -a and -r exclude each other
    if opts.operands or ("a" in opts and "r" in opts):
        yield from show_usage(sys, "dumpleases")
        return 1
    absolute, decimal = "a" in opts, "d" in opts
    path = opts.value("f", LEASES_FILE) or ""
    try:
        fd = sys.open(path, O_RDONLY)
    except OSError as e:
        yield from complain(sys, "dumpleases", f"can't open '{path}': {strerror(e)}")
        return 1
    out = BufferedOutput(sys, 1)
    heading = "at" if absolute else "in"
    out.write(f"Mac {'Address':<14}IP {'Address':<13}Host {'Name':<15}Expires {heading}\n")
    header = yield from _full_read(sys, fd, 8)
    if len(header) != 8:
        yield from complain(sys, "dumpleases", "short read")
        yield from out.flush_quietly()
        return 1
    (written_at,) = struct.unpack(">q", header)
    curr = int(sys.wall_time())
    written_at = min(written_at, curr)  # a lease file from the future
    unicode_on = _unicode_locale(sys)
    zone = None
    while True:
        record = yield from _full_read(sys, fd, LEASE_SIZE)
        if len(record) != LEASE_SIZE:
            break
        expires, nip, mac, name = struct.unpack(">I4s6s20s", record[:34])
        out.write(":".join(f"{b:02x}" for b in mac))
        ip = ".".join(str(b) for b in nip)
        out.write(f" {ip:<16}" + _printable(name + record[34:], unicode_on) + " ")
        expires_abs = expires + written_at
        if expires_abs <= curr:
            out.write("expired\n")
        elif decimal:
            out.write(f"{expires_abs if absolute else expires_abs - curr}\n")
        elif not absolute:
            left = expires_abs - curr
            days, left = divmod(left, 24 * 60 * 60)
            hours, left = divmod(left, 60 * 60)
            minutes, seconds = divmod(left, 60)
            if days:
                out.write(f"{days} days ")
            out.write(f"{hours:02d}:{minutes:02d}:{seconds:02d}\n")
        else:
            if zone is None:
                zone = yield from timefmt.load_zone(sys)
            out.write(timefmt.ctime(timefmt.localtime(zone, expires_abs)) + "\n")
        yield from out.drain()
    yield from out.flush_quietly()
    return 0


def _full_read(sys: Sys, fd: int, size: int) -> Gen:
    """full_read: up to ``size`` bytes; what came before an error (or b"")."""
    data = b""
    while len(data) < size:
        try:
            chunk = yield from sys.read(fd, size - len(data))
        except OSError:
            return data if data else b""
        if not chunk:
            break
        data += chunk
    return data


def _unicode_locale(sys: Sys) -> bool:
    """init_unicode: the first of LC_ALL, LC_CTYPE, LANG that is set names UTF-8."""
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = sys.env.get(var)
        if value:
            return "utf" in value.lower()
    return False


def _printable(name: bytes, unicode_on: bool) -> str:
    """unicode_conv_to_printable_fixedwidth(name, 19), as latin-1 text
    (one character a byte) for the output buffer."""
    name = name.split(b"\0", 1)[0]
    if not unicode_on:
        cells = "".join(chr(c) if 0x20 <= c < 0x7F else "?" for c in name[:HOST_WIDTH])
        return cells.ljust(HOST_WIDTH)
    text = name.decode("utf-8", "replace")
    shown, width = [], 0
    for ch in text:
        if width == HOST_WIDTH:
            break
        code = ord(ch)
        printable = 0x20 <= code < 0x7F or 0xA0 <= code <= LAST_SUPPORTED_WCHAR
        shown.append(ch if printable else "?")
        width += 1
    padded = "".join(shown) + " " * (HOST_WIDTH - width)
    return padded.encode().decode("latin-1")
