"""ls, after busybox 1.35's coreutils/ls.c: the dnode list, its sort
(name, -S, -t, -v, -X, --group-directories-first, -r), display_single's
columns (-i -s -l -n -h, times as ``ctime`` shows them or --full-time,
-F/-p indicators, -Q), -C/-x columns at the terminal width (``-w``,
``COLUMNS``, else 80; one name a line is the default, even on a
terminal: unlike busybox, this ls does not ask isatty -- see
SIMPLIFICATIONS.md, Terminals), the ``total`` line from st_blocks, -R.

Times are the kernel's mtimes in the zone ``TZ`` names (:mod:`timefmt`);
the simulated inode has one time, so -c and -u show it too.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .applets_sort import strverscmp
from .libc import (
    BufferedOutput,
    FullStat,
    basename,
    complain,
    full_stat,
    human_readable,
    id_to_name,
    mode_string,
    parse_options,
    strerror,
)

Gen = Generator[Any, Any, Any]

_LONG = {"full-time": "\x01", "group-directories-first": "\x02", "color": "\x03"}


@dataclass
class _Dn:
    name: str
    fullname: str
    st: FullStat
    mode_stat: int  # st_mode by stat(), 0 if not known

    @property
    def is_dir(self) -> bool:
        return self.st.kind == "dir"


def unicode_on(sys: Sys) -> bool:
    """init_unicode: a static glibc knows only the C.UTF-8 locale."""
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        if var in sys.env:
            return bool(re.fullmatch(r"C\.(?i:utf-?8)", sys.env[var]))
    return False


def printable(name: str, unicode: bool) -> str:
    """printable_string2: control characters (and, without Unicode, every
    byte above 0x7e) as '?'."""
    if unicode:
        data = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return "".join("?" if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\ufffd") else c for c in data)
    raw = name.encode("utf-8", "surrogateescape")
    return "".join("?" if (b < 32 or b >= 0x7F) else chr(b) for b in raw)


class _Ls:
    def __init__(self, sys: Sys, opts: Any, zone: Any) -> None:
        self.sys, self.o, self.zone = sys, opts, zone
        self.out = BufferedOutput(sys, 1)
        self.exit_code = 0
        self.unicode = unicode_on(sys)
        self.users: dict[tuple[str, int], str] = {}
        self.now = int(sys.wall_time())
        self.width = 80
        self.show_dirname = False

    def w(self, text: str) -> None:
        self.out.write(text.encode("utf-8", "surrogateescape"))

    def has(self, flag: str) -> bool:
        return flag in self.o

    # -- stat ------------------------------------------------------------------------
    def my_stat(self, fullname: str, name: str, force_follow: bool) -> Gen:
        follow = self.has("L") or force_follow
        try:
            st = full_stat(self.sys, fullname, follow)
        except OSError as e:
            yield from self.out.flush()
            yield from complain(self.sys, "ls", f"{fullname}: {strerror(e)}")
            self.exit_code = 1
            return None
        return _Dn(name, fullname, st, st.st_mode if follow else 0)

    # -- sorting ------------------------------------------------------------------------
    def sort(self, dns: list[_Dn]) -> list[_Dn]:
        import functools

        def cmp(d1: _Dn, d2: _Dn) -> int:
            dif = 0
            if self.has("\x02"):
                dif = int(d2.is_dir) - int(d1.is_dir)
                if dif:
                    return -dif if self.has("r") else dif
            if self.has("S"):
                dif = d2.st.size - d1.st.size
            elif self.has("t"):
                dif = int(d2.st.mtime) - int(d1.st.mtime)
            elif self.has("v"):
                dif = strverscmp(d1.name, d2.name)
            elif self.has("X"):
                e1 = d1.name[d1.name.index(".") :] if "." in d1.name else ""
                e2 = d2.name[d2.name.index(".") :] if "." in d2.name else ""
                dif = _strcmp(e1, e2)
            if dif == 0:
                dif = _strcmp(d1.name, d2.name)
            dif = (dif > 0) - (dif < 0)
            return -dif if self.has("r") else dif

        return sorted(dns, key=functools.cmp_to_key(cmp))

    # -- output ---------------------------------------------------------------------------
    def append_char(self, mode: int) -> str:
        if not (self.has("F") or self.has("p")):
            return ""
        if mode & 0o170000 == 0o040000:
            return "/"
        if not self.has("F"):
            return ""
        if mode & 0o170000 == 0o100000 and mode & 0o111:
            return "*"
        return {0o010000: "|", 0o120000: "@", 0o140000: "="}.get(mode & 0o170000, "")

    def name_text(self, name: str) -> str:
        text = printable(name, self.unicode)
        if self.has("Q"):
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    def owner(self, db: str, ident: int) -> Gen:
        key = (db, ident)
        if key not in self.users:
            self.users[key] = (yield from id_to_name(self.sys, db, ident)) or str(ident)
        return self.users[key]

    def display_single(self, dn: _Dn) -> Gen:
        st = dn.st
        mode = st.st_mode
        append = self.append_char(mode)
        parts = []
        lpath = None
        if self.has("l") and st.kind == "symlink":
            try:
                lpath = self.sys.readlink(dn.fullname)
            except OSError as e:
                yield from self.out.flush()
                yield from complain(self.sys, "ls", f"{dn.fullname}: {strerror(e)}")
        if self.has("i"):
            parts.append(f"{st.ino:7d} ")
        if self.has("s"):
            parts.append(f"{st.blocks >> 1:6d} ")
        if self.has("l"):
            parts.append(f"{mode_string(mode):<10} {st.nlink:4d} ")
            if self.has("n"):
                parts.append(f"{st.gid:<8d} " if self.has("g") else f"{st.uid:<8d} {st.gid:<8d} ")
            else:
                group = yield from self.owner("/etc/group", st.gid)
                if self.has("g"):
                    parts.append(f"{group:<8.8} ")
                else:
                    user = yield from self.owner("/etc/passwd", st.uid)
                    parts.append(f"{user:<8.8} {group:<8.8} ")
            if st.is_device:
                parts.append(f"{st.rdev >> 8 & 0xFFF:4d}, {st.rdev & 0xFF | (st.rdev >> 12) & ~0xFF:3d} ")
            elif self.has("h"):
                parts.append(f"{human_readable(st.size, 1, 0):>7} ")
            else:
                parts.append(f"{st.size:9d} ")
            t = int(st.mtime // 1)
            tm = timefmt.localtime(self.zone, t)
            if self.has("\x01"):
                parts.append(timefmt.strftime("%Y-%m-%d %H:%M:%S %z", tm) + " ")
            else:
                text = timefmt.ctime(tm)
                age = self.now - t
                if age < 3600 * 24 * 365 // 2 and age > -15 * 60:
                    parts.append(text[4:16] + " ")
                else:
                    parts.append(f"{text[4:11]}{text[20:] + ' ':>6}")
        column = len("".join(parts))
        name = self.name_text(dn.name)
        parts.append(name)
        column += _width(name)
        if lpath is not None:
            if self.has("F") or self.has("p"):
                target_mode = dn.mode_stat
                if not target_mode:
                    try:
                        target_mode = full_stat(self.sys, dn.fullname).st_mode
                    except OSError:
                        target_mode = 0
                append = self.append_char(target_mode)
            target = self.name_text(lpath)
            parts.append(" -> " + target)
            column += _width(target) + 4
        if append:
            parts.append(append)
            column += 1
        self.w("".join(parts))
        return column

    def display_files(self, dns: list[_Dn]) -> Gen:
        if self.has("l") or self.has("1"):
            ncols = 1
        else:
            column_width = max(_width(self.name_text(d.name)) for d in dns) if dns else 0
            column_width += 2 + (8 if self.has("i") else 0) + (5 if self.has("s") else 0)
            ncols = self.width // column_width if column_width else 1
        nfiles = len(dns)
        if ncols > 1:
            nrows = -(-nfiles // ncols)
        else:
            nrows, ncols = nfiles, 1
        for row in range(nrows):
            column = nexttab = 0
            for nc in range(ncols):
                i = row * ncols + nc if self.has("x") else nc * nrows + row
                if i < nfiles:
                    if column > 0:
                        nexttab -= column
                        self.w(" " * nexttab)
                        column += nexttab
                    nexttab = column + (column_width if ncols > 1 else 0)
                    column += yield from self.display_single(dns[i])
            self.w("\n")
            yield from self.out.drain()

    def scan_one_dir(self, path: str) -> Gen:
        try:
            names = self.sys.listdir(path)
        except OSError as e:
            yield from self.out.flush()
            yield from complain(self.sys, "ls", f"{path}: {strerror(e)}")
            self.exit_code = 1
            return None
        result = []
        for entry in [".", ".."] + names:
            if entry.startswith("."):
                if not (self.has("a") or self.has("A")):
                    continue
                if not self.has("a") and entry in (".", ".."):
                    continue
            fullname = path + entry if path.endswith("/") else path + "/" + entry
            dn = yield from self.my_stat(
                fullname, basename(fullname) if entry not in (".", "..") else entry, False
            )
            if dn is not None:
                result.append(dn)
        return result

    def scan_and_display_dirs(self, dns: list[_Dn], first: bool) -> Gen:
        for dn in dns:
            if self.show_dirname or self.has("R"):
                if not first:
                    self.w("\n")
                first = False
                self.w(f"{dn.fullname}:\n")
            sub = yield from self.scan_one_dir(dn.fullname)
            if self.has("s") or self.has("l"):
                blocks = (1 + sum(d.st.blocks for d in sub or [])) >> 1
                if self.has("h"):
                    self.w(f"total {human_readable(blocks * 1024, 0, 0):<7}\n")
                else:
                    self.w(f"total {blocks}\n")
            if sub:
                sub = self.sort(sub)
                yield from self.display_files(sub)
                if self.has("R"):
                    subdirs = [d for d in sub if d.is_dir and d.name not in (".", "..")]
                    if subdirs:
                        yield from self.scan_and_display_dirs(self.sort(subdirs), False)


def _strcmp(a: str, b: str) -> int:
    ab, bb = a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
    return (ab > bb) - (ab < bb)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_ON = {"n": "l", "g": "l", "\x01": "l"}
_OFF = {
    "t": "S",
    "S": "t",
    "H": "L",
    "L": "H",
    "C": "xl1",
    "x": "Cl1",
    "l": "xC",
    "1": "Cx",
    "c": "u",
    "u": "c",
}


def _flags_in_order(argv: list[str]) -> set[str]:
    """getopt32's complementary rules, applied in the order the options
    came: -n/-g/--full-time turn on -l; of -t/-S, -L/-H, -c/-u the last
    wins; -C, -x, -l and -1 switch each other off."""
    flags: set[str] = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            break
        if arg.startswith("--"):
            if "full-time".startswith(arg[2:].partition("=")[0]) and len(arg) > 2:
                flags.add("l")
            continue
        if not arg.startswith("-") or arg == "-":
            continue
        for j, ch in enumerate(arg[1:], 1):
            if ch in "Tw":
                if j == len(arg) - 1:
                    i += 1
                break
            flags.add(ch)
            flags.update(_ON.get(ch, ""))
            flags.difference_update(_OFF.get(ch, ""))
    return flags


@applet("ls")
def ls_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "ls", "Cadi1lgnsxAkFpRQctuSXrvLHhT:w:\x03::", longopts=_LONG)
    if opts is None:
        return 1
    ordered = _flags_in_order(sys.argv[1:])
    for ch in "lStHLCx1cu":
        if ch in ordered:
            opts.flags[ch] = 1
        else:
            opts.flags.pop(ch, None)
    width_text = opts.value("w")
    zone = yield from timefmt.load_zone(sys)
    ls = _Ls(sys, opts, zone)
    cols = sys.env.get("COLUMNS")
    width = int(cols) if cols and cols.lstrip("-").isdigit() else 80
    if width <= 1 or width >= 30000:
        width = 80
    ls.width = width - 1
    if width_text is not None:
        try:
            ls.width = int(width_text)
        except ValueError:
            yield from complain(sys, "ls", f"invalid number '{width_text}'")
            return 1
    if "d" in opts:
        opts.flags.pop("R", None)
    if "l" not in opts and ("c" in opts or "u" in opts):
        opts.flags["t"] = 1
    if not any(ch in opts for ch in "l1xC"):
        opts.flags["1"] = 1  # stdout is never a terminal here
    operands = opts.operands or ["."]
    if len(operands) > 1:
        ls.show_dirname = True
    follow_args = not any(ch in opts for ch in "lisF") or "H" in opts
    dns: list[_Dn] = []
    for arg in operands:
        dn = yield from ls.my_stat(arg, arg, follow_args)
        if dn is not None:
            dns.append(dn)
    dns.reverse()  # busybox builds the list by pushing onto its head
    if not dns:
        yield from ls.out.flush()
        return ls.exit_code
    if "d" in opts:
        yield from ls.display_files(ls.sort(dns))
    else:
        files = [d for d in dns if not d.is_dir]
        dirs = [d for d in dns if d.is_dir]
        if files:
            yield from ls.display_files(ls.sort(files))
        if dirs:
            yield from ls.scan_and_display_dirs(ls.sort(dirs), not files)
    yield from ls.out.flush()
    return ls.exit_code
