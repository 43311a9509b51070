"""ed -- after busybox 1.35's editors/ed.c ("much simplified", David I. Bell's).

Not POSIX ed: busybox's has no regular expressions (``/text/`` and
``s/old/new/`` look for plain strings), no ``g``/``v``/``j``/``m``/``t``/
``u``, says what went wrong in words (``ed: bad line range for print``)
instead of POSIX's ``?``, and exits 0 whatever happened.  Its quirks are
kept because a script sees them: a ``/text/`` address searches from the
current line itself, ``s`` leaves the current line where it was unless
``p`` printed, a failed ``r`` sets the remembered file name, ``z`` near
the top is "bad line range", a ``.`` line ends appended text, EOF ends it
as well as ed.  Input is read as fgets reads it: command lines of at most
1023 bytes, text lines of 1024 (the rest is the next read), a NUL ends
the line (C strings).  The prompt of ``-p`` is printed as given (busybox's
"fancy prompt" would expand backslash escapes in it).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
USERSIZE = 1024  # max line length typed in by the user (busybox's USERSIZE)
SPACES = b" \t\n\v\f\r"  # C isspace


def _skip_ws(s: bytes, i: int) -> int:
    while i < len(s) and s[i] in SPACES:
        i += 1
    return i


def _cstr(b: bytes) -> bytes:
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


class _Stdin:
    """stdin as stdio's fgets(buf, size, stdin) reads it."""

    def __init__(self, sys: Sys) -> None:
        self.sys, self.buf, self.eof = sys, b"", False

    def fgets(self, size: int) -> Gen:
        """Up to size-1 bytes, through a newline; None at EOF."""
        limit = size - 1
        while True:
            nl = self.buf.find(b"\n", 0, limit)
            if nl >= 0 or len(self.buf) >= limit or self.eof:
                cut = nl + 1 if nl >= 0 else min(limit, len(self.buf))
                line, self.buf = self.buf[:cut], self.buf[cut:]
                return line or None
            chunk = yield from read_chunk(self.sys, 0)
            if not chunk:
                self.eof = True
            self.buf += chunk


class _Failed(Exception):
    """A command ends with its message printed (busybox returns early)."""


class Line:
    """A line of busybox's doubly linked list (the head is a line too)."""

    __slots__ = ("data", "next", "prev")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.next: Line = self
        self.prev: Line = self


class Ed:
    """busybox's globals and functions, kept as they are: the lines are a
    linked list and ``cur_line`` a cached pointer to line ``cur`` that
    busybox does not always move along (after an insert it can point one
    line off, so a later ``,p`` starts from the wrong line) -- a script
    sees that, so it is kept."""

    def __init__(self, sys: Sys, prompt: bytes) -> None:
        self.sys, self.prompt = sys, prompt
        self.stdin = _Stdin(sys)
        self.head = Line(b"")  # busybox's ``lines``: len 0, prints as nothing
        self.cur = 0  # curNum: 0 = no current line
        self.cur_line = self.head
        self.last = 0
        self.file_name: bytes | None = None
        self.search = b""
        self.dirty = False
        self.marks = [0] * 26

    # -- output ---------------------------------------------------------

    def out(self, data: bytes) -> Gen:
        yield from write_all(self.sys, 1, data)

    def error(self, msg: str | bytes) -> Gen:
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "surrogateescape")
        yield from complain(self.sys, "ed", msg)

    def read_line(self, prompt: bytes, size: int) -> Gen:
        """read_line_input on a non-terminal: the prompt, then fgets;
        the length strlen gives (-1 at EOF) and the C string."""
        if prompt:
            yield from self.out(prompt)
        line = yield from self.stdin.fgets(size)
        if line is None:
            return -1, b""
        line = _cstr(line)
        return len(line), line

    # -- lines ----------------------------------------------------------

    def bad_nums(self, num1: int, num2: int, what: str) -> Gen:
        if num1 < 1 or num2 > self.last or num1 > num2:
            yield from self.error(f"bad line range for {what}")
            return True
        return False

    def find_line(self, num: int) -> Gen:
        """findLine: the line, walked to from the cached current line
        (or the nearer end); None after "does not exist"."""
        if num < 1 or num > self.last:
            yield from self.error(f"line number {num} does not exist")
            return None
        if self.cur <= 0:
            self.cur, self.cur_line = 1, self.head.next
        if num == self.cur:
            return self.cur_line
        lp, lnum = self.cur_line, self.cur
        if num < self.cur // 2:
            lp, lnum = self.head.next, 1
        elif num > (self.cur + self.last) // 2:
            lp, lnum = self.head.prev, self.last
        while lnum < num:
            lp, lnum = lp.next, lnum + 1
        while lnum > num:
            lp, lnum = lp.prev, lnum - 1
        return lp

    def set_cur(self, num: int) -> Gen:
        lp = yield from self.find_line(num)
        if lp is None:
            return False
        self.cur, self.cur_line = num, lp
        return True

    def search_lines(self, text: bytes, num1: int, num2: int) -> Gen:
        if (yield from self.bad_nums(num1, num2, "search")):
            return 0
        if not text:
            if not self.search:
                yield from self.error("no previous search string")
                return 0
            text = self.search
        self.search = text
        lp = yield from self.find_line(num1)
        if lp is None:
            return 0
        while num1 <= num2:
            if text in lp.data:
                return num1
            num1, lp = num1 + 1, lp.next
        yield from self.error(b'can\'t find string "' + text + b'"')
        return 0

    def get_num(self, s: bytes, i: int) -> Gen:
        """getNum: (index after the address, have_num, value), or None
        after an error."""
        value, have, minus = 0, False, False
        while True:
            i = _skip_ws(s, i)
            c = s[i : i + 1]
            if c == b".":
                have, num, i = True, self.cur, i + 1
            elif c == b"$":
                have, num, i = True, self.last, i + 1
            elif c == b"'":
                i += 1
                m = s[i] - ord("a") if i < len(s) else -1
                if not 0 <= m < 26:
                    yield from self.error("bad mark name")
                    return None
                have, num, i = True, self.marks[m], i + 1
            elif c == b"/":
                end = s.find(b"/", i + 1)
                text = s[i + 1 : end] if end >= 0 else s[i + 1 :]
                i = end + 1 if end >= 0 else len(s)
                num = yield from self.search_lines(text, self.cur, self.last)
                if num == 0:
                    return None
                have = True
            elif c.isdigit():
                num = 0
                while i < len(s) and s[i : i + 1].isdigit():
                    num = _int32(num * 10 + s[i] - 48)
                    i += 1
                have = True
            else:
                return i, have, value
            value = _int32(value + (-num if minus else num))
            i = _skip_ws(s, i)
            c = s[i : i + 1]
            if c == b"-":
                minus, i = True, i + 1
            elif c == b"+":
                minus, i = False, i + 1
            else:
                return i, have, value

    def insert_line(self, num: int, data: bytes) -> Gen:
        if num < 1 or num > self.last + 1:
            yield from self.error("inserting at bad line number")
            return False
        new = Line(data)
        if num > self.last:
            lp = self.head
        else:
            lp = yield from self.find_line(num)
        new.next, new.prev = lp, lp.prev
        lp.prev.next = new
        lp.prev = new
        self.last += 1
        self.dirty = True
        return (yield from self.set_cur(num))

    def add_lines(self, num: int) -> Gen:
        while True:
            n, buf = yield from self.read_line(b"", USERSIZE + 1)
            if n <= 0 or buf == b".\n":
                return
            if not (yield from self.insert_line(num, buf)):
                return
            num += 1

    def read_lines(self, name: bytes, num: int) -> Gen:
        if num < 1 or num > self.last + 1:
            yield from self.error("bad line for read")
            return False
        path = name.decode("utf-8", "surrogateescape")
        try:
            fd = self.sys.open(path, O_RDONLY)
        except OSError as e:
            yield from self.error(f"{path}: {strerror(e)}")
            return False
        count, pending = 0, b""
        try:
            while True:
                try:
                    chunk = yield from read_chunk(self.sys, fd)
                except OSError as e:
                    yield from self.error(f"{path}: {strerror(e)}")
                    return False
                pending += chunk
                *whole, pending = pending.split(b"\n")
                for line in whole:
                    yield from self.insert_line(num, line + b"\n")
                    count += len(line) + 1
                    num += 1
                if not chunk:
                    break
            if pending:
                yield from self.insert_line(num, pending)
                count += len(pending)
        finally:
            close_quietly(self.sys, fd)
        yield from self.out(b"%d\n" % count)
        return True

    def write_lines(self, name: bytes, num1: int, num2: int) -> Gen:
        if (yield from self.bad_nums(num1, num2, "write")):
            return
        path = name.decode("utf-8", "surrogateescape")
        try:
            fd = self.sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        except OSError as e:
            yield from self.error(f"{path}: {strerror(e)}")
            return
        try:
            lp = yield from self.find_line(num1)
            if lp is None:
                return
            parts = []
            while num1 <= num2:
                parts.append(lp.data)
                num1, lp = num1 + 1, lp.next
            data = b"".join(parts)
            try:
                yield from write_all(self.sys, fd, data)
            except OSError as e:
                yield from self.error(f"{path}: {strerror(e)}")
                return
        finally:
            close_quietly(self.sys, fd)
        yield from self.out(b"%d\n" % len(data))

    def print_lines(self, num1: int, num2: int, expand: bool) -> Gen:
        if (yield from self.bad_nums(num1, num2, "print")):
            return
        lp = yield from self.find_line(num1)
        if lp is None:
            return
        while num1 <= num2:
            data = lp.data
            if expand:
                yield from self.out(_visible(data[:-1] if data.endswith(b"\n") else data) + b"$\n")
            else:
                yield from self.out(data)
            yield from self.set_cur(num1)
            num1, lp = num1 + 1, lp.next

    def delete_lines(self, num1: int, num2: int) -> Gen:
        if (yield from self.bad_nums(num1, num2, "delete")):
            return
        lp = yield from self.find_line(num1)
        if lp is None:
            return
        if num1 <= self.cur <= num2:
            if num2 < self.last:
                yield from self.set_cur(num2 + 1)
            elif num1 > 1:
                yield from self.set_cur(num1 - 1)
            else:
                self.cur = 0
        count = num2 - num1 + 1
        if self.cur > num2:
            self.cur -= count
        self.last -= count
        for _ in range(count):
            if lp is self.head:  # busybox would free its static list head here
                break
            lp.prev.next, lp.next.prev = lp.next, lp.prev
            lp = lp.next
        self.dirty = True

    def substitute(self, cmd: bytes, num1: int, num2: int) -> Gen:
        if (yield from self.bad_nums(num1, num2, "substitute")):
            return
        if not cmd or cmd[0] in b" \t":
            yield from self.error("bad delimiter for substitute")
            return
        delim = cmd[0:1]
        second = cmd.find(delim, 1)
        if second < 0:
            yield from self.error("missing 2nd delimiter for substitute")
            return
        old = cmd[1:second]
        third = cmd.find(delim, second + 1)
        new = cmd[second + 1 : third] if third >= 0 else cmd[second + 1 :]
        flags = cmd[third + 1 :] if third >= 0 else b""
        global_flag = print_flag = False
        for f in flags:
            if f == ord("g"):
                global_flag = True
            elif f == ord("p"):
                print_flag = True
            else:
                yield from self.error("unknown option for substitute")
                return
        if not old:
            if not self.search:
                yield from self.error("no previous search string")
                return
            old = self.search
        self.search = old
        lp = yield from self.find_line(num1)
        if lp is None:
            return
        did = need_print = False
        offset = 0
        while num1 <= num2:
            offset = lp.data.find(old, offset)
            if offset < 0:
                if need_print:
                    yield from self.print_lines(num1, num1, False)
                    need_print = False
                offset = 0
                num1, lp = num1 + 1, lp.next
                continue
            need_print, did, self.dirty = print_flag, True, True
            # busybox edits in place or links a longer copy in its stead
            # (moving curLine along): the same as changing the data here
            lp.data = lp.data[:offset] + new + lp.data[offset + len(old) :]
            offset += len(new)
            if global_flag:
                continue
            if need_print:
                yield from self.print_lines(num1, num1, False)
                need_print = False
            num1, lp = num1 + 1, lp.next
        if not did:
            yield from self.error(b'no substitutions found for "' + old + b'"')

    # -- the command loop -----------------------------------------------

    def commands(self) -> Gen:
        while True:
            n, buf = yield from self.read_line(self.prompt, USERSIZE)
            if n <= 0:
                return
            buf = buf.rstrip(SPACES)
            if self.cur == 0 and self.last > 0:
                self.cur, self.cur_line = 1, self.head.next
            got = yield from self.get_num(buf, _skip_ws(buf, 0))
            if got is None:
                continue
            i, have1, num1 = got
            have2 = False
            i = _skip_ws(buf, i)
            if buf[i : i + 1] == b",":
                got = yield from self.get_num(buf, i + 1)
                if got is None:
                    continue
                i, h, num2 = got
                if not have1:
                    num1 = 1
                if not h:
                    num2 = self.last
                have1 = have2 = True
            if not have1:
                num1 = self.cur
            if not have2:
                num2 = num1
            if (yield from self.command(buf[i : i + 1], buf[i + 1 :], have1, num1, num2)):
                return

    def command(self, c: bytes, rest: bytes, have1: bool, num1: int, num2: int) -> Gen:
        """One command; True when ed ends."""
        if c == b"a":
            yield from self.add_lines(num1 + 1)
        elif c == b"c":
            yield from self.delete_lines(num1, num2)
            yield from self.add_lines(num1)
        elif c == b"d":
            yield from self.delete_lines(num1, num2)
        elif c == b"f":
            if rest and rest[0:1] != b" ":
                yield from self.error("bad file command")
                return False
            rest = rest[_skip_ws(rest, 0) :]
            if rest:
                self.file_name = rest
            elif self.file_name is not None:
                yield from self.out(b'"' + self.file_name + b'"\n')
            else:
                yield from self.out(b"No file name\n")
        elif c == b"i":
            if not have1 and self.last == 0:
                num1 = 1
            yield from self.add_lines(num1)
        elif c == b"k":
            rest = rest[_skip_ws(rest, 0) :]
            if len(rest) != 1 or not b"a" <= rest <= b"z":
                yield from self.error("bad mark name")
                return False
            self.marks[rest[0] - ord("a")] = num2
        elif c in (b"l", b"p"):
            yield from self.print_lines(num1, num2, c == b"l")
        elif c == b"q":
            if have1 or rest[_skip_ws(rest, 0) :]:
                yield from self.error("bad quit command")
                return False
            if not self.dirty:
                return True
            n, answer = yield from self.read_line(b"Really quit? ", 16)
            if n < 0:
                return True
            answer = answer[_skip_ws(answer, 0) :]
            return (answer[0] if answer else 0) | 0x20 == ord("y")
        elif c == b"r":
            if rest and rest[0:1] != b" ":
                yield from self.error("bad read command")
                return False
            rest = rest[_skip_ws(rest, 0) :]
            if not rest:
                yield from self.error("no file name")
                return False
            if not have1:
                num1 = self.last
            if not (yield from self.read_lines(rest, num1 + 1)) and self.file_name is None:
                self.file_name = rest
        elif c == b"s":
            yield from self.substitute(rest, num1, num2)
        elif c == b"w":
            if rest and rest[0:1] != b" ":
                yield from self.error("bad write command")
                return False
            name: bytes | None = rest[_skip_ws(rest, 0) :]
            if not name:
                name = self.file_name
                if name is None:
                    yield from self.error("no file name specified")
                    return False
            if not have1:
                num1, num2, self.dirty = 1, self.last, False
            yield from self.write_lines(name, num1, num2)
        elif c == b"z":
            first = {b"-": self.cur - 21, b".": self.cur - 11}.get(rest[0:1], self.cur)
            last = {b"-": self.cur, b".": self.cur + 10}.get(rest[0:1], self.cur + 21)
            yield from self.print_lines(first, last, False)
        elif c == b".":
            if have1:
                yield from self.error("no arguments allowed")
                return False
            yield from self.print_lines(self.cur, self.cur, False)
        elif c == b"-":
            if (yield from self.set_cur(self.cur - 1)):
                yield from self.print_lines(self.cur, self.cur, False)
        elif c == b"=":
            yield from self.out(b"%d\n" % num1)
        elif c == b"":
            if have1:
                yield from self.print_lines(num2, num2, False)
            elif (yield from self.set_cur(self.cur + 1)):
                yield from self.print_lines(self.cur, self.cur, False)
        else:
            yield from self.error("unimplemented command")
        return False


def _int32(n: int) -> int:
    """C int arithmetic: wraps at 32 bits."""
    return (n + 2**31) % 2**32 - 2**31


def _visible(data: bytes) -> bytes:
    """fputc_printable(ch | PRINTABLE_META) for each byte: M- for the high
    bit, ^X for control characters, ^? for DEL."""
    out = bytearray()
    for ch in data:
        if ch & 0x80:
            out += b"M-"
            ch &= 0x7F
        if ch < 0x20:
            out += b"^" + bytes([ch + 0x40])
        elif ch == 0x7F:
            out += b"^?"
        else:
            out.append(ch)
    return bytes(out)


@applet("ed")
@dies("ed")
def ed_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "p:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "ed", e.message)
        yield from show_usage(sys, "ed")
        return 1
    prompt = opts.value("p", "") or ""
    ed = Ed(sys, prompt.encode("utf-8", "surrogateescape"))
    if opts.operands:
        ed.file_name = opts.operands[0].encode("utf-8", "surrogateescape")
        if not (yield from ed.read_lines(ed.file_name, 1)):
            return 0
        ed.dirty = False
    yield from ed.commands()
    return 0
