"""tar, as busybox 1.35's ``archival/tar.c`` and ``libarchive`` do it.

Create (``c``): libbb's recursive walk in directory order, one ustar
header per entry exactly as busybox writes it (magic ``"ustar  "``, octal
fields, ``"%06o\\0 "`` checksum, uname/gname from the container's own
/etc/passwd and /etc/group, hard links by inode, GNU ``././@LongLink``
for long names), the data padded to 512 bytes, two zero blocks at the end
and no padding to a 10 KiB record.  ``-z``/``-j`` compress the whole
stream (:mod:`.compression`).

List (``t``, ``tv``) and extract (``x``): headers read as
``get_header_tar`` reads them (ustar prefix, GNU long names, pax headers
skipped, a compressed archive file recognised even without ``-z``);
extraction as ``data_extract_all``: leading directories made, old files
unlinked (``-k`` keeps them), owner, mode and mtime restored (``-o``,
``-m``), symlinks outside the tree and hard links made at the end.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..sys_api import O_CREAT, O_EXCL, O_TRUNC, O_WRONLY, Sys
from . import compression, timefmt
from .applet_table import applet
from .fnmatch_c import fnmatch
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    full_stat,
    getopt,
    id_to_name,
    mode_string,
    name_to_id,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]

BLOCK = 512
LONGOPTS = {
    "--list": "-t", "--extract": "-x", "--directory": "-C", "--file": "-f", "--to-stdout": "-O",
    "--no-same-owner": "-o", "--same-permissions": "-p", "--verbose": "-v", "--keep-old": "-k",
    "--create": "-c", "--dereference": "-h", "--bzip2": "-j",
    "--gzip": "-z", "--xz": "-J", "--compress": "-Z", "--auto-compress": "-a", "--touch": "-m",
}  # fmt: skip
FLAG_LONGOPTS = ("--lzma", "--no-recursion", "--numeric-owner", "--no-same-permissions", "--overwrite")
VALUE_LONGOPTS = ("--strip-components", "--to-command")


class TarDie(Exception):
    pass


def _octal(value: int, width: int) -> bytes:
    """PUT_OCTAL: width-1 octal digits, zero padded, then NUL."""
    text = f"{value:o}"
    if len(text) > width - 1:
        text = text[-(width - 1) :]
    return text.rjust(width - 1, "0").encode() + b"\0"


def _field(text: str, width: int) -> bytes:
    data = text.encode("utf-8", "surrogateescape")[:width]
    return data + b"\0" * (width - len(data))


def tar_header(
    name: str, mode: int, uid: int, gid: int, size: int, mtime: int, typeflag: str,
    linkname: str = "", uname: str = "", gname: str = "", devmajor: int | None = None, devminor: int | None = None,
) -> bytes:  # fmt: skip
    h = bytearray(BLOCK)
    h[0:100] = _field(name, 100)
    h[100:108] = _octal(mode & 0o7777, 8)
    h[108:116] = _octal(uid, 8)
    h[116:124] = _octal(gid, 8)
    h[124:136] = _octal(size, 12)
    h[136:148] = _octal(max(mtime, 0), 12)
    h[156] = ord(typeflag)
    h[157:257] = _field(linkname, 100)
    h[257:265] = b"ustar  \0"
    h[265:297] = _field(uname, 32)[:31] + b"\0"
    h[297:329] = _field(gname, 32)[:31] + b"\0"
    if devmajor is not None:
        h[329:337] = _octal(devmajor, 8)
        h[337:345] = _octal(devminor or 0, 8)
    h[148:156] = b" " * 8
    chksum = sum(h)
    h[148:156] = f"{chksum:06o}".encode() + b"\0 "
    return bytes(h)


def _long_name(name: str, typeflag: str, is_dir: bool) -> bytes:
    """writeLongname: a ``././@LongLink`` header, then the name."""
    raw = name.encode("utf-8", "surrogateescape")
    size = len(raw) + 1 + (1 if is_dir else 0)
    h = bytearray(BLOCK)
    h[0:13] = b"././@LongLink"
    h[100:148] = b"0000000\x000000000\x000000000\x0000000000000\x0000000000000\x00"
    h[124:136] = _octal(size, 12)
    h[156] = ord(typeflag)
    h[257:265] = b"ustar  \0"
    h[148:156] = b" " * 8
    h[148:156] = f"{sum(h):06o}".encode() + b"\0 "
    body = raw + (b"/\0" if is_dir else b"\0")
    return bytes(h) + body + b"\0" * ((-size) % BLOCK)


def strip_unsafe_prefix(name: str) -> str:
    cp = 0
    while True:
        if name.startswith("/", cp):
            cp += 1
            continue
        if name.startswith("../", cp):
            cp += 3
            continue
        k = name.find("/../", cp)
        if k < 0:
            break
        cp = k + 4
    return name[cp:]


@dataclass
class Member:
    name: str
    mode: int  # with the S_IFMT bits
    uid: int
    gid: int
    size: int
    mtime: int
    link: str | None
    uname: str | None
    gname: str | None
    device: tuple[int, int] = (0, 0)
    data_offset: int = 0


def _get_octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip(b" ")
    if field and field[0] & 0x80:
        value = int.from_bytes(field, "big") & ~(0x80 << (8 * (len(field) - 1)))
        return value
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarDie("corrupted octal value in tar header") from None


class Reader:
    """get_header_tar over the archive's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end_seen = False

    def next(self) -> Member | None:
        longname = longlink = None
        while True:
            if self.pos % BLOCK:
                self.pos += BLOCK - self.pos % BLOCK
            block = self.data[self.pos : self.pos + BLOCK]
            if not block:
                if self.pos == 0:
                    raise TarDie(
                        "short read",
                    )
                return None
            if len(block) < BLOCK:
                raise TarDie("short read")
            self.pos += BLOCK
            if block[0] == 0 and block[345] == 0 and longname is None:
                if self.end_seen:
                    return None
                self.end_seen = True
                continue
            self.end_seen = False
            if not (block[257:262] == b"ustar" or block[257:262] == b"\0\0\0\0\0"):
                raise TarDie("invalid tar magic")
            chk = sum(block[:148]) + 8 * 32 + sum(block[156:])
            if chk != _get_octal(block[148:156]):
                raise TarDie("invalid tar header checksum")
            typeflag = chr(block[156]) if block[156] else "0"
            size = _get_octal(block[124:136])
            if typeflag in ("L", "K"):
                text = (
                    self.data[self.pos : self.pos + size]
                    .split(b"\0", 1)[0]
                    .decode("utf-8", "surrogateescape")
                )
                self.pos += size
                if typeflag == "L":
                    longname = text
                else:
                    longlink = text
                continue
            if typeflag in ("x", "g", "V"):
                if typeflag == "V":
                    pass
                self.pos += size
                continue
            if typeflag not in "01234567":
                raise TarDie(f"unknown typeflag: 0x{ord(typeflag):x}")
            parse = True
            name = block[0:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            prefix = block[345:500].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            if prefix:
                name = prefix.rstrip("/") + "/" + name
            link = block[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") or None
            if longname is not None:
                name = longname
            if longlink is not None:
                link = longlink
            mode = _get_octal(block[100:108]) & 0o7777
            kind = {
                "0": 0o100000, "7": 0o100000, "1": 0o100000, "2": 0o120000, "3": 0o020000,
                "4": 0o060000, "5": 0o040000, "6": 0o010000,
            }[typeflag]  # fmt: skip
            if typeflag == "1":
                size = 0
            if typeflag in ("2", "3", "4", "5", "6"):
                size = 0 if typeflag != "5" else size
            uname = block[265:297].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") or None
            gname = block[297:329].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") or None
            dev = (0, 0)
            if block[329]:
                dev = (_get_octal(block[329:337]), _get_octal(block[337:345]))
            _ = parse
            m = Member(
                name, mode | kind, _get_octal(block[108:116]), _get_octal(block[116:124]), size,
                _get_octal(block[136:148]), link if (typeflag in "12" or link) else None, uname, gname, dev, self.pos,
            )  # fmt: skip
            if typeflag not in "12":
                m.link = link if typeflag in "12" else None
            if typeflag == "1":
                m.link = link
            self.pos += size
            return m


class Tar:
    def __init__(self, sys: Sys, opts, verbose: int) -> None:
        self.sys = sys
        self.opts = opts
        self.verbose = verbose
        self.out = BufferedOutput(sys, 1)
        self.warned_prefix = False
        self.errors = False
        self.hardlinks: dict[tuple[int, int], str] = {}
        self.names: dict[int, str] = {}
        self.groups: dict[int, str] = {}
        self.zone: Any = None
        self.to_stdout = False
        self.prog = "tar"  # whose name the messages carry (dpkg-deb unpacks with this code too)

    def warn_prefix(self, original: str, stripped: str) -> Gen:
        if stripped != original and not self.warned_prefix:
            self.warned_prefix = True
            yield from self.out.flush()
            yield from complain(
                self.sys,
                "tar",
                f"removing leading '{original[: len(original) - len(stripped)]}' from member names",
            )

    # -- create ------------------------------------------------------------------------
    def user(self, uid: int) -> Gen:
        if uid not in self.names:
            self.names[uid] = (yield from id_to_name(self.sys, "/etc/passwd", uid)) or str(uid)
        return self.names[uid]

    def group(self, gid: int) -> Gen:
        if gid not in self.groups:
            self.groups[gid] = (yield from id_to_name(self.sys, "/etc/group", gid)) or str(gid)
        return self.groups[gid]

    def excluded(self, name: str, patterns: list[str]) -> bool:
        for pat in patterns:
            if pat.startswith("/"):
                if fnmatch(pat, name, pathname=True, leading_dir=True):
                    return True
                continue
            for k in range(len(name)):
                if (k == 0 or name[k - 1] == "/") and name[k] != "/":
                    if fnmatch(pat, name[k:], pathname=True, leading_dir=True):
                        return True
        return False

    def add(
        self,
        path: str,
        dest: list[bytes],
        follow: bool,
        recurse: bool,
        excludes: list[str],
        archive_id,
        depth: int = 0,
    ) -> Gen:
        """recursive_action with writeFileToTarball."""
        sys = self.sys
        try:
            st = full_stat(sys, path, follow)
        except OSError as e:
            yield from self.out.flush()
            yield from complain(sys, self.prog, f"{path}: {strerror(e)}")
            return False
        ok = True
        result = yield from self.write_entry(path, st, dest, excludes, archive_id)
        if result == "skip":
            return True
        if not result:
            ok = False
        if st.kind == "dir" and recurse:
            try:
                names = sys.listdir(path)
            except OSError as e:
                yield from self.out.flush()
                yield from complain(sys, self.prog, f"{path}: {strerror(e)}")
                return False
            for entry in names:
                child = path + entry if path.endswith("/") else f"{path}/{entry}"
                if not (yield from self.add(child, dest, follow, recurse, excludes, archive_id, depth + 1)):
                    ok = False
        return ok

    def write_entry(self, path: str, st, dest: list[bytes], excludes: list[str], archive_id) -> Gen:
        sys = self.sys
        name = strip_unsafe_prefix(path)
        yield from self.warn_prefix(path, name)
        if not name:
            return True
        if self.excluded(name, excludes):
            return "skip"
        link_to = None
        if st.kind != "dir" and st.nlink > 1:
            key = (st.dev, st.ino)
            link_to = self.hardlinks.get(key)
            if link_to is None:
                self.hardlinks[key] = name
        if archive_id is not None and (st.dev, st.ino) == archive_id:
            yield from self.out.flush()
            yield from complain(sys, self.prog, f"{path}: file is the archive; skipping")
            return True
        data = b""
        if link_to is None and st.kind == "file" and not st.is_device:
            try:
                fd = sys.open(path, 0)
            except OSError as e:
                yield from self.out.flush()
                yield from complain(sys, self.prog, f"can't open '{path}': {strerror(e)}")
                return False
            data = yield from read_all(sys, fd)
            close_quietly(sys, fd)
        uname = yield from self.user(st.uid)
        gname = yield from self.group(st.gid)
        mtime = int(st.mtime)
        hname = name
        long_link = None
        dev = None
        size = 0
        if link_to is not None:
            typeflag, linkname = "1", link_to
            if len(linkname.encode()) >= 100:
                long_link = linkname
        elif st.kind == "symlink":
            try:
                linkname = sys.readlink(path)
            except OSError as e:
                yield from complain(sys, self.prog, f"{path}: cannot read link: {strerror(e)}")
                return False
            typeflag = "2"
            if len(linkname.encode()) >= 100:
                long_link = linkname
        elif st.kind == "dir":
            typeflag, linkname = "5", ""
            if len(hname.encode()) < 100:
                hname += "/"
        elif st.is_device:
            typeflag, linkname = "3", ""
            dev = (st.rdev >> 8 & 0xFFF, (st.rdev & 0xFF) | (st.rdev >> 12 & 0xFFF00))
        else:
            typeflag, linkname, size = "0", "", st.size
        if long_link is not None:
            dest.append(_long_name(long_link, "K", False))
        if len(name.encode()) >= 100:
            dest.append(_long_name(name, "L", st.kind == "dir"))
        dest.append(
            tar_header(
                hname,
                st.mode,
                st.uid,
                st.gid,
                size,
                mtime,
                typeflag,
                linkname,
                uname,
                gname,
                dev[0] if dev else None,
                dev[1] if dev else None,
            )  # fmt: skip
        )
        if size:
            dest.append(data[:size].ljust(size, b"\0"))
            dest.append(b"\0" * ((-size) % BLOCK))
        if self.verbose:
            line = name + ("/" if st.kind == "dir" else "") + "\n"
            if self.to_stdout:
                from .libc import err

                yield from self.out.flush()
                yield from err(sys, line)
            else:
                self.out.write(line.encode("utf-8", "surrogateescape"))
        yield from sys.burn(1 + size // 4096)
        return True

    # -- list and extract ---------------------------------------------------------------------
    def list_member(self, m: Member, name: str) -> Gen:
        if self.verbose > 1:
            user = m.uname or str(m.uid)
            group = m.gname or str(m.gid)
            if self.zone is None:
                self.zone = yield from timefmt.load_zone(self.sys)
            t = timefmt.localtime(self.zone, m.mtime)
            line = (
                f"{mode_string(m.mode)} {user}/{group} {m.size:9d} "
                f"{t.year:4d}-{t.mon:02d}-{t.mday:02d} {t.hour:02d}:{t.min:02d}:{t.sec:02d} {name}"
            )
            if m.link:
                line += f" -> {m.link}"
            self.out.write((line + "\n").encode("utf-8", "surrogateescape"))
        elif self.verbose == 1:
            self.out.write((name + "\n").encode("utf-8", "surrogateescape"))
        return
        yield  # pragma: no cover

    def extract(self, m: Member, name: str, data: bytes, flags: dict, links: list) -> Gen:
        sys = self.sys
        kind = m.mode & 0o170000
        hard = m.link if kind == 0o100000 and m.size == 0 and m.link else None
        if flags["strip"]:
            for _ in range(flags["strip"]):
                k = name.find("/")
                if k < 0 or k == len(name) - 1:
                    return
                name = name[k + 1 :]
                if hard:
                    k = hard.find("/")
                    if k < 0 or k == len(hard) - 1:
                        return
                    hard = hard[k + 1 :]
        slash = name.rfind("/")
        if slash > 0 and flags.get("leading_dirs", True):  # ARCHIVE_CREATE_LEADING_DIRS
            yield from _make_dirs(sys, name[:slash])
        if flags["unlink_old"] and kind != 0o040000:
            if hard and hard == name:
                return
            try:
                sys.unlink(name)
            except OSError as e:
                if e.errno != 2:
                    raise TarDie(f"can't remove old file {name}: {strerror(e)}") from None
        if hard:
            links.append((True, name, hard))
            return
        if kind == 0o100000:
            oflags = O_WRONLY | O_CREAT | (O_TRUNC if flags["overwrite"] else O_EXCL)
            try:
                fd = sys.open(name, oflags, m.mode & 0o7777)
            except OSError as e:
                raise TarDie(f"can't open '{name}': {strerror(e)}") from None
            yield from write_all(sys, fd, data)
            close_quietly(sys, fd)
        elif kind == 0o040000:
            try:
                sys.mkdir(name, m.mode & 0o7777)
            except OSError as e:
                if e.errno != 17:
                    yield from self.out.flush()
                    yield from complain(sys, self.prog, f"can't make dir {name}: {strerror(e)}")
        elif kind == 0o120000:
            target = m.link or ""
            if target.startswith("/") or ".." in target:
                links.append((False, name, target))
            else:
                try:
                    sys.symlink(target, name)
                except OSError as e:
                    raise TarDie(f"can't create symlink '{name}' to '{target}': {strerror(e)}") from None
            return
        else:
            try:
                sys.mknod(name, kind | (m.mode & 0o7777), (m.device[0] << 8) | m.device[1])
            except OSError as e:
                yield from self.out.flush()
                yield from complain(sys, self.prog, f"can't create node {name}: {strerror(e)}")
        if not flags["no_owner"]:
            uid, gid = m.uid, m.gid
            if not flags["numeric"]:
                if m.uname:
                    found = yield from name_to_id(sys, "/etc/passwd", m.uname)
                    uid = found if found is not None else uid
                if m.gname:
                    found = yield from name_to_id(sys, "/etc/group", m.gname)
                    gid = found if found is not None else gid
            try:
                sys.chown(name, uid, gid)
            except OSError:
                pass
        if not flags["no_perm"]:
            try:
                sys.chmod(name, m.mode & 0o7777)
            except OSError:
                pass
        if flags["restore_date"]:
            try:
                sys.set_mtime(name, float(m.mtime))
            except OSError:
                pass


def _make_dirs(sys: Sys, path: str) -> Gen:
    """bb_make_directory(path, -1, FILEUTILS_RECUR)."""
    parts = path.split("/")
    cur = ""
    for i, p in enumerate(parts):
        cur = p if i == 0 else f"{cur}/{p}"
        if not p:
            continue
        try:
            sys.mkdir(cur, 0o777)
        except OSError as e:
            if e.errno != 17:
                raise TarDie(f"can't create directory '{cur}': {strerror(e)}") from None
            try:
                if sys.stat(cur).kind.value != "dir":
                    raise TarDie(f"can't create directory '{cur}': File exists")
            except OSError:
                pass
    return
    yield  # pragma: no cover


def _find_list_entry2(patterns: list[str], name: str) -> str | None:
    for pat in patterns:
        slashes = pat.count("/")
        cut = 0
        k = 0
        while k < len(name):
            if name[k] == "/":
                if slashes == 0:
                    break
                slashes -= 1
            k += 1
        cut = k
        if fnmatch(pat, name[:cut]):
            return pat
    return None


def _parse_argv(argv: list[str]) -> tuple[list[str], dict[str, list[str]], set[str]]:
    """Long options out of the way; busybox's "first argument without a
    dash" compatibility (``tar xzf FILE``, 'f' moved last)."""
    if argv and not argv[0].startswith("-") and argv[0]:
        first = argv[0]
        if "f" in first:
            first = first.replace("f", "", 1) + "f"
        argv = ["-" + first] + argv[1:]
    out: list[str] = []
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            out += argv[i - 1 :]
            break
        name, eq, val = a.partition("=")
        if name in LONGOPTS:
            short = LONGOPTS[name]
            out.append(short + val if eq else short)
            continue
        if name in FLAG_LONGOPTS:
            flags.add(name)
            continue
        if name in VALUE_LONGOPTS:
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"option '{name}' requires an argument")
                val = argv[i]
                i += 1
            values.setdefault(name, []).append(val)
            continue
        out.append(a)
    return out, values, flags


@applet("tar")
def tar_main(sys: Sys) -> Gen:
    if sys.argv[1:2] == ["--version"]:
        out = BufferedOutput(sys, 1)
        out.write("tar (busybox) 1.35.0\n")
        yield from out.flush()
        return 0
    try:
        argv, long_values, long_flags = _parse_argv(list(sys.argv[1:]))
        # Debian builds it without FEATURE_TAR_FROM (no -T, -X, --exclude)
        # and without FEATURE_TAR_AUTODETECT (a compressed archive needs -z/-j)
        opts = getopt(argv, "txC:f:OopvkchjzJZam")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "tar", e.message)
        yield from show_usage(sys, "tar")
        return 1
    modes = [m for m in "ctx" if m in opts]
    if len({m for m in modes}) != 1 or ("c" in opts and "t" in opts):
        yield from show_usage(sys, "tar")
        return 1
    mode = "t" if ("t" in opts and "x" not in opts and "c" not in opts) else modes[0]
    if "x" in opts and "t" in opts:
        yield from show_usage(sys, "tar")
        return 1
    verbose = opts.flags.get("t", 0) + opts.flags.get("v", 0)
    if mode == "x" and "t" not in opts:
        verbose = opts.flags.get("v", 0)
    t = Tar(sys, opts, verbose)
    try:
        strip = 0
        if "--strip-components" in long_values:
            text = long_values["--strip-components"][-1]
            if not text.isdigit():
                raise TarDie(f"invalid number '{text}'")
            strip = int(text)
        if "--to-command" in long_values:
            raise TarDie("--to-command is not supported by the stepbox simulator's tar")
        excludes: list[str] = []
        accept = []
        for a in opts.operands:
            accept.append(a[:-1] if len(a) > 1 and a.endswith("/") else a)
        tarname = opts.value("f", "-") or "-"
        zip_mode = None
        if "Z" in opts:
            zip_mode = "Z"
        if "z" in opts:
            zip_mode = "gz"
        if "j" in opts:
            zip_mode = "bz2"
        if "--lzma" in long_flags:
            zip_mode = "lzma"
        if "J" in opts:
            zip_mode = "xz"
        if mode == "c":
            return (yield from _create(sys, t, tarname, zip_mode, accept, excludes, long_flags))
        return (yield from _read(sys, t, mode, tarname, zip_mode, accept, excludes, long_flags, strip))
    except TarDie as e:
        yield from t.out.flush_quietly()
        yield from complain(sys, "tar", str(e))
        return 1


def _create(
    sys: Sys, t: Tar, tarname: str, zip_mode, accept: list[str], excludes: list[str], long_flags
) -> Gen:
    opts = t.opts
    if not accept:
        raise TarDie("empty archive")
    if tarname == "-":
        fd = 1
    else:
        try:
            fd = sys.open(tarname, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        except OSError as e:
            raise TarDie(f"can't open '{tarname}': {strerror(e)}") from None
        if "a" in opts:
            if tarname.endswith("gz"):
                zip_mode = "gz"
            if tarname.endswith("bz2"):
                zip_mode = "bz2"
    t.to_stdout = fd == 1
    archive_id = None
    if fd != 1:
        st = full_stat(sys, tarname)
        archive_id = (st.dev, st.ino)
    if "C" in opts.values:
        try:
            sys.chdir(opts.value("C") or "")
        except OSError as e:
            raise TarDie(f"can't change directory to '{opts.value('C')}': {strerror(e)}") from None
    if zip_mode in ("xz", "lzma", "Z"):
        # busybox pipes the archive through an external compressor: the xz
        # and lzma applets only decompress (they print their usage), and
        # there is no compress at all
        if zip_mode == "Z":
            yield from complain(sys, "tar", "can't execute 'compress': No such file or directory")
        else:
            yield from show_usage(sys, zip_mode)
        if fd != 1:
            close_quietly(sys, fd)
        return 1
    blocks: list[bytes] = []
    ok = True
    for name in accept:
        if not (
            yield from t.add(
                name, blocks, "h" in opts, "--no-recursion" not in long_flags, excludes, archive_id
            )
        ):
            ok = False
        yield from t.out.drain()
    blocks.append(b"\0" * (2 * BLOCK))
    data = b"".join(blocks)
    if zip_mode == "gz":
        data = compression.gzip_compress(data)
    elif zip_mode == "bz2":
        data = compression.bzip2_compress(data)
    yield from t.out.flush()
    yield from write_all(sys, fd, data)
    if fd != 1:
        close_quietly(sys, fd)
    if not ok:
        yield from complain(sys, "tar", "error exit delayed from previous errors")
        return 1
    return 0


def _read(
    sys: Sys, t: Tar, mode: str, tarname: str, zip_mode, accept, excludes, long_flags, strip: int
) -> Gen:
    opts = t.opts
    if tarname == "-":
        fd = 0
    else:
        try:
            fd = sys.open(tarname, 0)
        except OSError as e:
            raise TarDie(f"can't open '{tarname}': {strerror(e)}") from None
    seekable = sys.fd_info(fd)[0] == "file"
    data = yield from read_all(sys, fd, charge=True)
    close_quietly(sys, fd)
    held = len(data)
    if "C" in opts.values:
        try:
            sys.chdir(opts.value("C") or "")
        except OSError as e:
            raise TarDie(f"can't change directory to '{opts.value('C')}': {strerror(e)}") from None
    try:
        if zip_mode is not None:
            data = compression.decompress(zip_mode, data)
        _ = seekable
    except compression.DecodeError as e:
        raise TarDie(e.message) from None
    flags = {
        "strip": strip,
        "unlink_old": "k" not in opts and "--overwrite" not in long_flags,
        "overwrite": "--overwrite" in long_flags,
        "no_owner": "o" in opts,
        "numeric": "--numeric-owner" in long_flags,
        "no_perm": "--no-same-permissions" in long_flags or sys.getuid() != 0,
        "restore_date": "m" not in opts,
    }
    reader = Reader(data)
    links: list = []
    passed: list[str] = []
    seen_any = False
    try:
        while True:
            m = reader.next()
            if m is None:
                break
            seen_any = True
            name = strip_unsafe_prefix(m.name)
            yield from t.warn_prefix(m.name, name)
            if (excludes and _find_list_entry2(excludes, name)) or (
                accept and not _find_list_entry2(accept, name)
            ):
                continue
            yield from t.list_member(m, name)
            bare = name[:-1] if name.endswith("/") else name
            if mode == "x" or "O" in opts:
                body = reader.data[m.data_offset : m.data_offset + m.size]
                if "O" in opts:
                    if m.mode & 0o170000 == 0o100000 and not (m.size == 0 and m.link):
                        yield from t.out.flush()
                        yield from write_all(sys, 1, body)
                else:
                    yield from t.extract(m, bare, body, flags, links)
            passed.append(bare)
            yield from t.out.drain()
            yield from sys.burn(1 + m.size // 4096)
    except TarDie as e:
        if str(e) == "short read" and not seen_any:
            yield from t.out.flush()
            yield from complain(sys, "tar", "short read")
            sys.free(held)
            return 1
        raise
    yield from t.out.flush()
    for hard, name, target in links:
        try:
            if hard:
                sys.link(target, name)
            else:
                sys.symlink(target, name)
        except OSError:
            raise TarDie(f"can't create {'hard' if hard else 'sym'}link '{name}' to '{target}'") from None
    for pat in accept:
        if not (excludes and any(fnmatch(x, pat) for x in excludes)) and not any(
            fnmatch(p, pat) for p in passed
        ):
            raise TarDie(f"{pat}: not found in archive")
    sys.free(held)
    return 0 if seen_any else 1
