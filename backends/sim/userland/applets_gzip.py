"""gzip, gunzip, zcat, bzip2, bunzip2, bzcat, xz, unxz, xzcat, lzma,
unlzma, lzcat, uncompress -- busybox's ``bbunpack`` family
(``archival/bbunzip.c``): FILE becomes FILE.gz (or loses its suffix), the
new file takes the old one's mode, the old one is removed unless ``-k``;
``-c`` writes to stdout, ``-t`` tests, ``-f`` overwrites.  zcat (and
bzcat, xzcat) recognise any of gzip, bzip2, xz and compress data.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_WRONLY, Sys
from . import compression
from .applet_table import applet
from .libc import UsageError, close_quietly, complain, err, getopt, read_all, show_usage, strerror, write_all

Gen = Generator[Any, Any, int]


class _Stop(Exception):
    """xfunc_die: the message is out; exit 1."""


def _decompressor(prog: str):
    if prog in ("gunzip", "zcat", "gzip"):
        return "gz"
    if prog in ("bunzip2", "bzcat", "bzip2"):
        return "bz2"
    if prog in ("unxz", "xzcat", "xz"):
        return "xz"
    if prog in ("unlzma", "lzcat", "lzma"):
        return "lzma"
    return "Z"


def _new_name(prog: str, name: str, compressing: bool) -> str | None:
    if compressing:
        return name + {"gzip": ".gz", "bzip2": ".bz2"}[prog]
    if prog in ("gunzip", "gzip"):
        dot = name.rfind(".")
        if dot < 0:
            return None
        ext = name[dot + 1 :]
        if ext in ("gz", "Z"):
            return name[:dot]
        if ext == "tgz":
            return name[:dot] + ".tar"
        return None
    suffix = {"bz2": ".bz2", "xz": ".xz", "lzma": ".lzma", "Z": ".Z"}[_decompressor(prog)]
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else None


def _transform(prog: str, kind: str | None, data: bytes, seamless: bool) -> tuple[bytes, int, str | None]:
    """(output, mtime, error message)."""
    try:
        if kind is None:  # compressing
            out = compression.gzip_compress(data) if prog == "gzip" else compression.bzip2_compress(data)
            return out, 0, None
        if seamless:
            found = compression.sniff(data)
            if found is None:
                return b"", 0, "short read" if len(data) < 2 else "no gzip/bzip2/xz magic"
            kind = found
        if kind == "gz":
            out, mtime = compression.gunzip(data)
            return out, mtime, None
        return compression.decompress(kind, data), 0, None
    except compression.DecodeError as e:
        return e.partial, 0, e.message


@applet(
    "gzip", "gunzip", "zcat", "bzip2", "bunzip2", "bzcat",
    "xz", "unxz", "xzcat", "lzma", "unlzma", "lzcat", "uncompress",
)  # fmt: skip
def bbunzip_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    longs = {
        "--stdout": "-c", "--to-stdout": "-c", "--force": "-f", "--verbose": "-v", "--decompress": "-d",
        "--uncompress": "-d", "--test": "-t", "--quiet": "-q", "--fast": "-1", "--best": "-9", "--no-name": "-n",
        "--keep": "-k",
    }  # fmt: skip
    argv = [longs.get(a, a) for a in sys.argv[1:]]
    spec = {
        "gzip": "cfkvqdtn123456789",
        "gunzip": "cfkvqdtn",
        "zcat": "cfkvq",
        "bzip2": "cfkvqdt123456789s",
        "bunzip2": "cfkvqdt",
        "bzcat": "cfkvq",
        "uncompress": "cfkvq",
    }.get(prog, "cfkvqdt")
    try:
        opts = getopt(argv, spec)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return 1
    compressing = prog in ("gzip", "bzip2") and "d" not in opts and "t" not in opts
    if prog in ("xz", "lzma") and "d" not in opts and "t" not in opts:
        yield from show_usage(sys, prog)
        return 1
    to_stdout = "c" in opts or prog in ("zcat", "bzcat", "xzcat", "lzcat")
    seamless = prog in ("zcat",)
    test = "t" in opts
    kind = None if compressing else _decompressor(prog)
    status = 0
    names: list[str | None] = [*opts.operands] or [None]  # None: stdin
    for name in names:
        if name == "-":
            name = None
        try:
            if name is not None:
                try:
                    st = sys.stat(name)
                    fd = sys.open(name, 0)
                except OSError as e:
                    yield from complain(sys, prog, f"{name}: {strerror(e)}")
                    status = 1
                    continue
            else:
                fd = 0
            out_name = None
            if name is not None and not (to_stdout or test):
                out_name = _new_name(prog, name, compressing)
                if out_name is None:
                    yield from complain(sys, prog, f"{name}: unknown suffix - ignored")
                    status = 1
                    close_quietly(sys, fd)
                    continue
                if "f" in opts:
                    try:
                        sys.unlink(out_name)
                    except OSError:
                        pass
                try:
                    out_fd = sys.open(out_name, O_WRONLY | O_CREAT | O_EXCL, st.mode)
                except OSError as e:
                    yield from complain(sys, prog, f"can't open '{out_name}': {strerror(e)}")
                    status = 1
                    close_quietly(sys, fd)
                    continue
            elif test:
                out_fd = None
            else:
                out_fd = 1
            data = yield from read_all(sys, fd, charge=True)
            close_quietly(sys, fd)
            yield from sys.burn(1 + len(data) // 64)
            out, mtime, error = _transform(prog, kind, data, seamless)
            sys.free(len(data))
            if out_fd is not None and out:
                yield from write_all(sys, out_fd, out)
            if out_fd not in (None, 0, 1):
                close_quietly(sys, out_fd)
            if error is not None:
                yield from complain(sys, prog, error)
                status = 1
                if out_name is not None:
                    # bbunpack deletes the new file when unpacking failed
                    try:
                        sys.unlink(out_name)
                    except OSError:
                        pass
                if seamless:
                    raise _Stop()
                continue
            if out_name is not None and name is not None:
                if mtime:
                    try:
                        sys.set_mtime(out_name, float(mtime))
                    except OSError:
                        pass
                if "v" in opts:
                    # busybox divides by what the transformer returned: the
                    # byte count when unpacking, 0 (so "100%") when packing
                    percent = 0
                    if len(out) and not compressing:
                        percent = (st.size * 100 // len(out)) & 0xFFFFFFFF
                    yield from err(
                        sys, f"{name}: {(100 - percent) & 0xFFFFFFFF}% - replaced with {out_name}\n"
                    )
                if "k" not in opts:
                    try:
                        sys.unlink(name)
                    except OSError as e:
                        yield from complain(sys, prog, f"can't remove '{name}': {strerror(e)}")
                        return 1
        except _Stop:
            return 1
    return status
