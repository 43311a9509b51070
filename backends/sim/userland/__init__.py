"""The simulator's userland: a small busybox written in Python.

A container image needs programs; the simulated kernel runs Python
generators, not ELF files.  So the busybox image's ``/bin/busybox`` is either
the real binary (when the host has one) or :data:`SIM_BUSYBOX`, a stand-in
text file -- and whenever a process ``execve``\\ s either of them, the kernel
asks :func:`find_program` which Python program plays that binary.  Like real
busybox, the applet is chosen by ``basename(argv[0])``: ``/bin/ls`` is a
symlink to busybox, so ``argv[0]`` is "ls".

Every program talks to the kernel only through :class:`~..sys_api.Sys`.
The shell (``sh``/``ash``) is a real interpreter: lexer (``sh_lexer``),
parser (``sh_parser``, AST in ``sh_ast``), expansion (``sh_expand``) and
evaluator (``sh_shell``: ``sh_eval``, ``sh_command``, ``sh_redirect``,
``sh_subshell``, ``sh_vars``) with its builtins (``sh_builtins``).
"""

from __future__ import annotations

from ..sys_api import Program
from .applet_table import REAL_APPLETS, implemented_names, lookup
from .libc import basename

SIM_BUSYBOX: bytes = (
    b"#!stepbox-sim-busybox\n"
    b"# This file stands in for /bin/busybox in the stepbox simulator's busybox\n"
    b"# image (the host had no real busybox to copy).  It is not a program: when\n"
    b"# a simulated process execs it, the simulated kernel runs the Python applet\n"
    b"# named by basename(argv[0]) from stepbox.backends.sim.userland.\n"
)

APPLETS: tuple[str, ...] = implemented_names()


def is_busybox(data: bytes) -> bool:
    """True for :data:`SIM_BUSYBOX` and for a real busybox ELF binary."""
    if data.startswith(b"#!stepbox-sim-busybox\n"):
        return True
    return data.startswith(b"\x7fELF") and b"BusyBox v" in data


def find_program(data: bytes, argv0: str) -> Program | None:
    """The program to run when a process execs ``data`` as ``argv0``, or
    None if ``data`` is not a busybox binary.

    * an implemented applet -> its program;
    * ``busybox`` itself -> the multi-call front end (``busybox ls -l``,
      ``busybox --list``, or the usage text);
    * an applet real busybox has but we do not -> a program that says so on
      stderr and exits 127;
    * a name busybox does not know -> "NAME: applet not found", 127.
    """
    if not is_busybox(data):
        return None
    from .applets_busybox import busybox_main, not_available, not_found

    # appletlib's main: a login shell's "-sh" (su -l, login) is the applet sh
    name = basename(argv0[1:] if argv0.startswith("-") else argv0)
    if name == "busybox":
        return busybox_main
    program = lookup(name)
    if program is not None:
        return _named(name, program)
    if name in REAL_APPLETS:
        return not_available
    return not_found


_NAMED: dict[str, Program] = {}


def _named(name: str, program: Program) -> Program:
    """The applet, which first names its process after itself: run by the
    shell as ``/proc/self/exe`` (FEATURE_SH_STANDALONE) busybox still shows
    up in ``ps`` as ``ls``, not as ``sh`` or ``exe``."""
    named = _NAMED.get(name)
    if named is None:

        def named(sys):
            sys.set_comm(name)
            result = program(sys)
            if hasattr(result, "send"):
                result = yield from result
            return result

        _NAMED[name] = named
    return named


__all__ = ["APPLETS", "SIM_BUSYBOX", "find_program", "is_busybox"]
