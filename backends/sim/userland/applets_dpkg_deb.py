"""dpkg-deb -- after busybox 1.35's archival/dpkg_deb.c: a .deb is an ar
archive (read by applets_ar) whose control.tar[.gz|.bz2|.lzma|.xz] and
data.tar[...] members are tar archives, unpacked by the simulated tar's
reader and extractor.

``dpkg-deb [-cefxX] FILE [DIR]``, one option at most (getopt32's "--"
groups; two options, no FILE or a third operand print the usage):
``-c`` lists data.tar as ``tar tv`` does, ``-f`` prints ./control from
control.tar, ``-e`` extracts control.tar into DIR (default ./DEBIAN),
``-x``/``-X`` extract data.tar into DIR (``-X`` naming each member).
DIR is made with mkdir(DIR, 0777) (its failure ignored) and entered.
Extraction is data_extract_all with no flags: O_EXCL (an existing file
stops dpkg-deb; a member whose directory is not there
cannot be opened), owners and modes restored, mtimes not.  A member whose
name matches but has no known suffix is skipped, as busybox's
filter_accept_list_reassign does.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from . import compression
from .applet_table import applet
from .applets_ar import members
from .applets_tar import Reader, Tar, TarDie, strip_unsafe_prefix
from .fnmatch_c import fnmatch
from .libc import (
    Die,
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
SUFFIXES = {"tar": None, "gz": "gz", "bz2": "bz2", "lzma": "lzma", "xz": "xz"}
DATA = ["data.tar", "data.tar.gz", "data.tar.bz2", "data.tar.lzma", "data.tar.xz"]
CONTROL = ["control.tar", "control.tar.gz", "control.tar.bz2", "control.tar.lzma", "control.tar.xz"]


def _usage(sys: Sys, message: str | None) -> Gen:
    if message:
        yield from complain(sys, "dpkg-deb", message)
    yield from show_usage(sys, "dpkg-deb")
    raise Die(None)


@applet("dpkg-deb")
@dies("dpkg-deb")
def dpkg_deb_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "cefXx")
    except UsageError as e:
        yield from _usage(sys, e.message)
    given = [c for c in "cefXx" if c in opts]
    if not 1 <= len(opts.operands) <= 2 or len(given) > 1:
        yield from _usage(sys, None)
    mode = given[0] if given else ""
    path = opts.operands[0]
    extract_dir = opts.operands[1] if len(opts.operands) > 1 else None
    if mode in ("c", "f") and extract_dir is not None:
        yield from _usage(sys, None)
    if mode == "e" and extract_dir is None:
        extract_dir = "./DEBIAN"
    if mode in ("x", "X") and extract_dir is None:
        yield from _usage(sys, None)
    accept = CONTROL if mode in ("e", "f") else DATA
    if path == "-":
        fd = 0
    else:
        try:
            fd = sys.open(path, O_RDONLY, 0)
        except OSError as e:
            raise Die(f"can't open '{path}': {strerror(e)}") from None
    if extract_dir is not None:
        try:
            sys.mkdir(extract_dir, 0o777)
        except OSError:
            pass
        try:
            sys.chdir(extract_dir)
        except OSError as e:
            raise Die(f"can't change directory to '{extract_dir}': {strerror(e)}") from None
    try:
        data = yield from read_all(sys, fd)
    except OSError:
        raise Die("short read") from None
    finally:
        if fd != 0:
            close_quietly(sys, fd)
    tar = Tar(sys, None, {"c": 2, "X": 1}.get(mode, 0))
    tar.prog = "dpkg-deb"
    try:
        for inner in accepted_tars(data, accept):
            yield from _unpack(sys, tar, mode, inner)
    except TarDie as e:
        raise Die(str(e)) from None
    finally:
        yield from tar.out.flush()
    return 0


def accepted_tars(data: bytes, accept) -> Generator[bytes, None, None]:
    """unpack_ar_archive with an accept list: the tar archive of each ar member
    whose name ``accept`` matches, decompressed as its suffix says, one at a
    time (a broken member fails only once those before it are handled)."""
    for member, body in members(data):
        if not any(fnmatch(p, member.name) for p in accept):
            continue
        dot = member.name.rfind(".")
        if dot < 0 or member.name[dot + 1 :] not in SUFFIXES:
            continue
        kind = SUFFIXES[member.name[dot + 1 :]]
        if len(body) < member.size:
            raise Die("short read")
        try:
            yield compression.decompress(kind, body) if kind else body
        except compression.DecodeError as e:
            raise Die(e.message) from None


def _unpack(sys: Sys, tar: Tar, mode: str, data: bytes) -> Gen:
    """The tar sub-archive: get_header_tar with dpkg-deb's actions."""
    flags = {
        "strip": 0,
        "unlink_old": False,
        "overwrite": False,
        "no_owner": False,
        "numeric": False,
        "no_perm": False,
        "restore_date": False,
        "leading_dirs": False,
    }
    reader = Reader(data)
    links: list = []
    while True:
        m = reader.next()
        if m is None:
            break
        name = strip_unsafe_prefix(m.name)
        if mode == "f" and not fnmatch("./control", name):
            continue
        yield from tar.list_member(m, name)
        body = reader.data[m.data_offset : m.data_offset + m.size]
        if mode == "f":
            if m.mode & 0o170000 == 0o100000:
                yield from tar.out.flush()
                yield from write_all(sys, 1, body)
        elif mode in ("e", "x", "X"):
            bare = name[:-1] if name.endswith("/") else name
            yield from tar.extract(m, bare, body, flags, links)
        yield from tar.out.drain()
    for hard, name, target in links:
        try:
            if hard:
                sys.link(target, name)
            else:
                sys.symlink(target, name)
        except OSError:
            raise TarDie(f"can't create {'hard' if hard else 'sym'}link '{name}' to '{target}'") from None
