"""The ``sh`` / ``ash`` applet: command line, script source, exit status.

Three ways to give a shell its script, as in ash:

* ``sh -c 'CMDS' [NAME [ARGS...]]`` -- NAME becomes ``$0``;
* ``sh FILE [ARGS...]``              -- ``$0`` is FILE;
* ``sh [-s] [ARGS...]``              -- the script is read from stdin.

Options ``-e -u -x -f -a -v`` may precede these (``sh -ec '...'``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from .applet_table import applet
from .libc import close_quietly, err, read_all, show_usage, strerror
from .sh_interactive import is_interactive, run_interactive
from .sh_shell import Shell

Gen = Generator[Any, Any, int]


@applet("sh", "ash")
def sh_main(sys: Sys) -> Gen:
    argv = list(sys.argv)
    name = argv[0] if argv else "sh"
    args = argv[1:]
    opts: set[str] = set()
    command: str | None = None
    from_stdin = False
    want_command = False
    while args and len(args[0]) > 1 and args[0][0] in "-+":
        arg = args.pop(0)
        if arg in ("--", "-"):
            break
        if arg in ("-o", "+o") and args:
            opt = {"errexit": "e", "nounset": "u", "xtrace": "x", "noglob": "f"}.get(args.pop(0))
            if opt and arg[0] == "-":
                opts.add(opt)
            continue
        for flag in arg[1:]:
            if flag == "c":
                want_command = True
            elif flag == "s":
                from_stdin = True
            elif flag in "euxfavin" or flag == "l":
                if arg[0] == "-":
                    opts.add(flag)
            else:
                yield from err(sys, f"{name}: -{flag}: invalid option\n")
                yield from show_usage(sys, "sh")
                return 2
    if want_command:
        if not args:
            yield from err(sys, f"{name}: -c requires an argument\n")
            return 2
        command = args.pop(0)
        arg0 = args.pop(0) if args else name
        # ash names the "command" in messages only when $0 was given
        shell = Shell(sys, arg0=arg0, args=args, line_base=0, commandname=arg0 if arg0 != name else None)
        shell.opts |= opts | {"c"}
        source = command
        exit_after = True
    elif args and not from_stdin:
        path = args.pop(0)
        try:
            fd = sys.open(path, O_RDONLY)
        except OSError as e:
            yield from err(sys, f"{name}: can't open '{path}': {strerror(e)}\n")
            return 2
        try:
            source = (yield from read_all(sys, fd)).decode("utf-8", "surrogateescape")
        finally:
            close_quietly(sys, fd)
        shell = Shell(sys, arg0=path, args=args, line_base=1, commandname=path)
        shell.opts |= opts
        exit_after = False
    elif is_interactive(sys, opts):
        shell = Shell(sys, arg0=name, args=args, line_base=1)
        shell.opts |= opts | {"s"}
        return (yield from shell.run_as_process(run_interactive))
    else:
        # the whole script is read before it runs (a simplification: ash
        # reads stdin as it goes, so a command in the script could consume
        # the lines after it)
        source = (yield from read_all(sys, 0)).decode("utf-8", "surrogateescape")
        shell = Shell(sys, arg0=name, args=args, line_base=1)
        shell.opts |= opts | {"s"}
        exit_after = False
    return (yield from shell.run_as_process(lambda sh: sh.run_source(source, exit_after=exit_after)))
