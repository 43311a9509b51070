"""Image verbs: images, history, tag, rmi, commit, save, load, import --
each a few requests to the daemon, which owns the image store.

Tars travel as request and response bodies: ``save`` reads one from
``GET /images/get``, ``load`` and ``import`` send one (read from a file or
stdin, streamed in chunks) to ``POST /images/load`` and
``POST /images/create?fromSrc=-``.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import quote

import click
from stepbox.core.engine.client import json_messages
from stepbox.core.units import human_size

from .format import ago, go_template, table
from .main import cli
from .output import copy_body


def image_path(name: str) -> str:
    """An image name in a path keeps its slashes and colons, as docker sends it."""
    return "/images/" + quote(name, safe="/:@")


def split_tag(reference: str) -> tuple[str, str | None]:
    """``localhost:5000/app:1.0`` -> (``localhost:5000/app``, ``1.0``): the
    API takes repository and tag apart.  A colon before the last slash is a
    registry's port, not a tag."""
    if "@" in reference:
        return reference, None
    repository, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        return reference, None
    return repository, tag


def shown_id(image_id: str, no_trunc: bool) -> str:
    """docker's IMAGE ID column: 12 hex digits, or all of ``sha256:…``."""
    return image_id if no_trunc else image_id.removeprefix("sha256:")[:12]


@cli.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images)")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.pass_obj
def images(conn, all_, quiet, no_trunc):
    """List images."""
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    for image in conn.client.request("GET", "/images/json", query={"all": all_}).json():
        image_id = shown_id(image["Id"], no_trunc)
        if quiet:
            click.echo(image_id)
            continue
        created = ago(image["Created"]) if image["Created"] else "N/A"
        for tag in image["RepoTags"] or ["<none>:<none>"]:
            repository, _, name = tag.rpartition(":")
            rows.append((repository, name, image_id, created, human_size(image["Size"])))
    if not quiet:
        click.echo(table(rows))


@cli.command()
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.argument("image")
@click.pass_obj
def history(conn, no_trunc, quiet, image):
    """Show the history of an image."""
    rows = [("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")]
    for entry in conn.client.request("GET", image_path(image) + "/history").json():
        # Rows of steps made elsewhere say <missing>: no local image ends there.
        image_id = entry["Id"] if entry["Id"] == "<missing>" else shown_id(entry["Id"], no_trunc)
        if quiet:
            click.echo(image_id)
            continue
        created_by = entry["CreatedBy"].replace("\t", " ")
        if not no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append(
            (
                image_id,
                ago(entry["Created"]) if entry["Created"] else "N/A",
                created_by,
                human_size(entry["Size"]),
                entry["Comment"],
            )
        )
    if not quiet:
        click.echo(table(rows))


@cli.command()
@click.argument("source")
@click.argument("target")
@click.pass_obj
def tag(conn, source, target):
    """Create a tag TARGET that refers to SOURCE."""
    repository, name = split_tag(target)
    conn.client.request("POST", image_path(source) + "/tag", query={"repo": repository, "tag": name})


@cli.command()
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def rmi(conn, force, names):
    """Remove one or more images."""
    for name in names:
        for item in conn.client.request("DELETE", image_path(name), query={"force": force}).json():
            for kind, value in item.items():  # {"Untagged": …} or {"Deleted": …}
                click.echo(f"{kind}: {value}")


@cli.command()
@click.option("-m", "--message", default="", help="Commit message")
@click.option("-a", "--author", default="", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
@click.option("-c", "--change", multiple=True, help="Apply Dockerfile instruction to the created image")
@click.option("-p/--pause", "pause", default=True, help="Pause container during commit")
@click.argument("container")
@click.argument("repository", required=False)
@click.pass_obj
def commit(conn, message, author, change, pause, container, repository):
    """Create a new image from a container's changes."""
    repo, name = split_tag(repository) if repository else (None, None)
    query = {
        "container": container,
        "repo": repo,
        "tag": name,
        "comment": message,
        "author": author,
        "changes": list(change),
        "pause": pause,
    }
    click.echo(conn.client.request("POST", "/commit", query=query).json()["Id"])


@cli.command("save")
@click.option("-o", "--output", default=None, help="Write to a file, instead of STDOUT")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def save_command(conn, output, names):
    """Save one or more images to a tar archive."""
    if not output and sys.stdout.isatty():
        raise click.UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    with conn.client.stream("GET", "/images/get", query={"names": list(names)}) as reply:
        copy_body(reply.body, output)


@cli.command("load")
@click.option("-i", "--input", "input_", default=None, help="Read from tar archive file, instead of STDIN")
@click.pass_obj
def load_command(conn, input_):
    """Load an image from a tar archive."""
    from stepbox.core.engine.client import EngineError

    from .errors import CommandFailed

    if input_ and not os.path.isfile(input_):
        reason = "no such file or directory" if not os.path.exists(input_) else "is a directory"
        raise CommandFailed(f"stepbox: open {input_}: {reason}", 1)
    try:
        with (
            open(input_, "rb") if input_ else sys.stdin.buffer as tar,
            conn.client.stream("POST", "/images/load", upload=tar) as reply,
        ):
            for message in json_messages(reply.body):
                _fail_on_error(message)
                click.echo(message.get("stream", "").rstrip("\n"))
    except EngineError as e:
        if e.status != 400:
            raise
        # docker: an archive the daemon cannot read fails the load, status 1
        # (the daemon got the request; the docker command itself did not fail)
        raise CommandFailed(f"stepbox: {e.message}", 1) from None


@cli.command("import")
@click.option("-m", "--message", default="", help="Set commit message for imported image")
@click.option("-c", "--change", multiple=True, help="Apply Dockerfile instruction to the created image")
@click.argument("file")
@click.argument("repository", required=False)
@click.pass_obj
def import_command(conn, message, change, file, repository):
    """Import the contents from a tarball to create a filesystem image (FILE or - for stdin)."""
    repo, name = split_tag(repository) if repository else (None, None)
    query = {"fromSrc": "-", "repo": repo, "tag": name, "message": message, "changes": list(change)}
    with (
        sys.stdin.buffer if file == "-" else open(file, "rb") as tar,
        conn.client.stream("POST", "/images/create", query=query, upload=tar) as reply,
    ):
        for item in json_messages(reply.body):
            _fail_on_error(item)
            click.echo(item["status"])


@cli.command("image-inspect", hidden=True)
@click.option("-f", "--format", "template", default=None)
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def image_inspect(conn, template, names):
    """Image half of `inspect` (``docker image inspect``)."""
    docs = [conn.client.request("GET", image_path(name) + "/json").json() for name in names]
    click.echo("\n".join(go_template(template, d) for d in docs) if template else json.dumps(docs, indent=4))


def _fail_on_error(message: dict) -> None:
    """A progress stream that went wrong after its head: its last line says why."""
    if "error" in message:
        from stepbox.core.engine.client import EngineError

        raise EngineError(500, message["error"])
