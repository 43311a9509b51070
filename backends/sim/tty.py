"""A pseudo-terminal and its line discipline, as Linux's ``n_tty`` does them.

``docker run -t`` gives the command a terminal: a pair of ends with the
kernel's *line discipline* between them.  What the engine writes on the
**master** end is what a user types; the discipline turns it into what a
program reading the **slave** end (its stdin) sees, and echoes it back:

* **canonical mode** (``ICANON``, the default): input is edited a line at a
  time -- ``read`` returns only complete lines; erase (DEL) removes a
  character and echoes ``\\b \\b``, kill (^U) the whole line, word-erase
  (^W) a word; ^D at the start of a line is end-of-file (``read`` returns 0
  bytes), elsewhere it hands over the line without a newline;
* **echo** (``ECHO``): typed characters come back out, control characters
  as ``^X`` (``ECHOCTL``), Enter as ``\\r\\n``;
* **signals** (``ISIG``): ^C sends SIGINT, ^\\ SIGQUIT, ^Z SIGTSTP to the
  terminal's foreground job (here: every process whose controlling terminal
  it is) and throws away the pending input;
* **input and output translation**: Enter (``\\r``) arrives as ``\\n``
  (``ICRNL``); a program's ``\\n`` goes out as ``\\r\\n`` (``OPOST|ONLCR``);
* **window size** (``TIOCSWINSZ``): a resize sends SIGWINCH.

What comes out of the master -- echo and the program's output -- goes to
the container's stdout log (the shim does that on the real kernel).  The
flags and special characters are Linux's defaults for a new pty; raw mode
(``ICANON`` and ``ECHO`` off) passes bytes through untouched.
"""

from __future__ import annotations

import errno
import signal
from typing import TYPE_CHECKING

from .files import OpenFile
from .flow import oserror

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel

# <asm-generic/termbits.h>
ICRNL, IXON = 0o400, 0o2000
OPOST, ONLCR = 0o1, 0o4
ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHONL = 0o1, 0o2, 0o10, 0o20, 0o40, 0o100
ECHOCTL, ECHOKE, IEXTEN = 0o1000, 0o4000, 0o100000
VINTR, VQUIT, VERASE, VKILL, VEOF, VWERASE, VSUSP = 0, 1, 2, 3, 4, 14, 10
VREPRINT, VLNEXT = 12, 15

DEFAULT_IFLAG = ICRNL | IXON
DEFAULT_OFLAG = OPOST | ONLCR
DEFAULT_LFLAG = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
DEFAULT_CC = {VINTR: 0x03, VQUIT: 0x1C, VERASE: 0x7F, VKILL: 0x15, VEOF: 0x04, VWERASE: 0x17, VSUSP: 0x1A}
DEFAULT_CC.update({VREPRINT: 0x12, VLNEXT: 0x16})


class Pty:
    """One pseudo-terminal: the line discipline and both of its ends.

    ``sink`` receives what the master end shows (an open file of the host:
    the stdout log).  ``waiters`` and ``wake_readers`` make a blocked
    ``read`` on the slave look like one on a pipe to the scheduler."""

    def __init__(self, k: SimKernel, sink: OpenFile, index: int = 0):
        self.k = k
        self.sink = sink
        self.index = index
        self.iflag, self.oflag, self.lflag = DEFAULT_IFLAG, DEFAULT_OFLAG, DEFAULT_LFLAG
        self.cc = dict(DEFAULT_CC)
        self.window = (0, 0)  # rows, columns: 0 0 until someone says
        self.column = 0  # where the cursor is, as output processing counts it
        self.canon_column = 0  # the column the line being edited started at
        self.line = bytearray()  # the line being edited (canonical mode)
        self.literal_next = False  # ^V came: the next key is taken as it is
        self.ready: list[bytes] = []  # what read() hands out: lines, or raw bytes
        self.waiters: list = []  # processes blocked reading the slave
        self.slaves = 0  # open slave files: 0 means hang-up for the master

    # -- the scheduler's view (see PipeWait) -------------------------------------------
    def wake_readers(self, k: SimKernel) -> None:
        from .scheduler import PipeWait

        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            if isinstance(proc.block, PipeWait) and proc.block.pipe is self:
                k.sched.wake(proc)

    @property
    def name(self) -> str:
        return f"/dev/pts/{self.index}"

    # -- the master end: typing ---------------------------------------------------------
    def type(self, data: bytes) -> None:
        """Keys arriving from the master end, one by one through the discipline."""
        for byte in data:
            self._key(byte)
        if self.ready:
            self.wake_readers(self.k)

    def _key(self, c: int) -> None:
        if self.literal_next:  # after ^V: no translation, no special meaning
            self.literal_next = False
            self._ordinary(c)
            return
        if self.iflag & ICRNL and c == 0x0D:
            c = 0x0A
        lflag, cc = self.lflag, self.cc
        if lflag & ISIG and c in (cc[VINTR], cc[VQUIT], cc[VSUSP]):
            sig = {cc[VINTR]: signal.SIGINT, cc[VQUIT]: signal.SIGQUIT, cc[VSUSP]: signal.SIGTSTP}[c]
            self.line.clear()  # the pending input is flushed (no NOFLSH)
            self.ready.clear()
            self._echo_char(c)
            self.signal_foreground(sig)
            return
        if not lflag & ICANON:
            self.ready.append(bytes([c]))
            if c == 0x0A:
                if lflag & ECHO:
                    self._show(b"\n")
            else:
                self._echo_char(c)
            return
        if c == cc[VERASE] or c == cc[VKILL] or c == cc[VWERASE] and lflag & IEXTEN:
            self._erase(c)
            return
        if c == cc[VLNEXT] and lflag & IEXTEN:
            self.literal_next = True
            if lflag & ECHO and lflag & ECHOCTL:
                self._show(b"^\b")  # a '^' under the cursor until the key comes
            return
        if c == cc[VREPRINT] and lflag & ECHO and lflag & IEXTEN:
            self._echo_char(c)
            self._show(b"\n")
            for typed in self.line:
                self._echo_char(typed)
            return
        if c == cc[VEOF]:
            self.ready.append(bytes(self.line))  # an empty line: end-of-file for the reader
            self.line.clear()
            return
        if c == 0x0A:
            self.line.append(c)
            if lflag & (ECHO | ECHONL):
                self._show(b"\n")
            self.ready.append(bytes(self.line))
            self.line.clear()
            return
        self._ordinary(c)

    def _ordinary(self, c: int) -> None:
        """A key that is just text: echoed and added to the line."""
        if not self.line:
            self.canon_column = self.column  # the column the line starts at (for tabs)
        self.line.append(c)
        self._echo_char(c)

    def _echo_char(self, c: int) -> None:
        if not self.lflag & ECHO:
            return
        if self.lflag & ECHOCTL and _is_cntrl(c) and c != 0x09:
            self._show(b"^" + bytes([c ^ 0x40]))
        else:
            self._show(bytes([c]))

    def _erase(self, key: int) -> None:
        """n_tty's eraser(): ERASE takes one character back, WERASE a word
        (BSD's ALTWERASE: trailing non-alphanumerics, then alphanumerics and
        '_'), KILL the line.  Each one taken back is rubbed out on the screen:
        ``\\b \\b``, twice for a ``^X``, and a tab by moving back over the
        columns it filled."""
        if not self.line:
            return
        lflag = self.lflag
        kind = "erase" if key == self.cc[VERASE] else "werase" if key == self.cc[VWERASE] else "kill"
        if kind == "kill":
            if not lflag & ECHO:
                self.line.clear()
                return
            if not (lflag & ECHOK and lflag & ECHOKE and lflag & ECHOE):
                self.line.clear()
                self._echo_char(key)
                if lflag & ECHOK:
                    self._show(b"\n")
                return
        seen_alnums = 0
        while self.line:
            c = self.line[-1]
            if kind == "werase":
                if _is_alnum(c) or c == 0x5F:
                    seen_alnums += 1
                elif seen_alnums:
                    break
            self.line.pop()
            if lflag & ECHO:
                if kind == "erase" and not lflag & ECHOE:
                    self._echo_char(key)
                elif c == 0x09:
                    self._rub_out_tab()
                else:
                    if _is_cntrl(c) and lflag & ECHOCTL:
                        self._show(b"\b \b")
                    if not _is_cntrl(c) or lflag & ECHOCTL:
                        self._show(b"\b \b")
            if kind == "erase":
                break

    def _rub_out_tab(self) -> None:
        """Back over a tab: count the columns of what stands between it and
        the previous tab (or the line's start, then from the column the line
        started at) and go back to the tab stop before them, as n_tty does."""
        columns, after_tab = 0, False
        for c in reversed(self.line):
            if c == 0x09:
                after_tab = True
                break
            if _is_cntrl(c):
                columns += 2 if self.lflag & ECHOCTL else 0
            else:
                columns += 1
        columns &= 7
        if not after_tab:
            columns += self.canon_column
        self._show(b"\b" * (8 - (columns & 7)))

    def set_modes(self, iflag: int, oflag: int, lflag: int, cc: dict[int, int]) -> None:
        """tcsetattr(TCSANOW).  Leaving canonical mode hands the line being
        edited to the reader as it is; entering it keeps what is ready."""
        if self.lflag & ICANON and not lflag & ICANON and self.line:
            self.ready.append(bytes(self.line))
            self.line.clear()
        self.iflag, self.oflag, self.lflag = iflag, oflag, lflag
        self.cc = dict(cc)
        if self.ready:
            self.wake_readers(self.k)

    def signal_foreground(self, sig: int) -> None:
        """The foreground job: every living process this is the controlling
        terminal of (a simplification: no process groups, see SIMPLIFICATIONS.md)."""
        for proc in self.k.procs.all():
            if proc.ctty is self and proc.alive:
                self.k.signals.send(proc, sig, None)

    def resize(self, rows: int, columns: int) -> None:
        if (rows, columns) != self.window:
            self.window = (rows, columns)
            self.signal_foreground(signal.SIGWINCH)

    # -- the slave end: what a program reads and writes ----------------------------------
    def read(self, n: int) -> bytes | None:
        if not self.ready:
            return None
        if self.lflag & ICANON:
            line = self.ready[0]
            if len(line) <= n:
                self.ready.pop(0)
                return line
            self.ready[0] = line[n:]
            return line[:n]
        data = b"".join(self.ready)
        self.ready = [data[n:]] if len(data) > n else []
        return data[:n]

    def write(self, data: bytes) -> int:
        if self.oflag & OPOST and self.oflag & ONLCR:
            self._show(data.replace(b"\n", b"\r\n"), translated=True)
        else:
            self._show(data, translated=True)
        return len(data)

    def _show(self, data: bytes, translated: bool = False) -> None:
        """Out of the master end, to the log (echo goes through ONLCR too)."""
        if self.oflag & OPOST:
            self._track_columns(data)
        if not translated and self.oflag & OPOST and self.oflag & ONLCR:
            data = data.replace(b"\n", b"\r\n")
        try:
            self.sink.write(self.k, data)
        except OSError:
            pass  # nobody reads the master any more

    def _track_columns(self, data: bytes) -> None:
        """The cursor's column, as n_tty's output processing counts it: the
        erasing of a tab needs it (the column a line started at)."""
        for c in data:
            if c == 0x0A:
                if self.oflag & ONLCR:
                    self.column = 0
                self.canon_column = self.column
            elif c == 0x0D:
                self.column = self.canon_column = 0
            elif c == 0x09:
                self.column += 8 - (self.column & 7)
            elif c == 0x08:
                self.column = max(0, self.column - 1)
            elif not _is_cntrl(c):
                self.column += 1


# What n_tty takes for a control character (echoed as ^X) and for part of a
# word (^W), as Linux 6.18 does it: ASCII's classes, and every byte from 0x80
# up is an ordinary character and part of a word (IUTF8 is not modelled).
def _is_cntrl(c: int) -> bool:
    return c < 0x20 or c == 0x7F


def _is_alnum(c: int) -> bool:
    return c >= 0x80 or chr(c).isalnum()


class SlaveFile(OpenFile):
    """An open file of the slave end (``/dev/pts/N``): fds 0, 1 and 2 of the
    process the terminal was made for, and of its children."""

    __slots__ = ("pty",)
    kind = "tty"

    def __init__(self, pty: Pty):
        super().__init__(0o2)  # O_RDWR
        self.pty = pty
        pty.slaves += 1

    @property
    def pipe(self) -> Pty:  # what PipeWait waits on
        return self.pty

    def read(self, k, n):
        self._check(False)
        return self.pty.read(n)

    def write(self, k, data):
        self._check(True)
        return self.pty.write(bytes(data))

    def release(self, k):
        self.pty.slaves -= 1


class StdinPipe:
    """The engine's end of a ``docker run -i`` stdin pipe, with the input
    that did not fit yet (written as the reader makes room)."""

    def __init__(self, k: SimKernel, end):
        self.k = k
        self.end = end  # a PipeEnd, write side
        self.pending = bytearray()
        self.closing = False
        end.pipe.on_drain = self.flush

    def write(self, data: bytes) -> None:
        if self.end is None or self.closing:
            return
        self.pending += data
        self.flush()

    def close(self) -> None:
        self.closing = True
        self.flush()

    def flush(self) -> None:
        if self.end is None:
            return
        while self.pending:
            try:
                written = self.end.write(self.k, bytes(self.pending))
            except BlockingIOError:
                return
            except BrokenPipeError:
                self.pending.clear()
                break
            del self.pending[:written]
        if self.closing:
            self.end.pipe.on_drain = None
            self.end.close(self.k)
            self.end = None


def no_terminal() -> OSError:
    return oserror(errno.ENOTTY)
