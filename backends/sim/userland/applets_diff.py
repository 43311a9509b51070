"""diff -- after busybox 1.35's editors/diff.c: unified output only, the
Hunt-McIlroy "stone" algorithm of BSD diff (lines hashed, sorted into
equivalence classes, the longest common subsequence found by binary
search over candidate k-lists, bounded by max(256, sqrt(n)) tries per
line unless -d), then a rescan that breaks matches of lines whose hashes
collided.  Hunks are built and printed as busybox builds them, so the
same change is shown the same way (which lines are "-" and "+" is a
property of the algorithm, not of the change).

Directories: the two trees' file lists (-r: recursively, only into
directories both sides have) compared by name, "Only in", "Common
subdirectories", -N for absent files, -S to start at a name.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    Die,
    UsageError,
    close_quietly,
    complain,
    getopt,
    read_all,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]

STATUS_SAME, STATUS_DIFFER, STATUS_BINARY = range(3)
TOK_EMPTY, TOK_EOF, TOK_EOL, TOK_SPACE = 1 << 9, 1 << 10, 1 << 11, 1 << 12
CHAR_MASK = 0x1FF
_SPACES = b" \t\n\v\f\r"

_LONGOPTS = {
    "ignore-case": "i",
    "ignore-tab-expansion": "E",
    "ignore-space-change": "b",
    "ignore-all-space": "w",
    "ignore-blank-lines": "B",
    "text": "a",
    "unified": "U",
    "label": "L",
    "show-c-function": "p",
    "brief": "q",
    "expand-tabs": "t",
    "initial-tab": "T",
    "recursive": "r",
    "new-file": "N",
    "report-identical-files": "s",
    "starting-file": "S",
    "minimal": "d",
}


class _Reader:
    """A file in memory with busybox's FILE position (``ft_pos``)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def getc(self) -> int:
        if self.pos < len(self.data):
            self.pos += 1
            return self.data[self.pos - 1]
        return -1


class _Diff:
    def __init__(self, sys: Sys, flags: set[str], context: int, labels: list[str | None]) -> None:
        self.sys, self.flags, self.context, self.labels = sys, flags, context, labels
        self.out = BufferedOutput(sys, 1)
        self.exit_status = 0

    # -- tokens --------------------------------------------------------------------------------
    def read_token(self, ft: _Reader, tok: int) -> int:
        flags = self.flags
        tok |= TOK_EMPTY
        while not tok & TOK_EOL:
            t = ft.getc()
            is_space = t == -1 or t in _SPACES
            if t == -1:
                tok |= TOK_EOF | TOK_EOL
            elif t == 10:
                tok |= TOK_EOL
            if "i" in flags and 65 <= t <= 90:
                t += 32
            if "w" in flags and is_space:
                continue
            t &= CHAR_MASK
            if "b" in flags:
                if tok & TOK_SPACE:
                    if is_space:
                        continue
                    tok &= ~TOK_SPACE
                elif is_space:
                    t = TOK_SPACE + 32
            tok &= ~(TOK_EMPTY + CHAR_MASK)
            tok |= t
            break
        return tok

    # -- the match vector ----------------------------------------------------------------------
    def create_j(self, ft: list[_Reader]) -> tuple[list[int], list[int], list[list[int]]]:
        nlen = [0, 0]
        ix: list[list[int]] = [[], []]
        values: list[list[int]] = [[], []]
        for i in range(2):
            f = ft[i]
            f.pos = 0
            offsets, hashes = [0], [0]
            while True:
                hash_ = tok = 0
                while True:
                    tok = self.read_token(f, tok)
                    if tok & TOK_EMPTY:
                        break
                    hash_ = (hash_ * 127 + (tok & CHAR_MASK)) & 0xFFFFFFFF
                hashes.append(hash_ & 0x7FFFFFFF)
                offsets.append(f.pos + (1 if tok & TOK_EOF else 0))
                if tok & TOK_EOF:
                    break
            n = len(offsets) - 1
            if offsets[n] - offsets[n - 1] == 1:  # a lone EOF "line"
                n -= 1
            nlen[i], ix[i], values[i] = n, offsets[: n + 2], hashes
        n0, n1 = nlen
        pref = 0
        while pref < n0 and pref < n1 and values[0][pref + 1] == values[1][pref + 1]:
            pref += 1
        suff = 0
        while suff < n0 - pref and suff < n1 - pref and values[0][n0 - suff] == values[1][n1 - suff]:
            suff += 1
        slen = [n0 - pref - suff, n1 - pref - suff]
        # (serial, value) of the lines between prefix and suffix, sorted by value then serial
        sfile = []
        for j in range(2):
            lines = [[s, values[j][pref + s]] for s in range(1, slen[j] + 1)]
            lines.sort(key=lambda line: (line[1], line[0]))
            sfile.append([[0, 0], *lines, [0, 0]])
        member = self._equiv(sfile[0], slen[0], sfile[1], slen[1])
        klass = [0] * (slen[0] + 2)
        for s, v in sfile[0][1 : slen[0] + 1]:
            klass[s] = v
        delta = n1 - n0
        J = [i if i <= pref else (i + delta if i > n0 - suff else 0) for i in range(n0 + 2)]
        self._stone(klass, slen[0], member, J, pref)
        J[n0 + 1] = n1 + 1
        # rescan: break the matches of lines whose hashes only collided
        i = 1
        while i <= n0:
            if J[i]:
                ft[0].pos = ix[0][i - 1]
                ft[1].pos = ix[1][J[i] - 1]
                j = J[i]
                while i <= n0 and J[i] == j:
                    tok0 = tok1 = 0
                    while True:
                        tok0 = self.read_token(ft[0], tok0)
                        tok1 = self.read_token(ft[1], tok1)
                        if (tok0 ^ tok1) & TOK_EMPTY or (
                            not tok0 & TOK_EMPTY and (tok0 & CHAR_MASK) != (tok1 & CHAR_MASK)
                        ):
                            J[i] = 0
                        if tok0 & tok1 & TOK_EMPTY:
                            break
                    i += 1
                    j += 1
            i += 1  # the C loop's own i++, after the inner one's (busybox skips that line)
        return J, nlen, ix

    @staticmethod
    def _equiv(a: list[list[int]], n: int, b: list[list[int]], m: int) -> list[int]:
        i = j = 1
        while i <= n and j <= m:
            if a[i][1] < b[j][1]:
                a[i][1] = 0
                i += 1
            elif a[i][1] == b[j][1]:
                a[i][1] = j
                i += 1
            else:
                j += 1
        while i <= n:
            a[i][1] = 0
            i += 1
        b[m + 1][1] = 0
        c = [0] * (m + 3)
        j = 1
        while j <= m:
            c[j] = -b[j][0]
            # busybox reads on past b[m + 1] when the last class is that of
            # hash 0 (-w and blank lines only) and prints garbage; we stop
            while j <= m and b[j + 1][1] == b[j][1]:
                j += 1
                c[j] = b[j][0]
            j += 1
        c[j] = -1
        return c

    def _stone(self, a: list[int], n: int, b: list[int], J: list[int], pref: int) -> None:
        bound = 2**32 - 1 if "d" in self.flags else max(256, math.isqrt(n))
        clist = [(0, 0, 0)]  # (x, y, pred)
        klist = [0] * (n + 2)
        k = 0

        def search(y: int) -> int:
            if clist[klist[k]][1] < y:
                return k + 1
            lo, hi = 0, k + 1
            while True:
                mid = (lo + hi) >> 1
                if mid <= lo:
                    return mid + 1
                t = clist[klist[mid]][1]
                if t > y:
                    hi = mid
                elif t < y:
                    lo = mid
                else:
                    return mid

        for x in range(1, n + 1):
            j = a[x]
            if j == 0:
                continue
            y = -b[j]
            pred = klist[0]
            oldl = 0
            numtries = 0
            while True:
                if y > clist[pred][1]:
                    l_ = search(y)
                    if l_ != oldl + 1:
                        pred = klist[l_ - 1]
                    if not (l_ <= k and clist[klist[l_]][1] <= y):
                        clist.append((x, y, pred))
                        tc = klist[l_]
                        klist[l_] = len(clist) - 1
                        if l_ <= k:
                            pred = tc
                            oldl = l_
                            numtries += 1
                        else:
                            k += 1
                            break
                j += 1
                y = b[j]
                if not (y > 0 and numtries < bound):
                    break
        q = clist[klist[k]]
        while q[1]:
            J[q[0] + pref] = q[1] + pref
            q = clist[q[2]]

    # -- output --------------------------------------------------------------------------------
    def fetch(self, ft: _Reader, ix: list[int], a: int, b: int, ch: str) -> None:
        out, flags = self.out, self.flags
        for i in range(a, b + 1):
            ft.pos = ix[i - 1]
            line = bytearray(ch.encode())
            if "T" in flags:
                line += b"\t"
            col = 0
            for _ in range(ix[i] - ix[i - 1]):
                c = ft.getc()
                if c == -1:
                    out.write(bytes(line) + b"\n\\ No newline at end of file\n")
                    return
                if c == 9 and "t" in flags:
                    line += b" "
                    col += 1
                    while col & 7:
                        line += b" "
                        col += 1
                else:
                    line.append(c)
                    col += 1
            out.write(bytes(line))

    def diff(self, ft: list[_Reader], names: list[str]) -> bool:
        J, nlen, ix = self.create_j(ft)
        context, flags = self.context, self.flags
        anychange = False
        i = 1
        while True:
            vec: list[tuple[tuple[int, int], tuple[int, int]]] = []
            nonempty = False
            while True:
                a0 = i
                while a0 <= nlen[0] and J[a0] == J[a0 - 1] + 1:
                    a0 += 1
                a1 = J[a0 - 1] + 1
                b0 = a0 - 1
                while b0 < nlen[0] and not J[b0 + 1]:
                    b0 += 1
                b1 = J[b0 + 1] - 1
                if a0 <= b0 or a1 <= b1:
                    ct = 2 * context + 1
                    if vec and a0 > vec[-1][0][1] + ct and a1 > vec[-1][1][1] + ct:
                        break
                    for j, (a, b) in enumerate(((a0, b0), (a1, b1))):
                        for kk in range(a, b + 1):
                            nonempty |= ix[j][kk] - ix[j][kk - 1] != 1
                    vec.append(((a0, b0), (a1, b1)))
                i = b0 + 1
                if i > nlen[0]:
                    break
                J[b0] = b1
            if vec and not ("B" in flags and not nonempty):
                if "q" not in flags:
                    if not anychange:
                        for sign, label, name in zip("-+", self.labels, names, strict=True):
                            self.out.write(f"{sign * 3} {label if label is not None else name}\n")
                    span = []
                    hunk = "@@"
                    for j in range(2):
                        a = max(1, vec[0][j][0] - context)
                        b = min(nlen[j], vec[-1][j][1] + context)
                        span.append((a, b))
                        hunk += f" {'+' if j else '-'}{min(a, b)}"
                        if a != b:
                            hunk += f",{b - a + 1 if a < b else 0}"
                    self.out.write(hunk + " @@\n")
                    lowa = span[0][0]
                    for idx in range(len(vec) + 1):
                        if idx == len(vec):
                            self.fetch(ft[0], ix[0], lowa, span[0][1], " ")
                            break
                        self.fetch(ft[0], ix[0], lowa, vec[idx][0][0] - 1, " ")
                        for j in range(2):
                            self.fetch(ft[j], ix[j], vec[idx][j][0], vec[idx][j][1], "+" if j else "-")
                        lowa = vec[idx][0][1] + 1
                anychange = True
            if i > nlen[0]:
                break
        return anychange

    # -- files ---------------------------------------------------------------------------------
    def read_file(self, name: str) -> Gen:
        """The file's bytes, or None after "can't open" (diffreg's goto out)."""
        sys = self.sys
        if name == "-":
            return (yield from read_all(sys, 0))
        try:
            fd = sys.open(name, O_RDONLY)
        except OSError as e:
            if "N" not in self.flags:
                yield from self.complain(f"can't open '{name}': {strerror(e)}")
                return None
            return b""  # -N: an absent file compares as /dev/null
        try:
            return (yield from read_all(sys, fd))
        except OSError as e:
            raise Die(f"read error: {strerror(e)}") from None
        finally:
            close_quietly(sys, fd)

    def complain(self, message: str) -> Gen:
        yield from self.out.flush()
        yield from complain(self.sys, "diff", message)

    def diffreg(self, names: list[str]) -> Gen:
        data = []
        for name in names:
            content = yield from self.read_file(name)
            if content is None:
                return STATUS_SAME
            data.append(content)
        status = STATUS_SAME
        common = min(len(data[0]), len(data[1]))
        if data[0] != data[1]:
            binary = b"\0" in data[0][:common] or b"\0" in data[1][:common]
            if binary and "a" not in self.flags:
                status = STATUS_BINARY
            elif self.diff([_Reader(data[0]), _Reader(data[1])], names):
                status = STATUS_DIFFER
        if status != STATUS_SAME:
            self.exit_status |= 1
        return status

    def print_status(self, status: int, paths: list[str]) -> None:
        if status == STATUS_BINARY or (status == STATUS_DIFFER and "q" in self.flags):
            self.out.write(f"Files {paths[0]} and {paths[1]} differ\n")
        elif status == STATUS_SAME and "s" in self.flags:
            self.out.write(f"Files {paths[0]} and {paths[1]} are identical\n")

    # -- directories ---------------------------------------------------------------------------
    def _kind(self, path: str) -> str | None:
        try:
            return self.sys.stat(path).kind.value
        except OSError:
            return None

    def _list(self, top: str, other: str) -> Gen:
        """recursive_action with add_to_dirlist/skip_dir: the names under
        ``top`` (relative to it)."""
        names: list[str] = []
        sys = self.sys

        def walk(path: str, depth: int) -> Gen:
            kind = self._kind(path)
            if kind is None:
                yield from self.complain(f"{path}: No such file or directory")
                return
            rel = path[len(top) :].lstrip("/")
            if kind != "dir":
                names.append(rel)
                return
            if "r" not in self.flags and depth:
                names.append(rel)
                return
            if "N" not in self.flags and rel:
                if self._kind(_join(other, rel)) != "dir":
                    self.exit_status |= 1
                    return
            try:
                entries = sys.listdir(path)
            except OSError as e:
                yield from self.complain(f"{path}: {strerror(e)}")
                return
            for entry in entries:
                yield from walk(_join(path, entry), depth + 1)

        yield from walk(top, 0)
        return sorted(names, key=lambda s: s.encode("utf-8", "surrogateescape"))

    def diffdir(self, p: list[str], start: str | None) -> Gen:
        lists = []
        for i in range(2):
            names = yield from self._list(p[i], p[1 - i])
            if start is not None:
                names = [n for n in names if n.encode("utf-8", "surrogateescape") >= start.encode()]
            lists.append(names)
        s = [0, 0]
        while True:
            dp = [lists[i][s[i]] if s[i] < len(lists[i]) else None for i in range(2)]
            if dp[0] is None and dp[1] is None:
                break
            if dp[0] is None:
                pos = 1
            elif dp[1] is None:
                pos = -1
            else:
                b0, b1 = (d.encode("utf-8", "surrogateescape") for d in (dp[0], dp[1]))
                pos = (b0 > b1) - (b0 < b1)
            k = 1 if pos > 0 else 0
            if pos and "N" not in self.flags:
                self.out.write(f"Only in {p[k]}: {dp[k]}\n")
                self.exit_status |= 1
            else:
                fullpath, path = ["", ""], ["", ""]
                kinds: list[str | None] = [None, None]
                for i in range(2):
                    if pos == 0 or i == k:
                        fullpath[i] = path[i] = _join(p[i], dp[i] or "")
                        kinds[i] = self._kind(fullpath[i])
                    else:
                        fullpath[i] = _join(p[i], dp[1 - i] or "")
                        path[i] = "/dev/null"
                if pos:
                    kinds[1 - k] = self._kind(fullpath[k])
                regular = ("file",)
                if kinds[0] == "dir" and kinds[1] == "dir":
                    self.out.write(f"Common subdirectories: {fullpath[0]} and {fullpath[1]}\n")
                elif kinds[0] not in regular and kinds[0] != "dir":
                    self.out.write(f"File {fullpath[0]} is not a regular file or directory and was skipped\n")
                elif kinds[1] not in regular and kinds[1] != "dir":
                    self.out.write(f"File {fullpath[1]} is not a regular file or directory and was skipped\n")
                elif (kinds[0] == "dir") != (kinds[1] == "dir"):
                    what = (
                        ["directory", "regular file"] if kinds[0] == "dir" else ["regular file", "directory"]
                    )
                    self.out.write(
                        f"File {fullpath[0]} is a {what[0]} while file {fullpath[1]} is a {what[1]}\n"
                    )
                else:
                    status = yield from self.diffreg(path)
                    self.print_status(status, fullpath)
            s[k] += 1
            if pos == 0:
                s[1 - k] += 1


def _join(path: str, name: str) -> str:
    """concat_path_file."""
    return path + ("" if path.endswith("/") else "/") + name.lstrip("/")


@applet("diff")
def diff_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "abdiL:NqrsS:tTU:wupBE", longopts=_LONGOPTS)
        if len(opts.operands) != 2:
            raise UsageError(None)
        context = 3
        if "U" in opts:
            text = opts.value("U") or ""
            context = _xatoi_positive(text)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "diff", e.message)
        yield from show_usage(sys, "diff")
        return 1
    except Die as e:
        yield from complain(sys, "diff", e.message or "")
        return 1
    labels: list[str | None] = [None, None]
    for label in opts.values.get("L", []):
        labels[1 if labels[0] is not None else 0] = label
    flags = set(opts.flags)
    d = _Diff(sys, flags, context, labels)
    try:
        status = yield from _main(sys, d, opts.operands, opts.value("S"))
    except Die as e:
        yield from d.complain(e.message or "")
        status = e.status
    yield from d.out.flush()
    return status


def _xatoi_positive(text: str) -> int:
    """getopt32's "U:+": xatoi_positive."""
    from .libc import xatou

    return xatou(text, 0, 2**31 - 1)


def _main(sys: Sys, d: _Diff, operands: list[str], start: str | None) -> Gen:
    files = list(operands)
    kinds: list[str | None] = [None, None]
    ids: list[Any] = [None, None]
    gotstdin = 0
    for i in range(2):
        if files[i] == "-":
            kind, _ = sys.fd_info(0)
            kinds[i] = kind
            gotstdin += 1
            continue
        try:
            kinds[i] = sys.stat(files[i]).kind.value
            ids[i] = sys.file_id(files[i])
        except OSError as e:
            if "N" in d.flags:
                kinds[i] = "chardev"  # stat("/dev/null")
                continue
            raise Die(f"can't stat '{files[i]}': {strerror(e)}", 2) from None
    if gotstdin and "dir" in kinds:
        raise Die("can't compare stdin to a directory")
    if ids[0] is not None and ids[0] == ids[1]:
        return 0  # the same file: nothing to compare
    if kinds[0] == "dir" and kinds[1] == "dir":
        yield from d.diffdir(files, start)
        return d.exit_status
    if "dir" in kinds:
        dir_ = 1 if kinds[1] == "dir" else 0
        other = files[1 - dir_]
        files[dir_] = _join(files[dir_], other.rsplit("/", 1)[-1])
        try:
            sys.stat(files[dir_])
        except OSError as e:
            raise Die(f"can't stat '{files[dir_]}': {strerror(e)}") from None
    status = STATUS_SAME if gotstdin > 1 else (yield from d.diffreg(files))
    d.print_status(status, files)
    return d.exit_status
