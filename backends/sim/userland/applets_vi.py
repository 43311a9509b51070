"""vi -- after busybox 1.35's editors/vi.c, as Debian's busybox-static
builds it (colon commands, search with POSIX regexes, yank/mark, the dot
command, undo with its queue, :set options, window-size questions,
read-only files and -R).

The editor keeps busybox's data model, because what the user sees
depends on it: the text is one buffer (``text`` .. ``end``, with the
allocation's slack after it, which a few commands read past ``end`` the
way the C code does), positions are offsets into it, the screen is a
rows x columns copy that :meth:`refresh` compares line by line and redraws
only where it changed, with the same VT102 sequences.  Keys are read one
byte at a time with libbb's ``read_key``: an ESC starts an escape sequence
only if its next bytes come within 50 ms; an unknown sequence is dropped
whole (so ``ESC`` followed at once by more keys loses them, as on the
real thing).  When stdin is not a terminal of known size, vi asks the
terminal where the cursor is (``ESC[6n``) and reads one key for the answer
-- the first typed key is lost, as with busybox.

Differences from busybox are in SIMPLIFICATIONS.md: ``:!cmd`` runs through
``sh -c`` like system(3) but the terminal stays as it is; SIGWINCH/SIGTSTP/
SIGINT handlers are not installed; poll timeouts are waited for on the
simulator's clock.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import regex

from ..sys_api import O_CREAT, O_RDONLY, O_WRONLY, Sys, Termios
from .applet_table import applet
from .libc import err, parse_options, read_text, show_usage, strerror, write_all
from .posix_regex import _FLAGS, RegexError, _Parser, compile_posix

Gen = Generator[Any, Any, Any]

# termios bits (asm-generic/termbits.h) that rawmode() changes
_ICRNL, _IXON, _ONLCR = 0o400, 0o2000, 0o4
_ICANON, _ECHO, _ECHONL = 0o2, 0o10, 0o100
_VERASE, _VTIME, _VMIN = 2, 5, 6

KEYCODE_UP, KEYCODE_DOWN, KEYCODE_RIGHT, KEYCODE_LEFT = -2, -3, -4, -5
KEYCODE_HOME, KEYCODE_END, KEYCODE_INSERT, KEYCODE_DELETE = -6, -7, -8, -9
KEYCODE_PAGEUP, KEYCODE_PAGEDOWN, KEYCODE_BACKSPACE, KEYCODE_D = -10, -11, -12, -13
KEYCODE_CURSOR_POS = -0x100
_CTRL_RIGHT, _CTRL_LEFT = KEYCODE_RIGHT & ~0x40, KEYCODE_LEFT & ~0x40
_ALT_RIGHT, _ALT_LEFT = KEYCODE_RIGHT & ~0x20, KEYCODE_LEFT & ~0x20
_ALT_BACKSPACE, _ALT_D = KEYCODE_BACKSPACE & ~0x20, KEYCODE_D & ~0x20
# libbb's read_key table, shortest first: the bytes after ESC, and the key.
_ESC_SEQS: tuple[tuple[bytes, int], ...] = (
    (b"\x7f", _ALT_BACKSPACE),
    (b"\b", _ALT_BACKSPACE),
    (b"d", _ALT_D),
    (b"f", _ALT_RIGHT),
    (b"b", _ALT_LEFT),
    (b"OA", KEYCODE_UP),
    (b"OB", KEYCODE_DOWN),
    (b"OC", KEYCODE_RIGHT),
    (b"OD", KEYCODE_LEFT),
    (b"OH", KEYCODE_HOME),
    (b"OF", KEYCODE_END),
    (b"[A", KEYCODE_UP),
    (b"[B", KEYCODE_DOWN),
    (b"[C", KEYCODE_RIGHT),
    (b"[D", KEYCODE_LEFT),
    (b"[H", KEYCODE_HOME),
    (b"[F", KEYCODE_END),
    (b"[1~", KEYCODE_HOME),
    (b"[2~", KEYCODE_INSERT),
    (b"[3~", KEYCODE_DELETE),
    (b"[4~", KEYCODE_END),
    (b"[5~", KEYCODE_PAGEUP),
    (b"[6~", KEYCODE_PAGEDOWN),
    (b"[7~", KEYCODE_HOME),
    (b"[8~", KEYCODE_END),
    (b"[1;5C", _CTRL_RIGHT),
    (b"[1;5D", _CTRL_LEFT),
    (b"[1;3C", _ALT_RIGHT),
    (b"[1;3D", _ALT_LEFT),
)
KEYCODE_BUFFER_SIZE = 16

ESC = "\033"
ESC_BOLD_TEXT = ESC + "[7m"
ESC_NORM_TEXT = ESC + "[m"
ESC_BELL = "\007"
ESC_CLEAR2EOL = ESC + "[K"
ESC_CLEAR2EOS = ESC + "[J"
ESC_SET_CURSOR_TOPLEFT = ESC + "[H"

MAX_TABSTOP = 32
MAX_INPUT_LEN = 128
MAX_SCR = 4096  # CONFIG_FEATURE_VI_MAX_LEN
STATUS_BUFFER_LEN = 200
UNDO_QUEUE_MAX = 256
BB_VER = "1.35.0"

YANKONLY, YANKDEL = False, True
FORWARD, BACK = 1, -1
LIMITED, FULL = 0, 1
PARTIAL, WHOLE, MULTI = 0, 1, 2
S_BEFORE_WS, S_TO_WS, S_OVER_WS, S_END_PUNCT, S_END_ALNUM = 1, 2, 3, 4, 5
C_END = -1

UNDO_INS, UNDO_DEL, UNDO_INS_CHAIN, UNDO_DEL_CHAIN, UNDO_INS_QUEUED, UNDO_DEL_QUEUED = range(6)
NO_UNDO, ALLOW_UNDO, ALLOW_UNDO_CHAIN, ALLOW_UNDO_QUEUED = range(4)
UNDO_USE_SPOS, UNDO_EMPTY = 32, 64

VI_AUTOINDENT, VI_EXPANDTAB, VI_ERR_METHOD, VI_IGNORECASE, VI_SHOWMATCH, VI_TABSTOP = (1, 2, 4, 8, 16, 32)
# OPTS_STR: each option's long and short name, in bit order
_OPTS = (
    "autoindent",
    "ai",
    "expandtab",
    "et",
    "flash",
    "fl",
    "ignorecase",
    "ic",
    "showmatch",
    "sm",
    "tabstop",
    "ts",
)
MODIFYING_CMDS = b"aAcCdDiIJoOpPrRsxX<>~"
FEATURES_HELP = (
    "These features are available:"
    "\n\tPattern searches with / and ?"
    "\n\tLast command repeat with ."
    "\n\tLine marking with 'x"
    "\n\tNamed buffers with \"x"
    "\n\tSome colon mode commands with :"
    "\n\tSettable options with \":set\""
    "\n\tSignal catching- ^C"
    "\n\tJob suspend and resume with ^Z"
    "\n\tAdapt to window re-sizes"
    "\n"
)


# -- the C library's character classes (C locale) -------------------------------------------
def isspace(c: int) -> bool:
    return c in (0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)


def isblank(c: int) -> bool:
    return c in (0x20, 0x09)


def isalnum(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def isalpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def isdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def ispunct(c: int) -> bool:
    return 0x21 <= c <= 0x7E and not isalnum(c)


def isprint(c: int) -> bool:  # vi.c's Isprint without locale support, FEATURE_VI_8BIT off
    return 0x20 <= (c & 0xFF) < 0x7F


def _cstr(data: bytes) -> bytes:
    """A C string's view of bytes: up to the first NUL."""
    cut = data.find(b"\0")
    return data if cut < 0 else data[:cut]


class _UndoObject:
    __slots__ = ("prev", "start", "length", "u_type", "undo_text")

    def __init__(self, prev, start: int, length: int, u_type: int, undo_text: bytes):
        self.prev, self.start, self.length, self.u_type, self.undo_text = (
            prev,
            start,
            length,
            u_type,
            undo_text,
        )


class Vi:
    """busybox vi's globals and functions; offsets stand for its pointers."""

    def __init__(self, sys: Sys):
        self.sys = sys
        self.out: list[str] = []
        self.buf = bytearray()  # text[0 .. text_size)
        self.end = 0
        self.dot = 0
        self.vi_setops = 0
        self.editing = 0
        self.cmd_mode = 0
        self.modified_count = 0
        self.last_modified_count = -1
        self.cmdline_filecnt = 0
        self.optind = 0
        self.cmdcnt = 0
        self.rows, self.columns = 24, 80
        self.crow = self.ccol = 0
        self.offset = 0
        self.status_buffer = ""
        self.have_status_msg = 0
        self.last_status_cksum = 0
        self.current_filename: str | None = None
        self.alt_filename: str | None = None
        self.screen = bytearray()
        self.screenbegin = 0
        self.tabstop = 8
        self.last_search_char = 0
        self.last_search_cmd = 0
        self.adding2q = False
        self.lmc = bytearray()  # last_modifying_cmd[0 .. lmc_len)
        self.ioq: bytes | None = None
        self.ioq_pos = 0
        self.dotcnt = 0
        self.last_search_pattern = ""
        self.indentcol = 0
        self.cmd_error = False
        self.cur_line = -1
        self.old_offset = 0
        self.tot = 0
        self.YDreg = 26
        self.reg: list[bytes | None] = [None] * 28
        self.regtype = [0] * 28
        self.mark: list[int | None] = [None] * 28
        self.term_orig = Termios(0, 0, 0, ())
        self.verase = 0
        self.cindex = 0
        self.keep_index = False
        self.initial_cmds: list[str] = []
        self.readbuffer = bytearray()
        self.get_rowcol_error = False
        self.undo_stack_tail: _UndoObject | None = None
        self.undo_queue_state = UNDO_EMPTY
        self.undo_q = 0
        self.undo_queue = bytearray(UNDO_QUEUE_MAX)
        self.undo_queue_spos = 0
        self.readonly_mode = 0  # 1: the file is read-only, 2: -R
        self.write_error: OSError = OSError(0, "Success")

    # -- the buffer as C sees it ---------------------------------------------------------
    def at(self, p: int) -> int:
        """``*p``: a byte of the buffer, slack included (0 outside the allocation)."""
        return self.buf[p] if 0 <= p < len(self.buf) else 0

    @property
    def text_size(self) -> int:
        return len(self.buf)

    def setop(self, bit: int) -> bool:
        return bool(self.vi_setops & bit)

    # -- output --------------------------------------------------------------------------
    def write1(self, s: str) -> None:
        self.out.append(s)

    def write_bytes(self, b: bytes) -> None:
        self.out.append(b.decode("latin-1"))

    def fflush(self) -> Gen:
        if self.out:
            data = "".join(self.out).encode("latin-1")
            self.out = []
            try:
                yield from write_all(self.sys, 1, data)
            except OSError:
                pass

    # -- the terminal --------------------------------------------------------------------
    def query_screen_dimensions(self) -> bool:
        """get_terminal_width_height(STDIN): an error unless stdin is a terminal
        with a size (LINES/COLUMNS override it)."""
        try:
            rows, cols = self.sys.get_winsize(0)
            failed = rows == 0
        except OSError:
            rows = cols = 0
            failed = True

        def helper(value: int, default: int, name: str) -> int:
            nonlocal failed
            env = self.sys.env.get(name)
            if env is not None:
                value = _atoi(env)
                failed = False
            return default if value <= 1 or value >= 30000 else value

        self.rows = min(helper(rows, 24, "LINES"), MAX_SCR)
        self.columns = min(helper(cols, 80, "COLUMNS"), MAX_SCR)
        return failed

    def rawmode(self) -> None:
        try:
            self.term_orig = self.sys.tcgetattr(0)
        except OSError:
            self.term_orig = Termios(0, 0, 0, ())
        cc = dict(self.term_orig.cc)
        self.verase = cc.get(_VERASE, 0)
        t = self.term_orig
        cc[_VMIN], cc[_VTIME] = 1, 0
        raw = Termios(
            t.iflag & ~(_IXON | _ICRNL),
            t.oflag & ~_ONLCR,
            t.lflag & ~(_ICANON | _ECHO | _ECHONL),
            tuple(sorted(cc.items())),
        )
        try:
            self.sys.tcsetattr(0, raw)
        except OSError:
            pass

    def cookmode(self) -> Gen:
        yield from self.fflush()
        try:
            self.sys.tcsetattr(0, self.term_orig)
        except OSError:
            pass

    def poll(self, timeout_ms: int) -> Gen:
        """poll(stdin, POLLIN, timeout): waited for on the process's clock."""
        if self.sys.poll_in(0):
            return True
        if timeout_ms <= 0:
            return False
        yield from self.sys.sleep(timeout_ms / 1000)
        return self.sys.poll_in(0)

    def read_byte(self) -> Gen:
        """safe_read(fd, 1): a byte, or None at end of file or on an error."""
        try:
            data = yield from self.sys.read(0, 1)
        except OSError:
            return None
        return data[0] if data else None

    def read_key(self, timeout: int) -> Gen:
        """libbb's read_key: a byte, or a KEYCODE_* for a known ESC sequence;
        -1 at end of input, or (``None``) when ``timeout`` ms passed."""
        b = self.readbuffer
        while True:
            if not b:
                if timeout >= 0 and not (yield from self.poll(timeout)):
                    return None
                c = yield from self.read_byte()
                if c is None:
                    return -1
                b.append(c)
            c = b.pop(0)
            if c != 27:
                return c
            n = len(b)
            for seq, code in _ESC_SEQS:
                i = 0
                matched = False
                while True:
                    if n <= i:
                        if not (yield from self.poll(50)):
                            break
                        nxt = yield from self.read_byte()
                        if nxt is None:
                            b.clear()
                            return -1
                        b.append(nxt)
                        n += 1
                    if b[i] != seq[i]:
                        break
                    if i == len(seq) - 1:
                        matched = True
                        break
                    i += 1
                if matched:
                    b.clear()
                    return code
                if n <= i:  # timed out: nothing longer can match
                    break
            else:
                # no sequence matched: read on until a pause, then decide
                while n < KEYCODE_BUFFER_SIZE - 1:
                    if not (yield from self.poll(50)):
                        break
                    nxt = yield from self.read_byte()
                    if nxt is None:
                        b.clear()
                        return -1
                    b.append(nxt)
                    n += 1
                    pos = _cursor_pos(bytes(b))
                    if pos is not None:
                        b.clear()
                        return (KEYCODE_CURSOR_POS, pos)
            if n <= 1:
                return 27  # Alt-x is ESC, then x
            b.clear()  # an unknown sequence: as if no key was pressed

    # -- drawing -------------------------------------------------------------------------
    def place_cursor(self, row: int, col: int) -> None:
        row = max(0, min(row, self.rows - 1))
        col = max(0, min(col, self.columns - 1))
        self.write1(f"{ESC}[{row + 1};{col + 1}H")

    def go_bottom_and_clear_to_eol(self) -> None:
        self.place_cursor(self.rows - 1, 0)
        self.write1(ESC_CLEAR2EOL)

    # -- text movement -------------------------------------------------------------------
    def begin_line(self, p: int) -> int:
        if p > 0:
            q = self.buf.rfind(b"\n", 0, p)
            return 0 if q < 0 else q + 1
        return p

    def end_line(self, p: int) -> int:
        if p < self.end - 1:
            q = self.buf.find(b"\n", p, self.end - 1)
            return self.end - 1 if q < 0 else q
        return p

    def dollar_line(self, p: int) -> int:
        p = self.end_line(p)
        if self.at(p) == 10 and p - self.begin_line(p) > 0:
            p -= 1
        return p

    def prev_line(self, p: int) -> int:
        p = self.begin_line(p)
        if p > 0 and self.at(p - 1) == 10:
            p -= 1
        return self.begin_line(p)

    def next_line(self, p: int) -> int:
        p = self.end_line(p)
        if p < self.end - 1 and self.at(p) == 10:
            p += 1
        return p

    def end_screen(self) -> int:
        q = self.screenbegin
        for _ in range(self.rows - 2):
            q = self.next_line(q)
        return self.end_line(q)

    def count_lines(self, start: int, stop: int) -> int:
        if stop < start:
            start, stop = stop, start
        cnt = 0
        stop = self.end_line(stop)
        while start <= stop and start <= self.end - 1:
            start = self.end_line(start)
            if self.at(start) == 10:
                cnt += 1
            start += 1
        return cnt

    def find_line(self, li: int) -> int:
        q = 0
        while li > 1:
            q = self.next_line(q)
            li -= 1
        return q

    def next_tabstop(self, col: int) -> int:
        return col + ((self.tabstop - 1) - (col % self.tabstop))

    def prev_tabstop(self, col: int) -> int:
        return col - ((col % self.tabstop) or self.tabstop)

    def next_column(self, c: int, co: int) -> int:
        if c == 9:
            co = self.next_tabstop(co)
        elif c < 0x20 or c == 0x7F:
            co += 1
        return co + 1

    def get_column(self, p: int) -> int:
        co = 0
        for r in range(self.begin_line(p), p):
            co = self.next_column(self.at(r), co)
        return co

    def screen_erase(self) -> None:
        self.screen[:] = b" " * len(self.screen)

    def new_screen(self, ro: int, co: int) -> None:
        self.screen = bytearray(b" " * (ro * co + 8))
        for r in range(1, ro - 1):
            self.screen[r * co] = ord("~")

    def sync_cursor(self, d: int) -> tuple[int, int]:
        rows, columns = self.rows, self.columns
        beg_cur = self.begin_line(d)
        if beg_cur < self.screenbegin:
            cnt = self.count_lines(beg_cur, self.screenbegin)
            self._sc1(beg_cur, cnt)
        else:
            end_scr = self.end_screen()
            if beg_cur > end_scr:
                cnt = self.count_lines(end_scr, beg_cur)
                if cnt > (rows - 1) // 2:
                    self._sc1(beg_cur, cnt)
                else:
                    for _ in range(cnt - 1):
                        self.screenbegin = self.next_line(self.screenbegin)
                        end_scr = self.end_line(self.next_line(end_scr))
        tp = self.screenbegin
        ro = 0
        while ro < rows - 1:
            if tp == beg_cur:
                break
            tp = self.next_line(tp)
            ro += 1
        co = 0
        while True:
            if self.at(tp) == 10:
                break
            co = self.next_column(self.at(tp), co) - 1
            if self.cmd_mode and tp == d - 1 and self.at(d) == 9:
                co += 1
                break
            cont = tp < d
            tp += 1
            if not cont:
                break
            co += 1
            if not co:
                break
        if co < self.offset:
            self.offset = co
        if co >= columns + self.offset:
            self.offset = co - columns + 1
        if d == beg_cur and self.at(d) == 9:
            self.offset = 0
        return ro, co - self.offset

    def _sc1(self, beg_cur: int, cnt: int) -> None:
        self.screenbegin = beg_cur
        if cnt > (self.rows - 1) // 2:
            for _ in range((self.rows - 1) // 2):
                self.screenbegin = self.prev_line(self.screenbegin)

    def format_line(self, src: int) -> bytes:
        columns, tabstop = self.columns, self.tabstop
        ofs = self.offset
        dest = bytearray()
        c = ord("~")
        co = 0
        end = self.end
        while co < columns + tabstop:
            if src < end:
                c = self.buf[src]
                src += 1
                if c == 10:
                    break
                if c & 0x80 and not isprint(c):
                    c = ord(".")
                if c < 0x20 or c == 0x7F:
                    if c == 9:
                        c = 0x20
                        while co % tabstop != tabstop - 1:
                            _put(dest, co, c)
                            co += 1
                    else:
                        _put(dest, co, ord("^"))
                        co += 1
                        c = ord("?") if c == 0x7F else c + 0x40
            _put(dest, co, c)
            co += 1
            if ofs >= tabstop and co >= tabstop:
                del dest[:tabstop]
                co -= tabstop
                ofs -= tabstop
            if src >= end:
                break
        if co < ofs:
            ofs = co
        co -= ofs
        line = dest[ofs : ofs + co]
        if co < columns:
            line += b" " * (columns - co)
        return bytes(line)

    def refresh(self, full_screen: bool) -> None:
        if not self.get_rowcol_error:
            c, r = self.columns, self.rows
            self.query_screen_dimensions()
            if c != self.columns or r != self.rows:
                full_screen = True
        self.crow, self.ccol = self.sync_cursor(self.dot)
        tp = self.screenbegin
        columns = self.columns
        for li in range(self.rows - 1):
            out_buf = self.format_line(tp)
            if tp < self.end:
                t = self.buf.find(b"\n", tp, self.end)
                tp = (self.end - 1 if t < 0 else t) + 1
            changed = False
            cs, ce = 0, columns - 1
            sp = li * columns
            screen = self.screen
            if full_screen:
                changed = True
            else:
                while cs <= ce:
                    if out_buf[cs] != screen[sp + cs]:
                        changed = True
                        break
                    cs += 1
                while ce >= cs:
                    if out_buf[ce] != screen[sp + ce]:
                        changed = True
                        break
                    ce -= 1
                if self.offset != self.old_offset:
                    changed = True
            cs = max(cs, 0)
            ce = min(ce, columns - 1)
            if cs > ce:
                cs, ce = 0, columns - 1
            if changed:
                screen[sp + cs : sp + ce + 1] = out_buf[cs : ce + 1]
                self.place_cursor(li, cs)
                self.write_bytes(bytes(screen[sp + cs : sp + ce + 1]))
        self.place_cursor(self.crow, self.ccol)
        if not self.keep_index:
            self.cindex = self.ccol + self.offset
        self.old_offset = self.offset

    def redraw(self, full_screen: bool) -> Gen:
        self.write1(ESC_SET_CURSOR_TOPLEFT + ESC_CLEAR2EOS)
        self.screen_erase()
        self.last_status_cksum = 0
        self.refresh(full_screen)
        yield from self.show_status_line()

    def flash(self, h: int) -> Gen:
        self.write1(ESC_BOLD_TEXT)
        yield from self.redraw(True)
        yield from self.fflush()
        yield from self.poll(h * 10)
        self.write1(ESC_NORM_TEXT)
        yield from self.redraw(True)

    def indicate_error(self) -> Gen:
        self.cmd_error = True
        if not self.setop(VI_ERR_METHOD):
            self.write1(ESC_BELL)
        else:
            yield from self.flash(10)

    # -- input ---------------------------------------------------------------------------
    def readit(self) -> Gen:
        yield from self.fflush()
        c = yield from self.read_key(-1)
        if c == -1:
            self.go_bottom_and_clear_to_eol()
            yield from self.cookmode()
            raise _Exit(1, "can't read user input")
        if isinstance(c, tuple):
            return KEYCODE_CURSOR_POS
        return c

    def get_one_char(self) -> Gen:
        if not self.adding2q:
            if self.ioq is not None:
                c = self.ioq[self.ioq_pos] if self.ioq_pos < len(self.ioq) else 0
                self.ioq_pos += 1
                if c:
                    return c
                self.ioq = None
            return (yield from self.readit())
        c = yield from self.readit()
        if len(self.lmc) >= MAX_INPUT_LEN - 2:
            self.adding2q = False
            self.lmc.clear()
        else:
            self.lmc.append(c & 0xFF if isinstance(c, int) else 0)
        return c

    def get_motion_char(self) -> Gen:
        c = yield from self.get_one_char()
        if _isdigit_key(c):
            if c != ord("0"):
                cnt = 0
                while _isdigit_key(c):
                    cnt = cnt * 10 + (c - 0x30)
                    c = yield from self.get_one_char()
                self.cmdcnt = (self.cmdcnt or 1) * cnt
            else:
                self.cmdcnt = 0
        return c

    def get_input_line(self, prompt: str) -> Gen:
        buf = bytearray(prompt.encode("latin-1"))
        self.last_status_cksum = 0
        self.go_bottom_and_clear_to_eol()
        self.write1(prompt)
        while len(buf) < MAX_INPUT_LEN - 1:
            c = yield from self.get_one_char()
            if c in (10, 13, 27):
                break
            if c == self.verase or c in (8, 127):
                self.write1("\b \b")
                del buf[-1:]
                if not buf:
                    break
            elif isinstance(c, int) and 0 < c < 256:
                buf.append(c)
                self.write_bytes(bytes([c]))
        self.refresh(False)
        return bytes(buf)

    def hit_return(self) -> Gen:
        self.write1(ESC_BOLD_TEXT + "[Hit return to continue]" + ESC_NORM_TEXT)
        while True:
            c = yield from self.get_one_char()
            if c in (10, 13):
                break
        yield from self.redraw(True)

    # -- the status line -----------------------------------------------------------------
    def format_edit_status(self) -> int:
        cur = self.count_lines(0, self.dot)
        if self.modified_count != self.last_modified_count:
            self.tot = cur + self.count_lines(self.dot, self.end - 1) - 1
            self.last_modified_count = self.modified_count
        tot = self.tot
        if tot > 0:
            percent = (100 * cur) // tot
        else:
            cur = tot = 0
            percent = 100
        trunc_at = min(self.columns, STATUS_BUFFER_LEN - 1)
        mode = "-IR-"[self.cmd_mode & 3]
        name = self.current_filename if self.current_filename is not None else "No file"
        readonly = " [Readonly]" if self.readonly_mode else ""
        modified = " [Modified]" if self.modified_count else ""
        text = f"{mode} {name}{readonly}{modified} {cur}/{tot} {percent}%"
        self.status_buffer = text[:trunc_at]
        return len(self.status_buffer)

    def show_status_line(self) -> Gen:
        cnt = cksum = 0
        if not self.have_status_msg:
            cnt = self.format_edit_status()
            cksum = sum(self.status_buffer[:cnt].encode("latin-1"))
        if self.have_status_msg or (cnt > 0 and self.last_status_cksum != cksum):
            self.last_status_cksum = cksum
            self.go_bottom_and_clear_to_eol()
            self.write1(self.status_buffer)
            if self.have_status_msg:
                if len(self.status_buffer) - (self.have_status_msg - 1) > self.columns - 1:
                    self.have_status_msg = 0
                    yield from self.hit_return()
                self.have_status_msg = 0
            self.place_cursor(self.crow, self.ccol)
        yield from self.fflush()

    def status_line(self, msg: str) -> None:
        self.status_buffer = msg[: STATUS_BUFFER_LEN - 1]
        self.have_status_msg = 1

    def status_line_bold(self, msg: str) -> None:
        room = STATUS_BUFFER_LEN - len(ESC_BOLD_TEXT) - 1 - len(ESC_NORM_TEXT) - 1
        self.status_buffer = ESC_BOLD_TEXT + msg[: room - 1] + ESC_NORM_TEXT
        self.have_status_msg = 1 + len(ESC_BOLD_TEXT) + len(ESC_NORM_TEXT)

    def status_line_bold_errno(self, fn: str, e: OSError) -> None:
        self.status_line_bold(f"'{fn}' {strerror(e)}")

    def not_implemented(self, s: bytes) -> None:
        self.status_line_bold(f"'{_print_literal(s)}' is not implemented")

    # -- registers, marks ----------------------------------------------------------------
    def text_yank(self, p: int, q: int, dest: int, buftype: int) -> int:
        cnt = q - p
        if cnt < 0:
            p = q
            cnt = -cnt
        self.reg[dest] = _cstr(bytes(self.buf[p : p + cnt + 1]))
        self.regtype[dest] = buftype
        return p

    def what_reg(self) -> str:
        if self.YDreg <= 25:
            return chr(ord("a") + self.YDreg)
        return "U" if self.YDreg == 27 else "D"

    def check_context(self, cmd: int) -> None:
        if 0 < cmd < 256 and bytes([cmd]) in b":%{}'GHLMz/?Nn":
            self.mark[27] = self.mark[26]
            self.mark[26] = self.dot

    def swap_context(self, p: int) -> int:
        m = self.mark[27]
        if m is not None and 0 <= m <= self.end - 1:
            self.mark[27] = p
            self.mark[26] = p = m
        return p

    def yank_status(self, op: str, p: bytes, cnt: int) -> None:
        lines = p.count(b"\n")
        self.status_line(f"{op} {lines * cnt} lines ({len(p) * cnt} chars) from [{self.what_reg()}]")

    # -- changing the text ---------------------------------------------------------------
    def text_hole_make(self, p: int, size: int) -> None:
        """Open ``size`` bytes at ``p`` (offsets survive a reallocation)."""
        if size <= 0:
            return
        self.end += size
        if self.end >= self.text_size:
            self.buf += bytes(self.end - self.text_size + 10240)
        b = self.buf
        b[p + size : self.end] = b[p : self.end - size]
        b[p : p + size] = b" " * size

    def text_hole_delete(self, p: int, q: int, undo: int) -> int:
        src, dest = q + 1, p
        if q < p:
            src, dest = p + 1, q
        hole_size = q - p + 1
        cnt = self.end - src
        if undo == ALLOW_UNDO:
            self.undo_push(p, hole_size, UNDO_DEL)
        elif undo == ALLOW_UNDO_CHAIN:
            self.undo_push(p, hole_size, UNDO_DEL_CHAIN)
        elif undo == ALLOW_UNDO_QUEUED:
            self.undo_push(p, hole_size, UNDO_DEL_QUEUED)
        self.modified_count -= 1
        if src < 0 or src > self.end:
            return dest
        if dest < 0 or dest >= self.end:
            return dest
        self.modified_count += 1
        if src < self.end:
            self.buf[dest : dest + cnt] = self.buf[src : src + cnt]
        self.end -= hole_size
        if dest >= self.end:
            dest = self.end - 1
        if self.end <= 0:
            dest = self.end = 0
        return dest

    def undo_queue_commit(self) -> None:
        if self.undo_q > 0:
            start = UNDO_QUEUE_MAX - self.undo_q
            self.undo_push(start, self.undo_q, self.undo_queue_state | UNDO_USE_SPOS, from_queue=True)
            self.undo_queue_state = UNDO_EMPTY
            self.undo_q = 0

    def flush_undo_data(self) -> None:
        self.undo_stack_tail = None

    def undo_push(self, src: int, length: int, u_type: int, from_queue: bool = False) -> None:
        use_spos = u_type & UNDO_USE_SPOS
        if u_type == UNDO_EMPTY:
            return
        if u_type == UNDO_DEL_QUEUED:
            if length != 1:
                return
            if self.undo_queue_state in (UNDO_EMPTY, UNDO_DEL):
                self.undo_queue_state = UNDO_DEL
                self.undo_queue_spos = src
                self.undo_q += 1
                self.undo_queue[UNDO_QUEUE_MAX - self.undo_q] = self.at(src)
                if self.undo_q == UNDO_QUEUE_MAX:
                    self.undo_queue_commit()
                return
            if self.undo_queue_state == UNDO_INS:
                self.undo_queue_commit()
                self.undo_push(src, length, UNDO_DEL_QUEUED)
                return
        elif u_type == UNDO_INS_QUEUED:
            if length < 1:
                return
            if self.undo_queue_state in (UNDO_EMPTY, UNDO_INS):
                if self.undo_queue_state == UNDO_EMPTY:
                    self.undo_queue_state = UNDO_INS
                    self.undo_queue_spos = src
                for _ in range(length):
                    self.undo_q += 1
                    if self.undo_q == UNDO_QUEUE_MAX:
                        self.undo_queue_commit()
                return
            if self.undo_queue_state == UNDO_DEL:
                self.undo_queue_commit()
                self.undo_push(src, length, UNDO_INS_QUEUED)
                return
        u_type &= ~UNDO_USE_SPOS
        data = b""
        if u_type in (UNDO_DEL, UNDO_DEL_CHAIN):
            if length == self.end:  # (text + length) == end
                length -= 1
            source = self.undo_queue if from_queue else self.buf
            data = bytes(source[src : src + length])
        start = self.undo_queue_spos if use_spos else src
        self.undo_stack_tail = _UndoObject(self.undo_stack_tail, start, length, u_type, data)
        self.modified_count += 1

    def undo_push_insert(self, p: int, length: int, undo: int) -> None:
        if undo == ALLOW_UNDO:
            self.undo_push(p, length, UNDO_INS)
        elif undo == ALLOW_UNDO_CHAIN:
            self.undo_push(p, length, UNDO_INS_CHAIN)
        elif undo == ALLOW_UNDO_QUEUED:
            self.undo_push(p, length, UNDO_INS_QUEUED)

    def undo_pop(self) -> None:
        self.undo_queue_commit()
        entry = self.undo_stack_tail
        if entry is None:
            self.status_line("Already at oldest change")
            return
        if entry.u_type in (UNDO_DEL, UNDO_DEL_CHAIN):
            u_start = entry.start
            self.text_hole_make(u_start, entry.length)
            self.buf[u_start : u_start + entry.length] = entry.undo_text
            self.status_line(
                f"Undo [{self.modified_count}] restored {entry.length} chars at position {entry.start}"
            )
        elif entry.u_type in (UNDO_INS, UNDO_INS_CHAIN):
            u_start = entry.start
            self.text_hole_delete(u_start, u_start - 1 + entry.length, NO_UNDO)
            self.status_line(
                f"Undo [{self.modified_count}] deleted {entry.length} chars at position {entry.start}"
            )
        repeat = False
        if entry.u_type in (UNDO_DEL, UNDO_INS):
            self.dot = entry.start
            self.refresh(False)
        elif entry.u_type in (UNDO_DEL_CHAIN, UNDO_INS_CHAIN):
            repeat = True
        self.undo_stack_tail = entry.prev
        self.modified_count -= 1
        if repeat:
            self.undo_pop()

    # -- moving dot ----------------------------------------------------------------------
    def dot_left(self) -> None:
        self.undo_queue_commit()
        if self.dot > 0 and self.at(self.dot - 1) != 10:
            self.dot -= 1

    def dot_right(self) -> None:
        self.undo_queue_commit()
        if self.dot < self.end - 1 and self.at(self.dot) != 10:
            self.dot += 1

    def dot_begin(self) -> None:
        self.undo_queue_commit()
        self.dot = self.begin_line(self.dot)

    def dot_end(self) -> None:
        self.undo_queue_commit()
        self.dot = self.end_line(self.dot)

    def move_to_col(self, p: int, col: int) -> int:
        p = self.begin_line(p)
        co = 0
        while True:
            if self.at(p) == 10:
                break
            co = self.next_column(self.at(p), co)
            if not co <= col:
                break
            cont = p < self.end
            p += 1
            if not cont:
                break
        return p

    def dot_next(self) -> None:
        self.undo_queue_commit()
        self.dot = self.next_line(self.dot)

    def dot_prev(self) -> None:
        self.undo_queue_commit()
        self.dot = self.prev_line(self.dot)

    def dot_skip_over_ws(self) -> None:
        while isspace(self.at(self.dot)) and self.at(self.dot) != 10 and self.dot < self.end - 1:
            self.dot += 1

    def dot_to_char(self, cmd: int) -> Gen:
        q = self.dot
        direction = FORWARD if 0x61 <= cmd <= 0x7A else BACK
        if self.last_search_char == 0:
            return
        while True:
            while True:
                q += direction
                if (q > self.end - 1 if direction == FORWARD else q < 0) or self.at(q) == 10:
                    yield from self.indicate_error()
                    return
                if self.at(q) == self.last_search_char:
                    break
            self.cmdcnt -= 1
            if self.cmdcnt <= 0:
                break
        self.dot = q
        if cmd == ord("t"):
            self.dot_left()
        elif cmd == ord("T"):
            self.dot_right()

    def dot_scroll(self, cnt: int, direction: int) -> None:
        self.undo_queue_commit()
        for _ in range(cnt):
            if direction < 0:
                self.screenbegin = self.prev_line(self.screenbegin)
            else:
                self.screenbegin = self.next_line(self.screenbegin)
        if self.dot < self.screenbegin:
            self.dot = self.screenbegin
        q = self.end_screen()
        if self.dot > q:
            self.dot = self.begin_line(q)
        self.dot_skip_over_ws()

    def bound_dot(self, p: int) -> Gen:
        if p >= self.end and self.end > 0:
            p = self.end - 1
            yield from self.indicate_error()
        if p < 0:
            p = 0
            yield from self.indicate_error()
        return p

    def start_new_cmd_q(self, c: int) -> None:
        self.dotcnt = self.cmdcnt or 1
        self.lmc[:] = bytes([c])
        self.adding2q = True

    def end_cmd_q(self) -> None:
        self.YDreg = 26
        self.adding2q = False

    def yank_delete(self, start: int, stop: int, buftype: int, yf: bool, undo: int) -> int:
        if start > stop:
            start, stop = stop, start
        if buftype == PARTIAL and self.at(start) == 10:
            return start
        p = start
        self.text_yank(start, stop, self.YDreg, buftype)
        if yf == YANKDEL:
            p = self.text_hole_delete(start, stop, undo)
        return p

    def file_insert(self, fn: str, p: int, initial: bool) -> Gen:
        """Read a file into the text at ``p``: its size, or -1."""
        p = max(0, min(p, self.end))
        sys = self.sys
        try:
            fd = sys.open(fn, O_RDONLY)
        except OSError as e:
            if not initial:
                self.status_line_bold_errno(fn, e)
            return -1
        cnt = -1
        try:
            kind, _size = sys.fd_info(fd)
            if kind != "file":
                self.status_line_bold(f"'{fn}' is not a regular file")
                return -1
            data = bytearray()
            try:
                while True:
                    chunk = yield from sys.read(fd, 65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as e:
                self.status_line_bold_errno(fn, e)
                return -1
            size = len(data)
            if initial:
                st = sys.stat(fn)
                if not sys.access(fn, 2) or not st.mode & 0o222:
                    self.readonly_mode |= 1
            self.text_hole_make(p, size)
            self.buf[p : p + size] = data
            cnt = size
            self.undo_push_insert(p, size, ALLOW_UNDO)
        finally:
            try:
                sys.close(fd)
            except OSError:
                pass
        return cnt

    def find_pair(self, p: int, c: int) -> int | None:
        braces = b"()[]{}"
        d = braces.index(c) ^ 1
        match = braces[d]
        d = ((d & 1) << 1) - 1
        level = 1
        while True:
            p += d
            if p < 0 or p >= self.end:
                return None
            if self.at(p) == c:
                level += 1
            if self.at(p) == match:
                level -= 1
                if level == 0:
                    return p

    def showmatching(self, p: int) -> Gen:
        q = self.find_pair(p, self.at(p))
        if q is None:
            yield from self.indicate_error()
        else:
            save_dot = self.dot
            self.dot = q
            self.refresh(False)
            yield from self.fflush()
            yield from self.poll(400)
            self.dot = save_dot
            self.refresh(False)

    def stupid_insert(self, p: int, c: int) -> None:
        self.text_hole_make(p, 1)
        self.buf[p] = c

    def indent_len(self, p: int) -> int:
        r = p
        while r < self.end - 1 and isblank(self.at(r)):
            r += 1
        return r - p

    def char_insert(self, p: int, c: int, undo: int) -> Gen:
        bol = self.begin_line(p)
        if c == 22:  # ^V: the next key literally
            self.stupid_insert(p, ord("^"))
            self.refresh(False)
            c = yield from self.get_one_char()
            self.buf[p] = c & 0xFF
            self.undo_push_insert(p, 1, undo)
            p += 1
        elif c == 27:
            self.cmd_mode = 0
            self.undo_queue_commit()
            self.cmdcnt = 0
            self.end_cmd_q()
            self.last_status_cksum = 0
            if self.dot > 0 and self.at(p - 1) != 10:
                p -= 1
            if self.setop(VI_AUTOINDENT):
                n = self.indent_len(bol)
                if n and self.get_column(bol + n) == self.indentcol and self.at(bol + n) == 10:
                    self.text_hole_delete(bol, bol + n - 1, undo)
                    p = bol
        elif c == 4:  # ^D: less indentation
            r = bol + self.indent_len(bol)
            prev = self.prev_tabstop(self.get_column(r))
            while r > bol and self.get_column(r) > prev:
                if p > bol:
                    p -= 1
                r -= 1
                r = self.text_hole_delete(r, r, ALLOW_UNDO_QUEUED)
            if self.setop(VI_AUTOINDENT) and self.indentcol and r == self.end_line(p):
                self.indentcol = self.get_column(p)
                return p
        elif c == 9 and self.setop(VI_EXPANDTAB):
            col = self.get_column(p)
            col = self.next_tabstop(col) - col + 1
            for _ in range(col):
                self.undo_push_insert(p, 1, undo)
                self.stupid_insert(p, 0x20)
                p += 1
        elif c == self.verase or c in (8, 127):
            if p > 0:
                p -= 1
                p = self.text_hole_delete(p, p, ALLOW_UNDO_QUEUED)
        else:
            if c == 13:
                c = 10
            if c == 10:
                self.undo_queue_commit()
            self.undo_push_insert(p, 1, undo)
            self.stupid_insert(p, c & 0xFF)
            p += 1
            if self.setop(VI_SHOWMATCH) and c in b")]}":
                yield from self.showmatching(p - 1)
            if self.setop(VI_AUTOINDENT) and c == 10:
                bol = p if self.indentcol < 0 else self.prev_line(p)
                n = self.indent_len(bol)
                col = self.get_column(bol + n)
                if n and col == self.indentcol:
                    self.buf[bol + 1 : bol + 1 + n] = self.buf[bol : bol + n]
                    self.buf[bol] = 10
                    return p
                if self.indentcol < 0:
                    p -= 1
                if n:
                    self.indentcol = col
                    if self.setop(VI_EXPANDTAB):
                        ntab, nspc = 0, col
                    else:
                        ntab, nspc = col // self.tabstop, col % self.tabstop
                    self.text_hole_make(p, ntab + nspc)
                    self.undo_push_insert(p, ntab + nspc, undo)
                    self.buf[p : p + ntab] = b"\t" * ntab
                    p += ntab
                    self.buf[p : p + nspc] = b" " * nspc
                    return p + nspc
        self.indentcol = 0
        return p

    def init_filename(self, fn: str) -> None:
        if self.current_filename is None:
            self.current_filename = fn
        else:
            self.alt_filename = fn

    def update_filename(self, fn: str | None) -> None:
        if fn is None:
            return
        if self.current_filename is None or fn != self.current_filename:
            self.alt_filename = self.current_filename
            self.current_filename = fn

    def init_text_buffer(self, fn: str | None) -> Gen:
        self.buf = bytearray(10240)
        self.screenbegin = self.dot = self.end = 0
        self.update_filename(fn)
        rc = -1
        if fn is not None:
            rc = yield from self.file_insert(fn, 0, True)
        if rc < 0:
            yield from self.char_insert(0, 10, NO_UNDO)
        self.flush_undo_data()
        self.modified_count = 0
        self.last_modified_count = -1
        self.mark = [None] * 28
        return rc

    def string_insert(self, p: int, s: bytes, undo: int) -> None:
        s = _cstr(s)
        self.undo_push_insert(p, len(s), undo)
        self.text_hole_make(p, len(s))
        self.buf[p : p + len(s)] = s

    def file_write(self, fn: str | None, first: int, last: int) -> Gen:
        """The bytes written, -1 on an error (``self.write_error``), -2 without a name."""
        if fn is None:
            self.status_line_bold("No current filename")
            return -2
        sys = self.sys
        try:
            fd = sys.open(fn, O_WRONLY | O_CREAT, 0o666)
        except OSError as e:
            self.write_error = e
            return -1
        cnt = last - first + 1
        data = bytes(self.buf[first : first + cnt])
        charcnt = 0
        try:
            while charcnt < cnt:
                n = sys.write(fd, data[charcnt:])
                if n <= 0:
                    break
                charcnt += n
        except OSError as e:
            self.write_error = e
        try:
            sys.truncate(fn, charcnt)
        except OSError:
            pass
        if charcnt != cnt:
            charcnt = 0
        try:
            sys.close(fd)
        except OSError:
            pass
        return charcnt
        yield  # a generator

    # -- searching -----------------------------------------------------------------------
    def char_search(self, p: int, pat: str, dir_and_range: int) -> int | None:
        """re_search over the text from ``p``, forward or back, to the end of
        the text (FULL) or the next/previous line (LIMITED)."""
        try:
            compiled = _search_regex(pat, p != 0, p != self.end - 1, self.setop(VI_IGNORECASE))
        except RegexError as e:
            self.status_line_bold(f"bad search pattern '{pat}': {e}")
            return p
        rng = dir_and_range & 1
        q = self.end - 1
        if rng == LIMITED:
            q = self.next_line(p)
        if dir_and_range < 0:
            q = 0
            if rng == LIMITED:
                q = self.prev_line(p)
        rng = q - p
        if rng < 0:
            size, start = -rng, -rng
        else:
            size, start = rng, 0
        q = max(p - start, 0)
        string = bytes(self.buf[q : q + size]).decode("latin-1")
        if rng >= 0:
            positions = range(start, start + rng + 1)
        else:
            positions = range(start, max(start + rng, 0) - 1, -1)
        for i in positions:
            if i > len(string):
                break
            if compiled.match(string, i):
                return q + i
        return None

    # -- colon commands ------------------------------------------------------------------
    def get_one_address(self, s: bytes, i: int) -> tuple[int | None, int, bool]:
        """(index after, address, valid); index None on an error."""
        got_addr = False
        addr = self.count_lines(0, self.dot)
        sign = 0
        while True:
            c = s[i] if i < len(s) else 0
            if isblank(c):
                if got_addr:
                    addr += sign
                    sign = 0
                i += 1
            elif not got_addr and c == ord("."):
                i += 1
                got_addr = True
            elif not got_addr and c == ord("$"):
                i += 1
                addr = self.count_lines(0, self.end - 1)
                got_addr = True
            elif not got_addr and c == ord("'"):
                i += 1
                mc = (s[i] if i < len(s) else 0) | 0x20
                i += 1
                q = None
                if ord("a") <= mc <= ord("z"):
                    q = self.mark[mc - ord("a")]
                if q is None:
                    self.status_line_bold("Mark not set")
                    return None, addr, got_addr
                addr = self.count_lines(0, q)
                got_addr = True
            elif not got_addr and c in (ord("/"), ord("?")):
                j = s.find(bytes([c]), i + 1)
                if j < 0:
                    j = len(s)
                if i + 1 != j:
                    self.last_search_pattern = s[i:j].decode("latin-1")
                i = j
                if i < len(s) and s[i] == c:
                    i += 1
                if c == ord("/"):
                    q = self.next_line(self.dot)
                    d = (FORWARD << 1) | FULL
                else:
                    q = self.begin_line(self.dot)
                    d = (BACK << 1) | FULL
                pat = self.last_search_pattern[1:]
                found = self.char_search(q, pat, d)
                if found is None:
                    found = self.char_search(0 if d > 0 else self.end - 1, pat, d)
                    if found is None:
                        self.status_line_bold("Pattern not found")
                        return None, addr, got_addr
                addr = self.count_lines(0, found)
                got_addr = True
            elif isdigit(c):
                num = 0
                while i < len(s) and isdigit(s[i]):
                    num = num * 10 + s[i] - 0x30
                    i += 1
                if not got_addr:
                    addr = num
                    got_addr = True
                else:
                    addr += num if sign >= 0 else -num
                sign = 0
            elif c in (ord("-"), ord("+")):
                if not got_addr:
                    got_addr = True
                else:
                    addr += sign
                sign = -1 if c == ord("-") else 1
                i += 1
            else:
                addr += sign
                break
        return i, addr, got_addr

    def get_address(self, s: bytes, i: int) -> tuple[int | None, int, int, int]:
        b = e = -1
        got = 0
        state_address = True
        save_dot = self.dot
        while True:
            c = s[i] if i < len(s) else 0
            if isblank(c):
                i += 1
            elif state_address and c == ord("%"):
                i += 1
                b = 1
                e = self.count_lines(0, self.end - 1)
                got = 3
                state_address = False
            elif state_address:
                j, addr, valid = self.get_one_address(s, i)
                if j is None:
                    self.dot = save_dot
                    return None, b, e, got
                i = j
                c = s[i] if i < len(s) else 0
                if not (valid or c in (ord(","), ord(";")) or got & 1):
                    break
                b = e
                e = addr
                got = ((got << 1) | 1) & 0xFFFFFFFF
                state_address = False
            elif c in (ord(","), ord(";")):
                if c == ord(";"):
                    self.dot = self.find_line(e)
                i += 1
                state_address = True
            else:
                break
        self.dot = save_dot
        return i, b, e, got

    def setops(self, arg: str, flg_no: int) -> None:
        name, eq, value = arg.partition("=")
        try:
            index = _OPTS.index(name[flg_no:])
        except ValueError:
            self.status_line_bold(f"bad option: {arg}")
            return
        bit = 1 << (index >> 1)
        if bit & VI_TABSTOP:
            t = _strtou(value) if eq and not flg_no else None
            if t is None or t <= 0 or t > MAX_TABSTOP:
                self.status_line_bold(f"bad option: {arg}")
                return
            self.tabstop = t
            return
        if eq:
            self.status_line_bold(f"bad option: {arg}")
            return
        if flg_no:
            self.vi_setops &= ~bit
        else:
            self.vi_setops |= bit

    def expand_args(self, args: bytes) -> str | None:
        out = []
        i = 0
        while i < len(args):
            c = args[i]
            if c in (ord("%"), ord("#")):
                replace = self.current_filename if c == ord("%") else self.alt_filename
                if replace is None:
                    self.status_line_bold("No previous filename")
                    return None
                out.append(replace)
            elif c == ord("\\") and i + 1 < len(args):
                i += 1
                out.append(chr(args[i]))
            else:
                out.append(chr(c))
            i += 1
        return "".join(out)

    def regex_search(self, q: int, preg, rorig: bytes) -> tuple[int | None, int, bytes]:
        eol = self.end_line(q)
        line = bytes(self.buf[q:eol]).decode("latin-1")
        m = preg.search(line)
        if m is None:
            return None, 0, b""
        found = q + m.start()
        len_f = m.end() - m.start()
        r = bytearray()
        t = 0
        while t < len(rorig):
            ch = rorig[t : t + 1]
            if rorig[t] == ord("\\"):
                t += 1
                ch = rorig[t : t + 1]
                if t < len(rorig) and isdigit(rorig[t]):
                    n = rorig[t] - 0x30
                    if n <= (preg.groups or 0) and m.start(n) >= 0:
                        ch = m.group(n).encode("latin-1")
            r += ch
            t += 1
        return found, len_f, _cstr(bytes(r))

    def colon(self, line: bytes) -> Gen:
        try:
            yield from self._colon(line)
        except _ColonReturn:
            pass
        self.dot = yield from self.bound_dot(self.dot)

    def _colon(self, s: bytes) -> Gen:
        i = 0
        while i < len(s) and s[i] == ord(":"):
            i += 1
        while i < len(s) and isblank(s[i]):
            i += 1
        if i >= len(s) or s[i] == ord('"'):
            return
        s = s[i:]
        li = self.count_lines(0, self.end - 1)
        fn = self.current_filename
        j, b, e, got = self.get_address(s, 0)
        if j is None:
            return
        rest = s[j:]
        k = 0
        while k < len(rest) and not isspace(rest[k]):
            k += 1
        cmd = rest[:k]
        args = rest[k:].lstrip(b" \t")
        useforce = False
        if cmd.endswith(b"!"):
            useforce = True
            cmd = cmd[:-1]
        got_address = bool(got & 1)
        got_range = (got & 3) == 3
        if not got_address:
            q, r = 0, self.end - 1
        else:
            if e < 0 or e > li:
                self.status_line_bold("Invalid range")
                return
            q = r = self.find_line(e)
            if not got_range:
                r = self.end_line(q)
                li = 1
            else:
                if b < 0 or b > li or b > e:
                    self.status_line_bold("Invalid range")
                    return
                q = self.find_line(b)
                r = self.end_line(r)
                li = e - b + 1
        n = len(cmd)

        def abbrev(word: bytes) -> bool:  # strncmp(cmd, word, strlen(cmd)) == 0
            return word[:n] == cmd and (n <= len(word) or False)

        cname = cmd.decode("latin-1")
        if n == 0:
            if e >= 0:
                self.dot = self.find_line(e)
                self.dot_skip_over_ws()
        elif cmd[:1] == b"!":
            exp = self.expand_args(rest[1:] if not useforce else (rest[1:]))
            if exp is None:
                return
            self.go_bottom_and_clear_to_eol()
            yield from self.cookmode()
            status = yield from _system(self.sys, exp)
            if status:
                self.write1(f"\nshell returned {status}\n\n")
            self.rawmode()
            yield from self.hit_return()
        elif cmd == b"=":
            if not got_address:
                e = self.count_lines(0, self.dot)
            self.status_line(f"{e}")
        elif abbrev(b"delete"):
            if not got_address:
                q = self.begin_line(self.dot)
                r = self.end_line(self.dot)
            self.dot = self.yank_delete(q, r, WHOLE, YANKDEL, ALLOW_UNDO)
            self.dot_skip_over_ws()
        elif abbrev(b"edit"):
            if self.modified_count and not useforce:
                self.status_line_bold(f"No write since last change (:{cname}! overrides)")
                return
            if args:
                fn = self.expand_args(args)
                if fn is None:
                    return
            elif self.current_filename is None:
                self.status_line_bold("No current filename")
                return
            size = yield from self.init_text_buffer(fn)
            self.reg[27] = None
            self.reg[self.YDreg] = None
            li = self.count_lines(0, self.end - 1)
            self.status_line(
                f"'{fn}'{' [New file]' if size < 0 else ''}{' [Readonly]' if self.readonly_mode else ''}"
                f" {li}L, {self.end}C"
            )
        elif abbrev(b"file"):
            if e >= 0:
                self.status_line_bold("No address allowed on this command")
                return
            if args:
                exp = self.expand_args(args)
                if exp is None:
                    return
                self.update_filename(exp)
            else:
                self.last_status_cksum = 0
        elif abbrev(b"features"):
            self.go_bottom_and_clear_to_eol()
            yield from self.cookmode()
            self.write1(FEATURES_HELP)
            self.rawmode()
            yield from self.hit_return()
        elif abbrev(b"list"):
            if not got_address:
                q = self.begin_line(self.dot)
                r = self.end_line(self.dot)
            self.go_bottom_and_clear_to_eol()
            self.write1("\r\n")
            while q <= r:
                c = self.at(q)
                no_print = bool(c & 0x80) and not isprint(c)
                if no_print:
                    c = ord(".")
                    self.write1(ESC_BOLD_TEXT)
                if c == 10:
                    self.write1("$\r")
                elif c < 0x20 or c == 127:
                    self.write1("^")
                    c = ord("?") if c == 127 else c + 0x40
                self.write_bytes(bytes([c]))
                if no_print:
                    self.write1(ESC_NORM_TEXT)
                q += 1
            yield from self.hit_return()
        elif abbrev(b"quit") or abbrev(b"next") or abbrev(b"prev"):
            if useforce:
                if cmd[:1] == b"q":
                    self.optind = self.cmdline_filecnt
                self.editing = 0
                return
            if self.modified_count:
                self.status_line_bold(f"No write since last change (:{cname}! overrides)")
                return
            more = self.cmdline_filecnt - self.optind - 1
            if cmd[:1] == b"q" and more > 0:
                self.status_line_bold(f"{more} more file(s) to edit")
                return
            if cmd[:1] == b"n" and more <= 0:
                self.status_line_bold("No more files to edit")
                return
            if cmd[:1] == b"p":
                if self.optind < 1:
                    self.status_line_bold("No previous files to edit")
                    return
                self.optind -= 2
            self.editing = 0
        elif abbrev(b"read"):
            if args:
                fn = self.expand_args(args)
                if fn is None:
                    return
                self.init_filename(fn)
            elif self.current_filename is None:
                self.status_line_bold("No current filename")
                return
            if e == 0:
                q = 0
            else:
                q = self.next_line(self.find_line(e) if got_address else self.dot)
                if q == self.end - 1:
                    q += 1
            num = self.count_lines(0, q)
            if q == self.end:
                num += 1
            size = yield from self.file_insert(fn or "", q, False)
            if size < 0:
                return
            li = self.count_lines(q, q + size - 1)
            self.status_line(f"'{fn}'{' [Readonly]' if self.readonly_mode else ''} {li}L, {size}C")
            self.dot = self.find_line(num)
        elif abbrev(b"rewind"):
            if self.modified_count and not useforce:
                self.status_line_bold(f"No write since last change (:{cname}! overrides)")
            else:
                self.optind = -1
                self.editing = 0
        elif abbrev(b"set"):
            text = args.decode("latin-1")
            if not text or text == "all":
                flags = [
                    ("" if self.setop(bit) else "no") + name
                    for bit, name in (
                        (VI_AUTOINDENT, "autoindent"),
                        (VI_EXPANDTAB, "expandtab"),
                        (VI_ERR_METHOD, "flash"),
                        (VI_IGNORECASE, "ignorecase"),
                        (VI_SHOWMATCH, "showmatch"),
                    )
                ]
                self.status_line_bold(" ".join(flags) + f" tabstop={self.tabstop}")
                return
            for word in text.split(" "):
                if word:
                    self.setops(word, 2 if word.startswith("no") else 0)
        elif cmd[:1] == b"s":
            yield from self._substitute(rest, got_address, got_range, q, r, b, e)
        elif abbrev(b"version"):
            self.status_line(BB_VER)
        elif abbrev(b"write") or cmd in (b"wq", b"wn") or cmd == b"x":
            if args:
                exp = self.expand_args(args)
                if exp is None:
                    return
                if not useforce and (fn is None or fn != exp) and _exists(self.sys, exp):
                    self.status_line_bold("File exists (:w! overrides)")
                    return
                fn = exp
                self.init_filename(fn)
            elif self.readonly_mode and not useforce and fn:
                self.status_line_bold(f"'{fn}' is read only")
                return
            if self.modified_count != 0 or cmd[:1] != b"x":
                size = r - q + 1
                written = yield from self.file_write(fn, q, r)
            else:
                size = written = 0
            if written < 0:
                if written == -1:
                    self.status_line_bold_errno(fn or "", self.write_error)
            else:
                li = self.count_lines(q, q + written - 1)
                self.status_line(f"'{fn}' {li}L, {written}C")
                if written == size:
                    if q == 0 and q + written == self.end:
                        self.modified_count = 0
                        self.last_modified_count = -1
                    if cmd[1:2] == b"n":
                        self.editing = 0
                    elif cmd[:1] == b"x" or cmd[1:2] == b"q":
                        more = self.cmdline_filecnt - self.optind - 1
                        if more > 0:
                            if useforce:
                                self.optind = self.cmdline_filecnt
                            else:
                                self.status_line_bold(f"{more} more file(s) to edit")
                                return
                        self.editing = 0
        elif abbrev(b"yank"):
            if not got_address:
                q = self.begin_line(self.dot)
                r = self.end_line(self.dot)
            self.text_yank(q, r, self.YDreg, WHOLE)
            li = self.count_lines(q, r)
            self.status_line(
                f"Yank {li} lines ({len(self.reg[self.YDreg] or b'')} chars) into [{self.what_reg()}]"
            )
        else:
            self.not_implemented(cmd)

    def _substitute(
        self, rest: bytes, got_address: bool, got_range: bool, q: int, r: int, b: int, e: int
    ) -> Gen:
        delim = rest[1:2]
        body = rest[2:]
        mid = _strchr_backslash(body, delim)
        if not delim or mid < 0:
            self.status_line(":s expression missing delimiters")
            return
        find = body[:mid]
        after = body[mid + 1 :]
        fl = _strchr_backslash(after, delim)
        gflag = 0
        if fl >= 0:
            repl = after[:fl]
            gflag = after[fl + 1] if fl + 1 < len(after) else 0
        else:
            repl = after
        if find:
            self.last_search_pattern = "/" + find.decode("latin-1")
        elif len(self.last_search_pattern) <= 1:
            self.status_line_bold("No previous search")
            return
        else:
            find = self.last_search_pattern[1:].encode("latin-1")
        if not got_address:
            q = self.begin_line(self.dot)
            b = e = self.count_lines(0, q)
        elif not got_range:
            b = e
        try:
            preg = compile_posix(find.decode("latin-1"), False, self.setop(VI_IGNORECASE))
        except RegexError:
            self.status_line(":s bad search pattern")
            return
        subs = 0
        undo = 0
        last_line = lines = 0
        for i in range(b, e + 1):
            ls = q
            while True:
                found, len_f, rep = self.regex_search(q, preg, repl)
                if found is None:
                    break
                if len_f:
                    self.text_hole_delete(found, found + len_f - 1, ALLOW_UNDO_CHAIN if undo else ALLOW_UNDO)
                    undo += 1
                if rep:
                    self.string_insert(found, rep, ALLOW_UNDO_CHAIN if undo else ALLOW_UNDO)
                    undo += 1
                if len_f or rep:
                    self.dot = ls
                    subs += 1
                    if last_line != i:
                        last_line = i
                        lines += 1
                if gflag == ord("g") and (len_f or rep) and found + len(rep) < self.end_line(ls):
                    q = found + len(rep)
                    continue
                break
            q = self.next_line(ls)
        if subs == 0:
            self.status_line_bold("No match")
        else:
            self.dot_skip_over_ws()
            if subs > 1:
                self.status_line(f"{subs} substitutions on {lines} lines")
        yield from ()

    # -- vi commands ---------------------------------------------------------------------
    def find_range(self, cmd: int) -> Gen:
        """(buftype, start, stop); buftype -1 for a bad range."""
        p = q = self.dot
        if cmd == ord("Y"):
            c = ord("y")
        else:
            c = yield from self.get_motion_char()
        cb = bytes([c]) if 0 < c < 256 else b"\xff"
        buftype = -1
        if (cmd == ord("Y") or cmd == c) and cb in b"cdy><":
            buftype = WHOLE
            self.cmdcnt -= 1
            if self.cmdcnt > 0:
                yield from self.do_cmd(ord("j"))
                if self.cmd_error:
                    buftype = -1
        elif cb in b"^%$0bBeEfFtThnN/?|{}\b\x7f":
            buftype = MULTI if cb in b"nN/?" else PARTIAL
            yield from self.do_cmd(c)
            if p == self.dot:
                buftype = -1
        elif cb in b"wW":
            buftype = MULTI
            yield from self.do_cmd(c)
            if self.dot > p and (not self.at_eof(self.dot) or (c == ord("w") and ispunct(self.at(self.dot)))):
                self.dot -= 1
            t = self.dot
            while self.dot > p and isspace(self.at(self.dot)):
                was_nl = self.at(self.dot) == 10
                self.dot -= 1
                if was_nl:
                    t = self.dot
            if cmd != ord("c") and self.dot != t and self.at(self.dot) != 10:
                self.dot = t
        elif cb in b"GHL+-gjk'\r\n":
            buftype = WHOLE
            yield from self.do_cmd(c)
            if self.cmd_error:
                buftype = -1
        elif c in (ord(" "), ord("l")):
            tmpcnt = self.cmdcnt or 1
            buftype = PARTIAL
            yield from self.do_cmd(c)
            if tmpcnt == self.dot - p:
                self.dot -= 1
        if buftype == -1:
            if c != 27:
                yield from self.indicate_error()
            return -1, p, q
        q = self.dot
        if q < p:
            p, q = q, p
        if q > p:
            if cb in b"^0bBFThnN/?|\b\x7f":
                q -= 1
            elif cb in b"{}":
                buftype = WHOLE if p == self.begin_line(p) and (self.at(q) == 10 or self.at_eof(q)) else MULTI
                if not self.at_eof(q):
                    q -= 1
                    if q > p and p != self.begin_line(p):
                        q -= 1
        return buftype, p, q

    def at_eof(self, s: int) -> bool:
        return (s == self.end - 2 and self.at(s + 1) == 10) or s == self.end - 1

    def st_test(self, p: int, kind: int, d: int) -> tuple[bool, int]:
        c0 = self.at(p)
        ci = self.at(p + d)
        if kind == S_BEFORE_WS:
            return (not isspace(ci) or ci == 10), ci
        if kind == S_TO_WS:
            return (not isspace(c0) or c0 == 10), c0
        if kind == S_OVER_WS:
            return isspace(c0), c0
        if kind == S_END_PUNCT:
            return ispunct(ci), ci
        return (isalnum(ci) or ci == 0x5F), ci

    def skip_thing(self, p: int, linecnt: int, d: int, kind: int) -> int:
        while True:
            ok, c = self.st_test(p, kind, d)
            if not ok:
                break
            if c == 10:
                linecnt -= 1
                if linecnt < 1:
                    break
            if d >= 0 and p >= self.end - 1:
                break
            if d < 0 and p <= 0:
                break
            p += d
        return p

    def _count_down(self) -> bool:
        """``while (--cmdcnt > 0)``."""
        self.cmdcnt -= 1
        return self.cmdcnt > 0

    def do_cmd(self, c: int) -> Gen:  # noqa: C901 -- one switch, as in vi.c
        orig_dot = self.dot
        allow_undo = ALLOW_UNDO
        undo_del = UNDO_DEL
        self.keep_index = False
        self.cmd_error = False
        yield from self.show_status_line()
        cursor_keys = (
            KEYCODE_UP,
            KEYCODE_DOWN,
            KEYCODE_LEFT,
            KEYCODE_RIGHT,
            KEYCODE_HOME,
            KEYCODE_END,
            KEYCODE_PAGEUP,
            KEYCODE_PAGEDOWN,
            KEYCODE_DELETE,
        )
        if c not in cursor_keys:
            if self.cmd_mode == 2:
                if c == KEYCODE_INSERT:
                    self.cmd_mode = 1
                    self.undo_queue_commit()
                    return (yield from self.dc1(c, orig_dot))
                if self.at(self.dot) == 10:
                    self.cmd_mode = 1
                    self.undo_queue_commit()
                else:
                    if 1 <= c or isprint(c):
                        if c != 27:
                            self.dot = self.yank_delete(self.dot, self.dot, PARTIAL, YANKDEL, ALLOW_UNDO)
                        self.dot = yield from self.char_insert(self.dot, c, ALLOW_UNDO_CHAIN)
                    return (yield from self.dc1(c, orig_dot))
            if self.cmd_mode == 1:
                if c == KEYCODE_INSERT:
                    self.cmd_mode = 2
                    self.undo_queue_commit()
                    return (yield from self.dc1(c, orig_dot))
                if 1 <= c or isprint(c):
                    self.dot = yield from self.char_insert(self.dot, c, ALLOW_UNDO_QUEUED)
                return (yield from self.dc1(c, orig_dot))
        try:
            yield from self._key_cmd(c, allow_undo, undo_del)
        except _Goto as g:
            if g.label == "dc_i":
                self.cmd_mode = 1
                self.undo_queue_commit()
            elif g.label == "dc6":
                self.end_cmd_q()
        except _SameDot:
            orig_dot = self.dot
        return (yield from self.dc1(c, orig_dot))

    def dc1(self, c: int, orig_dot: int) -> Gen:
        if self.end == 0:
            yield from self.char_insert(0, 10, NO_UNDO)
            self.dot = 0
        if self.dot != self.end:
            self.dot = yield from self.bound_dot(self.dot)
        if self.dot != orig_dot:
            self.check_context(c)
        if not _isdigit_key(c):
            self.cmdcnt = 0
        cnt = self.dot - self.begin_line(self.dot)
        if self.at(self.dot) == 10 and cnt > 0 and self.cmd_mode == 0:
            self.dot -= 1

    def _key_cmd(self, c: int, allow_undo: int, undo_del: int) -> Gen:  # noqa: C901
        ch = chr(c) if 0 <= c < 256 else ""
        rows = self.rows
        if c == 0:
            return
        if c == 2 or c == KEYCODE_PAGEUP:
            self.dot_scroll(rows - 2, -1)
        elif c == 4:
            self.dot_scroll((rows - 2) // 2, 1)
        elif c == 5:
            self.dot_scroll(1, 1)
        elif c == 6 or c == KEYCODE_PAGEDOWN:
            self.dot_scroll(rows - 2, 1)
        elif c == 7:
            self.last_status_cksum = 0
        elif ch == "h" or c in (KEYCODE_LEFT, 8, 0x7F):
            while True:
                self.dot_left()
                if not self._count_down():
                    break
        elif c in (10, 13) or ch in ("j", "+") or c == KEYCODE_DOWN:
            q = self.dot
            while True:
                p = self.next_line(q)
                if p == self.end_line(q):
                    yield from self.indicate_error()
                    return
                q = p
                if not self._count_down():
                    break
            self.dot = q
            if c == 13 or ch == "+":
                self.dot_skip_over_ws()
            else:
                self.dot = (
                    self.end_line(self.dot)
                    if self.cindex == C_END
                    else self.move_to_col(self.dot, self.cindex)
                )
                self.keep_index = True
        elif c in (12, 18):
            yield from self.redraw(True)
        elif c == 21:
            self.dot_scroll((rows - 2) // 2, -1)
        elif c == 25:
            self.dot_scroll(1, -1)
        elif c == 27:
            if self.cmd_mode == 0:
                yield from self.indicate_error()
            self.cmd_mode = 0
            self.undo_queue_commit()
            self.end_cmd_q()
            self.last_status_cksum = 0
        elif ch in (" ", "l") or c == KEYCODE_RIGHT:
            while True:
                self.dot_right()
                if not self._count_down():
                    break
        elif ch == '"':
            c1 = ((yield from self.get_one_char()) | 0x20) - ord("a")
            if 0 <= c1 <= 25:
                self.YDreg = c1
            else:
                yield from self.indicate_error()
        elif ch == "'":
            c1 = (yield from self.get_one_char()) | 0x20
            if 0 <= c1 - ord("a") <= 25:
                q = self.mark[c1 - ord("a")]
                if q is not None and 0 <= q < self.end:
                    self.dot = q
                    self.dot_begin()
                    self.dot_skip_over_ws()
                else:
                    yield from self.indicate_error()
            elif c1 == ord("'"):
                self.dot = self.swap_context(self.dot)
                self.dot_begin()
                self.dot_skip_over_ws()
                raise _SameDot()
            else:
                yield from self.indicate_error()
        elif ch == "m":
            c1 = ((yield from self.get_one_char()) | 0x20) - ord("a")
            if 0 <= c1 <= 25:
                self.mark[c1] = self.dot
            else:
                yield from self.indicate_error()
        elif ch in ("P", "p"):
            register = self.reg[self.YDreg]
            if register is None:
                self.status_line_bold(f"Nothing in register {self.what_reg()}")
                return
            cnt = 0
            i = self.cmdcnt or 1
            if self.regtype[self.YDreg] == WHOLE:
                if ch == "P":
                    self.dot_begin()
                elif self.end_line(self.dot) == self.end - 1:
                    self.dot = self.end
                else:
                    self.dot_next()
            else:
                if ch == "p":
                    self.dot_right()
                if b"\n" not in register:
                    cnt = i * len(register) - 1
            while True:
                self.string_insert(self.dot, register, allow_undo)
                allow_undo = ALLOW_UNDO_CHAIN
                if not self._count_down():
                    break
            self.dot += cnt
            self.dot_skip_over_ws()
            self.yank_status("Put", register, i)
            self.end_cmd_q()
        elif ch == "U":
            orig = self.reg[27]
            if orig is not None:
                p = self.begin_line(self.dot)
                q = self.end_line(self.dot)
                p = self.text_hole_delete(p, q, ALLOW_UNDO)
                self.string_insert(p, orig, ALLOW_UNDO_CHAIN)
                self.dot = p
                self.dot_skip_over_ws()
                self.yank_status("Undo", orig, 1)
        elif ch == "u":
            self.undo_pop()
        elif ch == "$" or c == KEYCODE_END:
            while True:
                self.dot = self.end_line(self.dot)
                self.cmdcnt -= 1
                if self.cmdcnt <= 0:
                    break
                self.dot_next()
            self.cindex = C_END
            self.keep_index = True
        elif ch == "%":
            q = self.dot
            while q < self.end and self.at(q) != 10:
                if self.at(q) in b"()[]{}":
                    pair = self.find_pair(q, self.at(q))
                    if pair is None:
                        yield from self.indicate_error()
                    else:
                        self.dot = pair
                    break
                q += 1
            if self.at(q) == 10:
                yield from self.indicate_error()
        elif ch in ("f", "F", "t", "T", ";", ","):
            if ch in "fFtT":
                self.last_search_char = (yield from self.get_one_char()) & 0xFF
                self.last_search_cmd = c
            yield from self.dot_to_char(self.last_search_cmd if ch != "," else self.last_search_cmd ^ 0x20)
        elif ch == ".":
            if self.lmc:
                if self.cmdcnt:
                    self.dotcnt = self.cmdcnt
                self.ioq = b"%d" % self.dotcnt + bytes(self.lmc)
                self.ioq_pos = 0
        elif ch in ("N", "?", "/", "n"):
            yield from self._search_cmd(ch)
        elif ch in ("{", "}"):
            d = FORWARD if ch == "}" else BACK
            while True:
                skip = True
                found = False
                while (self.dot < self.end - 1) if d == FORWARD else (self.dot > 0):
                    if self.at(self.dot) == 10 and self.at(self.dot + d) == 10:
                        if not skip:
                            if d == FORWARD:
                                self.dot += 1
                            found = True
                            break
                    else:
                        skip = False
                    self.dot += d
                if not found:
                    raise _Goto("dc6")
                if not self._count_down():
                    break
        elif "0" <= ch <= "9" and ch:
            if ch == "0" and self.cmdcnt < 1:
                self.dot_begin()
            else:
                self.cmdcnt = self.cmdcnt * 10 + (c - 0x30)
        elif ch == ":":
            line = yield from self.get_input_line(":")
            yield from self.colon(line)
        elif ch in ("<", ">"):
            cnt = self.count_lines(0, self.dot)
            buftype, p, q = yield from self.find_range(c)
            if buftype == -1:
                raise _Goto("dc6")
            i = self.count_lines(p, q)
            p = self.begin_line(p)
            while i > 0:
                if ch == "<":
                    if self.at(p) == 9:
                        self.text_hole_delete(p, p, allow_undo)
                    elif self.at(p) == 0x20:
                        j = 0
                        while self.at(p) == 0x20 and j < self.tabstop:
                            self.text_hole_delete(p, p, allow_undo)
                            allow_undo = ALLOW_UNDO_CHAIN
                            j += 1
                elif p != self.end_line(p):
                    yield from self.char_insert(p, 9, allow_undo)
                allow_undo = ALLOW_UNDO_CHAIN
                i -= 1
                p = self.next_line(p)
            self.dot = self.find_line(cnt)
            self.dot_skip_over_ws()
            self.end_cmd_q()
        elif ch in ("A", "a"):
            if ch == "A":
                self.dot_end()
            if self.at(self.dot) != 10:
                self.dot += 1
            raise _Goto("dc_i")
        elif ch in ("B", "E", "W"):
            d = BACK if ch == "B" else FORWARD
            while True:
                if ch == "W" or isspace(self.at(self.dot + d)):
                    self.dot = self.skip_thing(self.dot, 1, d, S_TO_WS)
                    self.dot = self.skip_thing(self.dot, 2, d, S_OVER_WS)
                if ch != "W":
                    self.dot = self.skip_thing(self.dot, 1, d, S_BEFORE_WS)
                if not self._count_down():
                    break
        elif ch in ("C", "D"):
            save_dot = self.dot
            self.dot = self.dollar_line(self.dot)
            self.dot = self.yank_delete(save_dot, self.dot, PARTIAL, YANKDEL, ALLOW_UNDO)
            if ch == "C":
                raise _Goto("dc_i")
            self.end_cmd_q()
        elif ch in ("g", "G"):
            if ch == "g":
                c1 = yield from self.get_one_char()
                if c1 != ord("g"):
                    self.not_implemented(b"g" + bytes([c1 & 0xFF if c1 >= 0 else ord("*")]))
                    self.cmd_error = True
                    return
                if self.cmdcnt == 0:
                    self.cmdcnt = 1
            self.dot = self.end - 1
            if self.cmdcnt > 0:
                self.dot = self.find_line(self.cmdcnt)
            self.dot_begin()
            self.dot_skip_over_ws()
        elif ch == "H":
            self.dot = self.screenbegin
            if self.cmdcnt > rows - 1:
                self.cmdcnt = rows - 1
            while True:
                self.cmdcnt -= 1
                if self.cmdcnt <= 0:
                    break
                self.dot_next()
            self.dot_begin()
            self.dot_skip_over_ws()
        elif ch in ("I", "i") or c == KEYCODE_INSERT:
            if ch == "I":
                self.dot_begin()
                self.dot_skip_over_ws()
            raise _Goto("dc_i")
        elif ch == "J":
            while True:
                self.dot_end()
                if self.dot < self.end - 1:
                    self.undo_push(self.dot, 1, UNDO_DEL)
                    self.buf[self.dot] = 0x20
                    self.dot += 1
                    self.undo_push(self.dot - 1, 1, UNDO_INS_CHAIN)
                    while isblank(self.at(self.dot)):
                        self.text_hole_delete(self.dot, self.dot, ALLOW_UNDO_CHAIN)
                if not self._count_down():
                    break
            self.end_cmd_q()
        elif ch == "L":
            self.dot = self.end_screen()
            if self.cmdcnt > rows - 1:
                self.cmdcnt = rows - 1
            while True:
                self.cmdcnt -= 1
                if self.cmdcnt <= 0:
                    break
                self.dot_prev()
            self.dot_begin()
            self.dot_skip_over_ws()
        elif ch == "M":
            self.dot = self.screenbegin
            for _ in range((rows - 1) // 2):
                self.dot = self.next_line(self.dot)
            self.dot_skip_over_ws()
        elif ch in ("O", "o"):
            if ch == "O":
                self.dot_begin()
                self.indentcol = -1
            else:
                self.dot_end()
            self.dot = yield from self.char_insert(self.dot, 10, ALLOW_UNDO)
            if ch == "O" and not self.setop(VI_AUTOINDENT):
                self.dot_prev()
            raise _Goto("dc_i")
        elif ch == "R":
            self.cmd_mode = 2
            self.undo_queue_commit()
        elif c == KEYCODE_DELETE:
            if self.dot < self.end - 1:
                self.dot = self.yank_delete(self.dot, self.dot, PARTIAL, YANKDEL, ALLOW_UNDO)
        elif ch in ("X", "x", "s"):
            d = -1 if ch == "X" else 0
            while True:
                if self.at(self.dot + d) != 10:
                    if ch == "X":
                        self.dot -= 1
                    self.dot = self.yank_delete(self.dot, self.dot, PARTIAL, YANKDEL, allow_undo)
                    allow_undo = ALLOW_UNDO_CHAIN
                if not self._count_down():
                    break
            self.end_cmd_q()
            if ch == "s":
                raise _Goto("dc_i")
        elif ch == "Z":
            c1 = yield from self.get_one_char()
            if c1 != ord("Z"):
                yield from self.indicate_error()
                return
            if self.modified_count:
                if self.readonly_mode and self.current_filename:
                    self.status_line_bold(f"'{self.current_filename}' is read only")
                    return
                cnt = yield from self.file_write(self.current_filename, 0, self.end - 1)
                if cnt < 0:
                    if cnt == -1:
                        self.status_line_bold(f"Write error: {strerror(self.write_error)}")
                elif cnt == self.end:
                    self.editing = 0
            else:
                self.editing = 0
            j = self.cmdline_filecnt - self.optind - 1
            if self.editing == 0 and j > 0:
                self.editing = 1
                self.modified_count = 0
                self.last_modified_count = -1
                self.status_line_bold(f"{j} more file(s) to edit")
        elif ch == "^":
            self.dot_begin()
            self.dot_skip_over_ws()
        elif ch in ("b", "e"):
            d = BACK if ch == "b" else FORWARD
            while True:
                if self.dot + d < 0 or self.dot + d > self.end - 1:
                    break
                self.dot += d
                if isspace(self.at(self.dot)):
                    self.dot = self.skip_thing(self.dot, 2 if ch == "e" else 1, d, S_OVER_WS)
                if isalnum(self.at(self.dot)) or self.at(self.dot) == 0x5F:
                    self.dot = self.skip_thing(self.dot, 1, d, S_END_ALNUM)
                elif ispunct(self.at(self.dot)):
                    self.dot = self.skip_thing(self.dot, 1, d, S_END_PUNCT)
                if not self._count_down():
                    break
        elif ch in ("c", "d", "y", "Y"):
            yf = YANKONLY if ch in ("y", "Y") else YANKDEL
            savereg = self.reg[self.YDreg]
            buftype, p, q = yield from self.find_range(c)
            if buftype == -1:
                raise _Goto("dc6")
            save_dot = p
            if buftype == WHOLE:
                p = self.begin_line(p)
                q = self.end_line(q)
            self.dot = self.yank_delete(p, q, buftype, yf, ALLOW_UNDO)
            if buftype == WHOLE:
                if ch == "c":
                    self.dot = yield from self.char_insert(self.dot, 10, ALLOW_UNDO_CHAIN)
                    if self.dot != self.end - 1:
                        self.dot_prev()
                elif ch == "d":
                    self.dot_begin()
                    self.dot_skip_over_ws()
                else:
                    self.dot = save_dot
            if ch == "c":
                raise _Goto("dc_i")
            if self.reg[self.YDreg] is not savereg:
                self.yank_status("Delete" if ch == "d" else "Yank", self.reg[self.YDreg] or b"", 1)
            raise _Goto("dc6")
        elif ch in ("k", "-") or c == KEYCODE_UP:
            q = self.dot
            while True:
                p = self.prev_line(q)
                if p == self.begin_line(q):
                    yield from self.indicate_error()
                    return
                q = p
                if not self._count_down():
                    break
            self.dot = q
            if ch == "-":
                self.dot_skip_over_ws()
            else:
                self.dot = (
                    self.end_line(self.dot)
                    if self.cindex == C_END
                    else self.move_to_col(self.dot, self.cindex)
                )
                self.keep_index = True
        elif ch == "r":
            c1 = yield from self.get_one_char()
            if c1 != 27:
                if self.end_line(self.dot) - self.dot < (self.cmdcnt or 1):
                    yield from self.indicate_error()
                    raise _Goto("dc6")
                while True:
                    self.dot = self.text_hole_delete(self.dot, self.dot, allow_undo)
                    allow_undo = ALLOW_UNDO_CHAIN
                    self.dot = yield from self.char_insert(self.dot, c1, allow_undo)
                    if not self._count_down():
                        break
                self.dot_left()
            self.end_cmd_q()
        elif ch == "w":
            while True:
                if isalnum(self.at(self.dot)) or self.at(self.dot) == 0x5F:
                    self.dot = self.skip_thing(self.dot, 1, FORWARD, S_END_ALNUM)
                elif ispunct(self.at(self.dot)):
                    self.dot = self.skip_thing(self.dot, 1, FORWARD, S_END_PUNCT)
                if self.dot < self.end - 1:
                    self.dot += 1
                if isspace(self.at(self.dot)):
                    self.dot = self.skip_thing(self.dot, 2, FORWARD, S_OVER_WS)
                if not self._count_down():
                    break
        elif ch == "z":
            c1 = yield from self.get_one_char()
            cnt = 0
            if c1 == ord("."):
                cnt = (rows - 2) // 2
            if c1 == ord("-"):
                cnt = rows - 2
            self.screenbegin = self.begin_line(self.dot)
            self.dot_scroll(cnt, -1)
        elif ch == "|":
            self.dot = self.move_to_col(self.dot, self.cmdcnt - 1)
        elif ch == "~":
            while True:
                v = self.at(self.dot)
                if isalpha(v):
                    self.undo_push(self.dot, 1, undo_del)
                    self.buf[self.dot] = v ^ 0x20
                    self.undo_push(self.dot, 1, UNDO_INS_CHAIN)
                    undo_del = UNDO_DEL_CHAIN
                self.dot_right()
                if not self._count_down():
                    break
            self.end_cmd_q()
        elif c == KEYCODE_HOME:
            self.dot_begin()
        else:
            self.not_implemented(_cstr(bytes([c & 0xFF])))
            self.end_cmd_q()

    def _search_cmd(self, ch: str) -> Gen:
        if ch == "N":
            d = BACK if self.last_search_pattern[:1] == "/" else FORWARD
        else:
            if ch in "/?":
                q = yield from self.get_input_line(ch)
                if not q:
                    return
                if len(q) == 1:
                    if self.last_search_pattern:
                        self.last_search_pattern = ch + self.last_search_pattern[1:]
                else:
                    self.last_search_pattern = q.decode("latin-1")
            d = FORWARD if self.last_search_pattern[:1] == "/" else BACK
        if len(self.last_search_pattern) <= 1:
            self.status_line_bold("No previous search")
            return
        pat = self.last_search_pattern[1:]
        while True:
            q = self.char_search(self.dot + d, pat, (d << 1) | FULL)
            if q is not None:
                self.dot = q
            else:
                q = self.char_search(0 if d == FORWARD else self.end - 1, pat, (d << 1) | FULL)
                if q is not None:
                    self.dot = q
                    msg = "search hit %s, continuing at %s"
                else:
                    self.cmdcnt = 0
                    msg = "Pattern not found"
                if "%s" in msg:
                    msg = msg % (("BOTTOM", "TOP") if d == FORWARD else ("TOP", "BOTTOM"))
                self.status_line_bold(msg)
            if not self._count_down():
                break

    # -- the editor ----------------------------------------------------------------------
    def edit_file(self, fn: str | None) -> Gen:
        self.editing = 1
        self.rawmode()
        self.rows, self.columns = 24, 80
        self.get_rowcol_error = self.query_screen_dimensions()
        if self.get_rowcol_error:
            self.write1(ESC + "[999;999H" + ESC + "[6n")
            yield from self.fflush()
            k = yield from self.read_key(100)
            if isinstance(k, tuple):
                rc = k[1]
                self.rows, self.columns = min(rc[0], MAX_SCR), min(rc[1], MAX_SCR)
        self.new_screen(self.rows, self.columns)
        yield from self.init_text_buffer(fn)
        self.YDreg = 26
        self.mark[26] = self.mark[27] = 0
        self.crow = self.ccol = 0
        self.cmd_mode = 0
        self.cmdcnt = 0
        self.offset = 0
        self.ioq = None
        self.adding2q = False
        while self.initial_cmds:
            yield from self.run_cmds(self.initial_cmds.pop(0))
        yield from self.redraw(False)
        while self.editing > 0:
            c = yield from self.get_one_char()
            if self.begin_line(self.dot) != self.cur_line:
                self.cur_line = self.begin_line(self.dot)
                self.text_yank(self.begin_line(self.dot), self.end_line(self.dot), 27, PARTIAL)
            if (
                not self.adding2q
                and self.ioq is None
                and self.cmd_mode == 0
                and 0 < c < 0x7F
                and bytes([c]) in MODIFYING_CMDS
            ):
                self.start_new_cmd_q(c)
            yield from self.do_cmd(c)
            if not self.readbuffer and not self.sys.poll_in(0):
                self.refresh(False)
                yield from self.show_status_line()
        self.go_bottom_and_clear_to_eol()
        yield from self.cookmode()

    def run_cmds(self, cmds: str) -> Gen:
        for line in cmds.encode("latin-1").split(b"\n"):
            if line and len(line) < MAX_INPUT_LEN:
                yield from self.colon(line)


class _Goto(Exception):
    """A jump to one of do_cmd's labels (dc_i: start inserting; dc6: stop
    adding to the dot-command queue)."""

    def __init__(self, label: str):
        self.label = label


class _SameDot(Exception):
    """The '' command: do_cmd's end with orig_dot = dot (no context update)."""


class _ColonReturn(Exception):
    pass


class _Exit(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _put(dest: bytearray, i: int, c: int) -> None:
    if i < len(dest):
        dest[i] = c
    else:
        dest.extend(b" " * (i - len(dest)))
        dest.append(c)


def _isdigit_key(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _atoi(s: str) -> int:
    s = s.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("-", "+"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def _strtou(s: str) -> int | None:
    return int(s) if s.isdigit() and s.isascii() else None


def _strchr_backslash(s: bytes, c: bytes) -> int:
    i = 0
    while i < len(s):
        if s[i : i + 1] == c:
            return i
        if s[i] == ord("\\"):
            i += 1
            if i >= len(s):
                break
        i += 1
    return -1


def _cursor_pos(b: bytes) -> tuple[int, int] | None:
    """read_key's "ESC [ row ; col R" answer, once the bytes after ESC make one."""
    m = regex.fullmatch(rb"\[(\d+);(\d+)R", b)
    if m is None:
        return None
    row, col = int(m.group(1)), int(m.group(2))
    if row < 1 or col < 1 or (row | col) > 0x7FFF:
        return None
    return row, col


def _print_literal(s: bytes) -> str:
    if not s:
        s = b"(NULL)"
    out = []
    for c in s:
        if c & 0x80 and not isprint(c):
            c = ord("?")
        if c < 0x20 or c == 0x7F:
            out.append("^")
            c = ord("?") if c == 0x7F else c | 0x40
        out.append(chr(c))
    return "".join(out)


_SEARCH_CACHE: dict[tuple[str, bool, bool, bool], Any] = {}


def _search_regex(pattern: str, not_bol: bool, not_eol: bool, icase: bool):
    """vi's re_compile_pattern: POSIX basic syntax, '.' not matching a
    newline, ``^``/``$`` also at line breaks (newline_anchor), REG_NOTBOL
    at the search's start when it is not the text's."""
    key = (pattern, not_bol, not_eol, icase)
    compiled = _SEARCH_CACHE.get(key)
    if compiled is None:
        parser = _Parser(pattern, False)
        parser.bol = "(?<=\\n)" if not_bol else "(?:(?<=\\n)|\\A)"
        translated = parser.parse()
        eol = r"(?=\n)" if not_eol else r"(?=\n|\Z)"
        translated = regex.sub(r"(?<!\\)((?:\\\\)*)\\Z", lambda m: m.group(1) + eol, translated)
        flags = (_FLAGS & ~regex.DOTALL) | (regex.IGNORECASE if icase else 0)
        try:
            compiled = regex.compile(translated, flags)
        except regex.error as e:
            raise RegexError(f"Invalid regular expression ({e})") from None
        _SEARCH_CACHE[key] = compiled
    return compiled


def _exists(sys: Sys, path: str) -> bool:
    try:
        sys.stat(path)
    except OSError:
        return False
    return True


def _system(sys: Sys, command: str) -> Gen:
    """system(3): ``sh -c command``, waited for; its raw wait status."""

    def child(csys: Sys) -> Gen:
        try:
            return (yield from csys.execve("/bin/sh", ["sh", "-c", command], dict(csys.env)))
        except OSError:
            return 127

    try:
        pid = sys.fork(child)
    except OSError:
        return -1
    result = yield from sys.waitpid(pid)
    if result is None:
        return 0
    return result.status  # system(3) hands back the raw wait status


@applet("vi")
def vi_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "vi", "c:HhR")
    if opts is None:
        return 1
    operands = opts.operands
    ed = Vi(sys)
    ed.initial_cmds = list(opts.values.get("c", []))
    if "R" in opts:
        ed.readonly_mode |= 2
    if "H" in opts:
        yield from write_all(sys, 1, FEATURES_HELP)
    if "H" in opts or "h" in opts:
        yield from show_usage(sys, "vi")
        return 1
    ed.cmdline_filecnt = len(operands)
    exinit = sys.env.get("EXINIT")
    cmds = None
    if exinit is not None:
        cmds = exinit
    else:
        home = sys.env.get("HOME")
        if home:
            exrc = home.rstrip("/") + "/.exrc"
            try:
                st = sys.stat(exrc)
            except OSError:
                st = None
            if st is not None:
                if (st.mode & 0o022) == 0 and st.uid == sys.getuid():
                    cmds = yield from read_text(sys, exrc)
                else:
                    ed.status_line_bold(".exrc: permission denied")
    try:
        if cmds:
            yield from ed.init_text_buffer(None)
            yield from ed.run_cmds(cmds)
        ed.write1(ESC + "[?1049h")
        ed.optind = 0
        while True:
            fn = operands[ed.optind] if 0 <= ed.optind < len(operands) else None
            yield from ed.edit_file(fn)
            ed.optind += 1
            if ed.optind >= ed.cmdline_filecnt:
                break
        ed.write1(ESC + "[?1049l")
        yield from ed.fflush()
    except _Exit as e:
        yield from ed.fflush()
        yield from err(sys, f"vi: {e.message}\n")
        return e.status
    return 0
