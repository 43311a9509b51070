"""The shell's builtin commands.

Why builtins exist at all: ``cd``, ``export``, ``read``, ``exit`` ... must
change the shell process itself, which a forked child cannot do.  (``echo``,
``test``, ``printf`` and ``kill`` are builtins only to save a fork; they share
their code with the applets of the same name.)

*Special* builtins (POSIX's term: ``:``, ``.``, ``exit``, ``export``, ``set``
...) differ in two ways: assignments before them stay, and an error in one
ends a non-interactive shell.

Each builtin is ``fn(shell, argv) -> Generator[..., int]``.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ..sys_api import O_RDONLY
from . import cmd_echo, cmd_kill, cmd_printf, cmd_test
from .applet_table import STANDALONE_APPLET
from .libc import errno_is, read_all, read_chunk, strerror, write_all
from .sh_errors import BreakLoop, ContinueLoop, ReturnFromFunction, ShellExit, ShellFatal
from .sh_lexer import is_name
from .sh_ulimit import b_ulimit

if TYPE_CHECKING:
    from .sh_shell import Shell

Gen = Generator[Any, Any, int]
Builtin = Callable[["Shell", list[str]], Gen]


class BuiltinError(Exception):
    """An error a builtin reports with ash's ``sh: NAME: line N: msg`` format
    (status 2; fatal in a special builtin)."""


# ash's maybe_single_quote leaves a word bare only if it is made of these
# (so "]" stays bare in ``+ '[' 1 -eq 0 ]`` and "%" is quoted)
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@]^")


def shell_quote(text: str, only_if_needed: bool = False) -> str:
    """Quote for re-reading by a shell, the way ash prints values."""
    if only_if_needed and (text == "" or set(text) <= _SAFE):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _out(sh: Shell, text: str) -> Generator[Any, Any, None]:
    yield from write_all(sh.sys, 1, text)


def _number_arg(text: str) -> int:
    t = text.strip()
    if not t.isdigit():
        raise BuiltinError(f"Illegal number: {text}")
    return int(t)


# -- trivial --------------------------------------------------------------------


def b_true(sh: Shell, argv: list[str]) -> Gen:
    return 0
    yield


def b_false(sh: Shell, argv: list[str]) -> Gen:
    return 1
    yield


def b_echo(sh: Shell, argv: list[str]) -> Gen:
    return (yield from cmd_echo.echo(sh.sys, argv, "sh"))


def b_printf(sh: Shell, argv: list[str]) -> Gen:
    return (yield from cmd_printf.printf(sh.sys, argv, "sh"))


def b_test(sh: Shell, argv: list[str]) -> Gen:
    return (yield from cmd_test.test(sh.sys, argv, "sh"))


def b_kill(sh: Shell, argv: list[str]) -> Gen:
    return (yield from cmd_kill.kill(sh.sys, argv, "sh"))


# -- leaving things ---------------------------------------------------------------


def b_exit(sh: Shell, argv: list[str]) -> Gen:
    status = sh.status if len(argv) < 2 else _number_arg(argv[1]) & 0xFF
    raise ShellExit(status)
    yield


def b_return(sh: Shell, argv: list[str]) -> Gen:
    status = sh.status if len(argv) < 2 else _number_arg(argv[1]) & 0xFF
    raise ReturnFromFunction(status)
    yield


def _loop_levels(argv: list[str]) -> int:
    n = _number_arg(argv[1]) if len(argv) > 1 else 1
    if n < 1:
        raise BuiltinError(f"Illegal number: {argv[1]}")
    return n


def b_break(sh: Shell, argv: list[str]) -> Gen:
    n = _loop_levels(argv)
    if sh.loop_depth:
        raise BreakLoop(min(n, sh.loop_depth))
    return 0
    yield


def b_continue(sh: Shell, argv: list[str]) -> Gen:
    n = _loop_levels(argv)
    if sh.loop_depth:
        raise ContinueLoop(min(n, sh.loop_depth))
    return 0
    yield


# -- variables --------------------------------------------------------------------


def _assign_words(sh: Shell, argv: list[str], attr: str) -> Gen:
    args = argv[1:]
    if not args or args == ["-p"]:
        names = sorted(sh.exported if attr == "export" else sh.readonly)
        for name in names:
            if name in sh.vars:
                yield from _out(sh, f"{attr} {name}={shell_quote(sh.vars[name])}\n")
            else:
                yield from _out(sh, f"{attr} {name}\n")
        return 0
    if args[0] == "-n" and attr == "export":
        for name in args[1:]:
            sh.exported.discard(name)
        return 0
    for arg in args:
        name, eq, value = arg.partition("=")
        if not is_name(name):
            raise BuiltinError(f"{name}: bad variable name")
        if eq:
            sh.set_var(name, value)
        if attr == "export":
            sh.exported.add(name)
        else:
            sh.readonly.add(name)
    return 0


def b_export(sh: Shell, argv: list[str]) -> Gen:
    return (yield from _assign_words(sh, argv, "export"))


def b_readonly(sh: Shell, argv: list[str]) -> Gen:
    return (yield from _assign_words(sh, argv, "readonly"))


def b_unset(sh: Shell, argv: list[str]) -> Gen:
    args = argv[1:]
    functions = False
    while args and args[0] in ("-f", "-v"):
        functions = args[0] == "-f"
        args = args[1:]
    for name in args:
        if functions:
            sh.funcs.pop(name, None)
        else:
            sh.unset_var(name)
    return 0
    yield


def b_local(sh: Shell, argv: list[str]) -> Gen:
    if not sh.local_frames:
        raise BuiltinError("not in a function")
    frame = sh.local_frames[-1]
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if not is_name(name):
            raise BuiltinError(f"{name}: bad variable name")
        if name not in frame:
            frame[name] = (sh.vars.get(name), name in sh.exported)
        if eq:
            sh.set_var(name, value)
    return 0
    yield


def b_set(sh: Shell, argv: list[str]) -> Gen:
    args = argv[1:]
    if not args:
        for name in sorted(sh.vars):
            yield from _out(sh, f"{name}={shell_quote(sh.vars[name])}\n")
        return 0
    while args:
        arg = args[0]
        if arg == "--":
            sh.positional = args[1:]
            return 0
        if arg in ("-o", "+o"):
            if len(args) > 1:
                opt = {
                    "errexit": "e",
                    "nounset": "u",
                    "xtrace": "x",
                    "noglob": "f",
                    "allexport": "a",
                    "noexec": "n",
                    "verbose": "v",
                }.get(args[1])
                if opt is None:
                    raise BuiltinError(f"Illegal option -o {args[1]}")
                (sh.opts.add if arg == "-o" else sh.opts.discard)(opt)
                args = args[2:]
                continue
            return 0
        if len(arg) > 1 and arg[0] in "-+":
            for flag in arg[1:]:
                if flag not in "euxfanvC":
                    raise BuiltinError(f"Illegal option {arg[0]}{flag}")
                (sh.opts.add if arg[0] == "-" else sh.opts.discard)(flag)
            args = args[1:]
            continue
        sh.positional = list(args)
        return 0
    return 0


def b_shift(sh: Shell, argv: list[str]) -> Gen:
    n = _number_arg(argv[1]) if len(argv) > 1 else 1
    if n > len(sh.positional):
        return 1
    sh.positional = sh.positional[n:]
    return 0
    yield


# -- running code -----------------------------------------------------------------


def b_eval(sh: Shell, argv: list[str]) -> Gen:
    src = " ".join(argv[1:])
    if not src.strip():
        return 0
    return (yield from sh.run_source(src + "\n", first_line=sh.lineno))


def b_dot(sh: Shell, argv: list[str]) -> Gen:
    if len(argv) < 2:
        return 0
    path = argv[1]
    if "/" not in path:
        found = None
        for directory in sh.vars.get("PATH", "").split(":") + ["."]:
            cand = f"{directory or '.'}/{path}"
            try:
                if sh.sys.stat(cand).kind.value == "file":
                    found = cand
                    break
            except OSError:
                continue
        path = found or path
    try:
        fd = sh.sys.open(path, O_RDONLY)
    except OSError as e:
        raise BuiltinError(f"can't open '{argv[1]}': {strerror(e)}") from None
    try:
        src = (yield from read_all(sh.sys, fd)).decode("utf-8", "surrogateescape")
    finally:
        sh.sys.close(fd)
    saved = sh.positional
    if len(argv) > 2:
        sh.positional = argv[2:]
    try:
        return (yield from sh.run_source(src, first_line=1))
    except ReturnFromFunction as r:
        return r.status
    finally:
        if len(argv) > 2:
            sh.positional = saved


def b_exec(sh: Shell, argv: list[str]) -> Gen:
    # `exec` alone is handled by the evaluator (its redirections persist)
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        return 0
    path = sh.find_command(args[0])
    status = yield from sh.exec_external(args[0], path, args, sh.environment(), from_builtin=True)
    raise ShellExit(status)


def b_command(sh: Shell, argv: list[str]) -> Gen:
    args = argv[1:]
    verbose = None
    while args and args[0].startswith("-") and args[0] != "-":
        if args[0] in ("-v", "-V"):
            verbose = args[0]
        elif args[0] == "--":
            args = args[1:]
            break
        args = args[1:]
    if not args:
        return 0
    if verbose == "-v":
        name = args[0]
        if name in sh.funcs or name in BUILTINS or name in SPECIAL_BUILTINS:
            yield from _out(sh, name + "\n")
            return 0
        path = sh.find_command(name)
        if path is None:
            return 127
        yield from _out(sh, (name if path == STANDALONE_APPLET else path) + "\n")
        return 0
    if verbose == "-V":
        return (yield from b_type(sh, ["type", args[0]]))
    name = args[0]
    if name in SPECIAL_BUILTINS:
        return (yield from SPECIAL_BUILTINS[name](sh, args))
    if name in BUILTINS:
        return (yield from BUILTINS[name](sh, args))
    path = sh.find_command(name)
    env = sh.environment()

    def body(sub: Shell) -> Gen:
        return (yield from sub.exec_external(name, path, args, env))

    pid = yield from sh.spawn(body)
    return (yield from sh.wait_pid(pid))


def b_type(sh: Shell, argv: list[str]) -> Gen:
    status = 0
    for name in argv[1:]:
        if name in SPECIAL_BUILTINS:
            yield from _out(sh, f"{name} is a special shell builtin\n")
        elif name in sh.funcs:
            yield from _out(sh, f"{name} is a function\n")
        elif name in BUILTINS:
            yield from _out(sh, f"{name} is a shell builtin\n")
        else:
            path = sh.find_command(name)
            if path is None:
                yield from _out(sh, f"{name}: not found\n")
                status = 127
            else:
                yield from _out(sh, f"{name} is {name if path == STANDALONE_APPLET else path}\n")
    return status


# -- processes --------------------------------------------------------------------


def b_wait(sh: Shell, argv: list[str]) -> Gen:
    if len(argv) == 1:
        # busybox ash announces a job killed by a signal ("Terminated") only
        # when it is waited for by PID, not by a bare ``wait``.
        for pid in list(sh.jobs):
            yield from sh.wait_pid(pid, announce=False)
        return 0
    status = 127
    for arg in argv[1:]:
        if not arg.isdigit():
            raise BuiltinError(f"Illegal number: {arg}")
        pid = int(arg)
        if pid in sh.jobs or pid in sh.reaped:
            status = yield from sh.wait_pid(pid)
        else:
            status = 127
    return status


def _trap_signal(name: str) -> int | None:
    if name in ("EXIT", "0"):
        return 0
    return cmd_kill.signal_number(name)


def b_trap(sh: Shell, argv: list[str]) -> Gen:
    args = argv[1:]
    if not args:
        for trapped in sorted(sh.traps):
            name = "EXIT" if trapped == 0 else cmd_kill.SIGNALS[trapped]
            yield from _out(sh, f"trap -- {shell_quote(sh.traps[trapped])} {name}\n")
        return 0
    if len(args) == 1:
        action, names = "-", args
    else:
        action, names = args[0], args[1:]
    status = 0
    for name in names:
        sig = _trap_signal(name)
        if sig is None:
            yield from sh.error(f"{name}: bad trap")
            status = 1
            continue
        if action == "-":
            sh.traps.pop(sig, None)
            if sig:
                sh.sys.signal(sig, None)
        else:
            sh.traps[sig] = action
            if sig:
                sh.sys.signal(sig, _signal.SIG_IGN if action == "" else sh.on_signal)
    return status


# -- files and directories --------------------------------------------------------


def _normalize(path: str) -> str:
    parts: list[str] = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts:
                parts.pop()
            continue
        parts.append(comp)
    return "/" + "/".join(parts)


def b_cd(sh: Shell, argv: list[str]) -> Gen:
    args = [a for a in argv[1:] if a not in ("-L", "-P")]
    print_dir = False
    if not args:
        target = sh.vars.get("HOME", "")
        if not target:
            return 0
    elif args[0] == "-":
        target = sh.vars.get("OLDPWD", "")
        print_dir = True
    else:
        target = args[0]
    old = sh.vars.get("PWD") or sh.sys.getcwd()
    new = _normalize(target if target.startswith("/") else old + "/" + target)
    try:
        sh.sys.chdir(new)
    except OSError as e:
        try:
            sh.sys.chdir(target)  # the physical path, e.g. via ".."
            new = sh.sys.getcwd()
        except OSError:
            raise BuiltinError(f"can't cd to {target}: {strerror(e)}") from None
    sh.set_var("OLDPWD", old)
    sh.set_var("PWD", new)
    if print_dir:
        yield from _out(sh, new + "\n")
    return 0


def b_pwd(sh: Shell, argv: list[str]) -> Gen:
    path = sh.sys.getcwd() if "-P" in argv[1:] else (sh.vars.get("PWD") or sh.sys.getcwd())
    yield from _out(sh, path + "\n")
    return 0


def b_umask(sh: Shell, argv: list[str]) -> Gen:
    if len(argv) < 2:
        old = sh.sys.umask(0)
        sh.sys.umask(old)
        yield from _out(sh, f"{old:04o}\n")
        return 0
    try:
        sh.sys.umask(int(argv[1], 8) & 0o777)
    except ValueError:
        raise BuiltinError(f"Illegal number: {argv[1]}") from None
    return 0


def b_read(sh: Shell, argv: list[str]) -> Gen:
    args = argv[1:]
    raw, prompt, nchars = False, None, None
    while args and args[0].startswith("-") and len(args[0]) > 1:
        opt = args.pop(0)
        if opt == "--":
            break
        if opt == "-r":
            raw = True
        elif opt == "-p" and args:
            prompt = args.pop(0)
        elif opt == "-n" and args:
            nchars = _number_arg(args.pop(0))
        elif opt == "-s":
            pass
        else:
            raise BuiltinError(f"invalid option -- '{opt[1:2]}'")
    names = args or ["REPLY"]
    if prompt:
        yield from write_all(sh.sys, 2, prompt)
    # one byte at a time, as ash does on a pipe: what follows the line must
    # stay unread for the next command
    chars: list[tuple[str, bool]] = []  # (char, escaped)
    buf = b""
    eof = False
    while True:
        if nchars is not None and len(chars) >= nchars:
            break
        try:
            byte = yield from read_chunk(sh.sys, 0, 1)
        except OSError as e:
            if errno_is(e, "EINTR"):
                continue
            byte = b""
        if not byte:
            eof = True
            break
        buf += byte
        try:
            ch = buf.decode("utf-8")
        except UnicodeDecodeError:
            if len(buf) < 4:
                continue
            ch = buf.decode("utf-8", "surrogateescape")
        buf = b""
        if ch == "\n":
            if chars and chars[-1] == ("\\", False) and not raw:
                chars.pop()
                continue
            break
        if chars and chars[-1] == ("\\", False) and not raw:
            chars[-1] = (ch, True)
            continue
        chars.append((ch, False))
    ifs = sh.vars.get("IFS", " \t\n")
    values = _split_read(chars, ifs, len(names))
    for i, name in enumerate(names):
        sh.set_var(name, values[i] if i < len(values) else "")
    return 1 if eof else 0


def _split_read(chars: list[tuple[str, bool]], ifs: str, count: int) -> list[str]:
    """Split a line for ``read``: IFS white space at the ends is trimmed,
    the last variable takes the rest of the line."""
    ws = [c for c in ifs if c in " \t\n"]
    fields: list[str] = []
    i, n = 0, len(chars)
    while i < n and chars[i][0] in ws and not chars[i][1]:
        i += 1
    while i < n:
        if len(fields) == count - 1:
            rest = chars[i:]
            while rest and rest[-1][0] in ws and not rest[-1][1]:
                rest = rest[:-1]
            fields.append("".join(c for c, _ in rest))
            return fields
        cur = []
        while i < n and not (chars[i][0] in ifs and not chars[i][1]):
            cur.append(chars[i][0])
            i += 1
        fields.append("".join(cur))
        # skip the separator: white space, then at most one non-white IFS char
        while i < n and chars[i][0] in ws and not chars[i][1]:
            i += 1
        if i < n and chars[i][0] in ifs and chars[i][0] not in ws and not chars[i][1]:
            i += 1
            while i < n and chars[i][0] in ws and not chars[i][1]:
                i += 1
    return fields


def b_getopts(sh: Shell, argv: list[str]) -> Gen:
    """``getopts OPTSTRING NAME [ARGS]``: one option per call, its place
    kept in ``$OPTIND`` (and, inside a group like ``-ab``, in the shell;
    assigning OPTIND starts over)."""
    if len(argv) < 3:
        raise BuiltinError("usage: getopts optstring var [arg]")
    optstring, name = argv[1], argv[2]
    args = argv[3:] if len(argv) > 3 else sh.positional
    silent = optstring.startswith(":")
    try:
        optind = int(sh.vars.get("OPTIND", "1") or "1")
    except ValueError:
        optind = 1
    state = sh.getopts_state
    if state is not None and state[0] == optind and state[2] > 1:
        idx, off = state[1], state[2]
    else:
        idx, off = max(optind - 1, 0), 1

    def finish(next_optind: int) -> Gen:
        sh.set_var(name, "?")
        sh.set_var("OPTIND", str(next_optind))
        sh.getopts_state = None
        return 1
        yield

    if off == 1:
        if idx >= len(args) or not args[idx].startswith("-") or args[idx] == "-":
            return (yield from finish(idx + 1))
        if args[idx] == "--":
            return (yield from finish(idx + 2))
    arg = args[idx]
    ch = arg[off]
    off += 1
    next_optind = idx + 2  # ash points past the argument being read
    optarg: str | None = None
    if ch == ":" or ch not in optstring:
        if silent:
            value, optarg = "?", ch
        else:
            yield from write_all(sh.sys, 2, f"Illegal option -{ch}\n")
            value = "?"
    elif optstring[optstring.index(ch) + 1 : optstring.index(ch) + 2] == ":":
        if off < len(arg):
            value, optarg, off = ch, arg[off:], len(arg)
        elif idx + 1 < len(args):
            value, optarg, next_optind = ch, args[idx + 1], idx + 3
            off = len(arg)
        elif silent:
            value, optarg = ":", ch
        else:
            yield from write_all(sh.sys, 2, f"No arg for -{ch} option\n")
            value = "?"
    else:
        value = ch
    sh.set_var(name, value)
    if optarg is None:
        sh.vars.pop("OPTARG", None)
    else:
        sh.set_var("OPTARG", optarg)
    sh.set_var("OPTIND", str(next_optind))
    if off >= len(arg):
        sh.getopts_state = (next_optind, next_optind - 1, 1)
    else:
        sh.getopts_state = (next_optind, idx, off)
    return 0


def b_let(sh: Shell, argv: list[str]) -> Gen:
    """``let EXPR...``: arithmetic for its side effects; false if the last is 0."""
    from .sh_arith import ArithError, evaluate

    if len(argv) < 2:
        raise BuiltinError("expression expected")
    value = 0
    for expr in argv[1:]:
        try:
            value = evaluate(expr, sh.get_var, sh.set_var_checked)
        except ArithError as e:
            raise ShellFatal(2, str(e)) from None
    return 0 if value else 1
    yield


SPECIAL_BUILTINS: dict[str, Builtin] = {
    ":": b_true,
    ".": b_dot,
    "break": b_break,
    "continue": b_continue,
    "eval": b_eval,
    "exec": b_exec,
    "exit": b_exit,
    "export": b_export,
    "readonly": b_readonly,
    "return": b_return,
    "set": b_set,
    "shift": b_shift,
    "trap": b_trap,
    "unset": b_unset,
    "local": b_local,
}

BUILTINS: dict[str, Builtin] = {
    "cd": b_cd,
    "chdir": b_cd,
    "pwd": b_pwd,
    "echo": b_echo,
    "printf": b_printf,
    "test": b_test,
    "[": b_test,
    "[[": b_test,
    "true": b_true,
    "false": b_false,
    "read": b_read,
    "wait": b_wait,
    "kill": b_kill,
    "type": b_type,
    "command": b_command,
    "umask": b_umask,
    "ulimit": b_ulimit,
    "source": b_dot,
    "getopts": b_getopts,
    "let": b_let,
}

__all__ = ["BUILTINS", "SPECIAL_BUILTINS", "BuiltinError", "ShellFatal", "shell_quote"]
