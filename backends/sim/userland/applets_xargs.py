"""xargs, as busybox 1.35's ``findutils/xargs.c`` does it: words from
stdin (quotes and backslashes honoured, or NUL-separated with ``-0``, or
whole lines with ``-I``) appended to PROG ARGS, run through
``spawn_and_wait`` -- so ``xargs ps`` shows ``{ps}`` as busybox does.
Exit status: 123 if a run failed with 1-125, 124 after a 255 (which stops
xargs), 125 if one was killed, 126/127 if PROG could not be run.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import UsageError, complain, err, getopt, read_chunk, show_usage, strerror
from .spawn import spawn, spawn_and_wait, wait_status

Gen = Generator[Any, Any, Any]

ARG_MAX = 2097152
SPACE = " \t\n\v\f\r"


class XargsDie(Exception):
    pass


class _Stdin:
    """getchar() on fd 0 (or ``-a FILE``)."""

    def __init__(self, sys: Sys, fd: int) -> None:
        self.sys, self.fd, self.buf, self.pos, self.eof = sys, fd, b"", 0, False

    def getchar(self) -> Gen:
        if self.pos >= len(self.buf):
            if self.eof:
                return None
            self.buf = yield from read_chunk(self.sys, self.fd)
            self.pos = 0
            if not self.buf:
                self.eof = True
                return None
        ch = chr(self.buf[self.pos])
        self.pos += 1
        return ch


def _number(text: str, lo: int, hi: int) -> int:
    if not text.isdigit():
        raise XargsDie(f"invalid number '{text}'")
    n = int(text)
    if not lo <= n <= hi:
        raise XargsDie(f"number {text} is not in {lo}..{hi} range")
    return n


class Xargs:
    def __init__(self, sys: Sys, opts) -> None:
        self.sys = sys
        self.opts = opts
        self.exitcode = 0
        self.eof_str = opts.value("E") if "E" in opts.values else opts.value("e")
        if self.eof_str == "":
            self.eof_str = None
        self.state = "NORM"
        self.quote = ""
        self.pending = ""  # "tail characters" carried to the next round
        self.max_procs = 1
        self.running = 0

    # -- reading arguments -------------------------------------------------------------------
    def words(self, inp: _Stdin, max_chars: int, max_args: int) -> Gen:
        """process_stdin: up to ``max_args`` words within ``max_chars``
        bytes (each word with its NUL); returns (words, the unfinished word
        that did not fit, for the next round)."""
        words: list[str] = []
        cur = self.pending
        used = len(cur)
        self.pending = ""
        while True:
            c = yield from inp.getchar()
            close = False
            if c is None:
                if not cur:
                    return words, ""
                close = True
            elif self.state == "BACKSLASH":
                self.state = "NORM"
                cur += c
                used += 1
            elif self.state == "QUOTE":
                if c != self.quote:
                    cur += c
                    used += 1
                else:
                    self.quote = ""
                    self.state = "NORM"
            elif c in SPACE:
                close = bool(cur)
            elif c == "\\":
                self.state = "BACKSLASH"
            elif c in "'\"":
                self.quote = c
                self.state = "QUOTE"
            else:
                cur += c
                used += 1
            if close:
                self.state = "NORM"
                used += 1
                if self.quote:
                    raise XargsDie(f"unmatched {'single' if self.quote == chr(39) else 'double'} quote")
                if self._eof_word(cur):
                    yield from self._drain(inp)
                    return words, ""
                words.append(cur)
                cur = ""
                max_args -= 1
                if max_args == 0:
                    return words, ""
                if c is None:
                    return words, ""
            if used >= max_chars:
                return words, cur

    def _eof_word(self, word: str) -> bool:
        return self.eof_str is not None and word == self.eof_str

    def _drain(self, inp: _Stdin) -> Gen:
        while (yield from inp.getchar()) is not None:
            pass

    def words0(self, inp: _Stdin, max_chars: int, max_args: int) -> Gen:
        words: list[str] = []
        cur = self.pending
        self.pending = ""
        used = len(cur)
        while True:
            c = yield from inp.getchar()
            if c is None:
                if cur:
                    words.append(cur)
                return words, ""
            if c == "\0":
                words.append(cur)
                cur = ""
                max_args -= 1
                if max_args == 0:
                    return words, ""
            else:
                cur += c
            used += 1
            if used >= max_chars:
                return words, cur

    def line(self, inp: _Stdin, max_chars: int, eol: str) -> Gen:
        """-I: one line (leading blanks and empty lines skipped), or None at EOF."""
        cur = ""
        while True:
            c = yield from inp.getchar()
            if not cur:
                if c is None:
                    return None
                if c == eol:
                    continue
                if c in SPACE:
                    continue
            if c is None or c == eol:
                return cur
            cur += c
            if len(cur) >= max_chars:
                return cur

    # -- running --------------------------------------------------------------------------------
    def run(self, args: list[str]) -> Gen:
        """xargs_exec(); returns nonzero when xargs must stop."""
        sys = self.sys
        if self.max_procs == 1:
            try:
                status = yield from spawn_and_wait(sys, args)
            except OSError as e:
                yield from complain(sys, "xargs", f"{args[0]}: {strerror(e)}")
                status = 127 if e.errno == 2 else 126
                self.exitcode = status
                return status
        else:
            status = 0
            while True:
                if self.running >= self.max_procs:
                    res = yield from sys.waitpid(-1, 0)
                else:
                    try:
                        res = yield from sys.waitpid(-1, 1)
                    except OSError:
                        res = None
                if res is not None:
                    if self.running:
                        self.running -= 1
                    raw = res.status
                    status = (0x180 + (raw & 0x7F)) if raw & 0x7F else (raw >> 8) & 0xFF
                    if 0 < status < 255:
                        self.exitcode = 123
                        status = 0
                    if status == 0:
                        continue
                elif self.max_procs:
                    try:
                        yield from spawn(sys, args)
                        self.running += 1
                        status = 0
                    except OSError as e:
                        yield from complain(sys, "xargs", f"{args[0]}: {strerror(e)}")
                        status = 127 if e.errno == 2 else 126
                        self.exitcode = status
                        return status
                else:
                    status = 0
                break
        if status >= 0x180:
            yield from complain(sys, "xargs", f"'{args[0]}' terminated by signal {status - 0x180}")
            status = 125
        elif status != 0:
            if status == 255:
                yield from complain(sys, "xargs", f"{args[0]}: exited with status 255; aborting")
                self.exitcode = 124
                return 124
            self.exitcode = 123
            status = 0
        if status:
            self.exitcode = status
        return status


@applet("xargs")
def xargs_main(sys: Sys) -> Gen:
    argv = [("-r" if a == "--no-run-if-empty" else a) for a in sys.argv[1:]]
    try:
        opts = getopt(argv, "trn:s:e::E:px0I:i::P:a:", permute=False)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "xargs", e.message)
        yield from show_usage(sys, "xargs")
        return 1
    x = Xargs(sys, opts)
    try:
        if "P" in opts:
            x.max_procs = _number(opts.value("P") or "", 0, 2**31 - 1) or 100
        fd = 0
        if "a" in opts:
            try:
                fd = sys.open(opts.value("a") or "", 0)
            except OSError as e:
                raise XargsDie(f"can't open '{opts.value('a')}': {strerror(e)}") from None
        inp = _Stdin(sys, fd)
        prog = list(opts.operands) or ["echo"]
        max_chars = min(ARG_MAX, 32 * 1024) - 2048
        if "s" in opts:
            max_chars = _number(opts.value("s") or "", 1, 2**31 - 1)
        max_chars -= sum(len(a) + 1 for a in prog)
        if max_chars <= 0:
            raise XargsDie("can't fit single argument within argument list size limit")
        max_args = max_chars
        if "n" in opts:
            max_args = _number(opts.value("n") or "", 1, 2**31 - 1)
        repl = opts.value("I") if "I" in opts.values else (opts.value("i") or "{}" if "i" in opts else None)
        no_empty = "r" in opts or repl is not None
        eol = "\0" if "0" in opts else "\n"
        while True:
            if repl is not None:
                line = yield from x.line(inp, max_chars, eol)
                if line is None:
                    break
                args = [a.replace(repl, line) for a in prog]
                rest = ""
            else:
                if "0" in opts:
                    words, rest = yield from x.words0(inp, max_chars, max_args)
                else:
                    words, rest = yield from x.words(inp, max_chars, max_args)
                if not words:
                    if rest:
                        raise XargsDie("argument line too long")
                    if no_empty:
                        break
                args = prog + words
            no_empty = True
            if "t" in opts or "p" in opts:
                yield from err(sys, " ".join(args) + ("" if "p" in opts else "\n"))
            if "p" in opts:
                try:
                    tty = sys.open("/dev/tty", 0)
                except OSError as e:
                    raise XargsDie(f"can't open '/dev/tty': {strerror(e)}") from None
                sys.close(tty)
            if (yield from x.run(args)):
                break
            x.pending = rest
        if x.max_procs != 1:
            x.max_procs = 0
            while x.running:
                res = yield from sys.waitpid(-1, 0)
                assert res is not None  # a blocking wait returns a child (or raises ECHILD)
                x.running -= 1
                raw = res.status
                st = (0x180 + (raw & 0x7F)) if raw & 0x7F else (raw >> 8) & 0xFF
                if 0 < st < 255:
                    x.exitcode = 123
    except XargsDie as e:
        yield from complain(sys, "xargs", str(e))
        return 1
    _ = wait_status
    return x.exitcode
