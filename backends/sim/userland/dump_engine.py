"""libbb's ``dump.c``: the format-string engine behind hexdump and xxd.

A *format string* (``-e '"%07.7_ax " 8/2 "%04x " "\\n"'``) is a list of
*format units* -- an iteration count, a byte count and a quoted format --
each broken into *print units*, one per conversion (``%x`` takes 4 bytes
unless a byte count says otherwise, ``%_a`` prints the address, ``%_p``
a character or a dot, ``%_c`` a C escape...).  Input is read in blocks as
long as the longest format string consumes; a repeated block is printed
as ``*`` (unless ``-v``); the last block is padded with blanks.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import Sys
from .cprintf import cformat
from .libc import BufferedOutput, complain, read_chunk, strerror

Gen = Generator[Any, Any, Any]

F_IGNORE, F_SETREP = 1, 2
(F_ADDRESS, F_BPAD, F_C, F_CHAR, F_DBL, F_INT, F_P, F_STR, F_TEXT, F_U, F_UINT) = (
    "ADDRESS",
    "BPAD",
    "C",
    "CHAR",
    "DBL",
    "INT",
    "P",
    "STR",
    "TEXT",
    "U",
    "UINT",
)
ALL, DUP, FIRST, WAIT = "ALL", "DUP", "FIRST", "WAIT"
_FLAGS_WIDTH = ".#-+ 0123456789"
_SIZE_CONV = {"c": 1, "d": 4, "i": 4, "o": 4, "u": 4, "x": 4, "X": 4, "e": 8, "E": 8, "f": 8, "g": 8, "G": 8}
_INT_CONVS = "diouxX"
_CONV_STR = {0: "\\0", 7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
_CONV_U = (
    "nul soh stx etx eot enq ack bel bs ht lf vt ff cr so si "
    "dle dcl dc2 dc3 dc4 nak syn etb can em sub esc fs gs rs us"
).split()


class DumpError(Exception):
    pass


class DumpExit(Exception):
    """Die with this status (the message is already out)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class PR:
    flags: str = ""
    fmt: str = ""
    cchar: int = 0  # index of the conversion character in fmt
    bcnt: int = 0
    nospace: int | None = None  # index of the trailing blank to drop on the last rep


@dataclass
class FU:
    reps: int = 1
    bcnt: int = 0
    flags: int = 0
    fmt: str = ""
    prs: list[PR] = field(default_factory=list)


@dataclass
class FS:
    fus: list[FU] = field(default_factory=list)
    bcnt: int = 0


def _unescape(text: str) -> str:
    """strcpy_and_process_escape_sequences: \\n, \\t, \\0NN, \\xHH..."""
    from .awk.lexer import process_escape

    out = []
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if c == "\\":
            c, i = process_escape(text, i)
        out.append(c)
    return "".join(out)


class Dumper:
    curp: bytearray | None  # the block being shown; None before the first
    ateof: bool

    def __init__(self, sys: Sys, prog: str) -> None:
        self.sys = sys
        self.prog = prog
        self.fss: list[FS] = []
        self.length = -1
        self.skip = 0
        self.vflag = FIRST
        self.address = 0
        self.savaddress = 0
        self.eaddress = 0
        self.displayoff = 0
        self.eofstring: str | None = None
        self.endfu: FU | None = None
        self.exitval = 0
        self.out = BufferedOutput(sys, 1)

    # -- parsing ----------------------------------------------------------------------------
    def add(self, fmt: str) -> None:
        fs = FS()
        self.fss.append(fs)
        p = 0
        n = len(fmt)

        def skip_ws(i: int) -> int:
            while i < n and fmt[i] in " \t\n\v\f\r":
                i += 1
            return i

        while True:
            p = skip_ws(p)
            if p >= n:
                break
            fu = FU()
            fs.fus.append(fu)
            if fmt[p].isdigit():
                start = p
                while p < n and fmt[p].isdigit():
                    p += 1
                if p >= n or (fmt[p] not in " \t\n\v\f\r" and fmt[p] != "/"):
                    raise DumpError(f"bad format {{{fmt}}}")
                fu.reps = int(fmt[start:p])
                fu.flags = F_SETREP
                p = skip_ws(p + 1)
            if p < n and fmt[p] == "/":
                p = skip_ws(p + 1)
            if p < n and fmt[p].isdigit():
                start = p
                while p < n and fmt[p].isdigit():
                    p += 1
                if p >= n or fmt[p] not in " \t\n\v\f\r":
                    raise DumpError(f"bad format {{{fmt}}}")
                fu.bcnt = int(fmt[start:p])
                p = skip_ws(p + 1)
            if p >= n or fmt[p] != '"':
                raise DumpError(f"bad format {{{fmt}}}")
            end = fmt.find('"', p + 1)
            if end < 0:
                raise DumpError(f"bad format {{{fmt}}}")
            fu.fmt = _unescape(fmt[p + 1 : end])
            p = end + 1

    def _size(self, fs: FS) -> int:
        total = 0
        for fu in fs.fus:
            if fu.bcnt:
                total += fu.bcnt * fu.reps
                continue
            bcnt = prec = 0
            f = fu.fmt
            i = 0
            while i < len(f):
                if f[i] != "%":
                    i += 1
                    continue
                i += 1
                while i < len(f) and f[i] in _FLAGS_WIDTH[1:]:
                    i += 1
                if i < len(f) and f[i] == ".":
                    i += 1
                    if i < len(f) and f[i].isdigit():
                        j = i
                        while j < len(f) and f[j].isdigit():
                            j += 1
                        prec = int(f[i:j])
                        i = j
                c = f[i] if i < len(f) else ""
                if c and c in _SIZE_CONV:
                    bcnt += _SIZE_CONV[c]
                elif c == "s":
                    bcnt += prec
                elif c == "_":
                    i += 1
                    if i < len(f) and f[i] in "cpu":
                        bcnt += 1
                i += 1
            total += bcnt * fu.reps
        return total

    def _rewrite(self, fs: FS, blocksize: int) -> None:
        for fu in fs.fus:
            fmt = fu.fmt
            pos = 0
            nconv = 0
            while pos < len(fmt):
                pr = PR()
                fu.prs.append(pr)
                p1 = fmt.find("%", pos)
                if p1 < 0:
                    pr.fmt = fmt[pos:]
                    pr.flags = F_TEXT
                    break
                prec: str | None = None
                if fu.bcnt:
                    p1 += 1
                    while p1 < len(fmt) and fmt[p1] in _FLAGS_WIDTH:
                        p1 += 1
                else:
                    p1 += 1
                    while p1 < len(fmt) and fmt[p1] in _FLAGS_WIDTH[1:]:
                        p1 += 1
                    if p1 < len(fmt) and fmt[p1] == ".":
                        p1 += 1
                        if p1 < len(fmt) and fmt[p1].isdigit():
                            j = p1
                            while j < len(fmt) and fmt[j].isdigit():
                                j += 1
                            prec = fmt[p1:j]
                            p1 = j
                conv = fmt[p1] if p1 < len(fmt) else ""
                p2 = p1 + 1
                rewritten = fmt[pos : p1 + 1]

                def byte_count(counts: tuple[int, ...], what: str, fu: FU = fu) -> int:
                    if fu.bcnt:
                        if fu.bcnt not in counts:
                            raise DumpError(f"bad byte count for conversion character {what}")
                        return fu.bcnt
                    return counts[0]

                if conv == "c":
                    pr.flags = F_CHAR
                    pr.bcnt = byte_count((1,), fmt[p1:])
                elif conv in _INT_CONVS and conv or conv == "l":
                    if conv == "l":
                        p1 += 1
                        p2 += 1
                        conv = fmt[p1] if p1 < len(fmt) else ""
                        rewritten = fmt[pos : p1 + 1]
                        if not conv or conv not in _INT_CONVS:
                            raise DumpError(f"bad conversion character %{fmt[p1:]}")
                    pr.flags = F_INT if conv in "di" else F_UINT
                    pr.bcnt = byte_count((4, 2, 1), fmt[p1:])
                elif conv and conv in "eEfgG":
                    pr.flags = F_DBL
                    pr.bcnt = byte_count((8, 4), fmt[p1:])
                elif conv == "s":
                    pr.flags = F_STR
                    pr.bcnt = fu.bcnt
                    if fu.bcnt == 0:
                        if prec is None:
                            raise DumpError("%s needs precision or byte count")
                        pr.bcnt = int(prec)
                elif conv == "_":
                    p2 += 1
                    kind = fmt[p1 + 1] if p1 + 1 < len(fmt) else ""
                    if kind in ("A", "a"):
                        if kind == "A":
                            self.endfu = fu
                            fu.flags |= F_IGNORE
                        pr.flags = F_ADDRESS
                        p2 += 1
                        base = fmt[p1 + 2] if p1 + 2 < len(fmt) else ""
                        if base not in ("d", "o", "x"):
                            raise DumpError(f"bad conversion character %{fmt[p1:]}")
                        rewritten = fmt[pos:p1] + "ll" + base
                    elif kind in ("c", "p", "u"):
                        pr.flags = {"c": F_C, "p": F_P, "u": F_U}[kind]
                        pr.bcnt = byte_count((1,), fmt[p1:])
                        rewritten = fmt[pos:p1] + ("c" if kind == "p" else kind)
                    else:
                        raise DumpError(f"bad conversion character %{fmt[p1:]}")
                else:
                    raise DumpError(f"bad conversion character %{fmt[p1:]}")
                p3 = p2
                while p3 < len(fmt) and fmt[p3] != "%":
                    p3 += 1
                pr.cchar = len(rewritten) - 1
                pr.fmt = rewritten + fmt[p2:p3]
                pos = p3
                if pr.flags != F_ADDRESS and fu.bcnt:
                    nconv += 1
                    if nconv > 1:
                        raise DumpError("byte count with multiple conversion characters")
            if fu.bcnt == 0:
                fu.bcnt = sum(pr.bcnt for pr in fu.prs)
        for k, fu in enumerate(fs.fus):
            if k == len(fs.fus) - 1 and fs.bcnt < blocksize and not (fu.flags & F_SETREP) and fu.bcnt:
                fu.reps += (blocksize - fs.bcnt) // fu.bcnt
            if fu.reps > 1 and fu.prs:
                last = fu.prs[-1]
                idx = None
                for i, ch in enumerate(last.fmt):
                    idx = i if ch in " \t\n\v\f\r" else None
                last.nospace = idx

    # -- input ------------------------------------------------------------------------------
    def _next_file(self) -> Gen:
        while True:
            if self.files:
                name = self.files.pop(0)
                if name != "-":
                    try:
                        self.fd = self.sys.open(name, 0)
                    except OSError as e:
                        yield from self.out.flush()
                        yield from complain(self.sys, self.prog, f"{name}: {strerror(e)}")
                        self.exitval = 1
                        self.done = True
                        continue
                else:
                    self.fd = 0
            else:
                if self.done:
                    return False
                name = "stdin"
                self.fd = 0
            self.done = True
            self.fbuf = b""
            if self.skip:
                yield from self._do_skip(name)
            if self.skip == 0:
                return True

    def _do_skip(self, name: str) -> Gen:
        kind, size = self.sys.fd_info(self.fd)
        if kind == "file" and self.skip >= size:
            self.skip -= size
            self.address += size
            return
        try:
            self.sys.lseek(self.fd, self.skip)
        except OSError as e:
            yield from self.out.flush()
            yield from complain(self.sys, self.prog, f"{name}: {strerror(e)}")
            raise DumpExit(1) from None
        self.address += self.skip
        self.savaddress = self.address
        self.skip = 0

    def _fread(self, n: int) -> Gen:
        out = b""
        while len(out) < n:
            if self.fbuf:
                take = self.fbuf[: n - len(out)]
                self.fbuf = self.fbuf[len(take) :]
                out += take
                continue
            chunk = yield from read_chunk(self.sys, self.fd)
            if not chunk:
                break
            self.fbuf = chunk
        return out

    def _get(self, blocksize: int) -> Gen:
        if self.curp is None:
            self.address = 0
            self.curp = bytearray(blocksize)
            self.savp = bytearray(blocksize)
        else:
            self.curp, self.savp = self.savp, self.curp
            self.savaddress += blocksize
            self.address = self.savaddress
        need = blocksize
        nread = 0
        while True:
            if self.length == 0 or (self.ateof and not (yield from self._next_file())):
                if need == blocksize:
                    return None
                if self.vflag not in (ALL, FIRST) and self.curp[:nread] == self.savp[:nread]:
                    if self.vflag != DUP:
                        self.out.write("*\n")
                self.curp[nread:] = bytes(need)
                self.eaddress = self.address + nread
                return self.curp
            want = need if self.length == -1 else min(self.length, need)
            data = yield from self._fread(want)
            if not data:
                self.ateof = True
                continue
            self.ateof = False
            if self.length != -1:
                self.length -= len(data)
            self.curp[nread : nread + len(data)] = data
            need -= len(data)
            if need == 0:
                if self.vflag in (ALL, FIRST) or self.curp != self.savp:
                    if self.vflag in (DUP, FIRST):
                        self.vflag = WAIT
                    return self.curp
                if self.vflag == WAIT:
                    self.out.write("*\n")
                self.vflag = DUP
                self.savaddress += blocksize
                self.address = self.savaddress
                need = blocksize
                nread = 0
            else:
                nread += len(data)

    # -- output -------------------------------------------------------------------------------
    def _print(self, pr: PR, data: bytes, last_rep: bool) -> None:
        fmt = pr.fmt
        if last_rep and pr.nospace is not None:
            fmt = fmt[: pr.nospace]
        f = pr.flags
        b = data[0] if data else 0

        def with_conv(c: str) -> str:
            return fmt[: pr.cchar] + c + fmt[pr.cchar + 1 :]

        if f == F_ADDRESS:
            text = cformat(fmt, self.address + self.displayoff)
        elif f == F_BPAD:
            text = cformat(fmt, "")
        elif f == F_C:
            if b in _CONV_STR:
                text = cformat(with_conv("s"), _CONV_STR[b])
            elif 32 <= b < 127:
                text = cformat(with_conv("c"), chr(b))
            else:
                text = cformat(with_conv("s"), f"{b:03o}")
        elif f == F_CHAR:
            text = cformat(fmt, chr(b))
        elif f == F_DBL:
            import struct

            value = struct.unpack("<f" if pr.bcnt == 4 else "<d", data[: pr.bcnt])[0]
            text = cformat(fmt, value)
        elif f in (F_INT, F_UINT):
            signed = f == F_INT
            n = int.from_bytes(data[: pr.bcnt], "little", signed=signed)
            text = cformat(fmt, n)
        elif f == F_P:
            text = cformat(fmt, chr(b) if 32 <= b < 127 else ".")
        elif f == F_STR:
            s = bytes(data[: pr.bcnt]).split(b"\0", 1)[0].decode("latin-1")
            text = cformat(fmt, s)
        elif f == F_TEXT:
            text = cformat(fmt, 0) if "%" in fmt else fmt
        elif f == F_U:
            if b <= 0x1F:
                text = cformat(with_conv("s"), _CONV_U[b])
            elif b == 0x7F:
                text = cformat(with_conv("s"), "del")
            elif b < 0x7F:
                text = cformat(with_conv("c"), chr(b))
            else:
                text = cformat(with_conv("x"), b)
        else:  # pragma: no cover
            text = ""
        self.out.write(text.encode("latin-1", "replace"))

    @staticmethod
    def _bpad(pr: PR) -> None:
        fmt = pr.fmt
        i = fmt.find("%")
        j = i + 1
        removed = 0
        while j < len(fmt) and fmt[j] in " -0+#":
            j += 1
            removed += 1
        pr.fmt = fmt[: i + 1] + fmt[j:]
        pr.cchar -= removed
        pr.fmt = pr.fmt[: pr.cchar] + "s" + pr.fmt[pr.cchar + 1 :]
        if pr.nospace is not None:
            pr.nospace -= removed
        pr.flags = F_BPAD

    def dump(self, files: list[str]) -> Gen:
        blocksize = 0
        for fs in self.fss:
            fs.bcnt = self._size(fs)
            blocksize = max(blocksize, fs.bcnt)
        for fs in self.fss:
            self._rewrite(fs, blocksize)
        self.files = list(files)
        self.done = False
        self.ateof = True
        self.fd = 0
        self.fbuf = b""
        self.curp = None
        self.savp = bytearray()
        while True:
            bp = yield from self._get(blocksize)
            if bp is None:
                break
            save_address = self.address
            for fs in self.fss:
                self.address = save_address
                offset = 0
                stop = False
                for fu in fs.fus:
                    if fu.flags & F_IGNORE:
                        break
                    for cnt in range(fu.reps, 0, -1):
                        for pr in fu.prs:
                            if self.eaddress and self.address >= self.eaddress:
                                if self.eofstring is not None:
                                    self.out.write(self.eofstring)
                                    stop = True
                                    break
                                if pr.flags not in (F_TEXT, F_BPAD):
                                    self._bpad(pr)
                            self._print(pr, bytes(bp[offset : offset + max(pr.bcnt, 1)]), cnt == 1)
                            self.address += pr.bcnt
                            offset += pr.bcnt
                        if stop:
                            break
                    if stop:
                        break
                if stop:
                    yield from self.out.flush()
                    return self.exitval
            yield from self.out.drain()
        if self.endfu is not None:
            if not self.eaddress:
                if not self.address:
                    yield from self.out.flush()
                    return self.exitval
                self.eaddress = self.address
            for pr in self.endfu.prs:
                if pr.flags == F_ADDRESS:
                    self.out.write(cformat(pr.fmt, self.eaddress + self.displayoff))
                elif pr.flags == F_TEXT:
                    self.out.write(pr.fmt)
        yield from self.out.flush()
        return self.exitval
