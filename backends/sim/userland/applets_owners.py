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
Ids = Generator[Any, Any, tuple[int, int] | None]  # (uid, gid), -1 for what stays


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


def _strtou(text: str, limit: int = 0xFFFFFFFF) -> int | None:
    """libbb's bb_strtou(s, NULL, 10): ASCII digits only (no sign, no
    blanks), at most ``limit``; None where it sets errno."""
    if not re.fullmatch(r"[0-9]+", text) or int(text) > limit:
        return None
    return int(text)


def _get_ug_id(text: str) -> int | None:
    """libbb's get_ug_id: bb_strtoul, a 64-bit number, returned as a
    32-bit unsigned (chown 4294967296 is chown 0; 4294967295 is -1, no
    change); None: look the name up."""
    number = _strtou(text, 2**64 - 1)
    if number is None:
        return None
    number &= 0xFFFFFFFF
    return -1 if number == 0xFFFFFFFF else number


def _find_entry(
    sys: Sys, prog: str, db: str, field: int, key: str | int
) -> Generator[Any, Any, list[str] | None]:
    """getpwnam/getpwuid/getgrnam on busybox's own parser: the first entry
    whose ``field`` is ``key``, or None.  Empty lines and ``#`` comments
    are skipped; a line with the wrong number of fields met on the way is
    reported ("bad record") and skipped; the scan stops at the match, so
    a bad line after it goes unseen."""
    text = yield from read_text(sys, db)
    fields_wanted = 7 if db == "/etc/passwd" else 4
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != fields_wanted:
            yield from complain(sys, prog, f"{db}: bad record")
            continue
        if fields[field] == str(key):  # getpwuid compares the number as text ("%u")
            return fields
    return None


def _owner_spec(sys: Sys, prog: str, spec: str) -> Ids:
    """libbb's parse_chown_usergroup_or_die: ``(uid, gid)``, -1 for what
    stays, or None after the error.  A number is taken as it is (no
    lookup) except in ``user:group``, where get_uidgid asks getpwuid for
    the user's group; ``user:`` means the user's primary group; a ``.``
    (checked first) stands for ``:``."""
    sep = spec.find(".")
    if sep >= 0:
        spec = spec[:sep] + ":" + spec[sep + 1 :]
    else:
        sep = spec.find(":")
    if sep < 0:  # "user": the uid only
        uid = _get_ug_id(spec)
        if uid is None:
            entry = yield from _find_entry(sys, prog, "/etc/passwd", 0, spec)
            if entry is None or not entry[2].isdigit():
                yield from complain(sys, prog, f"unknown user {spec}")
                return None
            uid = int(entry[2])
        return uid, -1
    if sep == 0:  # ":group": the gid only
        group = spec[1:]
        gid = _get_ug_id(group)
        if gid is None:
            entry = yield from _find_entry(sys, prog, "/etc/group", 0, group)
            if entry is None or not entry[2].isdigit():
                yield from complain(sys, prog, f"unknown group {group}")
                return None
            gid = int(entry[2])
        return -1, gid
    ug = spec[:-1] if sep == len(spec) - 1 else spec  # "user:" -> "user"
    ids = yield from _get_uidgid(sys, prog, ug)
    if ids is None:
        yield from complain(sys, prog, f"unknown user/group {ug}")
    return ids


def _get_uidgid(sys: Sys, prog: str, ug: str) -> Ids:
    """libbb's get_uidgid: both ids of ``user[:group]``, or None."""
    user, colon, group = ug.partition(":")
    uid = _strtou(user)
    if uid is not None:
        entry = yield from _find_entry(sys, prog, "/etc/passwd", 2, uid)
        gid = int(entry[3]) if entry is not None and entry[3].isdigit() else uid
    else:
        entry = yield from _find_entry(sys, prog, "/etc/passwd", 0, user)
        if entry is None or not (entry[2].isdigit() and entry[3].isdigit()):
            return None
        uid, gid = int(entry[2]), int(entry[3])
    if colon:
        number = _strtou(group)
        if number is not None:
            return uid, number
        entry = yield from _find_entry(sys, prog, "/etc/group", 0, group)
        if entry is None or not entry[2].isdigit():
            return None
        gid = int(entry[2])
    return uid, gid


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
    ids = yield from _owner_spec(sys, "chown", args[0])
    if ids is None:
        return 1
    uid, gid = ids
    paths = args[1:]
    return (yield from _chown_tree(sys, "chown", paths, uid, gid, recursive, follow))


@applet("chgrp")
def chgrp_main(sys: Sys) -> Gen:
    parsed = _owner_options(sys, "chgrp")
    if parsed is None or len(parsed[0]) < 2:
        yield from show_usage(sys, "chgrp")
        return 1
    args, recursive, follow = parsed
    # busybox's chgrp is chown with ":GROUP" (chgrp.c)
    ids = yield from _owner_spec(sys, "chgrp", ":" + args[0])
    if ids is None:
        return 1
    uid, gid = ids
    return (yield from _chown_tree(sys, "chgrp", args[1:], uid, gid, recursive, follow))


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
