"""``stepbox build``: build an image from a Dockerfile, like ``docker build``.

Flags follow docker's classic builder: ``-t`` (repeatable), ``-f``,
``--build-arg K=V`` (``--build-arg K`` takes K from the environment),
``--no-cache``, ``--target`` and ``-q``.  The context goes to the daemon as
a tar (:mod:`.build_context`); the daemon builds (``POST /build``, its
cache in ``<root>/build-cache``) and answers with the progress lines this
command prints as they come.
"""

from __future__ import annotations

import json
import os
import sys

import click

from .main import cli


def parse_build_args(items: tuple[str, ...]) -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        args[key] = value if sep else os.environ.get(key)
    return args


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
    from stepbox.core.dockerfile.errors import BuildError
    from stepbox.core.engine.client import json_messages
    from stepbox.core.image.reference import InvalidReference, parse_reference

    from .build_context import context_tar

    for tag in tags:
        try:
            parse_reference(tag)
        except InvalidReference as e:
            click.echo(f'invalid argument "{tag}" for "-t, --tag" flag: {e}', err=True)
            sys.exit(125)
    try:
        tar, dockerfile_name = context_tar(path, dockerfile)
    except (BuildError, OSError) as e:
        click.echo(f"stepbox: Error: {e}", err=True)
        sys.exit(1)
    query = {
        "t": list(tags),
        "dockerfile": dockerfile_name,
        "buildargs": json.dumps(parse_build_args(build_args)),
        "nocache": no_cache,
        "target": target,
    }
    kept_back: list[str] = []  # -q: the output, shown only if the build fails
    image_id = None
    with tar, conn.client.stream("POST", "/build", query=query, upload=tar) as reply:
        for message in json_messages(reply.body):
            if "stream" in message:
                if quiet:
                    kept_back.append(message["stream"])
                else:
                    sys.stdout.write(message["stream"])
                    sys.stdout.flush()
            elif "aux" in message:
                image_id = message["aux"].get("ID")
            elif "error" in message:
                if kept_back:
                    sys.stderr.write("".join(kept_back))
                click.echo(f"stepbox: Error: {message['error']}", err=True)
                sys.exit(1)
    if image_id is None:
        click.echo("stepbox: Error: the daemon's answer ended before the build did", err=True)
        sys.exit(1)
    if quiet:
        click.echo(image_id)


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
