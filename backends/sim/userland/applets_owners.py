"""Applets that change who owns a file and its permission bits: chmod,
chown, chgrp.  Names are looked up in the container's own /etc/passwd and
/etc/group, as busybox does; messages and exit codes are busybox 1.35's.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import (
    complain,
    join,
    read_text,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, int]


def parse_mode(text: str, base: int, is_dir: bool = False) -> int | None:
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


def _chown_tree(
    sys: Sys, prog: str, paths: list[str], uid: int, gid: int, recursive: bool, follow: bool
) -> Gen:
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
        mode = parse_mode(spec, st.mode, st.kind.value == "dir")
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
