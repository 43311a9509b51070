"""mim -- busybox 1.35's "make in minutes" (miscutils/mim.c): one of
busybox's embedded scripts, which ash runs as if by ``sh -c SCRIPT mim
ARGS...`` ($0 and the name in ash's messages are "mim").

The script reads a Makefile-like spec (``Mimfile``, or ``-f FILE``): a line
``NAME:`` starts a target, the lines after it are its commands.  It turns
the spec into a ``case "$TARGET" in NAME) ...;; esac`` script (the first
target is the default; an unknown one says "Unknown command NAME", exit 1)
and pipes that into ``sh -s "$@"`` -- so the rest of the arguments are the
inner shell's options, the target and its arguments.

SCRIPT below is written for the simulator, to produce the same generated
script as busybox's does (byte for byte: the inner shell's messages name
its lines) and to fail on a missing spec at the same line (7), so that
ash's "mim: line 7: can't open F: no such file" is the same.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet

Gen = Generator[Any, Any, int]

SCRIPT = r"""#!/bin/sh
# mim: a spec of "target:" lines and their commands becomes a case statement
# (ash numbers a -c script's lines from 0: the exec below is its line 7)
spec=Mimfile
if [ $# -ge 2 ] && [ "$1" = "-f" ]; then
	spec=$2; shift 2
fi
exec <"$spec" || exit 1
{
	in_target=false
	while read -r REPLY; do
		case $REPLY in
		"") ;;
		*:)
			if $in_target; then
				printf ';;\n'
			else
				printf '[ $# -eq 0 ] && set -- "%s"\nTARGET="$1"\nshift\ncase "$TARGET" in\n' "${REPLY%:}"
			fi
			printf '%s)\n' "${REPLY%:}"
			in_target=true
			;;
		*) printf '%s\n' "${REPLY##[ 	]}" ;;
		esac
	done
	if $in_target; then printf ';;\n'; fi
	printf '*)\necho "Unknown command $TARGET"\nexit 1\n;;\nesac\n'
} | sh -s "$@"
"""


@applet("mim")
def mim_main(sys: Sys) -> Gen:
    from .sh_shell import Shell

    name = sys.argv[0] if sys.argv else "mim"
    shell = Shell(sys, arg0=name, args=list(sys.argv[1:]), line_base=0, commandname=name)
    shell.opts |= {"c"}
    return (yield from shell.run_as_process(lambda sh: sh.run_source(SCRIPT, exit_after=True)))
