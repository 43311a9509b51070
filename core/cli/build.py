"""``stepbox build``: build an image from a Dockerfile, like ``docker build``.

Flags follow docker's classic builder: ``-t`` (repeatable), ``-f``,
``--build-arg K=V`` (``--build-arg K`` takes K from the environment),
``--no-cache``, ``--target`` and ``-q``.  The build cache lives in the state
directory (``<root>/build-cache``), next to the image store.
"""

from __future__ import annotations

import os
import sys

import click

from stepbox.core.build.builder import Builder, BuildOptions
from stepbox.core.build.cache import BuildCache
from stepbox.core.build.errors import BuildError, DockerfileError, RunFailed
from stepbox.core.image.reference import InvalidReference, parse_reference

from .main import cli


def parse_build_args(items: tuple[str, ...]) -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        args[key] = value if sep else os.environ.get(key)
    return args


@cli.command()
@click.option("-t", "--tag", "tags", multiple=True, help="Name and optionally a tag in the 'name:tag' format")
@click.option("-f", "--file", "dockerfile", default=None, help="Name of the Dockerfile (Default is 'PATH/Dockerfile')")
@click.option("--build-arg", "build_args", multiple=True, help="Set build-time variables")
@click.option("--no-cache", is_flag=True, help="Do not use cache when building the image")
@click.option("--target", default=None, help="Set the target build stage to build.")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the build output and print image ID on success")
@click.argument("path")
@click.pass_obj
def build(session, tags, dockerfile, build_args, no_cache, target, quiet, path):
    """Build an image from a Dockerfile."""
    for tag in tags:
        try:
            parse_reference(tag)
        except InvalidReference as e:
            click.echo(f'invalid argument "{tag}" for "-t, --tag" flag: {e}', err=True)
            sys.exit(125)
    runtime = session.runtime
    lines: list[str] = []

    def out(text: str) -> None:
        if quiet:
            lines.append(text)          # shown only if the build fails
        else:
            click.echo(text)
    builder = Builder(runtime.images, runtime, BuildCache(os.path.join(session.root, "build-cache")), out)
    options = BuildOptions(context_dir=path, dockerfile=dockerfile, tags=tuple(tags),
                           build_args=parse_build_args(build_args), no_cache=no_cache, target=target)
    try:
        result = builder.build(options)
    except BuildError as e:
        if quiet and lines:
            click.echo("\n".join(lines), err=True)      # the output -q kept back, RUN's included
        # The RUN's output was just shown with its step: say only how it ended.
        message = e.summary if isinstance(e, RunFailed) else str(e)
        click.echo(message if isinstance(e, DockerfileError) else f"stepbox: Error: {message}", err=True)
        sys.exit(1)
    if quiet:
        click.echo(result.image_id)
