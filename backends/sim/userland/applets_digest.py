"""Checksums: md5sum, sha1sum, sha256sum, sha512sum, sha3sum (``-a`` bits,
224 by default), with busybox's ``-c`` check mode, and crc32 -- the
formats and messages of busybox 1.35's ``md5_sha1_sum.c`` and
``cksum.c``.  The digests are Python's hashlib and zlib: the bytes are the
same, what busybox prints around them is done here.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    getopt,
    read_chunk,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]


def _open(sys: Sys, prog: str, path: str) -> Gen:
    """open_or_warn_stdin: the fd, or None after "can't open"."""
    if path == "-":
        return 0
    try:
        return sys.open(path, 0)
    except OSError as e:
        yield from complain(sys, prog, f"can't open '{path}': {strerror(e)}")
        return None


def _new_hash(prog: str, width: int):
    if prog == "md5sum":
        return hashlib.md5()
    if prog == "sha1sum":
        return hashlib.sha1()
    if prog == "sha256sum":
        return hashlib.sha256()
    if prog == "sha512sum":
        return hashlib.sha512()
    return {224: hashlib.sha3_224, 256: hashlib.sha3_256, 384: hashlib.sha3_384, 512: hashlib.sha3_512}[
        width
    ]()


def hash_file(sys: Sys, prog: str, path: str, width: int) -> Gen:
    """The digest of a file in hex, or None (after a message) if unreadable."""
    fd = yield from _open(sys, prog, path)
    if fd is None:
        return None
    h = _new_hash(prog, width)
    try:
        while True:
            try:
                chunk = yield from read_chunk(sys, fd)
            except OSError:
                yield from complain(sys, prog, f"can't read '{path}'")
                return None
            if not chunk:
                break
            h.update(chunk)
    finally:
        if fd:
            close_quietly(sys, fd)
    return h.hexdigest()


@applet("md5sum", "sha1sum", "sha256sum", "sha512sum", "sha3sum")
def digest_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    sha3 = prog == "sha3sum"
    try:
        opts = getopt(sys.argv[1:], "scwbta:" if sha3 else "scwbt")
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return 1
    if ("s" in opts or "w" in opts) and "c" not in opts:
        yield from show_usage(sys, prog)
        return 1
    width = 224
    if sha3 and "a" in opts.values:
        text = opts.value("a") or ""
        if not text.isdigit():
            yield from complain(sys, prog, f"invalid number '{text}'")
            return 1
        width = int(text)
        if width not in (224, 256, 384, 512):
            # busybox accepts any multiple of 32 below 800; only the four
            # standard widths have a digest here
            yield from complain(sys, prog, f"bad -a{width}")
            return 1
    out = BufferedOutput(sys, 1)
    status = 0
    for path in opts.operands or ["-"]:
        if "c" in opts:
            fd = yield from _open(sys, prog, path)
            if fd is None:
                yield from out.flush()
                return 1
            from .libc import read_all

            data = yield from read_all(sys, fd)
            close_quietly(sys, fd)
            lines = data.decode("utf-8", "surrogateescape").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            total = failed = 0
            for line in lines:
                total += 1
                cut = line.find("  ")
                if cut < 0:
                    cut = line.find(" *")
                if cut < 0:
                    if "w" in opts:
                        yield from out.flush()
                        yield from complain(sys, prog, "invalid format")
                    failed += 1
                    status = 1
                    continue
                want, name = line[:cut], line[cut + 2 :]
                yield from out.flush()
                got = yield from hash_file(sys, prog, name, width)
                if got is not None and got == want:
                    if "s" not in opts:
                        out.write(f"{name}: OK\n".encode("utf-8", "surrogateescape"))
                else:
                    if "s" not in opts:
                        out.write(f"{name}: FAILED\n".encode("utf-8", "surrogateescape"))
                    failed += 1
                    status = 1
            yield from out.flush()
            if failed and "s" not in opts:
                yield from complain(
                    sys, prog, f"WARNING: {failed} of {total} computed checksums did NOT match"
                )
            if total == 0:
                status = 1
                yield from complain(sys, prog, f"{path}: no checksum lines found")
        else:
            yield from out.flush()
            got = yield from hash_file(sys, prog, path, width)
            if got is None:
                status = 1
            else:
                out.write(f"{got}  {path}\n".encode("utf-8", "surrogateescape"))
    yield from out.flush()
    return status


@applet("crc32")
def crc32_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "crc32", e.message)
        yield from show_usage(sys, "crc32")
        return 1
    out = BufferedOutput(sys, 1)
    status = 0
    paths: list[str | None] = list(opts.operands) or [None]
    for path in paths:
        name = path if path is not None else "standard input"
        fd = yield from _open(sys, "crc32", "-" if path is None else name)
        if fd is None:
            status = 1
            continue
        crc = 0
        while True:
            chunk = yield from read_chunk(sys, fd)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
        if fd:
            close_quietly(sys, fd)
        out.write(f"{crc:08x} {path}\n" if path is not None else f"{crc:08x}\n")
    yield from out.flush()
    return status
