"""The ``stepbox`` command.  Verbs and flags follow ``docker``'s.

Like ``docker``, it is a client: every verb becomes a few requests to the
stepbox daemon's Engine API (:mod:`stepbox.core.engine`) over a UNIX
socket -- the daemon owns the images and containers, so a container started
with ``run -d`` keeps running after the command returns, on either backend.
If no daemon listens, the first command starts one (:mod:`.connection`).

Three verbs run here instead: ``step`` (the step-through walk drives the
lifecycle itself, one step at a time), ``daemon`` (it *is* the daemon) and
``registry`` (a different server).

This module and the verbs' modules import little at the top: every call
pays for its imports before it sends its first request.
"""

from __future__ import annotations

import importlib
import sys

import click
from stepbox import __version__

from . import bool_flags
from .connection import ClientTLS, Connection
from .entry import VERSION_FLAGS, version_line
from .errors import failure_of

# The module that defines each verb.  A call imports only its verb's module
# (all of them would cost every call about ten milliseconds); `--help`
# imports them all.
VERB_MODULES = {
    "containers": (
        "run",
        "create",
        "start",
        "stop",
        "kill",
        "pause",
        "unpause",
        "rm",
        "ps",
        "logs",
        "inspect",
        "diff",
        "wait",
        "exec",
        "export",
        "attach",
    ),
    "admin": ("restart", "rename", "update", "top", "stats"),
    "system_verbs": ("version", "info", "events", "system", "container", "image"),  # imports system
    "images": ("images", "history", "tag", "rmi", "commit", "save", "load", "import", "image-inspect"),
    "build": ("build", "builder"),
    "registry": ("pull", "push", "login", "logout", "registry"),
    "daemon": ("daemon",),
    "networks": ("network", "port"),
    "stepthrough": ("step",),
    "volumes": ("volume",),
    "copying": ("cp",),
    "contexts": ("context",),
    "exercises": ("exercises",),
}
_MODULE_OF = {verb: module for module, verbs in VERB_MODULES.items() for verb in verbs}


# docker's exit status when the docker command itself failed -- a usage error
# included (click's own is 2, which a script could take for the container's).
USAGE_ERROR = 125


def usage_status(error: click.UsageError) -> int:
    """docker's status for a command line it cannot take: 125 for a flag
    (unknown, or a value it cannot parse: cobra's flag errors are wrapped in
    its StatusError), 1 for a wrong number of arguments or an unknown verb
    (errors its main prints as they are)."""
    if type(error) is click.UsageError:  # "Got unexpected extra argument"
        return 1
    if type(error).__name__ == "NoSuchCommand":  # click >= 8.2 (a plain UsageError before)
        return 1
    if isinstance(error, click.MissingParameter) and isinstance(error.param, click.Argument):
        return 1
    return USAGE_ERROR


class StepboxGroup(click.Group):
    def main(self, *args, **kwargs):
        """click's standalone mode, with docker's exit status for usage errors."""
        kwargs["standalone_mode"] = False
        try:
            super().main(*args, **kwargs)
        except click.UsageError as e:  # an unknown flag, a missing argument, a bad value
            e.show()
            sys.exit(usage_status(e))
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except EOFError:
            sys.exit(1)
        sys.exit(0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        verbs = set(self.commands) | set(_MODULE_OF)
        return super().parse_args(ctx, bool_flags.expand(args, ("tls", "tlsverify"), verbs))

    def get_command(self, ctx: click.Context, name: str):
        if name not in self.commands and name in _MODULE_OF:
            importlib.import_module(f"{__package__}.{_MODULE_OF[name]}")  # it registers its verbs
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in VERB_MODULES:
            importlib.import_module(f"{__package__}.{module}")
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as e:
            unreachable = ctx.obj.unreachable if isinstance(ctx.obj, Connection) else 125
            failure = failure_of(e, unreachable)
            if failure is None:
                raise
            click.echo(failure.message, err=True)
            sys.exit(failure.status)


@click.group(cls=StepboxGroup, context_settings={"help_option_names": ["--help"]})
@click.option(
    "--backend",
    envvar="STEPBOX_BACKEND",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "sim", "linux"]),
    help="Kernel to run containers on: the real one (linux: as root, or rootless in a "
    "user namespace), the simulator (sim), or auto (the real kernel when it can run "
    "containers here, else the simulator; docker info says why).  The daemon's "
    "choice; a running daemon on another backend is an error.",
)
@click.option(
    "--root",
    envvar="STEPBOX_ROOT",
    default=None,
    help="State directory (default /var/lib/stepbox as root, else ~/.local/share/stepbox). "
    "Its daemon listens on DIR/stepbox.sock (the default one on "
    "/run/stepbox/stepbox.sock as root, else $XDG_RUNTIME_DIR/stepbox.sock).",
)
@click.option(
    "-H",
    "--host",
    envvar="STEPBOX_HOST",
    default=None,
    help="Daemon to talk to: unix:///path/to.sock, tcp://host:port or ssh://[user@]host "
    "(never started for you).  Without it: a context, else DOCKER_HOST, else the state "
    "directory's daemon.",
)
@click.option(
    "-c",
    "--context",
    envvar="STEPBOX_CONTEXT",
    default=None,
    help="Context to use (stepbox context ls); overrides DOCKER_HOST and `context use`.",
)
@click.option("--tls/--no-tls", default=None, help="Use TLS; implied by --tlsverify (also DOCKER_TLS)")
@click.option(
    "--tlsverify/--no-tlsverify",
    default=None,
    help="Use TLS and verify the daemon's certificate (also DOCKER_TLS_VERIFY); --tlsverify=false: "
    "TLS without verifying",
)
@click.option(
    "--tlscacert", default=None, help="Trust certs signed only by this CA (default $DOCKER_CERT_PATH/ca.pem)"
)
@click.option("--tlscert", default=None, help="TLS certificate file (default $DOCKER_CERT_PATH/cert.pem)")
@click.option("--tlskey", default=None, help="TLS key file (default $DOCKER_CERT_PATH/key.pem)")
@click.version_option(__version__, *VERSION_FLAGS, message=version_line())
@click.pass_context
def cli(
    ctx: click.Context,
    backend: str,
    root: str | None,
    host: str | None,
    context: str | None,
    tls: bool | None,
    tlsverify: bool | None,
    tlscacert: str | None,
    tlscert: str | None,
    tlskey: str | None,
) -> None:
    """stepbox: a container engine you can read, run and step through."""

    def say(message: str) -> None:
        click.echo(message, err=True)

    ctx.obj = Connection(
        backend,
        root,
        host,
        say,
        context,
        ClientTLS(tls, tlsverify, tlscacert, tlscert, tlskey),
        verb=ctx.invoked_subcommand,
    )


def main() -> None:
    cli(prog_name="stepbox")


if __name__ == "__main__":
    main()
