"""Applets that make files and links: mkdir, rmdir, touch, ln, readlink,
dd, pwd.  (ls: applets_ls; stat: applets_stat; rm/cp/mv: applets_copy;
chmod/chown/chgrp: applets_owners.)

Messages and exit codes are busybox 1.35's.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Sys
from . import timefmt
from .applet_table import applet
from .applets_copy import target_is_dir
from .applets_owners import parse_mode
from .libc import (
    basename,
    close_quietly,
    complain,
    errno_is,
    full_stat,
    join,
    out,
    parse_options,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, int]


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


_TOUCH_LONG = {"no-create": "c", "no-dereference": "h", "reference": "r", "date": "d"}


@applet("touch")
def touch_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "touch", "chr:d:t:amf", need_operands=True, longopts=_TOUCH_LONG)
    if opts is None:
        return 1
    if "r" in opts and "t" in opts:
        yield from show_usage(sys, "touch")
        return 1
    when: float | None = None  # None: now
    if "r" in opts:
        ref = opts.value("r") or ""
        try:
            when = full_stat(sys, ref).mtime
        except OSError as e:
            yield from complain(sys, "touch", f"can't stat '{ref}': {strerror(e)}")
            return 1
    date_str = opts.value("d") if "d" in opts else opts.value("t")
    if "d" in opts and "t" in opts:  # both fill the same variable: the last one given wins
        date_str = _last_of(sys.argv[1:], "dt", opts)
    if date_str is not None:
        zone = yield from timefmt.load_zone(sys)
        tm = timefmt.localtime(zone, sys.wall_time())
        try:
            when = timefmt.resolve(zone, timefmt.parse_datestr(zone, date_str, tm))
        except timefmt.BadDate:
            yield from complain(sys, "touch", f"invalid date '{date_str}'")
            return 1
    only_atime = "a" in opts and "m" not in opts  # the simulated inode keeps no atime
    status = 0
    for path in opts.operands:
        try:
            if not only_atime:
                sys.set_mtime(path, when, follow="h" not in opts)
            else:
                sys.lstat(path) if "h" in opts else sys.stat(path)
            continue
        except OSError as e:
            if not errno_is(e, "ENOENT") or "c" in opts:
                if not errno_is(e, "ENOENT"):
                    yield from complain(sys, "touch", f"{path}: {strerror(e)}")
                    status = 1
                continue
        try:
            close_quietly(sys, sys.open(path, O_RDWR | O_CREAT, 0o666))
            if when is not None and not only_atime:
                sys.set_mtime(path, when)
        except OSError as e:
            yield from complain(sys, "touch", f"{path}: {strerror(e)}")
            status = 1
    return status


def _last_of(argv: list[str], letters: str, opts: Any) -> str | None:
    """Which of several options sharing one variable came last."""
    last = None
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--"):
            for ch in arg[1:]:
                if ch in letters:
                    last = ch
                    break
        elif arg.startswith("--date"):
            last = "d"
    return opts.value(last) if last else None


def _is_symlink(sys: Sys, path: str) -> bool:
    try:
        return sys.lstat(path).kind.value == "symlink"
    except OSError:
        return False


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
                # as coreutils, a hard link to a dangling (or looping) symlink is made
                if not _is_symlink(sys, src):
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
