"""Applets that look at files and make them: ls, mkdir, rmdir, touch, ln,
readlink, stat, dd, pwd.  (rm/cp/mv: applets_copy; chmod/chown/chgrp:
applets_owners.)

Messages and exit codes are busybox 1.35's.  The one thing the ``Sys``
surface cannot give is a timestamp (:class:`StatResult` has none, on
purpose: times legitimately differ between backends), so ``ls -l`` and
``stat`` show the epoch.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .applets_copy import target_is_dir
from .applets_owners import parse_mode
from .libc import (
    Options,
    basename,
    close_quietly,
    complain,
    errno_is,
    id_to_name,
    join,
    out,
    parse_options,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, int]
EPOCH_LS = "Jan  1  1970"
EPOCH_STAT = "1970-01-01 00:00:00.000000000 +0000"
# Device numbers of the usual /dev nodes (StatResult carries no rdev).
_DEVNUMS = {
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
    "console": (5, 1),
}


def mode_string(st: Any) -> str:
    """``drwxr-xr-x`` from a StatResult."""
    kind = st.kind.value
    first = {"dir": "d", "symlink": "l"}.get(kind, "c" if st.is_device else "-")
    m = st.mode
    chars = []
    for shift, special, sch in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        r = "r" if m & (4 << shift) else "-"
        w = "w" if m & (2 << shift) else "-"
        x = bool(m & (1 << shift))
        if m & special:
            xc = sch if x else sch.upper()
        else:
            xc = "x" if x else "-"
        chars.append(r + w + xc)
    return first + "".join(chars)


def _blocks(st: Any) -> int:
    """1K blocks, as a 4K-block filesystem would allocate."""
    if st.kind.value == "symlink" or st.is_device:
        return 0
    return (st.size + 4095) // 4096 * 4


class _Names:
    """uid/gid -> name, cached (ls -l asks for every file)."""

    def __init__(self, sys: Sys) -> None:
        self.sys, self.cache = sys, {}

    def get(self, db: str, ident: int) -> Gen:
        key = (db, ident)
        if key not in self.cache:
            self.cache[key] = (yield from id_to_name(self.sys, db, ident)) or str(ident)
        return self.cache[key]


# -- ls ---------------------------------------------------------------------------------


@applet("ls")
def ls_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "ls", "1AaCxdLHRFplinshrSXvctueQ")
    if opts is None:
        return 1
    names = _Names(sys)
    operands = opts.operands or ["."]
    status = 0
    files: list[tuple[str, Any]] = []
    dirs: list[tuple[str, Any]] = []
    for path in operands:
        try:
            st = sys.lstat(path)
            # a symlink named on the command line is followed unless the
            # listing is about the link itself (-l, -d, -F without -H/-L)
            if st.kind.value == "symlink" and (
                "L" in opts or "H" in opts or not opts.flags.keys() & set("ldF")
            ):
                try:
                    st = sys.stat(path)
                except OSError:
                    pass
        except OSError as e:
            yield from complain(sys, "ls", f"{path}: {strerror(e)}")
            status = 1
            continue
        if st.kind.value == "dir" and "d" not in opts:
            dirs.append((path, st))
        else:
            files.append((path, st))
    files = _sort_entries(files, opts)
    dirs = _sort_entries(dirs, opts)
    if files:
        yield from _print_entries(sys, [(p, p, st) for p, st in files], opts, names)
    show_headers = len(files) + len(dirs) > 1 or "R" in opts
    for i, (path, _st) in enumerate(dirs):
        if files or i:
            yield from out(sys, "\n")
        status |= yield from _list_dir(sys, path, opts, names, show_headers)
    return status


def _sort_entries(entries: list[tuple[str, Any]], opts: Options) -> list[tuple[str, Any]]:
    if "S" in opts:
        entries = sorted(entries, key=lambda e: (-e[1].size, e[0]))
    else:
        entries = sorted(entries, key=lambda e: e[0].encode("utf-8", "surrogateescape"))
    if "r" in opts:
        entries.reverse()
    return entries


def _list_dir(sys: Sys, path: str, opts: Options, names: _Names, header: bool) -> Gen:
    if header:
        yield from out(sys, f"{path}:\n")
    try:
        entries = sys.listdir(path)
    except OSError as e:
        yield from complain(sys, "ls", f"{path}: {strerror(e)}")
        return 1
    if "a" in opts:
        entries = [".", ".."] + entries
    elif "A" not in opts:
        entries = [n for n in entries if not n.startswith(".")]
    else:
        entries = [n for n in entries if n not in (".", "..")]
    stated = []
    for name in entries:
        full = join(path, name)
        try:
            st = sys.stat(full) if "L" in opts else sys.lstat(full)
        except OSError as e:
            yield from complain(sys, "ls", f"{full}: {strerror(e)}")
            continue
        stated.append((name, st))
    stated = _sort_entries(stated, opts)
    if "l" in opts or "n" in opts or "s" in opts:
        yield from out(sys, f"total {sum(_blocks(st) for _, st in stated)}\n")
    yield from _print_entries(sys, [(n, join(path, n), st) for n, st in stated], opts, names)
    status = 0
    if "R" in opts:
        for name, st in stated:
            if st.kind.value == "dir" and name not in (".", ".."):
                yield from out(sys, "\n")
                status |= yield from _list_dir(sys, join(path, name), opts, names, True)
    return status


def _print_entries(sys: Sys, entries: list[tuple[str, str, Any]], opts: Options, names: _Names) -> Gen:
    lines = []
    for shown, full, st in entries:
        suffix = ""
        kind = st.kind.value
        if "F" in opts or "p" in opts:
            if kind == "dir":
                suffix = "/"
            elif "F" in opts and kind == "symlink":
                suffix = "@"
            elif "F" in opts and st.mode & 0o111 and kind == "file":
                suffix = "*"
        if "Q" in opts:
            shown = '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
        prefix = ""
        if "i" in opts:
            prefix += f"{0:8d} "
        if "s" in opts:
            prefix += f"{_blocks(st):6d} "
        if "l" in opts or "n" in opts:
            if "n" in opts:
                user, group = str(st.uid), str(st.gid)
            else:
                user = yield from names.get("/etc/passwd", st.uid)
                group = yield from names.get("/etc/group", st.gid)
            if st.is_device:
                major, minor = _DEVNUMS.get(basename(full), (0, 0))
                size = f"{major:4d},{minor:4d}"
            else:
                size = f"{st.size:9d}"
            line = f"{mode_string(st)} {st.nlink:4d} {user:<8.8} {group:<8.8} {size} {EPOCH_LS} {shown}"
            if kind == "symlink":
                try:
                    line += f" -> {sys.readlink(full)}"
                except OSError:
                    pass
            lines.append(prefix + line + suffix)
        else:
            lines.append(prefix + shown + suffix)
    if lines:
        yield from out(sys, "\n".join(lines) + "\n")


# -- directories ------------------------------------------------------------------------


@applet("mkdir")
def mkdir_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mkdir", "pm:v", need_operands=True)
    if opts is None:
        return 1
    mode = None
    if "m" in opts:
        mode = parse_mode(opts.value("m") or "", 0o777, True)
        if mode is None:
            yield from complain(sys, "mkdir", f"invalid mode '{opts.value('m')}'")
            return 1
    status = 0
    for path in opts.operands:
        targets = [path]
        if "p" in opts:
            # busybox makes each parent with its trailing slash ("a/"), so a
            # parent that is a file fails with ENOTDIR, named with the slash.
            parts = path.rstrip("/").split("/")
            targets = [
                "/".join(parts[:i]) + ("/" if i < len(parts) else "") for i in range(1, len(parts) + 1)
            ]
            targets = [t for t in targets if t.strip("/")]
        for i, target in enumerate(targets):
            last = i == len(targets) - 1
            try:
                sys.mkdir(target, 0o777)
                if mode is not None and last:
                    sys.chmod(target, mode)
            except OSError as e:
                if "p" in opts and errno_is(e, "EEXIST"):
                    # busybox stats what is there; its errno is the one shown.
                    try:
                        if sys.stat(target).kind.value == "dir":
                            continue
                    except OSError as stat_error:
                        e = stat_error
                yield from complain(
                    sys,
                    "mkdir",
                    f"can't create directory '{path if 'p' not in opts else target}': {strerror(e)}",
                )
                status = 1
                break
    return status


@applet("rmdir")
def rmdir_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "rmdir", "pv", need_operands=True)
    if opts is None:
        return 1
    status = 0
    for path in opts.operands:
        targets = [path]
        if "p" in opts:
            parts = path.rstrip("/").split("/")
            targets = ["/".join(parts[:i]) for i in range(len(parts), 0, -1) if "/".join(parts[:i])]
        for target in targets:
            try:
                sys.rmdir(target)
            except OSError as e:
                yield from complain(sys, "rmdir", f"'{target}': {strerror(e)}")
                status = 1
                break
    return status


@applet("touch")
def touch_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "touch", "cd:t:r:am", need_operands=True)
    if opts is None:
        return 1
    status = 0
    for path in opts.operands:
        # busybox: utimes() first; only a missing file is created.
        try:
            sys.utime(path)
            continue
        except OSError as e:
            if not errno_is(e, "ENOENT"):
                yield from complain(sys, "touch", f"{path}: {strerror(e)}")
                status = 1
                continue
        if "c" in opts:
            continue
        try:
            close_quietly(sys, sys.open(path, O_WRONLY | O_CREAT, 0o666))
        except OSError as e:
            yield from complain(sys, "touch", f"{path}: {strerror(e)}")
            status = 1
    return status


@applet("ln")
def ln_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "ln", "sfnbS:vT", need_operands=True)
    if opts is None:
        return 1
    operands = opts.operands
    if len(operands) == 1:
        operands = operands + [basename(operands[0])]
    *sources, dest = operands
    into_dir = "n" not in opts and target_is_dir(sys, dest)
    if len(sources) > 1 and not into_dir:
        yield from complain(sys, "ln", f"'{dest}' is not a directory")
        return 1
    status = 0
    for src in sources:
        target = join(dest, basename(src)) if into_dir else dest
        if "s" not in opts:
            try:
                sys.stat(src)
            except OSError as e:
                yield from complain(sys, "ln", f"{src}: {strerror(e)}")
                status = 1
                continue
        if "f" in opts:
            try:
                sys.unlink(target)
            except OSError:
                pass
        try:
            if "s" in opts:
                sys.symlink(src, target)
            else:
                sys.link(src, target)
        except OSError as e:
            yield from complain(sys, "ln", f"{target}: {strerror(e)}")
            status = 1
    return status


def _canonicalize(sys: Sys, path: str, depth: int = 0) -> str | None:
    """readlink -f: an absolute path with every symlink resolved."""
    if depth > 40:
        return None
    cwd = sys.getcwd()
    full = path if path.startswith("/") else cwd.rstrip("/") + "/" + path
    parts: list[str] = []
    comps = [c for c in full.split("/") if c and c != "."]
    for i, comp in enumerate(comps):
        if comp == "..":
            if parts:
                parts.pop()
            continue
        candidate = "/" + "/".join(parts + [comp])
        try:
            st = sys.lstat(candidate)
        except OSError:
            if i == len(comps) - 1:
                parts.append(comp)  # the last component may be missing
                continue
            return None
        if st.kind.value == "symlink":
            target = sys.readlink(candidate)
            base = "/" + "/".join(parts)
            resolved = _canonicalize(
                sys, target if target.startswith("/") else base.rstrip("/") + "/" + target, depth + 1
            )
            if resolved is None:
                return None
            parts = [c for c in resolved.split("/") if c]
        else:
            parts.append(comp)
    return "/" + "/".join(parts)


@applet("readlink")
def readlink_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "readlink", "fenqsv")
    if opts is None:
        return 1
    if len(opts.operands) != 1:
        yield from show_usage(sys, "readlink")
        return 1
    path = opts.operands[0]
    if "f" in opts or "e" in opts:
        result = _canonicalize(sys, path)
    else:
        try:
            result = sys.readlink(path)
        except OSError:
            result = None
    if result is None:
        return 1
    yield from out(sys, result + ("" if "n" in opts else "\n"))
    return 0


# -- stat -------------------------------------------------------------------------------

_TYPE_NAMES = {"file": "regular file", "dir": "directory", "symlink": "symbolic link"}


def _type_name(st: Any) -> str:
    if st.is_device:
        return "character special file"
    if st.kind.value == "file" and st.size == 0:
        return "regular empty file"
    return _TYPE_NAMES.get(st.kind.value, st.kind.value)


@applet("stat")
def stat_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "stat", "c:fLt", need_operands=True)
    if opts is None:
        return 1
    status = 0
    for path in opts.operands:
        try:
            st = sys.stat(path) if "L" in opts else sys.lstat(path)
        except OSError as e:
            yield from complain(sys, "stat", f"can't stat '{path}': {strerror(e)}")
            status = 1
            continue
        # ls shows an unnamed id as the number; stat says UNKNOWN.
        user = (yield from id_to_name(sys, "/etc/passwd", st.uid)) or "UNKNOWN"
        group = (yield from id_to_name(sys, "/etc/group", st.gid)) or "UNKNOWN"
        link = ""
        if st.kind.value == "symlink":
            try:
                link = sys.readlink(path)
            except OSError:
                pass
        fmt = opts.value("c")
        if fmt is not None:
            yield from out(sys, _stat_format(fmt, path, st, user, group, link) + "\n")
            continue
        shown = f"'{path}' -> '{link}'" if link else f"'{path}'"
        blocks = _blocks(st) * 2
        text = (
            f"  File: {shown}\n"
            f"  Size: {st.size:<10d}\tBlocks: {blocks:<10d} IO Block: 4096   {_type_name(st)}\n"
            f"Device: 0h/0d\tInode: {0:<11d} Links: {st.nlink}\n"
            f"Access: ({st.mode & 0o7777:04o}/{mode_string(st)})  Uid: ({st.uid:5d}/{user:>8})"
            f"   Gid: ({st.gid:5d}/{group:>8})\n"
            f"Access: {EPOCH_STAT}\nModify: {EPOCH_STAT}\nChange: {EPOCH_STAT}\n"
        )
        yield from out(sys, text)
    return status


def _stat_format(fmt: str, path: str, st: Any, user: str, group: str, link: str) -> str:
    values = {
        "n": path,
        "N": f"'{path}' -> '{link}'" if link else f"'{path}'",
        "s": str(st.size),
        "a": f"{st.mode & 0o7777:o}",
        "A": mode_string(st),
        "F": _type_name(st),
        "U": user,
        "G": group,
        "u": str(st.uid),
        "g": str(st.gid),
        "h": str(st.nlink),
        "b": str(_blocks(st) * 2),
        "B": "512",
        "i": "0",
        "d": "0",
        "D": "0",
        "t": "0",
        "T": "0",
        "o": "4096",
        "X": "0",
        "Y": "0",
        "Z": "0",
        "x": EPOCH_STAT,
        "y": EPOCH_STAT,
        "z": EPOCH_STAT,
        "%": "%",
        "f": f"{(0o40000 if st.kind.value == 'dir' else 0o120000 if st.kind.value == 'symlink' else 0o100000) | st.mode:x}",
    }
    return re.sub(r"%(.)", lambda m: values.get(m.group(1), "?"), fmt)


# -- dd ---------------------------------------------------------------------------------


def _size(text: str) -> int | None:
    m = re.fullmatch(r"(\d+)([cwbkKMG]?)", text)
    if not m:
        return None
    mult = {"": 1, "c": 1, "w": 2, "b": 512, "k": 1024, "K": 1024, "M": 1 << 20, "G": 1 << 30}[m.group(2)]
    return int(m.group(1)) * mult


@applet("dd")
def dd_main(sys: Sys) -> Gen:
    params = {"bs": "512"}
    for arg in sys.argv[1:]:
        key, eq, value = arg.partition("=")
        if not eq or key not in (
            "if",
            "of",
            "bs",
            "ibs",
            "obs",
            "count",
            "skip",
            "seek",
            "conv",
            "status",
            "iflag",
            "oflag",
        ):
            yield from complain(sys, "dd", f"invalid argument '{arg}'" if eq else f"invalid argument '{arg}'")
            yield from show_usage(sys, "dd")
            return 1
        params[key] = value
    bs = _size(params.get("ibs", params["bs"]))
    count = _size(params["count"]) if "count" in params else None
    skip = _size(params.get("skip", "0")) or 0
    if bs is None or bs == 0 or ("count" in params and count is None):
        yield from complain(sys, "dd", "invalid number")
        return 1
    infd, outfd = 0, 1
    if "if" in params:
        try:
            infd = sys.open(params["if"], O_RDONLY)
        except OSError as e:
            yield from complain(sys, "dd", f"can't open '{params['if']}': {strerror(e)}")
            return 1
    if "of" in params:
        trunc = 0 if "notrunc" in params.get("conv", "") else O_TRUNC
        try:
            outfd = sys.open(params["of"], O_WRONLY | O_CREAT | trunc, 0o666)
        except OSError as e:
            yield from complain(sys, "dd", f"can't open '{params['of']}': {strerror(e)}")
            return 1
    full_in = part_in = 0
    status = 0
    try:
        for _ in range(skip):
            if not (yield from read_chunk(sys, infd, bs)):
                break
        while count is None or full_in + part_in < count:
            block = b""
            while len(block) < bs:
                chunk = yield from read_chunk(sys, infd, bs - len(block))
                if not chunk:
                    break
                block += chunk
                if infd == 0:
                    break  # a pipe gives partial blocks
            if not block:
                break
            if len(block) == bs:
                full_in += 1
            else:
                part_in += 1
            yield from sys.alloc(len(block))
            try:
                yield from write_all(sys, outfd, block)
            finally:
                sys.free(len(block))
            yield from sys.burn(1 + len(block) // 65536)
    except OSError as e:
        yield from complain(sys, "dd", strerror(e))
        status = 1
    finally:
        close_quietly(sys, infd)
        close_quietly(sys, outfd)
    if params.get("status") not in ("none", "noxfer") or params.get("status") == "noxfer":
        if params.get("status") != "none":
            yield from write_all(sys, 2, f"{full_in}+{part_in} records in\n{full_in}+{part_in} records out\n")
    return status


@applet("pwd")
def pwd_main(sys: Sys) -> Gen:
    yield from out(sys, sys.getcwd() + "\n")
    return 0
