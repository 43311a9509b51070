"""The little C library every simulated applet links against.

Real busybox applets lean on libc and on busybox's own ``libbb`` for the
boring parts: writing a whole buffer, reading a line, printing
``applet: message`` to stderr, turning an errno into text, parsing options.
These are the same helpers, written against the :class:`Sys` surface.

Blocking helpers are generators (``yield from write_all(...)``) because a
write into a full pipe, or a read from an empty one, must let the scheduler
run the process at the other end.
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import O_RDONLY, Block, Sys

Gen = Generator[Block, Any, Any]

BANNER = "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\n"

# Linux's strerror texts keyed by errno *name*: the simulator may run on macOS,
# whose errno numbers and wording differ, but a simulated program must print
# what it would print on Linux.
_LINUX_STRERROR = {
    "EPERM": "Operation not permitted",
    "ENOENT": "No such file or directory",
    "ESRCH": "No such process",
    "EINTR": "Interrupted system call",
    "EIO": "I/O error",
    "ENXIO": "No such device or address",
    "E2BIG": "Argument list too long",
    "ENOEXEC": "Exec format error",
    "EBADF": "Bad file descriptor",
    "ECHILD": "No child processes",
    "EAGAIN": "Resource temporarily unavailable",
    "ENOMEM": "Out of memory",
    "EACCES": "Permission denied",
    "EFAULT": "Bad address",
    "EBUSY": "Device or resource busy",
    "EEXIST": "File exists",
    "EXDEV": "Invalid cross-device link",
    "ENODEV": "No such device",
    "ENOTDIR": "Not a directory",
    "EISDIR": "Is a directory",
    "EINVAL": "Invalid argument",
    "ENFILE": "Too many open files in system",
    "EMFILE": "Too many open files",
    "ENOTTY": "Inappropriate ioctl for device",
    "EFBIG": "File too large",
    "ENOSPC": "No space left on device",
    "ESPIPE": "Illegal seek",
    "EROFS": "Read-only file system",
    "EMLINK": "Too many links",
    "EPIPE": "Broken pipe",
    "ENAMETOOLONG": "File name too long",
    "ENOSYS": "Function not implemented",
    "ENOTEMPTY": "Directory not empty",
    "ELOOP": "Too many levels of symbolic links",
    "ENOTSUP": "Operation not supported",
    "EOPNOTSUPP": "Operation not supported",
}


def strerror(exc: OSError | int) -> str:
    """Linux's message for an errno (an ``OSError`` or the number)."""
    num = exc if isinstance(exc, int) else (exc.errno or 0)
    name = errno.errorcode.get(num, "")
    return _LINUX_STRERROR.get(name) or os.strerror(num)


def errno_is(exc: OSError, name: str) -> bool:
    """Compare by name, so the check works whatever the host's numbering."""
    return exc.errno == getattr(errno, name, None)


# -- output -----------------------------------------------------------------


def write_all(sys: Sys, fd: int, data: bytes | str) -> Gen:
    """Write every byte.  A pipe may take only part of a buffer; then let the
    reader run (the kernel would put us to sleep) and write the rest."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    view = memoryview(data)
    while len(view):
        try:
            n = sys.write(fd, bytes(view))
        except BlockingIOError:
            n = 0
        view = view[n:]
        if len(view):
            yield from sys.sched_yield()


class BufferedOutput:
    """stdio's full buffering, as a non-terminal stdout has it: text
    collects in a buffer and goes out in whole blocks (glibc's buffer is
    st_blksize, 4 KiB for a pipe or a file) and the rest at exit -- so when
    stdout and stderr share a pipe, a message written in between comes
    first, as with the real program.  ``write`` takes ``str`` of one
    character per byte (latin-1) or bytes; ``drain`` writes the whole blocks
    (call it now and then, so that a pipeline keeps flowing)."""

    def __init__(self, sys: Sys, fd: int, block: int = 4096) -> None:
        self.sys, self.fd, self.block = sys, fd, block
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1", "replace")
        if data:
            self.parts.append(data)
            self.size += len(data)

    def drain(self) -> Gen:
        if self.size < self.block:
            return
        data = b"".join(self.parts)
        cut = len(data) - len(data) % self.block
        self.parts = [data[cut:]] if cut < len(data) else []
        self.size = len(data) - cut
        yield from write_all(self.sys, self.fd, data[:cut])

    def flush(self) -> Gen:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        if data:
            yield from write_all(self.sys, self.fd, data)

    def flush_quietly(self) -> Gen:
        try:
            yield from self.flush()
        except OSError:
            pass


def out(sys: Sys, text: bytes | str) -> Gen:
    yield from write_all(sys, 1, text)


def err(sys: Sys, text: bytes | str) -> Gen:
    """Write to stderr, ignoring failures (a closed stderr must not kill us)."""
    try:
        yield from write_all(sys, 2, text)
    except OSError:
        pass


def complain(sys: Sys, prog: str, msg: str) -> Gen:
    """``prog: msg`` on stderr -- libbb's bb_error_msg."""
    yield from err(sys, f"{prog}: {msg}\n")


def show_usage(sys: Sys, prog: str, fd: int = 2) -> Gen:
    """The banner plus the applet's usage, as ``bb_show_usage`` prints it."""
    from .usage_text import USAGE

    text = BANNER + "\n" + USAGE.get(prog, f"Usage: {prog}\n")
    yield from write_all(sys, fd, text if text.endswith("\n") else text + "\n")


# -- input ------------------------------------------------------------------


def read_chunk(sys: Sys, fd: int, n: int = 65536) -> Gen:
    """read(2), plus the CPU it costs to handle the data.  The charge is
    also a scheduling point: a read from /dev/zero never blocks, so without
    it ``cat /dev/zero >/dev/null`` would never let another process run."""
    data = yield from sys.read(fd, n)
    yield from sys.burn(1 + len(data) // 1024)  # ~1 GB/s
    return data


def read_all(sys: Sys, fd: int, charge: bool = False) -> Gen:
    """Read to EOF.  With ``charge`` the bytes held are charged to the
    process's memory (the caller frees them with ``sys.free``)."""
    chunks: list[bytes] = []
    while True:
        chunk = yield from read_chunk(sys, fd)
        if not chunk:
            return b"".join(chunks)
        if charge:
            yield from sys.alloc(len(chunk))
        chunks.append(chunk)


class LineReader:
    """Lines of a file descriptor, read in chunks (``readline`` keeps the
    newline; b"" means EOF).  Streaming matters: ``yes | head -1`` must end."""

    def __init__(self, sys: Sys, fd: int) -> None:
        self.sys, self.fd, self.buf, self.eof = sys, fd, b"", False

    def readline(self) -> Gen:
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[: nl + 1], self.buf[nl + 1 :]
                return line
            if self.eof:
                line, self.buf = self.buf, b""
                return line
            chunk = yield from read_chunk(self.sys, self.fd)
            if not chunk:
                self.eof = True
            self.buf += chunk


def open_input(sys: Sys, prog: str, path: str, msg: str = "can't open '{p}': {e}") -> Gen:
    """Open a file operand ("-" is stdin); on failure print ``msg`` and
    return None."""
    if path == "-":
        return 0
    try:
        return sys.open(path, O_RDONLY)
    except OSError as e:
        yield from complain(sys, prog, msg.format(p=path, e=strerror(e)))
        return None


def close_quietly(sys: Sys, fd: int) -> None:
    if fd > 2:
        try:
            sys.close(fd)
        except OSError:
            pass


# -- options ----------------------------------------------------------------


class UsageError(Exception):
    """Bad command line: the applet prints its usage and exits 1."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Options:
    flags: dict[str, int] = field(default_factory=dict)  # flag -> how many times
    values: dict[str, list[str]] = field(default_factory=dict)
    operands: list[str] = field(default_factory=list)

    def __contains__(self, flag: str) -> bool:
        return flag in self.flags or flag in self.values

    def value(self, flag: str, default: str | None = None) -> str | None:
        vals = self.values.get(flag)
        return vals[-1] if vals else default


def getopt(
    argv: list[str], spec: str, permute: bool = True, longopts: dict[str, str] | None = None
) -> Options:
    """Parse short options like glibc's getopt, which busybox uses: ``spec``
    lists flag letters, a letter followed by ``:`` takes a value, by ``::``
    an optional value (only attached: ``-i.bak``).  Options may
    follow operands (``ls dir -l``) unless ``permute`` is off.  Raises
    :class:`UsageError` with glibc's message for an unknown option.

    ``longopts`` maps getopt_long names to the letter they stand for
    (``{"utc": "u"}``; the letter's ``:`` in ``spec`` says whether it takes
    a value): ``--name``, ``--name=value``, unambiguous prefixes."""
    optional = {spec[i] for i in range(len(spec) - 2) if spec[i + 1 : i + 3] == "::" and spec[i] != ":"}
    takes_value = {spec[i] for i in range(len(spec) - 1) if spec[i + 1] == ":"} - optional
    letters = set(spec.replace(":", ""))
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            opts.operands.extend(argv[i:])
            break
        if arg.startswith("--"):
            i = _long_option(arg, argv, i, longopts or {}, takes_value, optional, opts)
            continue
        if not arg.startswith("-") or arg == "-":
            opts.operands.append(arg)
            if not permute:
                opts.operands.extend(argv[i:])
                break
            continue
        j = 1
        while j < len(arg):
            ch = arg[j]
            j += 1
            if ch not in letters:
                raise UsageError(f"invalid option -- '{ch}'")
            if ch in optional:  # "i::": a value only when attached (-i.bak)
                if j < len(arg):
                    opts.values.setdefault(ch, []).append(arg[j:])
                else:
                    opts.flags[ch] = opts.flags.get(ch, 0) + 1
                break
            if ch in takes_value:
                if j < len(arg):
                    val = arg[j:]
                elif i < len(argv):
                    val, i = argv[i], i + 1
                else:
                    raise UsageError(f"option requires an argument -- '{ch}'")
                opts.values.setdefault(ch, []).append(val)
                break
            opts.flags[ch] = opts.flags.get(ch, 0) + 1
    return opts


def _long_option(
    arg: str,
    argv: list[str],
    i: int,
    longopts: dict[str, str],
    takes_value: set[str],
    optional: set[str],
    opts: Options,
) -> int:
    name, eq, value = arg[2:].partition("=")
    if name in longopts:
        matches = [name]
    else:
        matches = [n for n in longopts if n.startswith(name)]
        if len({longopts[n] for n in matches}) > 1:
            possibilities = " ".join(f"'--{n}'" for n in matches)
            raise UsageError(f"option '{arg}' is ambiguous; possibilities: {possibilities}")
    if not matches:
        raise UsageError(f"unrecognized option '{arg}'")
    full = matches[0]
    letter = longopts[full]
    if letter in takes_value:
        if not eq:
            if i >= len(argv):
                raise UsageError(f"option '--{full}' requires an argument")
            value, i = argv[i], i + 1
        opts.values.setdefault(letter, []).append(value)
    elif letter in optional and eq:
        opts.values.setdefault(letter, []).append(value)
    elif eq:
        raise UsageError(f"option '--{full}' doesn't allow an argument")
    else:
        opts.flags[letter] = opts.flags.get(letter, 0) + 1
    return i


# -- numbers ----------------------------------------------------------------


def parse_options(
    sys: Sys,
    prog: str,
    spec: str,
    permute: bool = True,
    need_operands: bool = False,
    longopts: dict[str, str] | None = None,
) -> Gen:
    """``getopt`` with busybox's reaction to bad usage: the complaint (if
    any) and the usage text on stderr.  The options, or None when the
    applet should exit 1 -- also when ``need_operands`` and none were given."""
    try:
        opts = getopt(sys.argv[1:], spec, permute, longopts)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        return None
    if need_operands and not opts.operands:
        yield from show_usage(sys, prog)
        return None
    return opts


def parse_int(text: str) -> int | None:
    """A decimal integer as ``strtol`` would accept it wholly, else None."""
    t = text.strip(" \t")
    if t[:1] in "+-":
        body = t[1:]
    else:
        body = t
    if not body.isdigit() or not body.isascii():
        return None
    return int(t)


# -- users ------------------------------------------------------------------


def _read_small_file(sys: Sys, path: str) -> Gen:
    try:
        fd = sys.open(path, O_RDONLY)
    except OSError:
        return b""
    try:
        return (yield from read_all(sys, fd))
    except OSError:  # a directory (EISDIR), a vanished file...
        return b""
    finally:
        close_quietly(sys, fd)


def read_text(sys: Sys, path: str) -> Gen:
    """A whole small file as text ("" when it cannot be read)."""
    data = yield from _read_small_file(sys, path)
    return data.decode("utf-8", "replace")


def id_to_name(sys: Sys, db: str, ident: int) -> Gen:
    """Name for a uid (``db="/etc/passwd"``) or gid (``"/etc/group"``), or None."""
    text = yield from read_text(sys, db)
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[2] == str(ident):
            return fields[0]
    return None


def passwd_entry(sys: Sys, name: str) -> Gen:
    """The /etc/passwd fields for a user name, or None."""
    text = yield from read_text(sys, "/etc/passwd")
    for line in text.splitlines():
        fields = line.split(":")
        if fields and fields[0] == name and len(fields) >= 7:
            return fields
    return None


def basename(path: str) -> str:
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else ""
    return stripped.rsplit("/", 1)[-1]


def join(directory: str, name: str) -> str:
    return name if name.startswith("/") else (directory.rstrip("/") + "/" + name if directory else name)


# -- stat(2) in full ------------------------------------------------------------------------


@dataclass(frozen=True)
class FullStat:
    """``struct stat`` as applets print and compare it: StatResult plus
    what :meth:`Sys.inode_info` adds."""

    kind: str  # "file", "dir", "symlink" ("file" also for devices: see is_device)
    mode: int  # permission bits
    uid: int
    gid: int
    size: int
    nlink: int
    is_device: bool
    ino: int
    dev: int
    rdev: int
    mtime: float
    blocks: int

    @property
    def type_bits(self) -> int:
        """The S_IFMT bits of st_mode."""
        if self.is_device:
            return 0o020000
        return {"dir": 0o040000, "symlink": 0o120000, "socket": 0o140000}.get(self.kind, 0o100000)

    @property
    def st_mode(self) -> int:
        return self.type_bits | self.mode


def full_stat(sys: Sys, path: str, follow: bool = True) -> FullStat:
    """stat(2) (``follow``) or lstat(2); raises OSError like them."""
    st = sys.stat(path) if follow else sys.lstat(path)
    info = sys.inode_info(path, follow)
    return FullStat(
        st.kind.value,
        st.mode,
        st.uid,
        st.gid,
        st.size,
        st.nlink,
        bool(getattr(st, "is_device", False)),
        info.ino,
        info.dev,
        info.rdev,
        info.mtime,
        info.blocks,
    )


def name_to_id(sys: Sys, db: str, name: str) -> Gen:
    """A uid (``db="/etc/passwd"``) or gid (``"/etc/group"``) for a name, or None."""
    text = yield from read_text(sys, db)
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def mode_string(st_mode: int) -> str:
    """libbb's bb_mode_string: ``drwxr-xr-x`` from st_mode (type bits included)."""
    kinds = {0o040000: "d", 0o120000: "l", 0o020000: "c", 0o060000: "b", 0o010000: "p", 0o140000: "s"}
    chars = [kinds.get(st_mode & 0o170000, "-")]
    for shift, special, sch in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = (st_mode >> shift) & 7
        chars.append("r" if bits & 4 else "-")
        chars.append("w" if bits & 2 else "-")
        if st_mode & special:
            chars.append(sch if bits & 1 else sch.upper())
        else:
            chars.append("x" if bits & 1 else "-")
    return "".join(chars)


def human_readable(val: int, block_size: int = 1, display_unit: int = 0) -> str:
    """libbb's make_human_readable_str (``1.5K``, ``243M``)."""
    if val == 0:
        return "0"
    if block_size > 1:
        val *= block_size
    if display_unit:
        return str((val + display_unit // 2) // display_unit)
    units = " KMGTPEZY"
    u, frac, scaled = 0, 0, False
    while val >= 1024:
        scaled = True
        u += 1
        frac = ((val % 1024) * 10 + 512) // 1024
        val //= 1024
    if frac >= 10:
        val += 1
        frac = 0
    if block_size == 0:
        if frac >= 5:
            val += 1
        return f"{val}{units[u]}" if u else str(val)  # "%llu%*c" with '\0' ends the string
    return f"{val}.{frac}{units[u]}" if scaled else str(val)


# -- dying -----------------------------------------------------------------------------------


class Die(Exception):
    """bb_error_msg_and_die: the applet prints "prog: message" and exits."""

    def __init__(self, message: str | None, status: int = 1) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def dies(prog: str):
    """Decorator for an applet's main: a :class:`Die` raised inside becomes
    its message on stderr (after stdout's buffer, as fflush_all does) and
    the exit status."""

    def wrap(main):
        @functools.wraps(main)
        def run(sys: Sys) -> Gen:
            try:
                return (yield from main(sys))
            except Die as e:
                if e.message is not None:
                    yield from complain(sys, prog, e.message)
                return e.status

        return run

    return wrap


def xatou(
    text: str, lo: int = 0, hi: int = 2**32 - 1, suffixes: dict[str, int] | None = None, base: int = 10
) -> int:
    """libbb's xstrtou_range_sfx: digits (no sign, no leading blank), an
    optional suffix from ``suffixes``, within lo..hi -- else Die with
    busybox's words."""
    m = None
    if text[:1] not in ("-", "+") and not text[:1].isspace():
        pattern = {10: r"\d+", 8: r"[0-7]+", 16: r"(?:0[xX])?[0-9a-fA-F]+"}.get(base, r"\d+")
        if base == 0:
            pattern = r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*"
        m = re.match(pattern, text)
    if not m:
        raise Die(f"invalid number '{text}'")
    value = int(m.group(), base)
    rest = text[m.end() :]
    if rest:
        if suffixes is None or rest not in suffixes:
            raise Die(f"invalid number '{text}'")
        value *= suffixes[rest]
    if not lo <= value <= hi:
        raise Die(f"number {text} is not in {lo}..{hi} range")
    return value


def xatoi(text: str, lo: int = -(2**31), hi: int = 2**31 - 1, suffixes: dict[str, int] | None = None) -> int:
    """libbb's xstrto_range_sfx (signed): an optional '-' or '+', then as xatou."""
    body = text[1:] if text[:1] in ("-", "+") else text
    try:
        value = xatou(body, 0, 2**64 - 1, suffixes)
    except Die:
        raise Die(f"invalid number '{text}'") from None
    value = -value if text.startswith("-") else value
    if not lo <= value <= hi:
        raise Die(f"number {text} is not in {lo}..{hi} range")
    return value
