"""The ``stepbox`` command.  Verbs and flags follow ``docker``'s."""

from __future__ import annotations

import sys

import click

from stepbox.core.container.config import InvalidConfig
from stepbox.core.container.errors import ContainerError
from stepbox.core.image.bootstrap import NoBaseImage
from stepbox.core.image.reference import InvalidReference
from stepbox.core.image.store import BlobDigestMismatch, ImageNotFound
from stepbox.core.image.archive import BadArchive
from stepbox.core.image.commit import InvalidChange
from stepbox.core.image.layer_tar import UnsafeLayer
from stepbox.core.kernel import ExecFailed, KernelError
from stepbox.core.registry.errors import RegistryClientError

from .session import open_session

# Errors a user can cause: printed as one line, exit status 125 like docker's
# "the daemon refused"; a command that cannot be executed keeps 126/127.
USER_ERRORS = (ContainerError, InvalidConfig, InvalidReference, ImageNotFound, NoBaseImage,
               KernelError, UnsafeLayer, BadArchive, BlobDigestMismatch, InvalidChange,
               RegistryClientError)


class StepboxGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ExecFailed as e:
            click.echo(f"stepbox: {e}", err=True)
            sys.exit(e.exit_code)
        except USER_ERRORS as e:
            click.echo(f"stepbox: Error: {e}", err=True)
            sys.exit(125)


@click.group(cls=StepboxGroup, context_settings={"help_option_names": ["--help"]})
@click.option("--backend", envvar="STEPBOX_BACKEND", default="auto", show_default=True,
              type=click.Choice(["auto", "sim", "linux"]),
              help="Kernel to run containers on: the real one (linux, needs root), the simulator "
                   "(sim), or auto (real when root on Linux, else the simulator).")
@click.option("--root", envvar="STEPBOX_ROOT", default=None,
              help="State directory (default /var/lib/stepbox as root, else ~/.local/share/stepbox).")
@click.pass_context
def cli(ctx: click.Context, backend: str, root: str | None) -> None:
    """stepbox: a container engine you can read, run and step through."""
    def say(message: str) -> None:
        click.echo(message, err=True)
    ctx.obj = _LazySession(backend, root, say)


class _LazySession:
    """Opens the backend only when a command needs it (``--help`` must not)."""

    def __init__(self, backend, root, say):
        self.args = (backend, root, say)
        self._session = None

    def __getattr__(self, name):
        if self._session is None:
            self._session = open_session(*self.args)
        return getattr(self._session, name)


def main() -> None:
    from . import build, containers, daemon, images, registry, stepthrough  # noqa: F401  (registers the commands)
    cli(prog_name="stepbox")


if __name__ == "__main__":
    main()
