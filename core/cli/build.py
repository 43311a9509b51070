"""``stepbox build``: build an image from a Dockerfile, like ``docker build``.

Flags follow docker's classic builder: ``-t`` (repeatable), ``-f``,
``--build-arg K=V`` (``--build-arg K`` takes K from the environment),
``--no-cache``, ``--target`` and ``-q``.  The context goes to the daemon as
a tar (:mod:`.build_context`); the daemon builds (``POST /build``, its
cache in ``<root>/build-cache``) and answers with the progress lines this
command prints as they come.
"""

from __future__ import annotations

import sys

import click

from .build_verb import build_image
from .main import cli


@cli.command()
@click.option("-t", "--tag", "tags", multiple=True, help="Name and optionally a tag in the 'name:tag' format")
@click.option(
    "-f", "--file", "dockerfile", default=None, help="Name of the Dockerfile (Default is 'PATH/Dockerfile')"
)
@click.option("--build-arg", "build_args", multiple=True, help="Set build-time variables")
@click.option("--no-cache", is_flag=True, help="Do not use cache when building the image")
@click.option("--target", default=None, help="Set the target build stage to build.")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the build output and print image ID on success")
@click.argument("path")
@click.pass_obj
def build(conn, tags, dockerfile, build_args, no_cache, target, quiet, path):
    """Build an image from a Dockerfile."""
    build_image(conn, tags, dockerfile, build_args, no_cache, target, quiet, path)


# -- docker builder prune --------------------------------------------------------------------


@cli.group("builder")
def builder_group():
    """Manage builds."""


PRUNE_WARNINGS = {
    False: "WARNING! This will remove all dangling build cache. Are you sure you want to continue?",
    True: "WARNING! This will remove all build cache. Are you sure you want to continue?",
}


def _bytes(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from stepbox.core.container.flags import InvalidConfig, parse_size

    try:
        return parse_size(value, "--keep-storage")
    except InvalidConfig as e:
        raise click.BadParameter(str(e)) from None


@builder_group.command("prune")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Remove all unused build cache, not just dangling ones"
)
@click.option("--filter", "filters", multiple=True, help='Provide filter values (e.g. "until=24h")')
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--keep-storage", default="0", callback=_bytes, help="Amount of disk space to keep for cache")
@click.pass_obj
def builder_prune(conn, all_, filters, force, keep_storage):
    """Remove build cache: the cache entries no image keeps (-a: all of
    them), and the untagged step images only they kept.  As docker 28's
    ``builder prune``: its prompt (an answer other than y is no, exit 0),
    ``Deleted build cache objects:`` and the space reclaimed."""
    from stepbox.core.engine.client import EngineError
    from stepbox.core.units import human_size

    from .filters import filters_json

    wanted = filters_json(filters)  # a bad one is refused before the prompt
    if not force:
        click.echo(PRUNE_WARNINGS[all_] + " [y/N] ", nl=False)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    query = {"all": "1" if all_ else None, "filters": wanted, "keep-storage": keep_storage or None}
    try:
        report = conn.client.request("POST", "/build/prune", query=query).json()
    except EngineError as e:
        click.echo(f"Error response from daemon: {e.message}", err=True)
        sys.exit(1)
    deleted = report.get("CachesDeleted") or []
    if deleted:
        click.echo("Deleted build cache objects:\n" + "".join(f"{key}\n" for key in deleted))
    click.echo(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0, 4)}")
