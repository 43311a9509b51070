"""Applets about names and sizes of files: realpath, readlink, mktemp,
truncate, fallocate, link, unlink, mknod, mkfifo, shred, sync -- after
busybox 1.35, with glibc's realpath(3) and mkstemp(3) behind them.

The simulated kernel has no FIFOs: mkfifo (and mknod NAME p) fail with
EOPNOTSUPP (see SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import errno
import random
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, Sys
from .applet_table import applet
from .applets_owners import parse_mode
from .libc import (
    BufferedOutput,
    Die,
    UsageError,
    close_quietly,
    complain,
    dies,
    errno_is,
    getopt,
    out,
    read_chunk,
    show_usage,
    strerror,
    write_all,
    xatou,
)

Gen = Generator[Any, Any, Any]

KMG = {"c": 1, "w": 2, "b": 512, "kB": 1000, "kD": 1000, "k": 1024, "KB": 1000, "KD": 1000, "K": 1024,
       "MB": 1000000, "MD": 1000000, "M": 1 << 20, "GB": 1000000000, "GD": 1000000000, "G": 1 << 30}  # fmt: skip
KMG_SFX = {k: v for k, v in KMG.items() if k not in ("c", "w", "b")}  # kMG_suffixes
KMG_I = {"KiB": 1024, "kiB": 1024, "K": 1024, "k": 1024, "MiB": 1 << 20, "miB": 1 << 20, "M": 1 << 20,
         "m": 1 << 20, "GiB": 1 << 30, "giB": 1 << 30, "G": 1 << 30, "g": 1 << 30, "KB": 1000, "MB": 1000000,
         "GB": 1000000000}  # fmt: skip


def options(sys: Sys, prog: str, spec: str, longopts: dict[str, str] | None = None) -> Gen:
    """getopt with busybox's usage-on-error; raises Die(None) after it."""
    try:
        return getopt(sys.argv[1:], spec, True, longopts)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        raise Die(None) from None


def usage(sys: Sys, prog: str) -> Gen:
    yield from show_usage(sys, prog)
    raise Die(None)


# -- realpath(3) ----------------------------------------------------------------------------


class PathError(Exception):
    def __init__(self, err: int) -> None:
        super().__init__(err)
        self.errno = err


def realpath(sys: Sys, path: str) -> str:
    """glibc's realpath: every symlink resolved, every component must
    exist (ENOENT, ENOTDIR, ELOOP, EACCES as the kernel says)."""
    if path == "":
        raise PathError(errno.ENOENT)
    parts: list[str] = [] if path.startswith("/") else [c for c in sys.getcwd().split("/") if c]
    todo = [c for c in path.split("/")]
    trailing_slash = path.endswith("/")
    links = 0
    while todo:
        comp = todo.pop(0)
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts:
                parts.pop()
            continue
        candidate = "/" + "/".join(parts + [comp])
        try:
            st = sys.lstat(candidate)
        except OSError as e:
            raise PathError(e.errno or errno.ENOENT) from None
        if st.kind.value == "symlink":
            links += 1
            if links > 40:
                raise PathError(errno.ELOOP)
            target = sys.readlink(candidate)
            if target.startswith("/"):
                parts = []
            todo = [c for c in target.split("/")] + todo
            continue
        if todo and any(c not in ("", ".") for c in todo) and st.kind.value != "dir":
            raise PathError(errno.ENOTDIR)
        parts.append(comp)
    result = "/" + "/".join(parts)
    if trailing_slash and parts:
        try:
            if sys.stat(result).kind.value != "dir":
                raise PathError(errno.ENOTDIR)
        except OSError as e:
            raise PathError(e.errno or errno.ENOENT) from None
    return result


class StackOverflow(Exception):
    """busybox recursed until its stack ran out (it dies of SIGSEGV)."""


def crash(sys: Sys) -> Gen:
    sys.kill(sys.getpid(), 11)
    yield from sys.sched_yield()
    return 139


def realpath_coreutils(sys: Sys, path: str, depth: int = 0) -> tuple[str | None, int]:
    """libbb's xmalloc_realpath_coreutils: like realpath, but the last
    component may be missing (and a dangling symlink is followed to where
    it points -- read relative to the current directory, as busybox does;
    a link that so leads back to itself recurses until the stack is gone:
    :class:`StackOverflow`).  (path or None, the errno left behind)."""
    if depth > 200:
        raise StackOverflow
    try:
        return realpath(sys, path), 0
    except PathError as e:
        if e.errno != errno.ENOENT:
            return None, e.errno
        err = e.errno
    try:
        target = sys.readlink(path)
    except OSError as e:
        target, err = None, e.errno or errno.ENOENT
    if target is not None:
        if not target.startswith("/"):
            target = sys.getcwd().rstrip("/") + "/" + target
        return realpath_coreutils(sys, target, depth + 1)
    p = path
    while p.startswith("//"):
        p = p[1:]
    i = len(p) - 1
    while i > 0 and p[i] == "/":
        i -= 1
    p = p[: i + 1]
    slash = p.rfind("/")
    if slash == 0:
        return p, err
    if slash > 0:
        try:
            base = realpath(sys, p[:slash])
        except PathError as e:
            return None, e.errno
        return base + "/" + p[slash + 1 :], err  # "//x" when the directory is /
    return None, err


@applet("realpath")
@dies("realpath")
def realpath_main(sys: Sys) -> Gen:
    if len(sys.argv) < 2:
        yield from usage(sys, "realpath")
    status = 0
    stdout = BufferedOutput(sys, 1)  # stdio's: what is buffered dies with a crash
    for path in sys.argv[1:]:
        try:
            result, err = realpath_coreutils(sys, path)
        except StackOverflow:
            return (yield from crash(sys))
        if result is not None:
            stdout.write(result + "\n")
            yield from stdout.drain()
        else:
            yield from stdout.flush()  # libbb's error messages fflush_all() first
            yield from complain(sys, "realpath", f"{path}: {strerror(err)}")
            status = 1
    yield from stdout.flush()
    return status


@applet("readlink")
@dies("readlink")
def readlink_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "readlink", "fnvsq")
    if len(opts.operands) != 1:
        yield from usage(sys, "readlink")
    path = opts.operands[0]
    if "f" in opts:
        try:
            result = realpath_coreutils(sys, path)[0]
        except StackOverflow:
            return (yield from crash(sys))
    else:
        try:
            result = sys.readlink(path)
        except OSError as e:
            result = None
            if "v" in opts:
                why = "not a symlink" if e.errno == errno.EINVAL else strerror(e)
                yield from complain(sys, "readlink", f"{path}: cannot read link: {why}")
    if result is None:
        return 1
    yield from out(sys, result + ("" if "n" in opts else "\n"))
    return 0


# -- mktemp --------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _fill(template: str) -> str | None:
    """glibc's __gen_tempname: the last six characters must be X."""
    if len(template) < 6 or not template.endswith("XXXXXX"):
        return None
    return template[:-6] + "".join(random.choice(_LETTERS) for _ in range(6))


@applet("mktemp")
@dies("mktemp")
def mktemp_main(sys: Sys) -> Gen:
    longs = {"directory": "d", "quiet": "q", "dry-run": "u", "tmpdir": "\x01"}
    opts = yield from options(sys, "mktemp", "dqtp:u\x01::", longs)
    if len(opts.operands) > 1:
        yield from usage(sys, "mktemp")
    path = sys.env.get("TMPDIR") or "/tmp"
    # -p DIR and --tmpdir=DIR fill one variable: the last one given wins
    last = None
    for arg in sys.argv[1:]:
        if arg == "--":
            break
        if arg.startswith("--tmpdir=") or arg.startswith("--t") and "=" in arg:
            last = "\x01"
        elif arg.startswith("-") and not arg.startswith("--") and "p" in arg:
            last = "p"
    if last is not None and opts.value(last) is not None:
        path = opts.value(last) or ""
    template = opts.operands[0] if opts.operands else None
    tflag = "t" in opts
    if template is None:
        template, tflag = "tmp.XXXXXX", True
    if tflag or "p" in opts or "\x01" in opts:
        template = path.rstrip("/") + "/" + template if path else template
    for _attempt in range(100):
        name = _fill(template)
        if name is None:
            err = errno.EINVAL
            break
        try:
            if "u" in opts:
                sys.lstat(name)
                continue
        except OSError:
            yield from out(sys, name + "\n")
            return 0
        try:
            if "d" in opts:
                sys.mkdir(name, 0o700)
            else:
                old = sys.umask(0o077)
                try:
                    close_quietly(sys, sys.open(name, O_RDWR | O_CREAT | O_EXCL, 0o600))
                finally:
                    sys.umask(old)
        except OSError as e:
            if errno_is(e, "EEXIST"):
                continue
            err = e.errno or errno.EIO
            break
        yield from out(sys, name + "\n")
        return 0
    else:
        err = errno.EEXIST
    if "q" in opts:
        return 1
    raise Die(f"(null): {strerror(err)}")  # bb_perror_nomsg_and_die: printf("%s", NULL)


# -- sizes ---------------------------------------------------------------------------------


@applet("truncate")
@dies("truncate")
def truncate_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "truncate", "cs:")
    if "s" not in opts or not opts.operands:
        yield from usage(sys, "truncate")
    size = xatou(opts.value("s") or "", 0, 2**63 - 1, KMG_SFX)
    status = 0
    for path in opts.operands:
        try:
            fd = sys.open(path, O_WRONLY | (0 if "c" in opts else O_CREAT), 0o666)
        except OSError as e:
            if not (errno_is(e, "ENOENT") and "c" in opts):
                yield from complain(sys, "truncate", f"{path}: open: {strerror(e)}")
                status = 1
            continue
        try:
            sys.truncate(path, size)
        except OSError as e:
            yield from complain(sys, "truncate", f"{path}: truncate: {strerror(e)}")
            status = 1
        finally:
            close_quietly(sys, fd)
    return status


@applet("fallocate")
@dies("fallocate")
def fallocate_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "fallocate", "l:o:")
    if "l" not in opts or len(opts.operands) != 1:
        yield from usage(sys, "fallocate")
    ofs = xatou(opts.value("o") or "0", 0, 2**64 - 1, KMG_I)
    length = xatou(opts.value("l") or "", 0, 2**64 - 1, KMG_I)
    path = opts.operands[0]
    try:
        fd = sys.open(path, O_RDWR | O_CREAT, 0o666)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    try:
        if length == 0:
            raise Die(f"fallocate '{path}': {strerror(errno.EINVAL)}")
        if sys.stat(path).size < ofs + length:
            sys.truncate(path, ofs + length)
    finally:
        close_quietly(sys, fd)
    return 0


# -- links and nodes -------------------------------------------------------------------------


@applet("link")
@dies("link")
def link_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "link", "")
    if len(opts.operands) != 2:
        yield from usage(sys, "link")
    src, dst = opts.operands
    try:
        sys.link(src, dst)
    except OSError as e:
        raise Die(f"can't create hardlink '{dst}' to '{src}': {strerror(e)}") from None
    return 0


@applet("unlink")
@dies("unlink")
def unlink_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "unlink", "")
    if len(opts.operands) != 1:
        yield from usage(sys, "unlink")
    path = opts.operands[0]
    try:
        sys.unlink(path)
    except OSError as e:
        raise Die(f"can't remove file '{path}': {strerror(e)}") from None
    return 0


def _node_mode(sys: Sys, prog: str) -> Gen:
    opts = yield from options(sys, prog, "m:")
    mode = 0o666
    if "m" in opts:
        parsed = parse_mode(opts.value("m") or "", 0o666)
        if parsed is None:
            mode = -1  # bb_parse_mode's (mode_t)-1: every type bit set, EINVAL from mknod
        else:
            mode = parsed
            sys.umask(0)
    return opts, mode


@applet("mknod")
@dies("mknod")
def mknod_main(sys: Sys) -> Gen:
    opts, mode = yield from _node_mode(sys, "mknod")
    args = opts.operands
    if len(args) < 2 or not args[1] or args[1][0] not in "bcup":
        yield from usage(sys, "mknod")
    kind = args[1][0]
    rdev = 0
    rest = args[2:]
    if kind != "p":
        if len(rest) < 2:
            yield from usage(sys, "mknod")
        minor = xatou(rest[1], 0, 0xFFFFF)  # gcc evaluates makedev()'s arguments right to left
        major = xatou(rest[0], 0, 0xFFF)
        rdev = (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFF) << 12) | ((major & ~0xFFF) << 32)
        rest = rest[2:]
    if rest:
        yield from usage(sys, "mknod")
    type_bits = {"b": 0o060000, "c": 0o020000, "u": 0o020000, "p": 0o010000}[kind]
    try:
        if mode < 0:
            raise OSError(errno.EINVAL, "mknod")
        sys.mknod(args[0], type_bits | (mode & 0o7777), rdev)
    except OSError as e:
        raise Die(f"{args[0]}: {strerror(e)}") from None
    return 0


@applet("mkfifo")
@dies("mkfifo")
def mkfifo_main(sys: Sys) -> Gen:
    opts, mode = yield from _node_mode(sys, "mkfifo")
    if not opts.operands:
        yield from usage(sys, "mkfifo")
    status = 0
    for path in opts.operands:
        try:
            if mode < 0:
                raise OSError(errno.EINVAL, "mkfifo")
            sys.mknod(path, 0o010000 | (mode & 0o7777), 0)
        except OSError as e:
            yield from complain(sys, "mkfifo", f"{path}: {strerror(e)}")
            status = 1
    return status


# -- contents ---------------------------------------------------------------------------------


@applet("shred")
@dies("shred")
def shred_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "shred", "fuzn:vxs:")
    if not opts.operands:
        yield from usage(sys, "shred")
    passes = xatou(opts.value("n"), 0, 2**31 - 1) if "n" in opts else 3
    for name in opts.operands:
        fd = -1
        if "f" in opts:
            try:
                fd = sys.open(name, O_WRONLY)
            except OSError:
                try:
                    sys.chmod(name, 0o666)
                except OSError:
                    pass
        if fd < 0:
            try:
                fd = sys.open(name, O_WRONLY)
            except OSError as e:
                raise Die(f"can't open '{name}': {strerror(e)}") from None
        size = sys.fd_info(fd)[1]
        if size > 0:
            if "s" in opts:
                text = opts.value("s") or ""
                try:
                    size = int(text, 0)
                except ValueError:
                    yield from usage(sys, "shred")
                if size < 0:
                    yield from usage(sys, "shred")
            for _ in range(passes):
                yield from _copy_from(sys, "/dev/urandom", fd, size)
                sys.lseek(fd, 0)
            if "z" in opts:
                yield from _copy_from(sys, "/dev/zero", fd, size)
        if "u" in opts:
            try:
                sys.truncate(name, 0)
                sys.unlink(name)
            except OSError as e:
                raise Die(f"can't remove file '{name}': {strerror(e)}") from None
        close_quietly(sys, fd)
    return 0


def _copy_from(sys: Sys, source: str, fd: int, size: int) -> Gen:
    src = sys.open(source, O_RDONLY)
    try:
        left = size
        while left > 0:
            data = yield from read_chunk(sys, src, min(left, 65536))
            if not data:
                break
            yield from write_all(sys, fd, data)
            left -= len(data)
    finally:
        close_quietly(sys, src)


@applet("sync")
@dies("sync")
def sync_main(sys: Sys) -> Gen:
    opts = yield from options(sys, "sync", "df")
    if "d" in opts and "f" in opts:
        yield from usage(sys, "sync")
    status = 0
    for path in opts.operands:
        try:
            close_quietly(sys, sys.open(path, O_RDONLY))
        except OSError as e:
            yield from complain(sys, "sync", f"can't open '{path}': {strerror(e)}")
            status = 1
    return status
