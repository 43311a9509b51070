"""Line and byte filters: cmp, paste, fold, nl, rev, tac, expand,
unexpand, shuf, strings, dos2unix, unix2dos -- each as busybox 1.35 does
it, quirks included (``paste`` does not pad a file that ran out; ``nl``
ends every line with a newline; ``cmp -n`` goes on after a difference).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    err,
    getopt,
    read_all,
    read_chunk,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]


class Die(Exception):
    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _opts(sys: Sys, prog: str, spec: str, permute: bool = True) -> Gen:
    try:
        return getopt(sys.argv[1:], spec, permute)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return None


def _open(sys: Sys, prog: str, path: str) -> Gen:
    """fopen_or_warn_stdin: an fd, or None after "prog: path: error"."""
    if path == "-":
        return 0
    try:
        return sys.open(path, 0)
    except OSError as e:
        yield from complain(sys, prog, f"{path}: {strerror(e)}")
        return None


def _number(text: str, lo: int = 0, hi: int = 2**32 - 1) -> int:
    if not text.isdigit():
        raise Die(f"invalid number '{text}'")
    n = int(text)
    if not lo <= n <= hi:
        raise Die(f"number {text} is not in {lo}..{hi} range")
    return n


class Reader:
    """stdio-like reading of an fd: getc and lines (with their newline)."""

    def __init__(self, sys: Sys, fd: int) -> None:
        self.sys, self.fd, self.buf, self.pos, self.eof = sys, fd, b"", 0, False

    def _fill(self) -> Gen:
        if self.pos >= len(self.buf) and not self.eof:
            self.buf = yield from read_chunk(self.sys, self.fd)
            self.pos = 0
            if not self.buf:
                self.eof = True
        return self.pos < len(self.buf)

    def getc(self) -> Gen:
        if not (yield from self._fill()):
            return None
        c = self.buf[self.pos]
        self.pos += 1
        return c

    def chunk(self) -> Gen:
        """libbb's bb_get_chunk_from_file: up to and including a newline
        or a NUL byte (a NUL ends a "line" too), or None at EOF."""
        parts = []
        while (yield from self._fill()):
            ends = [k for k in (self.buf.find(b"\n", self.pos), self.buf.find(b"\0", self.pos)) if k >= 0]
            if ends:
                end = min(ends)
                parts.append(self.buf[self.pos : end + 1])
                self.pos = end + 1
                return b"".join(parts)
            parts.append(self.buf[self.pos :])
            self.pos = len(self.buf)
        return b"".join(parts) if parts else None

    def fgetline(self) -> Gen:
        """xmalloc_fgetline: a line without its newline (a NUL ends it too)."""
        c = yield from self.chunk()
        if c is None:
            return None
        if c.endswith(b"\n"):
            c = c[:-1]
        return c.split(b"\0", 1)[0]

    def fgets(self) -> Gen:
        """xmalloc_fgets: a line with its newline, as a C string (a NUL ends it)."""
        c = yield from self.chunk()
        if c is None:
            return None
        return c.split(b"\0", 1)[0]

    def line(self) -> Gen:
        """A line with its newline, or None at EOF."""
        parts = []
        while (yield from self._fill()):
            nl = self.buf.find(b"\n", self.pos)
            if nl >= 0:
                parts.append(self.buf[self.pos : nl + 1])
                self.pos = nl + 1
                return b"".join(parts)
            parts.append(self.buf[self.pos :])
            self.pos = len(self.buf)
        return b"".join(parts) if parts else None


# -- cmp -----------------------------------------------------------------------------------


@applet("cmp")
def cmp_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "cmp", "sln:")
    if opts is None:
        return 2
    args = opts.operands
    if not 1 <= len(args) <= 4 or ("s" in opts and "l" in opts):
        yield from show_usage(sys, "cmp")
        return 2
    out = BufferedOutput(sys, 1)
    try:
        max_count = _number(opts.value("n") or "", 0, 2**31 - 1) if "n" in opts.values else -1
        name1 = args[0]
        name2 = args[1] if len(args) > 1 else "-"
        skip1 = _number(args[2], 0, 2**63) if len(args) > 2 else 0
        skip2 = _number(args[3], 0, 2**63) if len(args) > 3 else 0
        fds = []
        for name in (name1, name2):
            if name == "-":
                fds.append(0)
                continue
            try:
                fds.append(sys.open(name, 0))
            except OSError as e:
                raise Die("" if "s" in opts else f"{name}: {strerror(e)}", 2) from None
        if fds[0] == fds[1] == 0:
            return 0
        r1, r2 = Reader(sys, fds[0]), Reader(sys, fds[1])
        for _ in range(skip1):
            yield from r1.getc()
        for _ in range(skip2):
            yield from r2.getc()
        pos, line, status = 0, 1, 0
        any_opt = bool(opts.flags or opts.values)
        while True:
            if max_count >= 0:
                max_count -= 1
                if max_count < 0:
                    break
            c1 = yield from r1.getc()
            c2 = yield from r2.getc()
            pos += 1
            if c1 != c2:
                status = 1
                n1 = name1
                if c2 is None:
                    n1, c1 = name2, c2
                if c1 is None:
                    yield from out.flush()
                    if "s" not in opts:
                        yield from err(sys, f"cmp: EOF on {n1}\n")
                    break
                if "s" not in opts:
                    if "l" in opts:
                        out.write(f"{pos} {c1:3o} {c2:3o}\n")
                    else:
                        out.write(f"{name1} {name2} differ: char {pos}, line {line}\n")
                    if any_opt:
                        continue
                break
            if c1 == 10:
                line += 1
            if c1 is None:
                break
        yield from out.flush()
        return status
    except Die as e:
        yield from out.flush_quietly()
        if e.message:
            yield from complain(sys, "cmp", e.message)
        return e.status


# -- paste ---------------------------------------------------------------------------------


def _escapes(text: str) -> list[str]:
    """strcpy_and_process_escape_sequences, keeping NULs."""
    from .awk.lexer import process_escape

    out = []
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if c == "\\":
            c, i = process_escape(text, i)
        out.append(c)
    return out


@applet("paste")
def paste_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "paste", "d:s")
    if opts is None:
        return 1
    delims = ["\t"]
    if "d" in opts.values:
        raw = opts.value("d") or ""
        if not raw:
            yield from complain(sys, "paste", "-d '' is not supported")
            return 1
        delims = _escapes(raw)
    names = opts.operands or ["-"]
    readers: list[Reader | None] = []
    stdin_reader = None
    for name in names:
        fd = yield from _open(sys, "paste", name)
        if fd is None:
            return 1
        if fd == 0:
            stdin_reader = stdin_reader or Reader(sys, 0)
            readers.append(stdin_reader)
        else:
            readers.append(Reader(sys, fd))
    out = BufferedOutput(sys, 1)

    def put_delim(d: str) -> None:
        if d != "\0":
            out.write(d)

    if "s" in opts:
        for r in readers:
            k = 0
            prev = None
            while True:
                line = yield from r.fgetline()  # type: ignore[union-attr]
                if line is None:
                    break
                if prev is not None:
                    out.write(prev)
                    put_delim(delims[k])
                    k = (k + 1) % len(delims)
                prev = line
            if prev is not None:
                out.write(prev + b"\n")
            yield from out.drain()
    else:
        active = len(readers)
        while active > 0:
            k = 0
            for i, r in enumerate(readers):
                if r is None:
                    continue
                line = yield from r.fgetline()
                if line is None:
                    readers[i] = None
                    active -= 1
                    continue
                out.write(line)
                d = "\n"
                if i != len(readers) - 1:
                    d = delims[k]
                    k = (k + 1) % len(delims)
                put_delim(d)
            yield from out.drain()
    yield from out.flush()
    return 0


# -- fold ----------------------------------------------------------------------------------


@applet("fold")
def fold_main(sys: Sys) -> Gen:
    args = []
    for a in sys.argv[1:]:
        if a == "--":
            args.append(a)
            continue
        args.append(f"-w{a[1:]}" if len(a) > 1 and a[0] == "-" and a[1].isdigit() else a)
    try:
        opts = getopt(args, "bsw:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "fold", e.message)
        yield from show_usage(sys, "fold")
        return 1
    try:
        width = _number(opts.value("w", "80") or "", 1, 10000)
    except Die as e:
        yield from complain(sys, "fold", e.message)
        return 1
    count_bytes, spaces = "b" in opts, "s" in opts

    def adjust(col: int, c: int) -> int:
        if count_bytes:
            return col + 1
        if c == 9:
            return col + 8 - col % 8
        if c == 8:
            return max(col - 1, 0)
        if c == 13:
            return 0
        return col + 1

    out = BufferedOutput(sys, 1)
    status = 0
    for name in opts.operands or ["-"]:
        fd = yield from _open(sys, "fold", name)
        if fd is None:
            status = 1
            continue
        r = Reader(sys, fd)
        line = bytearray()
        col = 0
        while True:
            c = yield from r.getc()
            if c is None:
                break
            while True:  # rescan
                line.append(c)
                if c == 10:
                    out.write(bytes(line))
                    line.clear()
                    col = 0
                    break
                col = adjust(col, c)
                if col <= width or len(line) == 1:
                    break
                line.pop()
                if spaces:
                    cut = max((k for k in range(len(line)) if line[k] in (32, 9)), default=-1)
                    if cut >= 0:
                        out.write(bytes(line[: cut + 1]) + b"\n")
                        del line[: cut + 1]
                        col = 0
                        for b in line:
                            col = adjust(col, b)
                        continue
                out.write(bytes(line) + b"\n")
                line.clear()
                col = 0
            yield from out.drain()
        if line:
            out.write(bytes(line))
        close_quietly(sys, fd)
    yield from out.flush()
    return status


# -- nl ------------------------------------------------------------------------------------


@applet("nl")
def nl_main(sys: Sys) -> Gen:
    argv = []
    longs = {
        "--body-numbering": "-b", "--line-increment": "-i", "--no-renumber": "-p",
        "--number-separator": "-s", "--starting-line-number": "-v", "--number-width": "-w",
    }  # fmt: skip
    for a in sys.argv[1:]:
        name, eq, val = a.partition("=")
        argv.append(longs[name] + val if name in longs else a)
    try:
        opts = getopt(argv, "pw:s:v:i:b:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "nl", e.message)
        yield from show_usage(sys, "nl")
        return 1
    try:
        width = _number(opts.value("w", "6") or "")
        start = _number(opts.value("v", "1") or "")
        inc = _number(opts.value("i", "1") or "")
    except Die as e:
        yield from complain(sys, "nl", e.message)
        return 1
    sep = opts.value("s", "\t") or ""
    style = (opts.value("b", "t") or "")[:1]
    empty = " " * (width + len(sep))
    out = BufferedOutput(sys, 1)
    n = start
    status = 0
    for name in opts.operands or ["-"]:
        fd = yield from _open(sys, "nl", name)
        if fd is None:
            status = 1
            continue
        r = Reader(sys, fd)
        while True:
            body = yield from r.fgetline()
            if body is None:
                break
            if style == "a" or (style == "t" and body):
                out.write(f"{n & 0xFFFFFFFF:{width}d}{sep}".encode("latin-1", "replace"))
                n += inc
            else:
                out.write(empty.encode("latin-1", "replace"))
            out.write(body + b"\n")
            yield from out.drain()
        close_quietly(sys, fd)
    yield from out.flush()
    return status


# -- rev, tac ------------------------------------------------------------------------------


@applet("rev")
def rev_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "rev", "")
    if opts is None:
        return 1
    out = BufferedOutput(sys, 1)
    status = 0
    for name in opts.operands or ["-"]:
        fd = yield from _open(sys, "rev", name)
        if fd is None:
            status = 1
            continue
        r = Reader(sys, fd)
        while True:
            line = yield from r.line()
            if line is None:
                break
            text = line.split(b"\0", 1)[0]
            nl = text.endswith(b"\n")
            body = text[:-1] if nl else text
            # strrev over the whole string: a newline is reversed to the front
            out.write((body[::-1] + b"\n") if nl else body[::-1])
            yield from out.drain()
        close_quietly(sys, fd)
    yield from out.flush()
    return status


@applet("tac")
def tac_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "tac", "")
    if opts is None:
        return 1
    names = opts.operands or ["-"]
    lines: list[bytes] = []
    status = 0
    for name in reversed(names):
        fd = yield from _open(sys, "tac", name)
        if fd is None:
            status = 1
            continue
        data = yield from read_all(sys, fd)
        close_quietly(sys, fd)
        parts = data.split(b"\n")
        file_lines = [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        # busybox reads the files last to first, prepending each line to
        # one list: the files come out in order, each one reversed
        lines = file_lines[::-1] + lines
    out = BufferedOutput(sys, 1)
    for line in lines:
        out.write(line)
        yield from out.drain()
    yield from out.flush()
    return status


# -- expand, unexpand --------------------------------------------------------------------------


@applet("expand", "unexpand")
def expand_main(sys: Sys) -> Gen:
    prog = "unexpand" if sys.argv[0].rsplit("/", 1)[-1].startswith("u") else "expand"
    argv = []
    for a in sys.argv[1:]:
        name, eq, val = a.partition("=")
        table = {"--initial": "-i", "--tabs": "-t", "--first-only": "-f", "--all": "-a"}
        argv.append(table[name] + val if name in table else a)
    opts = None
    try:
        opts = getopt(argv, "it:" if prog == "expand" else "ft:a")
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return 1
    initial = "i" in opts if prog == "expand" else "f" in opts
    every = prog == "unexpand" and ("a" in opts or "t" in opts.values) and not initial
    try:
        tab = _number(opts.value("t", "8") or "", 1, 2**32 - 1)
    except Die as e:
        yield from complain(sys, prog, e.message)
        return 1
    out = BufferedOutput(sys, 1)
    status = 0
    for name in opts.operands or ["-"]:
        fd = yield from _open(sys, prog, name)
        if fd is None:
            status = 1
            continue
        r = Reader(sys, fd)
        while True:
            line = yield from r.fgets()
            if line is None:
                break
            text = line.decode("latin-1")
            out.write(
                (_expand(text, tab, initial) if prog == "expand" else _unexpand(text, tab, every)).encode(
                    "latin-1"
                )
            )
            yield from out.drain()
        close_quietly(sys, fd)
    yield from out.flush()
    return status


def _expand(line: str, tab: int, initial: bool) -> str:
    out = []
    start = 0
    for i, c in enumerate(line):
        if initial and c not in " \t":
            break
        if c == "\t":
            seg = line[start:i]
            out.append(seg + " " * (tab - len(seg) % tab))
            start = i + 1
    out.append(line[start:])
    return "".join(out)


def _unexpand(line: str, tab: int, every: bool) -> str:
    out = []
    p = 0
    column = 0
    while p < len(line):
        n = 0
        while p < len(line) and line[p] == " ":
            p += 1
            n += 1
        column += n
        if p < len(line) and line[p] == "\t":
            column += tab - column % tab
            p += 1
            continue
        tabs = column // tab
        if tabs:
            n = column = column % tab
            out.append("\t" * tabs)
        if not every and p != 0:
            out.append(" " * n + line[p:])
            break
        end = p
        while end < len(line) and line[end] not in "\t ":
            end += 1
        out.append(" " * n + line[p:end])
        column = (column + (end - p)) % tab
        p = end
    return "".join(out)


# -- strings ------------------------------------------------------------------------------------


@applet("strings")
def strings_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "strings", "afon:t:")
    if opts is None:
        return 1
    try:
        n = _number(opts.value("n", "4") or "", 1, 2**31 - 1)
    except Die as e:
        yield from complain(sys, "strings", e.message)
        return 1
    radix = opts.value("t", "o") or ""
    if radix not in ("d", "o", "x"):
        yield from show_usage(sys, "strings")
        return 1
    fmt = "{%s}: " if not opts.operands else "%s: "
    out = BufferedOutput(sys, 1)
    status = 0
    for name in opts.operands or ["standard input"]:
        fd = yield from _open(sys, "strings", "-" if not opts.operands else name)
        if fd is None:
            status = 1
            continue
        data = yield from read_all(sys, fd)
        close_quietly(sys, fd)
        count = 0
        pending = bytearray()
        for offset, c in enumerate(list(data) + [None]):
            if c is not None and (32 <= c < 127 or c == 9):
                if count >= n:
                    out.write(bytes([c]))
                else:
                    pending.append(c)
                    if count == n - 1:
                        if "f" in opts:
                            out.write((fmt % name).encode("utf-8", "surrogateescape"))
                        if "o" in opts or "t" in opts.values:
                            start = offset - (n - 1)
                            out.write(f"{start:7{radix}} ")
                        out.write(bytes(pending))
                    count += 1
            else:
                if count >= n:
                    out.write(b"\n")
                count = 0
                pending.clear()
        yield from out.drain()
    yield from out.flush()
    return status


# -- dos2unix, unix2dos ---------------------------------------------------------------------------


@applet("dos2unix", "unix2dos")
def dos2unix_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1]
    opts = yield from _opts(sys, prog, "du")
    if opts is None:
        return 1
    if "d" in opts and "u" in opts:
        yield from show_usage(sys, prog)
        return 1
    to_dos = prog.startswith("u")
    if "d" in opts:
        to_dos = True
    if "u" in opts:
        to_dos = False

    def convert(data: bytes) -> bytes:
        data = data.replace(b"\r", b"")
        return data.replace(b"\n", b"\r\n") if to_dos else data

    names = opts.operands or [None]
    for name in names:
        if name is None:
            data = yield from read_all(sys, 0)
            out = BufferedOutput(sys, 1)
            out.write(convert(data))
            yield from out.flush()
            continue
        from .applets_files import _canonicalize

        real = _canonicalize(sys, name)
        if real is None:
            yield from complain(sys, prog, f"{name}: No such file or directory")
            return 1
        try:
            fd = sys.open(real, 0)
            st = sys.stat(real)
        except OSError as e:
            yield from complain(sys, prog, f"can't open '{real}': {strerror(e)}")
            return 1
        data = yield from read_all(sys, fd)
        close_quietly(sys, fd)
        tmp, tfd = _mkstemp(sys, real)
        try:
            sys.chmod(tmp, st.mode)
            sys.chown(tmp, st.uid, st.gid)
        except OSError:
            pass
        out = BufferedOutput(sys, tfd)
        out.write(convert(data))
        yield from out.flush()
        close_quietly(sys, tfd)
        sys.rename(tmp, real)
    return 0


def _mkstemp(sys: Sys, prefix: str) -> tuple[str, int]:
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    rng = random.Random(sys.getpid() * 7919 + int(sys.time() * 1e6))
    while True:
        name = prefix + "".join(rng.choice(chars) for _ in range(6))
        try:
            return name, sys.open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        except FileExistsError:
            continue


# -- shuf ------------------------------------------------------------------------------------------


@applet("shuf")
def shuf_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "shuf", "ei:n:o:z")
    if opts is None:
        return 1
    if "e" in opts and "i" in opts.values:
        yield from show_usage(sys, "shuf")
        return 1
    try:
        lo = None
        if "e" in opts:
            lines = [a.encode("utf-8", "surrogateescape") for a in opts.operands]
        elif "i" in opts.values:
            if opts.operands:
                yield from show_usage(sys, "shuf")
                return 1
            spec = opts.value("i") or ""
            if "-" not in spec:
                raise Die(f"bad range '{spec}'")
            a, b = spec.split("-", 1)
            lo, hi = _number(a, 0, 2**64 - 1), _number(b, 0, 2**64 - 1)
            if hi < lo or hi - lo >= 2**32 - 1:
                raise Die(f"bad range '{spec}'")
            lines = [str(lo + k).encode() for k in range(hi - lo + 1)]
        else:
            if len(opts.operands) > 1:
                yield from show_usage(sys, "shuf")
                return 1
            name = opts.operands[0] if opts.operands else "-"
            if name == "-":
                fd = 0
            else:
                try:
                    fd = sys.open(name, 0)
                except OSError as e:
                    raise Die(f"can't open '{name}': {strerror(e)}") from None
            data = yield from read_all(sys, fd)
            parts = data.split(b"\n")
            lines = parts[:-1] + ([parts[-1]] if parts[-1] else [])
        count = len(lines)
        if "n" in opts.values:
            count = min(_number(opts.value("n") or ""), len(lines))
        rng = random.Random(int(sys.wall_time() * 1e6) ^ sys.getpid())
        rng.shuffle(lines)
        chosen = lines[len(lines) - count :]
        fd_out = 1
        if "o" in opts.values:
            try:
                fd_out = sys.open(opts.value("o") or "", O_WRONLY | O_CREAT | O_TRUNC, 0o666)
            except OSError as e:
                raise Die(f"can't open '{opts.value('o')}': {strerror(e)}") from None
        out = BufferedOutput(sys, fd_out)
        eol = b"\0" if "z" in opts else b"\n"
        for line in chosen:
            out.write(line + eol)
        yield from out.flush()
        return 0
    except Die as e:
        yield from complain(sys, "shuf", e.message)
        return e.status
