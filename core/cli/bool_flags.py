"""Go-style boolean flags: ``--tls=false`` as well as ``--tls``.

docker and dockerd are Go programs, and a Go boolean flag takes an attached
value: ``--tlsverify=false`` is how dockerd is told "yes, really, no client
authentication".  click's flags take no value, so before click parses a
command's own options, ``--name=VALUE`` of the flags named here is turned
into click's spelling: ``--name`` or ``--no-name``.  Only the command's own
options are looked at (up to its first subcommand), never a container's
arguments.
"""

from __future__ import annotations

import click

TRUE = ("true", "1", "t", "yes")
FALSE = ("false", "0", "f", "no")


def expand(args: list[str], flags: tuple[str, ...], subcommands) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg in subcommands:
            return out + args[i:]
        name, sep, value = arg.partition("=")
        if sep and name.startswith("--") and name[2:] in flags:
            if value.lower() in TRUE:
                arg = name
            elif value.lower() in FALSE:
                arg = f"--no-{name[2:]}"
            else:
                raise click.BadParameter(f"{value!r} is not a boolean", param_hint=name)
        out.append(arg)
    return out


class GoBoolFlagsGroup(click.Group):
    """A group whose ``go_bool_flags`` also take ``=true``/``=false``."""

    go_bool_flags: tuple[str, ...] = ()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand(args, self.go_bool_flags, self.commands))
