"""ar -- after busybox 1.35's archival/ar.c with libarchive's
get_header_ar.c and unpack_ar_archive.c (Debian's build: read-only, GNU
long names).

``ar x|p|t [-ov] ARCHIVE [FILE]...``: the first argument gets a '-'
put in front when it has none, so ``ar tv a.ar`` works; exactly one of p/t/x.  Members are read
in order: the symbol index ("/ ") is skipped, the long-name table ("//")
remembered, "/N" names looked up in it; a name ends at its first space
or '/'.  Numbers are parsed as bb_strtou does (a field that does not
start with a letter or digit, or holds a letter after the number, is an
"invalid ar header").  FILE operands are fnmatch patterns.  Extraction is
libarchive's data_extract_all without flags: O_EXCL (an existing file
stops ar), then chown/chmod, and with ``-o`` the mtime.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from . import timefmt
from .applet_table import applet
from .applets_tar import Member, Tar, TarDie
from .fnmatch_c import fnmatch
from .libc import (
    BufferedOutput,
    Die,
    UsageError,
    complain,
    dies,
    getopt,
    mode_string,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
AR_MAGIC = b"!<arch>"
S_IFREG = 0o100000


def bb_strtou(field: bytes, base: int) -> int:
    """bb_strtou(str, NULL, base) on a NUL-ended field; -1 when it fails."""
    text = field.split(b"\0", 1)[0]
    if not text or not chr(text[0]).isascii() or not chr(text[0]).isalnum():
        return -1
    digits = "0123456789"[:base] if base <= 10 else "0123456789abcdef"
    k = 0
    while k < len(text) and chr(text[k]).lower() in digits:
        k += 1
    value = int(text[:k], base) if k else 0
    if k < len(text) and chr(text[k]).isascii() and chr(text[k]).isalnum():
        return -1
    if value > 0xFFFFFFFF:
        return -1
    return value


def read_num(field: bytes, base: int) -> int:
    value = bb_strtou(field, base)
    if value == 0xFFFFFFFF or value == -1:
        raise Die("invalid ar header")
    return value


def members(data: bytes) -> Generator[tuple[Member, bytes], None, None]:
    """get_header_ar over the whole archive: (member, its data -- short
    when the archive ends early)."""
    if len(data) < len(AR_MAGIC):
        raise Die("short read")
    if not data.startswith(AR_MAGIC):
        raise Die("invalid ar magic")
    offset = len(AR_MAGIC)
    long_names = b""
    while True:
        raw = data[offset : offset + 60]
        if len(raw) != 60:
            return
        if raw[0:1] == b"\n":
            if offset + 60 >= len(data):
                raise Die("short read")
            raw = data[offset + 1 : offset + 61]
            offset += 1
        offset += 60
        if raw[58:60] != b"`\n":
            raise Die("invalid ar header")
        name, date, uid, gid, mode, size_f = (
            raw[0:16],
            raw[16:28],
            raw[28:34],
            raw[34:40],
            raw[40:48],
            raw[48:58],
        )
        size = read_num(size_f, 10)
        if name[0:1] == b"/" and name[1:2] == b" ":
            offset += size
            continue
        if name[0:1] == b"/" and name[1:2] == b"/":
            if offset + size > len(data):
                raise Die("short read")
            long_names = data[offset : offset + size]
            offset += size
            continue
        m_mode = read_num(mode, 8) | S_IFREG
        m_gid = read_num(gid, 10)
        m_uid = read_num(uid, 10)
        m_mtime = read_num(date, 10)
        if name[0:1] == b"/":
            where = read_num(name[1:], 10)
            if where >= len(long_names):
                raise Die("can't resolve long filename")
            raw_name = long_names[where:].split(b"\0", 1)[0]
        else:
            raw_name = name.split(b"\0", 1)[0]
        cut = len(raw_name)
        for stop in (b" ", b"/"):
            k = raw_name.find(stop)
            if 0 <= k < cut:
                cut = k
        text = raw_name[:cut].decode("utf-8", "surrogateescape")
        member = Member(text, m_mode, m_uid, m_gid, size, m_mtime, None, None, None)
        yield member, data[offset : offset + size]
        offset += size


@applet("ar")
@dies("ar")
def ar_main(sys: Sys) -> Gen:
    argv = list(sys.argv[1:])
    if argv and argv[0] and not argv[0].startswith("-"):
        argv[0] = "-" + argv[0]
    try:
        opts = getopt(argv, "vocptx")
        if not opts.operands:
            raise UsageError(None)
        if sum(1 for c in "ptx" if c in opts) != 1:
            raise UsageError(None)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "ar", e.message)
        yield from show_usage(sys, "ar")
        raise Die(None) from None
    path, patterns = opts.operands[0], opts.operands[1:]
    try:
        fd = sys.open(path, O_RDONLY, 0)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    try:
        data = yield from read_all(sys, fd)
    except OSError:
        raise Die("short read") from None  # xread of the magic
    finally:
        sys.close(fd)
    out = BufferedOutput(sys, 1)
    tar = Tar(sys, None, 0)
    flags = {
        "strip": 0,
        "unlink_old": False,
        "overwrite": False,
        "no_owner": False,
        "numeric": True,
        "no_perm": False,
        "restore_date": "o" in opts,
    }
    zone = None
    try:
        for member, body in members(data):
            if patterns and not any(fnmatch(p, member.name) for p in patterns):
                continue
            if "v" in opts:
                if zone is None:
                    zone = yield from timefmt.load_zone(sys)
                out.write(verbose_line(zone, member).encode("utf-8", "surrogateescape"))
            elif "t" in opts:
                out.write((member.name + "\n").encode("utf-8", "surrogateescape"))
            if "p" in opts:  # straight to fd 1: the listing stays in stdio's buffer
                yield from write_all(sys, 1, body)
            elif "x" in opts:
                try:
                    yield from tar.extract(member, member.name, body, flags, [])
                except TarDie as e:
                    raise Die(str(e)) from None
            if len(body) < member.size and ("p" in opts or "x" in opts):
                raise Die("short read")
    finally:
        yield from out.flush()
    return 0


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def verbose_line(zone: Any, m: Member) -> str:
    """header_verbose_list_ar: mode without its type letter, uid/gid,
    size, ctime() cut to "Mon dd hh:mm yyyy", name."""
    t = timefmt.localtime(zone, m.mtime)
    when = f"{MONTHS[t.mon - 1]} {t.mday:2d} {t.hour:02d}:{t.min:02d} {t.year}"
    return f"{mode_string(m.mode)[1:]} {m.uid}/{m.gid}{m.size:7d} {when} {m.name}\n"
