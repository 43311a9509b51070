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
