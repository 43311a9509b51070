"""``stepbox daemon``: run the engine as a server (see :mod:`stepbox.core.engine`)."""

from __future__ import annotations

import logging
import sys

import click

from .main import cli
from .session import open_session


@cli.command("daemon")
@click.option("-H", "--host", default=None,
              help="Socket to listen on, unix:///path/to.sock (default /run/stepbox/stepbox.sock "
                   "as root, else $XDG_RUNTIME_DIR/stepbox.sock)")
@click.option("--backend", default=None, type=click.Choice(["auto", "sim", "linux"]),
              help="Kernel backend (overrides stepbox --backend)")
@click.option("--root", default=None, help="State directory (overrides stepbox --root)")
@click.option("--debug", is_flag=True, help="Log every request")
@click.pass_context
def daemon(ctx: click.Context, host, backend, root, debug):
    """Serve the Docker Engine API on a UNIX socket (the docker CLI can use it)."""
    from stepbox.core.engine.server import socket_path_of, start_daemon
    group_backend, group_root, _say = ctx.obj.args if ctx.obj is not None else ("auto", None, None)
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")

    def say(message: str) -> None:
        click.echo(message, err=True)

    session = open_session(backend or group_backend, root or group_root, say)
    try:
        path = socket_path_of(host)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="-H") from None
    try:
        running = start_daemon(session, path, say)
    except (RuntimeError, ValueError) as e:
        click.echo(f"stepbox daemon: {e}", err=True)
        sys.exit(1)
    running.serve_forever()
