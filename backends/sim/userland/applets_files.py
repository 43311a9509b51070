"""Applets that work on files and directories: ls, mkdir, rmdir, rm, mv,
cp, touch, ln, chmod, chown, chgrp, readlink, stat, dd, pwd.

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
from .libc import (
    Options, basename, close_quietly, complain, errno_is, id_to_name, join, out, parse_options,
    read_chunk, read_text, show_usage, strerror, write_all,
)
from .registry import applet

Gen = Generator[Any, Any, int]
EPOCH_LS = "Jan  1  1970"
EPOCH_STAT = "1970-01-01 00:00:00.000000000 +0000"
# Device numbers of the usual /dev nodes (StatResult carries no rdev).
_DEVNUMS = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
            "urandom": (1, 9), "tty": (5, 0), "console": (5, 1)}



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
            if st.kind.value == "symlink" and ("L" in opts or "H" in opts
                                               or not opts.flags.keys() & set("ldF")):
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

def _parse_mode(text: str, base: int, is_dir: bool = False) -> int | None:
    """Octal or symbolic (``u+x,go-w``, ``a=r``, ``+X``) chmod modes."""
    if re.fullmatch(r"[0-7]{1,4}", text):
        return int(text, 8)
    mode = base
    for clause in text.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not m:
            return None
        who, op, perms = m.groups()
        mask = 0
        for w in who or "a":
            mask |= {"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}[w]
        bits = 0
        for p in perms:
            if p == "r":
                bits |= 0o444
            elif p == "w":
                bits |= 0o222
            elif p == "x" or (p == "X" and (is_dir or base & 0o111)):
                bits |= 0o111
            elif p == "s":
                bits |= 0o6000
            elif p == "t":
                bits |= 0o1000
        bits &= mask
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mode = (mode & ~mask) | bits
    return mode


def _lookup_id(sys: Sys, prog: str, db: str, name: str) -> Gen:
    """A uid/gid from a name (or a number) in the container's own db, or
    None.  Like busybox's parser, a line with the wrong number of fields is
    reported ("bad record") and skipped."""
    # A number is looked up as a name first (getpwnam), as busybox does.
    text = yield from read_text(sys, db)
    fields_wanted = 7 if db == "/etc/passwd" else 4
    for line in text.split("\n"):
        if not line:
            continue
        fields = line.split(":")
        if len(fields) != fields_wanted:
            yield from complain(sys, prog, f"{db}: bad record")
            continue
        if fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return int(name) if name.isdigit() else None


def _chown_tree(sys: Sys, prog: str, paths: list[str], uid: int, gid: int,
                recursive: bool, follow: bool) -> Gen:
    status = 0

    def apply(path: str, top: bool) -> Gen:
        try:
            # chown(2) follows a symlink named on the command line; inside -R
            # the walk changes the link itself (lchown), as busybox does.
            sys.chown(path, uid, gid, follow and top)
        except OSError as e:
            yield from complain(sys, prog, f"{path}: {strerror(e)}")
            return 1
        result = 0
        if recursive:
            try:
                st = sys.stat(path) if top and follow else sys.lstat(path)
            except OSError:
                return result
            if st.kind.value == "dir":
                for name in sys.listdir(path):
                    result |= yield from apply(join(path, name), False)
        return result

    for path in paths:
        status |= yield from apply(path, True)
    return status


def _owner_options(sys: Sys, prog: str) -> tuple[list[str], bool, bool] | None:
    args = list(sys.argv[1:])
    recursive, follow = False, True
    while args and args[0].startswith("-") and len(args[0]) > 1:
        for flag in args.pop(0)[1:]:
            if flag == "R":
                recursive = True
            elif flag == "h":
                follow = False
            elif flag not in "cvfLHP":
                return None
    return args, recursive, follow


@applet("chown")
def chown_main(sys: Sys) -> Gen:
    parsed = _owner_options(sys, "chown")
    if parsed is None or len(parsed[0]) < 2:
        yield from show_usage(sys, "chown")
        return 1
    args, recursive, follow = parsed
    spec, paths = args[0], args[1:]
    user, sep, group = spec.partition(":") if ":" in spec else spec.partition(".")
    uid = gid = -1
    if user:
        uid = yield from _lookup_id(sys, "chown", "/etc/passwd", user)
        if uid is None:
            yield from complain(sys, "chown", f"unknown user {user}")
            return 1
    if group:
        gid = yield from _lookup_id(sys, "chown", "/etc/group", group)
        if gid is None:
            yield from complain(sys, "chown", f"unknown user/group {spec}")
            return 1
    return (yield from _chown_tree(sys, "chown", paths, uid, gid, recursive, follow))


@applet("chgrp")
def chgrp_main(sys: Sys) -> Gen:
    parsed = _owner_options(sys, "chgrp")
    if parsed is None or len(parsed[0]) < 2:
        yield from show_usage(sys, "chgrp")
        return 1
    args, recursive, follow = parsed
    gid = yield from _lookup_id(sys, "chgrp", "/etc/group", args[0])
    if gid is None:
        yield from complain(sys, "chgrp", f"unknown group {args[0]}")
        return 1
    return (yield from _chown_tree(sys, "chgrp", args[1:], -1, gid, recursive, follow))


@applet("mkdir")
def mkdir_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mkdir", "pm:v", need_operands=True)
    if opts is None:
        return 1
    mode = None
    if "m" in opts:
        mode = _parse_mode(opts.value("m") or "", 0o777, True)
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
            targets = ["/".join(parts[:i]) + ("/" if i < len(parts) else "")
                       for i in range(1, len(parts) + 1)]
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
                yield from complain(sys, "mkdir", f"can't create directory '{path if 'p' not in opts else target}': {strerror(e)}")
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


def _lstat_failed(sys: Sys, path: str, e: OSError, force: bool) -> Gen:
    """busybox remove_file(): a missing name is "can't remove" (silent with
    -f); any other lstat error is "can't stat", even with -f."""
    if not errno_is(e, "ENOENT"):
        yield from complain(sys, "rm", f"can't stat '{path}': {strerror(e)}")
        return 1
    if force:
        return 0
    yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
    return 1


def _remove_tree(sys: Sys, path: str, force: bool) -> Gen:
    try:
        st = sys.lstat(path)
    except OSError as e:
        return (yield from _lstat_failed(sys, path, e, force))
    status = 0
    if st.kind.value == "dir":
        try:
            names = sys.listdir(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            return 1
        for name in names:
            status |= yield from _remove_tree(sys, join(path, name), force)
        yield from sys.burn(1)
        try:
            sys.rmdir(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            return 1
        return status
    try:
        sys.unlink(path)
    except OSError as e:
        yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
        return 1
    return 0


@applet("rm")
def rm_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "rm", "firRv")
    if opts is None:
        return 1
    force = "f" in opts
    if not opts.operands:
        if force:
            return 0
        yield from show_usage(sys, "rm")
        return 1
    status = 0
    for path in opts.operands:
        if basename(path) in (".", ".."):
            yield from complain(sys, "rm", "can't remove '.' or '..'")
            status = 1
            continue
        if "r" in opts or "R" in opts:
            status |= yield from _remove_tree(sys, path, force)
            continue
        try:
            st = sys.lstat(path)
        except OSError as e:
            status |= yield from _lstat_failed(sys, path, e, force)
            continue
        if st.kind.value == "dir":
            yield from complain(sys, "rm", f"'{path}' is a directory")
            status = 1
            continue
        try:
            sys.unlink(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            status = 1
    return status


# -- copying and moving -----------------------------------------------------------------

def _copy_file(sys: Sys, src: str, dst: str, mode: int) -> Gen:
    """Open both, then copy in chunks -- as busybox does, so copying a file
    onto a symlink to itself truncates it first and copies nothing."""
    fd = sys.open(src, O_RDONLY)
    try:
        try:
            wfd = sys.open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode)
        except OSError as e:
            if errno_is(e, "EACCES"):
                sys.unlink(dst)          # cp -f: remove and retry
                wfd = sys.open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode)
            else:
                raise
        try:
            while True:
                chunk = yield from read_chunk(sys, fd)
                if not chunk:
                    break
                yield from write_all(sys, wfd, chunk)
        finally:
            close_quietly(sys, wfd)
    finally:
        close_quietly(sys, fd)


def _copy_tree(sys: Sys, prog: str, src: str, dst: str, recursive: bool, keep_links: bool,
               preserve: bool) -> Gen:
    try:
        st = sys.lstat(src) if keep_links else sys.stat(src)
    except OSError as e:
        yield from complain(sys, prog, f"can't stat '{src}': {strerror(e)}")
        return 1
    kind = st.kind.value
    try:
        dest_st = sys.lstat(dst)
    except OSError as e:
        if not errno_is(e, "ENOENT"):
            yield from complain(sys, prog, f"can't stat '{dst}': {strerror(e)}")
            return 1
        dest_st = None
    if dest_st is not None and sys.file_id(src, not keep_links) == sys.file_id(dst, False):
        yield from complain(sys, prog, f"'{src}' and '{dst}' are the same file")
        return 1
    try:
        if kind == "dir" and recursive and dest_st is not None and dest_st.kind.value != "dir":
            yield from complain(sys, prog, f"target '{dst}' is not a directory")
            return 1
        if kind == "symlink":
            try:
                sys.unlink(dst)
            except OSError:
                pass
            sys.symlink(sys.readlink(src), dst)
            return 0
        if kind == "dir":
            if not recursive:
                yield from complain(sys, prog, f"omitting directory '{src}'")
                return 1
            try:
                sys.mkdir(dst, st.mode | 0o700)
            except OSError as e:
                if not errno_is(e, "EEXIST"):
                    raise
            status = 0
            for name in sys.listdir(src):
                status |= yield from _copy_tree(sys, prog, join(src, name), join(dst, name),
                                                recursive, keep_links, preserve)
            sys.chmod(dst, st.mode)
            return status
        yield from _copy_file(sys, src, dst, st.mode)
        if preserve:
            sys.chmod(dst, st.mode)
        return 0
    except OSError as e:
        yield from complain(sys, prog, f"can't create '{dst}': {strerror(e)}"
                            if not errno_is(e, "ENOENT") or kind != "file"
                            else f"can't create '{dst}': {strerror(e)}")
        return 1


def _cp_mv_stat(sys: Sys, prog: str, path: str, follow: bool = True) -> Gen:
    """busybox's cp_mv_stat(): (ok, exists, is_dir); a failure other than
    ENOENT is reported, ENOTDIR in busybox's verbose wording."""
    try:
        st = sys.stat(path) if follow else sys.lstat(path)
    except OSError as e:
        if errno_is(e, "ENOENT"):
            return True, False, False
        if errno_is(e, "ENOTDIR"):
            yield from complain(sys, prog, f"can't stat '{path}': Path has non-directory component")
        else:
            yield from complain(sys, prog, f"can't stat '{path}': {strerror(e)}")
        return False, False, False
    return True, True, st.kind.value == "dir"


def _target_is_dir(sys: Sys, path: str) -> bool:
    try:
        return sys.stat(path).kind.value == "dir"
    except OSError:
        return False


@applet("cp")
def cp_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "cp", "rRaPdpfilnvsLHuT")
    if opts is None:
        return 1
    if len(opts.operands) < 2:
        yield from show_usage(sys, "cp")
        return 1
    *sources, dest = opts.operands
    recursive = bool(opts.flags.keys() & set("rRa"))
    keep_links = bool(opts.flags.keys() & set("aPd")) or (recursive and "L" not in opts)
    preserve = bool(opts.flags.keys() & set("ap"))
    into_dir = _target_is_dir(sys, dest)
    if len(sources) > 1 and not into_dir:
        yield from complain(sys, "cp", f"'{dest}' is not a directory")
        return 1
    if len(sources) == 1:
        # busybox copies straight to DEST when neither side is a directory (or
        # when copying a directory -R to a new name); otherwise into DEST/NAME.
        ok, _, src_is_dir = yield from _cp_mv_stat(sys, "cp", sources[0], not keep_links)
        if not ok:
            return 1
        ok, dest_exists, into_dir = yield from _cp_mv_stat(sys, "cp", dest)
        if not ok:
            return 1
        if not (src_is_dir or into_dir) or (recursive and src_is_dir and not dest_exists):
            return (yield from _copy_tree(sys, "cp", sources[0], dest, recursive, keep_links, preserve))
    status = 0
    for src in sources:
        target = join(dest, basename(src.rstrip("/")) or src)
        status |= yield from _copy_tree(sys, "cp", src, target, recursive, keep_links, preserve)
    return status


def _exists(sys: Sys, path: str) -> bool:
    try:
        sys.stat(path)
        return True
    except OSError:
        return False


@applet("mv")
def mv_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mv", "finvT")
    if opts is None:
        return 1
    if len(opts.operands) < 2:
        yield from show_usage(sys, "mv")
        return 1
    *sources, dest = opts.operands
    ok, _, into_dir = yield from _cp_mv_stat(sys, "mv", dest)
    if not ok:
        return 1
    if len(sources) > 1 and not into_dir:
        yield from complain(sys, "mv", f"'{dest}' is not a directory")
        return 1
    status = 0
    for src in sources:
        target = join(dest, basename(src)) if into_dir else dest
        if "n" in opts:
            try:
                sys.lstat(target)
                continue
            except OSError:
                pass
        try:
            sys.rename(src, target)
        except OSError as e:
            if errno_is(e, "EXDEV"):
                # another filesystem (or a lower overlay layer): copy, then remove
                st = yield from _copy_tree(sys, "mv", src, target, True, True, True)
                if st == 0:
                    st = yield from _remove_tree(sys, src, False)
                status |= st
                continue
            yield from complain(sys, "mv", f"can't rename '{src}': {strerror(e)}")
            status = 1
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
    into_dir = "n" not in opts and _target_is_dir(sys, dest)
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


@applet("chmod")
def chmod_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    recursive = False
    # "-x" is a mode, not an option, in chmod
    while args and args[0] in ("-R", "-v", "-c", "-f"):
        recursive = recursive or args[0] == "-R"
        args.pop(0)
    if len(args) < 2:
        yield from show_usage(sys, "chmod")
        return 1
    spec, paths = args[0], args[1:]
    status = 0

    def apply(path: str) -> Gen:
        try:
            st = sys.stat(path)
        except OSError as e:
            yield from complain(sys, "chmod", f"{path}: {strerror(e)}")
            return 1
        mode = _parse_mode(spec, st.mode, st.kind.value == "dir")
        if mode is None:
            yield from complain(sys, "chmod", f"invalid mode '{spec}'")
            return 1
        try:
            sys.chmod(path, mode)
        except OSError as e:
            yield from complain(sys, "chmod", f"{path}: {strerror(e)}")
            return 1
        result = 0
        if recursive and st.kind.value == "dir":
            for name in sys.listdir(path):
                full = join(path, name)
                try:
                    if sys.lstat(full).kind.value == "symlink":
                        continue
                except OSError:
                    continue
                result |= yield from apply(full)
        return result

    for path in paths:
        status |= yield from apply(path)
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
                parts.append(comp)          # the last component may be missing
                continue
            return None
        if st.kind.value == "symlink":
            target = sys.readlink(candidate)
            base = "/" + "/".join(parts)
            resolved = _canonicalize(sys, target if target.startswith("/") else base.rstrip("/") + "/" + target,
                                     depth + 1)
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
        text = (f"  File: {shown}\n"
                f"  Size: {st.size:<10d}\tBlocks: {blocks:<10d} IO Block: 4096   {_type_name(st)}\n"
                f"Device: 0h/0d\tInode: {0:<11d} Links: {st.nlink}\n"
                f"Access: ({st.mode & 0o7777:04o}/{mode_string(st)})  Uid: ({st.uid:5d}/{user:>8})"
                f"   Gid: ({st.gid:5d}/{group:>8})\n"
                f"Access: {EPOCH_STAT}\nModify: {EPOCH_STAT}\nChange: {EPOCH_STAT}\n")
        yield from out(sys, text)
    return status


def _stat_format(fmt: str, path: str, st: Any, user: str, group: str, link: str) -> str:
    values = {
        "n": path, "N": f"'{path}' -> '{link}'" if link else f"'{path}'",
        "s": str(st.size), "a": f"{st.mode & 0o7777:o}", "A": mode_string(st),
        "F": _type_name(st), "U": user, "G": group, "u": str(st.uid), "g": str(st.gid),
        "h": str(st.nlink), "b": str(_blocks(st) * 2), "B": "512", "i": "0", "d": "0",
        "D": "0", "t": "0", "T": "0", "o": "4096", "X": "0", "Y": "0", "Z": "0",
        "x": EPOCH_STAT, "y": EPOCH_STAT, "z": EPOCH_STAT, "%": "%",
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
        if not eq or key not in ("if", "of", "bs", "ibs", "obs", "count", "skip", "seek", "conv", "status", "iflag", "oflag"):
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
                    break                    # a pipe gives partial blocks
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

