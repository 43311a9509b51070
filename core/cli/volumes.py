"""``stepbox volume create|ls|inspect|rm|prune`` -- the ``/volumes`` endpoints.

Like the docker CLI, these exit with status 1 when the daemon refuses
(``Error response from daemon: ...``), after doing what they could: ``volume
rm a b`` removes ``a`` even if ``b`` is in use.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import quote

import click
from stepbox.core.engine.client import EngineError
from stepbox.core.units import human_size

from .format import go_template, table
from .main import cli


def _path(name: str) -> str:
    return "/volumes/" + quote(name, safe="")


def _key_values(items: tuple[str, ...]) -> dict[str, str]:
    """``--label a=b --label c`` -> {"a": "b", "c": ""}."""
    pairs = {}
    for item in items:
        key, _, value = item.partition("=")
        pairs[key] = value
    return pairs


def _filters(items: tuple[str, ...]) -> str | None:
    """``--filter label=a --filter dangling=true`` -> the API's JSON."""
    wanted: dict[str, dict[str, bool]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"bad format of filter (expected name=value): {item}")
        wanted.setdefault(key.strip().lower(), {})[value.strip()] = True
    return json.dumps(wanted) if wanted else None


def _refused(message: str) -> None:
    click.echo(f"Error response from daemon: {message}", err=True)


@cli.group("volume")
def volume():
    """Manage volumes: data that outlives containers."""


@volume.command("create")
@click.option("-d", "--driver", default="local", show_default=True, help="Specify volume driver name")
@click.option("--label", multiple=True, help="Set metadata for a volume")
@click.option(
    "-o", "--opt", multiple=True, help="Set driver specific options (type=tmpfs, device=..., o=...)"
)
@click.argument("name", required=False)
@click.pass_obj
def create(conn, driver, label, opt, name):
    """Create a volume (a random name if none is given)."""
    body = {
        "Name": name or "",
        "Driver": driver,
        "DriverOpts": _key_values(opt),
        "Labels": _key_values(label),
    }
    try:
        created = conn.client.request("POST", "/volumes/create", body=body).json()
    except EngineError as e:
        _refused(e.message)
        sys.exit(1)
    click.echo(created["Name"])


def _row(v: dict) -> dict:
    """What a ``--format`` template can name (docker's volume formatter)."""
    labels = ",".join(f"{k}={val}" for k, val in (v.get("Labels") or {}).items())
    return {**v, "Labels": labels, "Links": "N/A", "Size": "N/A"}


@volume.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Only display volume names")
@click.option("-f", "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'dangling=true')")
@click.option("--format", "template", default=None, help="Format output using a Go template")
@click.pass_obj
def ls(conn, quiet, filters, template):
    """List volumes."""
    try:
        reply = conn.client.request("GET", "/volumes", query={"filters": _filters(filters)}).json()
    except EngineError as e:
        _refused(e.message)
        sys.exit(1)
    volumes = sorted(reply.get("Volumes") or [], key=lambda v: v["Name"])
    if quiet:
        for v in volumes:
            click.echo(v["Name"])
    elif template:
        for v in volumes:
            click.echo(go_template(template, _row(v)))
    else:
        click.echo(table([("DRIVER", "VOLUME NAME")] + [(v["Driver"], v["Name"]) for v in volumes]))


@volume.command("inspect")
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def inspect(conn, template, names):
    """Display detailed information on one or more volumes."""
    found, failed = [], []
    for name in names:
        try:
            found.append(conn.client.request("GET", _path(name)).json())
        except EngineError as e:
            failed.append(e.message)
    if template:
        for v in found:
            click.echo(go_template(template, v))
    else:
        click.echo(json.dumps(found, indent=4))
    for message in failed:
        _refused(message)
    sys.exit(1 if failed else 0)


@volume.command("rm")
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def rm(conn, force, names):
    """Remove one or more volumes (refused while a container uses one)."""
    failed = False
    for name in names:
        try:
            conn.client.request("DELETE", _path(name), query={"force": force})
            click.echo(name)
        except EngineError as e:
            _refused(e.message)
            failed = True
    sys.exit(1 if failed else 0)


@volume.command("prune")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused volumes, not just anonymous ones")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'label=<label>')")
@click.pass_obj
def prune(conn, all_, force, filters):
    """Remove unused local volumes."""
    wanted = json.loads(_filters(filters) or "{}")
    if all_:
        if "all" in wanted:
            click.echo("conflicting options: cannot specify both --all and --filter all=1", err=True)
            sys.exit(1)
        wanted["all"] = {"true": True}
    if not force:
        which = "all" if all_ else "anonymous"
        click.echo(
            f"WARNING! This will remove {which} local volumes not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] ",
            nl=False,
        )
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            click.echo("volume prune has been cancelled", err=True)
            sys.exit(1)
    try:
        report = conn.client.request(
            "POST", "/volumes/prune", query={"filters": json.dumps(wanted) if wanted else None}
        ).json()
    except EngineError as e:
        _refused(e.message)
        sys.exit(1)
    deleted = report.get("VolumesDeleted") or []
    if deleted:
        click.echo("Deleted Volumes:\n" + "".join(f"{name}\n" for name in deleted))
    click.echo(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed', 0) if deleted else 0, 4)}")
