"""Image verbs: images, history, tag, rmi, commit, save, load, import, export, exec."""

from __future__ import annotations

import io
import os
import sys

import click

from stepbox.core.atomic import atomic_write
from stepbox.core.image.archive import import_rootfs, load, save

from .containers import NO_INTERSPERSED
from .format import ago, go_template
from .main import cli


def human_size(size: float) -> str:
    """docker's units.HumanSize: decimal units, 3 significant digits."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{size:.3g}{unit}"
        size /= 1000
    return f"{size:.3g}PB"


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def image_size(store, image) -> int:
    return sum(os.path.getsize(store.blob_path(d)) for d in image.layers)


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.pass_obj
def images(session, quiet):
    """List images."""
    store = session.runtime.images
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    for image in sorted(store.list(), key=lambda i: i.config.get("created", ""), reverse=True):
        if quiet:
            click.echo(image.short_id)
            continue
        size = human_size(image_size(store, image))
        created = ago(image.config["created"]) if image.config.get("created") else "N/A"
        for tag in image.tags or ["<none>:<none>"]:
            repo, _, name = tag.rpartition(":")
            rows.append((repo, name, image.short_id, created, size))
    if not quiet:
        click.echo(table(rows))


@cli.command()
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.argument("image")
@click.pass_obj
def history(session, no_trunc, image):
    """Show the history of an image."""
    store = session.runtime.images
    img = store.resolve(image)
    layers = list(img.layers)
    rows = [("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")]
    entries = img.config.get("history") or []
    sizes = []
    for entry in entries:                         # layers belong to the non-empty entries, in order
        if entry.get("empty_layer"):
            sizes.append(0)
        else:
            sizes.append(os.path.getsize(store.blob_path(layers.pop(0))) if layers else 0)
    for i, (entry, size) in enumerate(reversed(list(zip(entries, sizes)))):
        created_by = entry.get("created_by", "")
        if not no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append((img.short_id if i == 0 else "<missing>",
                     ago(entry["created"]) if entry.get("created") else "N/A",
                     created_by, human_size(size), entry.get("comment", "")))
    click.echo(table(rows))


@cli.command()
@click.argument("source")
@click.argument("target")
@click.pass_obj
def tag(session, source, target):
    """Create a tag TARGET that refers to SOURCE."""
    store = session.runtime.images
    store.tag(store.resolve(source), target)


@cli.command()
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def rmi(session, force, names):
    """Remove one or more images."""
    for name in names:
        for line in session.runtime.remove_image(name, force=force):
            click.echo(line)


@cli.command()
@click.option("-m", "--message", default="", help="Commit message")
@click.option("-a", "--author", default="", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
@click.option("-c", "--change", multiple=True, help="Apply Dockerfile instruction to the created image")
@click.option("-p/--pause", "pause", default=True, help="Pause container during commit")
@click.argument("container")
@click.argument("repository", required=False)
@click.pass_obj
def commit(session, message, author, change, pause, container, repository):
    """Create a new image from a container's changes."""
    runtime = session.runtime
    image = runtime.commit(runtime.get(container), repository, message=message, author=author,
                           changes=list(change), pause=pause)
    click.echo(image.id)


@cli.command("save")
@click.option("-o", "--output", default=None, help="Write to a file, instead of STDOUT")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def save_command(session, output, names):
    """Save one or more images to a tar archive."""
    store = session.runtime.images
    chosen = {}
    for name in names:
        image = store.resolve(name)
        tags = chosen.setdefault(image.id, (image, []))[1]
        if name not in (image.id, image.short_id):
            tags.append(name)
    buf = io.BytesIO()
    save(store, list(chosen.values()), buf)
    if output:
        atomic_write(output, buf.getvalue())
    elif sys.stdout.isatty():
        raise click.UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    else:
        sys.stdout.buffer.write(buf.getvalue())


@cli.command("load")
@click.option("-i", "--input", "input_", default=None, help="Read from tar archive file, instead of STDIN")
@click.pass_obj
def load_command(session, input_):
    """Load an image from a tar archive."""
    stream = open(input_, "rb") if input_ else sys.stdin.buffer
    with stream:
        for line in load(session.runtime.images, stream):
            click.echo(line)


@cli.command("import")
@click.option("-m", "--message", default="", help="Set commit message for imported image")
@click.option("-c", "--change", multiple=True, help="Apply Dockerfile instruction to the created image")
@click.argument("file")
@click.argument("repository", required=False)
@click.pass_obj
def import_command(session, message, change, file, repository):
    """Import the contents from a tarball to create a filesystem image (FILE or - for stdin)."""
    stream = sys.stdin.buffer if file == "-" else open(file, "rb")
    with stream:
        image = import_rootfs(session.runtime.images, stream, repository, message, list(change))
    click.echo(image.id)


@cli.command()
@click.option("-o", "--output", default=None, help="Write to a file, instead of STDOUT")
@click.argument("container")
@click.pass_obj
def export(session, output, container):
    """Export a container's filesystem as a tar archive."""
    buf = io.BytesIO()
    session.runtime.export(session.runtime.get(container), buf)
    if output:
        atomic_write(output, buf.getvalue())
    else:
        sys.stdout.buffer.write(buf.getvalue())


@cli.command("exec", context_settings=NO_INTERSPERSED)
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-w", "--workdir", default="", help="Working directory inside the container")
@click.argument("container")
@click.argument("command", nargs=-1, required=True)
@click.pass_obj
def exec_command(session, env, workdir, container, command):
    """Execute a command in a running container."""
    from stepbox.core.container.config import parse_env
    runtime = session.runtime
    code, out, err = runtime.exec(runtime.get(container), list(command), parse_env(list(env)), workdir)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.exit(code)


@cli.command("image-inspect", hidden=True)
@click.option("-f", "--format", "template", default=None)
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def image_inspect(session, template, names):
    """Image half of `inspect` (used when a name is not a container)."""
    import json
    docs = [image_document(session.runtime.images, session.runtime.images.resolve(n)) for n in names]
    click.echo("\n".join(go_template(template, d) for d in docs) if template else json.dumps(docs, indent=4))


def image_document(store, image) -> dict:
    """``docker image inspect`` fields."""
    config = image.config
    return {
        "Id": image.id,
        "RepoTags": list(image.tags),
        "RepoDigests": [],
        "Created": config.get("created", ""),
        "Author": config.get("author", ""),
        "Config": config.get("config", {}),
        "Architecture": config.get("architecture", "amd64"),
        "Os": config.get("os", "linux"),
        "Size": image_size(store, image),
        "RootFS": {"Type": "layers", "Layers": list(image.diff_ids)},
        "Metadata": {"LastTagTime": ""},
    }
