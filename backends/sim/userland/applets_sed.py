"""sed, as busybox 1.35's ``editors/sed.c`` does it.

The script is parsed into a list of commands (``s a i c r w : b t T y d D
g G h H l n N p P q x = { }``), each with up to two addresses (a line
number, ``$``, ``/regex/``, ``\\%regex%``, or ``addr,+N``) and ``!``.  Every
input line then runs through the list; ``-n`` silences the automatic
print, ``-i`` edits each file in place through a temporary file,
``-E``/``-r`` switch to extended regular expressions.

Faithful details: a line ends at a newline *or a NUL byte*; the last line
of the input keeps its missing newline; ``s///g`` matches the rest of the
line with REG_NOTBOL after each match (so ``s/\\<a/X/g`` turns "aaa" into
"XXX", as glibc does); errors are busybox's words (``unmatched '/'``,
``bad regex 'x\\{': Unmatched \\{``) and exit status 1 (4 for a write
error).  Output is buffered as stdio buffers it and written at exit, so
stderr comes first when both go to one pipe.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import BufferedOutput, close_quietly, complain, getopt, show_usage, strerror
from .posix_regex import RegexError, compile_posix

Gen = Generator[Any, Any, Any]

NO_EOL = "\x01"  # the last line had no newline
LAST_IS_NUL = "\x02"  # the last line ended with a NUL and was the last in its file
_SEMICOLON_WHITESPACE = "; \n\r\t\v"


class SedDie(Exception):
    """``bb_error_msg_and_die``: the message, and the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(eq=False)
class Cmd:
    cmd: str = ""
    beg_line: int = 0  # 0: none; -1: "$"; -2: a dead "N," range
    end_line: int = 0  # <= -2: "+N" (stored as -2 - N)
    beg_match: Any = None
    end_match: Any = None
    invert: bool = False
    in_match: bool = False
    beg_line_orig: int = 0
    end_line_orig: int = 0
    string: str | None = None
    sub_match: Any = None  # compiled (normal, notbol) pair; None: the last regex used
    which_match: int = 1
    sub_p: bool = False
    sw_file: Any = None  # an _OutFile
    pairs: dict[str, str] = field(default_factory=dict)  # y///


class _OutFile:
    """A file ``w`` writes to (and the newline bookkeeping for it)."""

    def __init__(self, sys: Sys, fd: int) -> None:
        self.buf = BufferedOutput(sys, fd)
        self.last_char = "\n"


def _parse_escapes(s: str, what: str, repl: str) -> str:
    """busybox's parse_escapes: ``\\what`` -> ``repl``; ``\\\\`` stays as it is."""
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if what and nxt == what:
                out.append(repl)
                i += 2
                continue
            if nxt == "\\":
                out.append("\\\\")
                i += 2
                continue
            out.append("\\")
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unescape_all(s: str) -> str:
    """``parse_escapes(s, s, -1, '\\0', '\\0')``: ``\\c`` -> ``c`` (a
    backslash at the very end is dropped)."""
    out = []
    i = 0
    while i < len(s):
        if s[i] == "\\":
            if i + 1 < len(s):
                out.append(s[i + 1])
            i += 2
            continue
        out.append(s[i])
        i += 1
    return "".join(out)


def copy_parsing_escapes(s: str) -> str:
    """sed recognizes ``\\n``, and as GNU sed ``\\t`` and ``\\r``."""
    for letter, repl in (("n", "\n"), ("t", "\t"), ("r", "\r")):
        s = _parse_escapes(s, letter, repl)
    return s


def next_delim(delim: str, s: str, brackets: bool = True) -> int:
    """index_of_next_unescaped_regexp_delim; a delimiter inside a bracket
    expression does not count (but only for the regex part)."""
    bracket = -1 if brackets else -2
    escaped = False
    for idx, ch in enumerate(s):
        if bracket >= 0:
            if ch == "]" and not (bracket == idx - 1 or (bracket == idx - 2 and s[idx - 1] == "^")):
                bracket = -1
        elif escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif bracket == -1 and ch == "[":
            bracket = idx
        elif ch == delim:
            return idx
    raise SedDie(f"unmatched '{delim}'")


class Script:
    """The parsed commands and sed's state while it runs them."""

    def __init__(self, sys: Sys, extended: bool) -> None:
        self.sys = sys
        self.extended = extended
        self.cmds: list[Cmd] = []
        self.previous_regex: Any = None
        self.be_quiet = 0
        self.pending: str | None = None  # an unfinished line (ends in "\")

    # -- regexes --------------------------------------------------------------
    def regcomp(self, pattern: str, icase: bool = False) -> tuple[Any, Any]:
        try:
            return (
                compile_posix(pattern, self.extended, icase),
                compile_posix(pattern, self.extended, icase, notbol=True),
            )
        except RegexError as e:
            raise SedDie(f"bad regex '{pattern}': {e}") from None

    def get_address(self, s: str, i: int) -> tuple[int, int, Any]:
        """(index after the address, line number, regex)."""
        if i < len(s) and s[i].isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            return j, int(s[i:j]), None
        if i < len(s) and s[i] == "$":
            return i + 1, -1, None
        if i < len(s) and s[i] in "/\\":
            delim = "/"
            pos = i
            if s[i] == "\\":
                pos += 1
                delim = s[pos] if pos < len(s) else ""
            pos += 1
            n = next_delim(delim, s[pos:])
            if n:
                regex = self.regcomp(copy_parsing_escapes(s[pos : pos + n]))
                self.previous_regex = regex
            else:
                regex = self.previous_regex
                if regex is None:
                    raise SedDie("no previous regexp")
            return pos + n + 1, 0, regex
        return i, 0, None

    # -- parsing --------------------------------------------------------------
    def add_block(self, text: str) -> None:
        for line in text.split("\n"):
            self.add_cmd(line)

    def add_cmd(self, line: str) -> None:
        if self.pending is not None:
            line = self.pending + "\n" + line
            self.pending = None
        n = len(line)
        while n and line[n - 1] == "\\":
            n -= 1
        if (len(line) - n) & 1:
            self.pending = line[:-1]
            return
        s = line
        i = 0
        while i < len(s):
            while i < len(s) and s[i] in _SEMICOLON_WHITESPACE:
                i += 1
            if i >= len(s):
                break
            if s[i] == "#":
                if i + 1 < len(s) and s[i + 1] == "n":
                    self.be_quiet += 1
                nl = min((k for k in (s.find("\n", i), s.find("\r", i)) if k >= 0), default=-1)
                if nl < 0:
                    break
                i = nl
                continue
            cmd = Cmd()
            i, cmd.beg_line, cmd.beg_match = self.get_address(s, i)
            cmd.beg_line_orig = cmd.beg_line
            if i < len(s) and s[i] == ",":
                i += 1
                if i + 1 < len(s) and s[i] == "+" and s[i + 1].isdigit():
                    j = i + 1
                    while j < len(s) and s[j].isdigit():
                        j += 1
                    cmd.end_line = -2 - int(s[i + 1 : j])
                    i = j
                else:
                    j, cmd.end_line, cmd.end_match = self.get_address(s, i)
                    if j == i:
                        raise SedDie("no address after comma")
                    i = j
                cmd.end_line_orig = cmd.end_line
            while i < len(s) and s[i].isspace():
                i += 1
            if i < len(s) and s[i] == "!":
                cmd.invert = True
                i += 1
                while i < len(s) and s[i].isspace():
                    i += 1
            if i >= len(s):
                raise SedDie("missing command")
            cmd.cmd = s[i]
            i = self.parse_args(cmd, s, i + 1)
            self.cmds.append(cmd)

    def _file_arg(self, s: str, i: int) -> tuple[str, int]:
        while i < len(s) and s[i] in " \t\n\r\v\f":
            i += 1
        eol = s.find("\n", i)
        eol = len(s) if eol < 0 else eol
        if eol == i:
            raise SedDie("empty filename")
        name = s[i:eol] + ("\\" if eol < len(s) else "")
        return name, eol

    def _open_w(self, name: str) -> _OutFile:
        try:
            fd = self.sys.open(name, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        except OSError as e:
            raise SedDie(f"can't open '{name}': {strerror(e)}") from None
        return _OutFile(self.sys, fd)

    def parse_args(self, cmd: Cmd, s: str, i: int) -> int:
        c = cmd.cmd
        one_address = cmd.end_line or cmd.end_match is not None
        if c == "s":
            return self.parse_subst(cmd, s, i)
        if c in "aic":
            if c != "c" and one_address:
                raise SedDie(f"command '{c}' uses only one address")
            while i < len(s):
                if s[i] in "\n\\":
                    i += 1
                    break
                if not s[i].isspace():
                    break
                i += 1
            cmd.string = _unescape_all(copy_parsing_escapes(s[i:]))
            return len(s)
        if c in "rw":
            if c == "r" and one_address:
                raise SedDie(f"command '{c}' uses only one address")
            name, i = self._file_arg(s, i)
            cmd.string = name
            if c == "w":
                cmd.sw_file = self._open_w(name)
            return i
        if c in ":btT":
            while i < len(s) and s[i].isspace():
                i += 1
            j = i
            while j < len(s) and s[j] not in _SEMICOLON_WHITESPACE:
                j += 1
            if j > i:
                cmd.string = s[i:j]
            return j
        if c == "y":
            delim = s[i] if i < len(s) else ""
            if not delim:
                raise SedDie("bad format in substitution expression")
            n1 = next_delim(delim, s[i + 1 :])
            match = copy_parsing_escapes(s[i + 1 : i + 1 + n1])
            rest = i + 1 + n1 + 1
            n2 = next_delim(delim, s[rest:], brackets=False)
            replace = copy_parsing_escapes(s[rest : rest + n2])
            match = _parse_escapes(match, delim, delim)
            replace = _parse_escapes(replace, delim, delim)
            for a, b in zip(match, replace, strict=False):
                cmd.pairs.setdefault(a, b)
            return rest + n2 + 1
        if c not in "dDgGhHlnNpPqx={}":
            raise SedDie(f"unsupported command {c}")
        return i

    def parse_subst(self, cmd: Cmd, s: str, i: int) -> int:
        if i >= len(s):
            raise SedDie("bad format in substitution expression")
        delim = s[i]
        start = i + 1
        n1 = next_delim(delim, s[start:])
        match = copy_parsing_escapes(s[start : start + n1])
        rstart = start + n1 + 1
        n2 = next_delim(delim, s[rstart:], brackets=False)
        cmd.string = copy_parsing_escapes(s[rstart : rstart + n2])
        idx = rstart + n2
        icase = False
        while True:
            idx += 1
            if idx >= len(s):
                break
            ch = s[idx]
            if ch.isdigit():
                if not match.startswith("^"):
                    j = idx
                    while j < len(s) and s[j].isdigit():
                        j += 1
                    cmd.which_match = int(s[idx:j])
                    idx = j - 1
                continue
            if ch.isspace():
                continue
            if ch == "g":
                cmd.which_match = 0
            elif ch == "p":
                cmd.sub_p = True
            elif ch == "w":
                name, end = self._file_arg(s, idx + 1)
                idx = end
                cmd.sw_file = self._open_w(name)
            elif ch in "iI":
                icase = True
            elif ch == "#":
                idx = len(s)
                break
            elif ch in ";}":
                break
            else:
                raise SedDie("bad option in substitution expression")
        if match:
            cmd.sub_match = self.regcomp(match, icase)
        return idx


class Input:
    """The input files, read line by line (a line ends at "\\n" or NUL)."""

    def __init__(self, sys: Sys, paths: list[str]) -> None:
        self.sys = sys
        self.paths = paths
        self.index = 0
        self.fd: int | None = None
        self.buf = b""
        self.eof = False
        self.failed = False

    def _open_next(self) -> Gen:
        while self.index < len(self.paths):
            path = self.paths[self.index]
            if path == "-":
                return 0
            try:
                return self.sys.open(path, 0)
            except OSError as e:
                yield from complain(self.sys, "sed", f"{path}: {strerror(e)}")
                self.failed = True
                self.index += 1
        return None

    def next_line(self) -> Gen:
        """(text, terminator) or (None, NO_EOL) at the end of all input."""
        while True:
            if self.fd is None:
                fd = yield from self._open_next()
                if fd is None:
                    return None, NO_EOL
                self.fd, self.buf, self.eof = fd, b"", False
            cut = -1
            for k, ch in enumerate(self.buf):
                if ch == 10 or ch == 0:
                    cut = k
                    break
            if cut < 0 and not self.eof:
                try:
                    chunk = yield from self.sys.read(self.fd, 65536)
                except OSError as e:
                    yield from complain(self.sys, "sed", f"read error: {strerror(e)}")
                    chunk = b""
                yield from self.sys.burn(1 + len(chunk) // 1024)
                if not chunk:
                    self.eof = True
                self.buf += chunk
                continue
            if cut >= 0:
                line, term = self.buf[:cut], self.buf[cut : cut + 1].decode("latin-1")
                self.buf = self.buf[cut + 1 :]
                if term == "\0":
                    # a NUL that ends the file is remembered as such
                    while not self.buf and not self.eof:
                        chunk = yield from self.sys.read(self.fd, 65536)
                        if not chunk:
                            self.eof = True
                        self.buf += chunk
                    if not self.buf and self.eof:
                        term = LAST_IS_NUL
                return line.decode("latin-1"), term
            if self.buf:
                line, self.buf = self.buf, b""
                return line.decode("latin-1"), NO_EOL
            close_quietly(self.sys, self.fd)
            self.fd = None
            self.index += 1


class Runner:
    """process_files(): every line through every command."""

    def __init__(self, script: Script, out: BufferedOutput, inp: Input) -> None:
        self.s = script
        self.out = out
        self.inp = inp
        self.hold: str | None = None
        self.append_queue: list[str] = []
        self.last_puts = "\n"

    def puts(self, text: str, term: str, dest: Any = None) -> None:
        """puts_maybe_newline()."""
        out = self.out if dest is None else dest.buf
        lpc = self.last_puts if dest is None else dest.last_char
        if lpc not in ("\n", "\0"):
            out.write("\n")
            lpc = "\n"
        out.write(text)
        if text:
            lpc = "x"
        if term == LAST_IS_NUL:
            out.write("\0")
            lpc = "x"
        elif term != NO_EOL:
            out.write(term)
            lpc = term
        if dest is None:
            self.last_puts = lpc
        else:
            dest.last_char = lpc

    def flush_append(self) -> None:
        for data in self.append_queue:
            self.puts(data, "\n")
        self.append_queue = []

    def get_next_line(self) -> Gen:
        self.flush_append()
        return (yield from self.inp.next_line())

    def read_file_lines(self, path: str) -> Gen:
        sys = self.s.sys
        try:
            fd = sys.open(path, 0)
        except OSError:
            return []
        from .libc import read_all

        try:
            data = yield from read_all(sys, fd)
        except OSError:
            data = b""
        finally:
            close_quietly(sys, fd)
        text = data.decode("latin-1")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def subst(self, cmd: Cmd, line: str) -> tuple[bool, str]:
        """do_subst_command(): (altered, new line)."""
        regex = cmd.sub_match
        if regex is None:
            regex = self.s.previous_regex
            if regex is None:
                raise SedDie("no previous regexp")
        self.s.previous_regex = regex
        normal, notbol = regex
        m = normal.search(line)
        if m is None:
            return False, line
        out: list[str] = []
        count = 0
        altered = False
        prev_empty = True
        tried_eol = False
        rest = line
        while True:
            start, end = m.span()
            count += 1
            if cmd.which_match and cmd.which_match != count:
                out.append(rest[:end])
                rest_pos = end
                if start == end and rest_pos < len(rest):
                    out.append(rest[rest_pos])
                    rest_pos += 1
                rest = rest[rest_pos:]
            else:
                out.append(rest[:start])
                if prev_empty or start != 0 or start != end:
                    out.append(self._replacement(cmd.string or "", m))
                    altered = True
                prev_empty = start == end
                if prev_empty:
                    if end >= len(rest):
                        tried_eol = True
                    else:
                        out.append(rest[end])
                        end += 1
                rest = rest[end:]
                if cmd.which_match != 0:
                    break
            if not rest:
                if tried_eol:
                    break
                tried_eol = True
            m = notbol.search(rest)
            if m is None:
                break
        out.append(rest)
        return altered, "".join(out)

    @staticmethod
    def _replacement(repl: str, m: Any) -> str:
        out = []
        i = 0
        while i < len(repl):
            ch = repl[i]
            if ch == "\\" and i + 1 < len(repl):
                nxt = repl[i + 1]
                i += 2
                if nxt.isdigit():
                    n = int(nxt)
                    try:
                        out.append(m.group(n) or "")
                    except IndexError:
                        pass
                    continue
                out.append(nxt)
                continue
            if ch == "&":
                out.append(m.group(0))
            else:
                out.append(ch)
            i += 1
        return "".join(out)

    def branch_to(self, label: str) -> int:
        for k, c in enumerate(self.s.cmds):
            if c.cmd == ":" and c.string == label:
                return k
        raise SedDie(f"can't find label for jump to '{label}'")

    def _beg_match(self, cmd: Cmd, text: str) -> bool:
        """Does the line match the first address's regex?  (Which then
        becomes "the last regex used", for an empty ``s//x/``.)"""
        hit = self._matches(cmd.beg_match, text)
        if hit:
            self.s.previous_regex = cmd.beg_match
        return hit

    def _matches(self, regex: Any, text: str) -> bool:
        return regex is not None and regex[0].search(text) is not None

    def run(self) -> Gen:
        s = self.s
        cmds = s.cmds
        linenum = 0
        next_line, next_term = yield from self.get_next_line()
        while True:
            substituted = False
            pattern = next_line
            if pattern is None:
                return
            last_term = next_term
            next_line, next_term = yield from self.get_next_line()
            linenum += 1
            yield from s.sys.burn(1 + len(cmds))
            action = "print"  # at the end: "print", "discard"
            k = 0
            while k < len(cmds):
                cmd = cmds[k]
                old_matched = cmd.in_match
                if not old_matched:
                    cmd.end_line = cmd.end_line_orig
                cmd.in_match = (
                    cmd.in_match
                    or (
                        not cmd.beg_line
                        and not cmd.end_line
                        and cmd.beg_match is None
                        and cmd.end_match is None
                    )
                    or (
                        cmd.beg_line > 0
                        and (
                            cmd.beg_line <= linenum
                            if (cmd.end_line or cmd.end_match is not None)
                            else cmd.beg_line == linenum
                        )
                    )
                    or self._beg_match(cmd, pattern)
                    or (cmd.beg_line == -1 and next_line is None)
                )
                matched = cmd.in_match
                if matched:
                    if cmd.end_line <= -2:
                        cmd.end_line = linenum + (-cmd.end_line - 2)
                    if cmd.beg_line > 0:
                        cmd.beg_line = -2
                    if cmd.end_line:
                        ended = (next_line is None) if cmd.end_line == -1 else cmd.end_line <= linenum
                    else:
                        ended = cmd.end_match is None
                    ended = ended or (
                        cmd.end_match is not None and old_matched and self._matches(cmd.end_match, pattern)
                    )
                    cmd.in_match = not ended
                if cmd.cmd == "{":
                    if matched if cmd.invert else not matched:
                        nest = 0
                        while True:
                            if cmds[k].cmd == "{":
                                nest += 1
                            if cmds[k].cmd == "}":
                                nest -= 1
                                if nest == 0:
                                    break
                            k += 1
                            if k >= len(cmds):
                                raise SedDie("unterminated {")
                    k += 1
                    continue
                if matched if cmd.invert else not matched:
                    k += 1
                    continue
                if cmd.beg_match is not None:
                    s.previous_regex = cmd.beg_match
                c = cmd.cmd
                if c == "=":
                    self.out.write(f"{linenum}\n")
                elif c == "P" and "\n" in pattern:
                    self.puts(pattern.split("\n", 1)[0], "\n")
                elif c in "pP":
                    self.puts(pattern, "\n")
                elif c == "D" and "\n" in pattern:
                    pattern = pattern.split("\n", 1)[1]
                    k = 0
                    continue
                elif c in "dD":
                    action = "discard"
                    break
                elif c == "s":
                    altered, pattern = self.subst(cmd, pattern)
                    if altered:
                        substituted = True
                        if cmd.sub_p:
                            self.puts(pattern, last_term)
                        if cmd.sw_file is not None:
                            self.puts(pattern, last_term, cmd.sw_file)
                elif c == "a":
                    self.append_queue.append(cmd.string or "")
                elif c == "i":
                    self.puts(cmd.string or "", "\n")
                elif c == "c":
                    if not cmd.in_match:
                        self.puts(cmd.string or "", "\n")
                    action = "discard"
                    break
                elif c == "r":
                    self.append_queue.extend((yield from self.read_file_lines(cmd.string or "")))
                elif c == "w":
                    self.puts(pattern, last_term, cmd.sw_file)
                elif c == "n":
                    if not s.be_quiet:
                        self.puts(pattern, last_term)
                    if next_line is None:
                        action = "discard"
                        break
                    pattern, last_term = next_line, next_term
                    next_line, next_term = yield from self.get_next_line()
                    substituted = False
                    linenum += 1
                elif c == "q":
                    next_line = None
                    break
                elif c == "N":
                    if next_line is None:
                        break
                    pattern = pattern + "\n" + next_line
                    last_term = next_term
                    next_line, next_term = yield from self.get_next_line()
                    linenum += 1
                elif c in "tTb":
                    go = (c == "b") or (c == "t" and substituted) or (c == "T" and not substituted)
                    if c == "t" and substituted:
                        substituted = False
                    if go:
                        if not cmd.string:
                            break
                        k = self.branch_to(cmd.string)
                elif c == "y":
                    pattern = "".join(cmd.pairs.get(ch, ch) for ch in pattern)
                elif c == "g":
                    pattern = self.hold or ""
                elif c == "G":
                    pattern = pattern + "\n" + (self.hold or "")
                    last_term = "\n"
                elif c == "h":
                    self.hold = pattern
                elif c == "H":
                    self.hold = (self.hold or "") + "\n" + pattern
                elif c == "x":
                    pattern, self.hold = (self.hold or ""), pattern
                    last_term = "\n"
                k += 1
            if action == "print" and not s.be_quiet:
                self.puts(pattern, last_term)
            self.flush_append()
            yield from self.out.drain()


@applet("sed")
def sed_main(sys: Sys) -> Gen:
    argv = list(sys.argv[1:])
    if argv[:1] == ["--version"]:
        out = BufferedOutput(sys, 1)
        out.write("This is not GNU sed version 4.0\n")
        yield from out.flush()
        return 0
    argv = _long_options(argv)
    try:
        opts = getopt(argv, "i::rEne:f:")
    except Exception as e:  # UsageError
        msg = getattr(e, "message", None)
        if msg:
            yield from complain(sys, "sed", msg)
        yield from show_usage(sys, "sed")
        return 1
    in_place = "i" in opts
    suffix = opts.value("i") or ""
    script = Script(sys, extended=("r" in opts or "E" in opts))
    script.be_quiet = opts.flags.get("n", 0)
    out = BufferedOutput(sys, 1)
    status = 0
    try:
        for value in opts.values.get("e", []):
            script.add_block(value)
        for value in opts.values.get("f", []):
            yield from _add_file(sys, script, value)
        files = list(opts.operands)
        if "e" not in opts.values and "f" not in opts.values:
            if not files:
                yield from show_usage(sys, "sed")
                return 1
            script.add_block(files.pop(0))
        script.add_cmd("")
        if not files:
            if in_place:
                raise SedDie("-i requires an argument")
            files = ["-"]
        if not in_place:
            runner = Runner(script, out, Input(sys, files))
            yield from runner.run()
            status = 1 if runner.inp.failed else 0
        else:
            for path in files:
                status |= yield from _edit_in_place(sys, script, path, suffix)
    except SedDie as e:
        yield from out.flush_quietly()
        yield from _flush_w_files(script)
        yield from complain(sys, "sed", e.message)
        return e.status
    try:
        yield from out.flush()
    except OSError:
        yield from complain(sys, "sed", "write error")
        return 4
    yield from _flush_w_files(script)
    return status


def _flush_w_files(script: Script) -> Gen:
    for cmd in script.cmds:
        if cmd.sw_file is not None:
            yield from cmd.sw_file.buf.flush_quietly()
            close_quietly(script.sys, cmd.sw_file.buf.fd)
            cmd.sw_file = None


def _long_options(argv: list[str]) -> list[str]:
    """--expression=X, --file=X, --quiet, --silent, --regexp-extended, --in-place[=SUF]."""
    out: list[str] = []
    for i, a in enumerate(argv):
        if a == "--":
            return out + argv[i:]
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            table = {"expression": "-e", "file": "-f", "quiet": "-n", "silent": "-n", "regexp-extended": "-r"}
            if name == "in-place":
                out.append("-i" + val)
                continue
            if name in table:
                out.append(table[name] + (val if eq else ""))
                continue
        out.append(a)
    return out


def _add_file(sys: Sys, script: Script, path: str) -> Gen:
    from .libc import read_all

    if path == "-":
        fd = 0
    else:
        try:
            fd = sys.open(path, 0)
        except OSError as e:
            raise SedDie(f"can't open '{path}': {strerror(e)}") from None
    data = yield from read_all(sys, fd)
    close_quietly(sys, fd)
    text = data.decode("latin-1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        script.add_cmd(line)


def _edit_in_place(sys: Sys, script: Script, path: str, suffix: str) -> Gen:
    """One file of ``sed -i``: into PATHXXXXXX, then renamed over PATH."""
    try:
        st = sys.stat(path)
    except OSError as e:
        yield from complain(sys, "sed", f"{path}: {strerror(e)}")
        return 1
    tmp, fd = _mkstemp(sys, path)
    try:
        sys.chmod(tmp, st.mode)
        sys.chown(tmp, st.uid, st.gid)
    except OSError:
        pass
    out = BufferedOutput(sys, fd)
    runner = Runner(script, out, Input(sys, [path]))
    try:
        yield from runner.run()
        yield from out.flush()
    finally:
        close_quietly(sys, fd)
    if suffix:
        sys.rename(path, path + suffix)
    sys.rename(tmp, path)
    for cmd in script.cmds:
        cmd.beg_line, cmd.end_line = cmd.beg_line_orig, cmd.end_line_orig
    return 0


_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _mkstemp(sys: Sys, prefix: str) -> tuple[str, int]:
    """mkstemp(PREFIXXXXXXX): six random characters, O_EXCL."""
    import random

    rng = random.Random(sys.getpid() * 7919 + int(sys.time() * 1e6))
    for _ in range(100):
        name = prefix + "".join(rng.choice(_TEMP_CHARS) for _ in range(6))
        try:
            return name, sys.open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise SedDie(f"can't create temp file '{prefix}XXXXXX': File exists")
