"""find, as busybox 1.35's ``findutils/find.c`` does it.

The expression is parsed the busybox way: a list of OR-groups, each a list
of actions ANDed together (``-o`` starts a new group, ``!`` inverts the
next action, ``( ... )`` is a sub-expression); options (``-follow -xdev
-depth -maxdepth -mindepth``) apply wherever they stand.  The walk is
libbb's ``recursive_action``: directory entries in the order the
filesystem gives them, ``-depth`` visiting a directory after its contents.
Debian builds it without ``-delete`` and ``-context``: they are
"unrecognized", here too.  ``-exec ... ;`` runs through ``spawn_and_wait`` (a NOFORK
applet inside find itself, a NOEXEC one in a child without exec), ``-exec
... +`` collects names and runs at the end.  ``-size N`` is in 512-byte
units, compared exactly (busybox does not round up as GNU find does).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .applets_owners import parse_mode
from .fnmatch_c import fnmatch
from .libc import BufferedOutput, FullStat, complain, full_stat, name_to_id, show_usage, strerror
from .posix_regex import RegexError, compile_posix
from .spawn import spawn_and_wait

Gen = Generator[Any, Any, Any]

TRUE, SKIP = 1, 2
ARG_MAX = 2097152  # sysconf(_SC_ARG_MAX) with an 8 MiB stack

OPTIONS = ("-follow", "-xdev", "-depth", "-mindepth", "-maxdepth")
WITH_ARGUMENT = {
    "-name", "-iname", "-path", "-wholename", "-ipath", "-regex", "-type", "-perm",
    "-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin", "-newer", "-inum",
    "-samefile", "-user", "-group", "-size", "-links", "-mindepth", "-maxdepth",
}  # fmt: skip
KNOWN = set(OPTIONS) | WITH_ARGUMENT | {
    "-a", "-o", "!", "-and", "-or", "-not", "-print", "-print0", "-prune", "-quit",
    "-empty", "-exec", "-executable", "(",
}  # fmt: skip


class FindDie(Exception):
    pass


@dataclass
class Action:
    kind: str
    invert: bool = False
    arg: Any = None
    argv: list[str] = field(default_factory=list)
    filelist: list[str] | None = None  # -exec ... +
    file_len: int = 0


def _number(text: str) -> int:
    if not text.isdigit():
        raise FindDie(f"invalid number '{text}'")
    return int(text)


def _plus_minus(text: str) -> tuple[str, str]:
    return (text[0], text[1:]) if text[:1] in "+-" else ("", text)


class Find:
    def __init__(self, sys: Sys) -> None:
        self.sys = sys
        self.out = BufferedOutput(sys, 1)
        self.need_print = True
        self.follow = False  # -follow / -L
        self.follow_l0 = False  # -H
        self.depth_first = False
        self.xdev = False
        self.mindepth, self.maxdepth = 0, 2**31 - 1
        self.exitstatus = 0
        self.all_execs: list[Action] = []

    # -- parsing ------------------------------------------------------------------------
    def parse(self, argv: list[str]) -> Gen:
        groups: list[list[Action]] = [[]]
        invert = False
        i = 0
        while i < len(argv):
            arg = argv[i]
            arg1 = argv[i + 1] if i + 1 < len(argv) else None
            if arg in WITH_ARGUMENT:
                if arg1 is None:
                    raise FindDie(f"{arg} requires an argument")
                i += 1

            def add(kind: str, value: Any = None) -> Action:
                nonlocal invert
                act = Action(kind, invert, value)
                invert = False
                groups[-1].append(act)
                return act

            if arg == "-follow":
                self.follow = True
            elif arg == "-xdev":
                self.xdev = True
            elif arg in ("-mindepth", "-maxdepth"):
                value = _number(arg1 or "")
                if arg == "-mindepth":
                    self.mindepth = value
                else:
                    self.maxdepth = value
            elif arg == "-depth":
                self.depth_first = True
            elif arg in ("-a", "-and"):
                pass
            elif arg in ("-o", "-or"):
                groups.append([])
            elif arg in ("!", "-not"):
                invert = not invert
            elif arg in ("-print", "-print0"):
                self.need_print = False
                add(arg[1:])
            elif arg in ("-prune", "-quit", "-empty", "-executable"):
                add(arg[1:])
            elif arg == "-exec":
                self.need_print = False
                act = add("exec")
                i += 1
                while True:
                    if i >= len(argv):
                        raise FindDie("-exec requires an argument")
                    if argv[i] in (";", "+"):
                        if argv[i] == "+":
                            act.filelist = []
                        break
                    act.argv.append(argv[i])
                    i += 1
                if not act.argv:
                    raise FindDie("-exec requires an argument")
                if act.filelist is not None and sum(a.count("{}") for a in act.argv) != 1:
                    raise FindDie("only one '{}' allowed for -exec +")
                self.all_execs.append(act)
            elif arg == "(":
                nested, end = 1, i
                while True:
                    end += 1
                    if end >= len(argv):
                        raise FindDie("unpaired '('")
                    if argv[end] == "(":
                        nested += 1
                    elif argv[end] == ")":
                        nested -= 1
                        if nested == 0:
                            break
                act = add("paren")
                act.arg = yield from self.parse(argv[i + 1 : end])
                i = end
            elif arg in ("-name", "-iname", "-path", "-wholename", "-ipath"):
                add(arg[1:] if arg != "-wholename" else "path", arg1)
            elif arg == "-regex":
                try:
                    compile_posix(arg1 or "", False)
                except RegexError as e:
                    raise FindDie(f"bad regex '{arg1}': {e}") from None
                add("regex", arg1)
            elif arg == "-type":
                kinds = {"b": "b", "c": "c", "d": "d", "p": "p", "f": "f", "l": "l", "s": "s"}
                if not arg1 or arg1[0] not in kinds or len(arg1) != 1:
                    raise FindDie(f"invalid argument '{arg1}' to '-type'")
                add("type", arg1)
            elif arg == "-perm":
                char = arg1[0] if arg1 else ""
                text = (arg1 or "")[1:] if char == "/" else _plus_minus(arg1 or "")[1]
                mask = parse_mode(text, 0)
                if mask is None:
                    raise FindDie(f"invalid mode '{text}'")
                add("perm", (char, mask))
            elif arg in ("-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin"):
                char, digits = _plus_minus(arg1 or "")
                unit = 86400 if arg.endswith("time") else 60
                add("time", (char, _number(digits), unit))
            elif arg == "-newer":
                try:
                    st = full_stat(self.sys, arg1 or "")
                except OSError as e:
                    raise FindDie(f"can't stat '{arg1}': {strerror(e)}") from None
                add("newer", st.mtime)
            elif arg == "-inum":
                add("inum", _number(arg1 or ""))
            elif arg == "-samefile":
                try:
                    st = full_stat(self.sys, arg1 or "", follow=self.follow or self.follow_l0)
                except OSError as e:
                    raise FindDie(f"can't stat '{arg1}': {strerror(e)}") from None
                add("samefile", (st.ino, st.dev))
            elif arg in ("-user", "-group"):
                text = arg1 or ""
                if text.isdigit():
                    ident = int(text)
                else:
                    db = "/etc/passwd" if arg == "-user" else "/etc/group"
                    ident = yield from name_to_id(self.sys, db, text)
                    if ident is None:
                        raise FindDie(f"unknown {arg[1:]} {text}")
                add(arg[1:], ident)
            elif arg == "-size":
                char, text = _plus_minus(arg1 or "")
                mult = {"c": 1, "w": 2, "b": 512, "k": 1024}
                suffix = text[-1:] if text[-1:] in mult else ""
                digits = text[: len(text) - len(suffix)]
                if not digits.isdigit():
                    raise FindDie(f"invalid number '{text}'")
                add("size", (char, int(digits) * mult.get(suffix, 512)))
            elif arg == "-links":
                char, digits = _plus_minus(arg1 or "")
                add("links", (char, _number(digits)))
            else:
                yield from complain(self.sys, "find", f"unrecognized: {arg}")
                yield from show_usage(self.sys, "find")
                raise FindDie("")
            i += 1
        return groups

    # -- actions ----------------------------------------------------------------------------
    def exec_actions(self, groups: list[list[Action]], name: str, st: FullStat) -> Gen:
        rc = 0
        for group in groups:
            rc &= ~TRUE
            failed = False
            for act in group:
                got = yield from self.act(act, name, st)
                rc |= TRUE ^ got
                if act.invert:
                    rc ^= TRUE
                if rc & TRUE:
                    failed = True
                    break
            if not failed:
                return rc ^ TRUE
        return rc ^ TRUE

    def act(self, a: Action, name: str, st: FullStat) -> Gen:  # noqa: C901 - one case per action
        k = a.kind
        sys = self.sys
        if k == "print":
            self.out.write(name.encode("utf-8", "surrogateescape") + b"\n")
            return TRUE
        if k == "print0":
            self.out.write(name.encode("utf-8", "surrogateescape") + b"\0")
            return TRUE
        if k in ("name", "iname"):
            return int(fnmatch(a.arg, _name_part(name), casefold=k == "iname"))
        if k in ("path", "ipath"):
            return int(fnmatch(a.arg, name, casefold=k == "ipath"))
        if k == "regex":
            m = compile_posix(a.arg, False).match(name)
            return int(m is not None and m.end() == len(name))
        if k == "type":
            bits = {"f": 0o100000, "d": 0o040000, "l": 0o120000, "c": 0o020000}.get(a.arg, -1)
            return int(st.type_bits == bits)
        if k == "executable":
            return int(sys.access(name, 1))
        if k == "perm":
            char, mask = a.arg
            if char in "+/" and char:
                return int(bool(st.mode & mask))
            if char == "-":
                return int(st.mode & mask == mask)
            return int(st.mode & 0o7777 == mask)
        if k == "time":
            char, n, unit = a.arg
            age = int(sys.wall_time()) - int(st.mtime)
            n *= unit
            if char == "+":
                return int(age >= n + unit)
            if char == "-":
                return int(age < n)
            return int(n <= age < n + unit)
        if k == "newer":
            return int(int(a.arg) < int(st.mtime))
        if k == "inum":
            return int(st.ino == a.arg)
        if k == "samefile":
            return int((st.ino, st.dev) == a.arg)
        if k == "user":
            return int(st.uid == a.arg)
        if k == "group":
            return int(st.gid == a.arg)
        if k == "size":
            char, size = a.arg
            if char == "+":
                return int(st.size > size)
            if char == "-":
                return int(st.size < size)
            return int(st.size == size)
        if k == "links":
            char, n = a.arg
            if char == "-":
                return int(st.nlink < n)
            if char == "+":
                return int(st.nlink > n)
            return int(st.nlink == n)
        if k == "paren":
            return (yield from self.exec_actions(a.arg, name, st))
        if k == "prune":
            return SKIP + TRUE
        if k == "quit":
            yield from self.out.flush()
            raise _Quit()
        if k == "empty":
            if st.kind == "dir":
                try:
                    return int(not sys.listdir(name))
                except OSError as e:
                    yield from complain(sys, "find", f"{name}: {strerror(e)}")
                    return 0
            return int(st.kind == "file" and not st.is_device and st.size == 0)
        if k == "exec":
            if a.filelist is not None:
                a.filelist.append(name)
                a.file_len += len(name) + 9
                if a.file_len >= ARG_MAX - 2048:
                    return (yield from self.do_exec(a, None))
                return TRUE
            return (yield from self.do_exec(a, name))
        raise AssertionError(k)  # pragma: no cover

    def do_exec(self, a: Action, name: str | None) -> Gen:
        if a.filelist is not None:
            argv: list[str] = []
            for arg in a.argv:
                if "{}" in arg:
                    argv.extend(arg.replace("{}", f, 1) for f in a.filelist)
                else:
                    argv.append(arg)
            a.filelist, a.file_len = [], 0
        else:
            argv = [arg.replace("{}", name or "") for arg in a.argv]
        yield from self.out.flush()
        try:
            rc = yield from spawn_and_wait(self.sys, argv)
        except OSError as e:
            yield from complain(self.sys, "find", f"{argv[0]}: {strerror(e)}")
            return 0
        return int(rc == 0)

    def flush_exec_plus(self) -> Gen:
        for a in self.all_execs:
            if a.filelist:
                rc = yield from self.do_exec(a, None)
                if a.invert:
                    rc = int(not rc)
                if rc == 0:
                    return 1
        return 0

    # -- the walk -----------------------------------------------------------------------------
    def file_action(self, groups, name: str, st: FullStat, depth: int, top_devs: list[int]) -> Gen:
        same_fs = True
        if st.kind == "dir" and self.xdev and st.dev not in top_devs:
            same_fs = False
        if depth < self.mindepth:
            return TRUE if same_fs else SKIP
        if depth > self.maxdepth:
            return SKIP
        r = yield from self.exec_actions(groups, name, st)
        if (r & TRUE) and self.need_print:
            self.out.write(name.encode("utf-8", "surrogateescape") + b"\n")
        yield from self.out.drain()
        if st.kind == "dir" and depth == self.maxdepth:
            return SKIP
        if not same_fs:
            return SKIP
        return SKIP if r & SKIP else TRUE

    def walk(self, groups, name: str, depth: int, top_devs: list[int]) -> Gen:
        sys = self.sys
        follow = self.follow or (depth == 0 and self.follow_l0)
        try:
            st = full_stat(sys, name, follow)
        except OSError as e:
            if self.follow or self.follow_l0:
                try:
                    st = full_stat(sys, name, False)
                except OSError:
                    pass
                else:
                    if e.errno == 2:
                        return (yield from self.file_action(groups, name, st, depth, top_devs))
            yield from complain(sys, "find", f"{name}: {strerror(e)}")
            return 0
        yield from sys.burn(2)
        if st.kind != "dir":
            return (yield from self.file_action(groups, name, st, depth, top_devs))
        if not self.depth_first:
            status = yield from self.file_action(groups, name, st, depth, top_devs)
            if status == 0:
                yield from complain(sys, "find", f"{name}: {strerror(0)}")
                return 0
            if status == SKIP:
                return TRUE
        try:
            names = sys.listdir(name)
        except OSError as e:
            yield from complain(sys, "find", f"{name}: {strerror(e)}")
            return 0
        status = TRUE
        for entry in names:
            if entry in (".", ".."):
                continue
            child = name + entry if name.endswith("/") else f"{name}/{entry}"
            got = yield from self.walk(groups, child, depth + 1, top_devs)
            if got == 0:
                status = 0
        if self.depth_first:
            got = yield from self.file_action(groups, name, st, depth, top_devs)
            if not got:
                return 0
        return status


class _Quit(Exception):
    pass


def _name_part(path: str) -> str:
    """What -name matches: the last component (``dir/`` as given: "dir")."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else ""
    return stripped.rsplit("/", 1)[-1]


@applet("find")
def find_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    f = Find(sys)
    # -H -L -P before the paths
    while args and args[0].startswith("-") and len(args[0]) > 1:
        if args[0] == "--":
            args.pop(0)
            break
        if not set(args[0][1:]) <= set("HLP"):
            break
        for ch in args.pop(0)[1:]:
            if ch == "H":
                f.follow_l0 = True
            elif ch == "L":
                f.follow = True
    paths = []
    while args and not args[0].startswith("-") and args[0] not in ("!", "("):
        paths.append(args.pop(0))
    if not paths:
        paths = ["."]
    try:
        groups = yield from f.parse(args)
        top_devs = []
        if f.xdev:
            for p in paths:
                try:
                    top_devs.append(full_stat(sys, p).dev)
                except OSError:
                    pass
        for p in paths:
            ok = yield from f.walk(groups, p, 0, top_devs)
            if not ok:
                f.exitstatus |= 1
        f.exitstatus |= yield from f.flush_exec_plus()
    except _Quit:
        return f.exitstatus
    except FindDie as e:
        yield from f.out.flush_quietly()
        if str(e):
            yield from complain(sys, "find", str(e))
        return 1
    yield from f.out.flush()
    return f.exitstatus
