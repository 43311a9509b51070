"""patch -- after busybox 1.35's editors/patch.c (toybox's patch): unified
diffs only, applied hunk by hunk in one pass over each file.

A hunk is not placed by its line numbers: its context and removed lines
are searched for, as a kind of pattern, from where the last hunk ended
(lines that do not match are copied through), so a hunk that matches
nowhere fails at EOF -- "Hunk N FAILED", the hunk echoed to stderr, the
file left as it was, exit 1.  The result goes to NAME + six random
characters and is renamed over NAME once the file's last hunk applied.
``-N`` skips a hunk that looks already applied; ``--dry-run`` writes to
/dev/null.  Quirks kept: ``-p`` counts slashes (runs of them as one), and
the ``---``/``+++`` name ends at a tab (a date from 1900..1970 there
means /dev/null).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    Die,
    LineReader,
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    show_usage,
    strerror,
    write_all,
    xatoi,
)

Gen = Generator[Any, Any, Any]

_LONGOPTS = {
    "reverse": "R",
    "unified": "u",
    "strip": "p",
    "input": "i",
    "forward": "N",
    "remove-empty-files": "E",
    "force": "f",
    "get": "g",
    "dry-run": "\x01",
    "backup-if-mismatch": "\x02",
    "no-backup-if-mismatch": "\x03",
}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def strtol(text: str, i: int) -> tuple[int, int]:
    """C's strtol(text + i, &end, 10): the value and the end index (i when
    there are no digits)."""
    j = i
    while j < len(text) and text[j] in " \t\n\v\f\r":
        j += 1
    sign = 1
    if j < len(text) and text[j] in "+-":
        sign = -1 if text[j] == "-" else 1
        j += 1
    k = j
    while k < len(text) and text[k].isdigit() and text[k].isascii():
        k += 1
    if k == j:
        return 0, i
    return sign * int(text[j:k]), k


def atoi(text: str) -> int:
    return strtol(text, 0)[0]


class _Patch:
    def __init__(self, sys: Sys, opts: Any) -> None:
        self.sys = sys
        self.reverse = "R" in opts
        self.ignore = "N" in opts
        self.rmempty = "E" in opts
        self.dry_run = "\x01" in opts
        self.has_prefix = "p" in opts
        self.prefix = xatoi(opts.value("p")) if self.has_prefix else 0
        self.out = BufferedOutput(sys, 1)
        self.hunk: list[str] | None = None
        self.oldline = self.oldlen = self.newline = self.newlen = 0
        self.linenum = self.context = self.hunknum = 0
        self.filein: LineReader | None = None
        self.filein_fd = -1
        self.fileout = -1
        self.tempname: str | None = None  # "" under --dry-run
        self.exitval = 0

    # -- output files ------------------------------------------------------------------------

    def finish_oldfile(self) -> Gen:
        if self.tempname is not None:
            if self.filein is not None:
                rest = self.filein.buf
                while True:
                    if rest:
                        yield from write_all(self.sys, self.fileout, rest)
                    if self.filein.eof:
                        break
                    rest = yield from self.sys.read(self.filein_fd, 65536)
                    if not rest:
                        break
                close_quietly(self.sys, self.filein_fd)
            close_quietly(self.sys, self.fileout)
            if self.tempname:
                try:
                    self.sys.rename(self.tempname, self.tempname[:-6])
                except OSError:
                    pass
            self.tempname = None
        self.filein, self.filein_fd, self.fileout = None, -1, -1

    def fail_hunk(self) -> Gen:
        if not self.hunk:
            return
        text = f"Hunk {self.hunknum} FAILED {self.oldline}/{self.newline}.\n"
        text += "".join(line + "\n" for line in self.hunk)
        yield from self.out.flush()
        yield from write_all(self.sys, 2, text)
        self.exitval = 1
        self.hunk = None
        close_quietly(self.sys, self.filein_fd)
        close_quietly(self.sys, self.fileout)
        if self.tempname:
            try:
                self.sys.unlink(self.tempname)
            except OSError:
                pass
        self.tempname = None
        self.filein, self.filein_fd, self.fileout = None, -1, -1

    def read_line(self) -> Gen:
        """xmalloc_reads: the next line without its newline, None at EOF."""
        if self.filein is None:
            return None
        line = yield from self.filein.readline()
        if not line:
            return None
        return line[:-1].decode("latin-1") if line.endswith(b"\n") else line.decode("latin-1")

    def emit(self, lines: list[str]) -> Gen:
        if self.fileout >= 0 and lines:
            yield from write_all(self.sys, self.fileout, "".join(lines).encode("latin-1"))

    # -- one hunk ------------------------------------------------------------------------------

    def apply_one_hunk(self) -> Gen:
        """Find the hunk in the rest of the file, copying what precedes it;
        write its new lines.  Returns the parser's next state (1, or 0
        after a failure)."""
        hunk = self.hunk or []
        reverse = int(self.reverse)
        dummy_revert = backwarn = 0
        trailing = 0
        for line in hunk:
            trailing = trailing + 1 if line[0] == " " else 0
        matcheof = not trailing or trailing < self.context
        n = len(hunk)
        p = 0  # the hunk line to compare next
        buf: list[str] = []  # file lines that may be the hunk's
        matched = False
        if self.oldlen if reverse else self.newlen:
            while True:
                data = yield from self.read_line()
                self.linenum += 1
                while p < n and hunk[p][0] == "+-"[reverse]:
                    if data is not None and data == hunk[p][1:] and not backwarn:
                        backwarn = self.linenum
                        if self.ignore:
                            dummy_revert = 1
                            reverse ^= 1
                            continue
                    p += 1
                if data is None:
                    if p >= n and matcheof:
                        matched = True
                        break
                    if backwarn:
                        yield from self.out.flush()
                        yield from write_all(
                            self.sys, 2, f"Possibly reversed hunk {self.hunknum} at {self.linenum}\n"
                        )
                    yield from self.fail_hunk()
                    return 0
                buf.append(data)
                check = len(buf) - 1
                while True:
                    while p < n and hunk[p][0] == "+-"[reverse]:
                        if buf[check] == hunk[p][1:] and not backwarn:
                            backwarn = self.linenum
                            if self.ignore:
                                dummy_revert = 1
                                reverse ^= 1
                        p += 1
                    if p >= n or buf[check] != hunk[p][1:]:
                        # no match here: the oldest buffered line is the file's own
                        yield from self.emit([buf.pop(0) + "\n"])
                        p = 0
                        if not buf:
                            break
                        check = 0
                    else:
                        p += 1
                        if p >= n and not matcheof:
                            matched = True
                            break
                        check += 1
                        if check == len(buf):
                            break
                if matched:
                    break
        skip = "-+"[reverse ^ dummy_revert]
        yield from self.emit([line[1:] + "\n" for line in hunk if line[0] != skip])
        self.hunk = None
        return 1

    # -- files -------------------------------------------------------------------------------

    def make_parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        path = ""
        for i, part in enumerate(parts):
            path = part if i == 0 else path + "/" + part
            if not path:
                continue
            try:
                self.sys.mkdir(path, 0o777)
            except OSError:
                pass

    def xopen(self, name: str, flags: int) -> int:
        try:
            return self.sys.open(name, flags, 0o666)
        except OSError as e:
            raise Die(f"can't open '{name}': {strerror(e)}") from None

    def open_files(self, oldname: str, newname: str, target: str | None) -> Gen:
        """The first hunk of a file: open (or create, or empty) it.  Returns
        the parser's next state."""
        oldsum = self.oldline + self.oldlen
        newsum = self.newline + self.newlen
        name = oldname if self.reverse else newname
        empty = False
        if name == "/dev/null" or not (oldsum if self.reverse else newsum):
            name = newname if self.reverse else oldname
            empty = True
        i, s = 0, 0
        stripped = name
        while s < len(name):
            if self.has_prefix and self.prefix == i:
                break
            ch = name[s]
            s += 1
            if ch != "/":
                continue
            while s < len(name) and name[s] == "/":
                s += 1
            i += 1
            stripped = name[s:]
        name = target if target is not None else stripped
        state = 2
        if empty:
            state = 0
            if self.rmempty:
                self.out.write(f"removing {name}\n")
                if not self.dry_run:
                    try:
                        self.sys.unlink(name)
                    except OSError as e:
                        yield from self.out.flush()
                        raise Die(f"can't remove file '{name}': {strerror(e)}") from None
            else:
                self.out.write(f"patching file {name}\n")
                if not self.dry_run:
                    self.sys.close(self.xopen(name, O_WRONLY | O_TRUNC))
        elif not self.has_prefix or i <= self.prefix:
            if oldname == "/dev/null" or not oldsum:
                self.out.write(f"creating {name}\n")
                if not self.dry_run:
                    self.make_parents(name)
                    self.filein_fd = self.xopen(name, O_CREAT | O_EXCL | O_RDWR)
                else:
                    self.filein_fd = self.xopen("/dev/null", O_RDONLY)
            else:
                self.out.write(f"patching file {name}\n")
                self.filein_fd = self.xopen(name, O_RDONLY)
            self.filein = LineReader(self.sys, self.filein_fd)
            if not self.dry_run:
                self.tempname, self.fileout = self.mkstemp(name)
                try:
                    self.sys.chmod(self.tempname, self.sys.stat(name).mode)
                except OSError:
                    pass
            else:
                self.tempname = ""
                self.fileout = self.xopen("/dev/null", O_WRONLY)
            self.linenum = 0
            self.hunknum = 0
        yield from self.out.flush()
        return state

    def mkstemp(self, name: str) -> tuple[str, int]:
        for _ in range(100):
            temp = name + "".join(random.choice(_LETTERS) for _ in range(6))
            try:
                return temp, self.sys.open(temp, O_CREAT | O_EXCL | O_RDWR, 0o600)
            except FileExistsError:
                continue
            except OSError as e:
                raise Die(f"can't create temp file '{name}XXXXXX': {strerror(e)}") from None
        raise Die(f"can't create temp file '{name}XXXXXX': File exists")

    # -- the patch -----------------------------------------------------------------------------

    def run(self, patch: LineReader, operands: list[str]) -> Gen:
        state = 0
        oldname: str | None = None
        newname: str | None = None
        oldlen = newlen = 0
        target = operands[0] if operands else None
        while True:
            raw = yield from patch.readline()
            if not raw:
                break
            line = raw.decode("latin-1")
            line = line[:-1] if line.endswith("\n") else line
            if not line:
                line = " "  # damaged patches lose the blank of empty context lines
            if state >= 2:
                if line[0] in " +-":
                    assert self.hunk is not None
                    self.hunk.append(line)
                    if line[0] != "+":
                        oldlen -= 1
                    if line[0] != "-":
                        newlen -= 1
                    if line[0] == " " and state == 2:
                        self.context += 1
                    else:
                        state = 3
                    if not oldlen and not newlen:
                        state = yield from self.apply_one_hunk()
                    continue
                yield from self.fail_hunk()
                state = 0
                continue
            if line.startswith(("--- ", "+++ ")):
                is_new = line[0] == "+"
                if is_new:
                    state = 1
                yield from self.finish_oldfile()
                if target is None:
                    s = 4
                    while s < len(line) and line[s] != "\t":
                        if line[s] == "\\" and s + 1 < len(line):
                            s += 1
                        s += 1
                    year = atoi(line[s:])
                    value = "/dev/null" if 1900 < year <= 1970 else line[4:s]
                    if is_new != self.reverse:
                        newname = value
                    else:
                        oldname = value
            elif state == 1 and line.startswith("@@ -"):
                self.oldlen = oldlen = self.newlen = newlen = 1
                self.oldline, s = strtol(line, 4)
                if line[s : s + 1] == ",":
                    self.oldlen, s = strtol(line, s + 1)
                    oldlen = self.oldlen
                self.newline, s = strtol(line, s + 2)
                if line[s : s + 1] == ",":
                    self.newlen, s = strtol(line, s + 1)
                    newlen = self.newlen
                if oldlen < 1 and newlen < 1:
                    yield from self.out.flush()
                    raise Die(f"Really? {line}")
                self.context = 0
                state = 2
                oldname = oldname if oldname is not None else "MISSING_FILENAME"
                newname = newname if newname is not None else "MISSING_FILENAME"
                if self.filein_fd == -1:
                    first_state = yield from self.open_files(oldname, newname, target)
                    if first_state == 0:
                        state = 0
                self.hunknum += 1
                self.hunk = []
        yield from self.finish_oldfile()
        yield from self.out.flush()
        return self.exitval


@applet("patch")
@dies("patch")
def patch_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "Rup:i:NEfg\x01\x02\x03", longopts=_LONGOPTS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "patch", e.message)
        yield from show_usage(sys, "patch")
        raise Die(None) from None
    job = _Patch(sys, opts)
    operands = opts.operands
    source = opts.value("i") if "i" in opts else (operands[1] if len(operands) > 1 else None)
    fd = 0
    if source is not None and source != "-":
        try:
            fd = sys.open(source, O_RDONLY)
        except OSError as e:
            raise Die(f"can't open '{source}': {strerror(e)}") from None
    try:
        return (yield from job.run(LineReader(sys, fd), operands))
    finally:
        yield from job.out.flush_quietly()
