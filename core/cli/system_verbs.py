"""``version``, ``info``, ``events``, and ``system df|prune|info|events``.

Each is the request docker's CLI makes (``GET /version``, ``GET /info``,
``GET /events``, ``GET /system/df``, the ``/prune`` endpoints), printed
the way docker prints it -- and, with ``--format``, through the same Go
templates.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import UTC, datetime

import click
from stepbox import __version__
from stepbox.core.engine import API_VERSION
from stepbox.core.units import human_size

from .format import go_template, table
from .main import cli
from .system import system


def _client_version() -> dict:
    return {
        "Platform": {"Name": "stepbox"},
        "Version": __version__,
        "ApiVersion": API_VERSION,
        "DefaultAPIVersion": API_VERSION,
        "GitCommit": "stepbox",
        "GoVersion": f"python{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
        "Os": "linux" if sys.platform.startswith("linux") else sys.platform,
        "Arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()),
        "BuildTime": "",
        "Context": "default",
    }


def _aligned(lines: list[tuple[str, str]]) -> str:
    """``key:<tab>value`` lines as docker's tabwriter aligns them."""
    width = max((len(k) for k, _ in lines), default=0) + 2
    return "\n".join(f"{k + ':':<{width}}{v}" for k, v in lines)


@cli.command()
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.pass_obj
def version(conn, template):
    """Show the stepbox version information."""
    client_part = _client_version()
    server = conn.client.request("GET", "/version").json()
    if template:
        click.echo(go_template(template, {"Client": client_part, "Server": server}))
        return
    details = (server.get("Components") or [{}])[0].get("Details", {})
    click.echo(f"Client: {client_part['Platform']['Name']}")
    click.echo(
        _aligned(
            [
                (" Version", client_part["Version"]),
                (" API version", client_part["ApiVersion"]),
                (" Python version", client_part["GoVersion"]),
                (" OS/Arch", f"{client_part['Os']}/{client_part['Arch']}"),
                (" Context", client_part["Context"]),
            ]
        )
    )
    click.echo("")
    click.echo(f"Server: {server.get('Platform', {}).get('Name', '')}")
    click.echo(" Engine:")
    click.echo(
        _aligned(
            [
                ("  Version", server.get("Version", "")),
                (
                    "  API version",
                    f"{server.get('ApiVersion')} (minimum version {server.get('MinAPIVersion')})",
                ),
                ("  Python version", server.get("GoVersion", "")),
                ("  OS/Arch", f"{server.get('Os')}/{server.get('Arch')}"),
                ("  Kernel version", server.get("KernelVersion", "")),
                ("  Backend", details.get("Backend", "")),
                ("  Experimental", str(server.get("Experimental", False)).lower()),
            ]
        )
    )


@cli.command()
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.pass_obj
def info(conn, template):
    """Display system-wide information."""
    data = conn.client.request("GET", "/info").json()
    if template:
        click.echo(go_template(template, data))
        return
    lines = [
        "Client:",
        f" Version:    {__version__}",
        " Context:    default",
        "",
        "Server:",
        f" Containers: {data['Containers']}",
        f"  Running: {data['ContainersRunning']}",
        f"  Paused: {data['ContainersPaused']}",
        f"  Stopped: {data['ContainersStopped']}",
        f" Images: {data['Images']}",
        f" Server Version: {data['ServerVersion']}",
        f" Storage Driver: {data['Driver']}",
    ]
    lines += [f"  {key}: {value}" for key, value in data.get("DriverStatus") or []]
    lines += [
        f" Logging Driver: {data['LoggingDriver']}",
        f" Cgroup Driver: {data['CgroupDriver']}",
        f" Cgroup Version: {data['CgroupVersion']}",
        f" Live Restore Enabled: {str(data['LiveRestoreEnabled']).lower()}",
        f" Kernel Version: {data['KernelVersion']}",
        f" Operating System: {data['OperatingSystem']}",
        f" OSType: {data['OSType']}",
        f" Architecture: {data['Architecture']}",
        f" CPUs: {data['NCPU']}",
        f" Total Memory: {_bytes(data['MemTotal'])}",
        f" Name: {data['Name']}",
        f" ID: {data['ID']}",
        f" Docker Root Dir: {data['DockerRootDir']}",
        f" Debug Mode: {str(data['Debug']).lower()}",
    ]
    click.echo("\n".join(lines))


def _bytes(size: float) -> str:
    from .admin import bytes_size

    return bytes_size(size)


# -- events ------------------------------------------------------------------------------------


def _timestamp(text: str | None) -> str | None:
    """``--since``/``--until``: a Unix time, an RFC 3339 time, or a duration
    before now (``10m``, ``1h30m``) -- as the API's seconds."""
    if not text:
        return None
    import re

    if re.fullmatch(r"\d+(\.\d+)?", text):
        return text
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if parts and "".join(n + u for n, u in parts) == text:
        return f"{time.time() - sum(float(n) * units[u] for n, u in parts):.9f}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f'failed to parse value as time or duration: "{text}"') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.timestamp():.9f}"


def _filters(pairs: tuple[str, ...]) -> str | None:
    wanted: dict[str, dict[str, bool]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"bad format of filter (expected name=value): {pair}")
        wanted.setdefault(key, {})[value] = True
    return json.dumps(wanted) if wanted else None


def event_line(event: dict) -> str:
    """docker events' line: time, type, action, id, (attributes)."""
    nanos = event.get("timeNano") or event["time"] * 10**9
    stamp = datetime.fromtimestamp(nanos // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    stamp += f".{nanos % 10**9:09d}Z"
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    inside = ", ".join(f"{k}={attributes[k]}" for k in sorted(attributes))
    return f"{stamp} {event['Type']} {event['Action']} {actor.get('ID', event.get('id', ''))}" + (
        f" ({inside})" if inside else ""
    )


@cli.command()
@click.option("-f", "--filter", "filters", multiple=True, help="Filter output based on conditions provided")
@click.option("--format", "template", default=None, help="Format the output using the given Go template")
@click.option("--since", default=None, help="Show all events created since timestamp")
@click.option("--until", default=None, help="Stream events until this timestamp")
@click.pass_obj
def events(conn, filters, template, since, until):
    """Get real time events from the server."""
    from stepbox.core.engine.client import json_messages

    query = {"since": _timestamp(since), "until": _timestamp(until), "filters": _filters(filters)}
    with conn.client.stream("GET", "/events", query={k: v for k, v in query.items() if v}) as reply:
        for event in json_messages(reply.body):
            click.echo(go_template(template, event) if template else event_line(event))
            sys.stdout.flush()


# -- system ------------------------------------------------------------------------------------


# the group is system.py's (dial-stdio, for ssh://); these join it
system.add_command(info, "info")
system.add_command(events, "events")


def _reclaimable(total: int, reclaim: int) -> str:
    percent = int(reclaim * 100 / total) if total else 0
    return f"{human_size(reclaim)} ({percent}%)"


@system.command("df")
@click.option("-v", "--verbose", is_flag=True, help="Show detailed information on space usage")
@click.option("--format", "template", default=None, help="Format output using a Go template")
@click.pass_obj
def system_df(conn, verbose, template):
    """Show docker disk usage."""
    data = conn.client.request("GET", "/system/df").json()
    images = data.get("Images") or []
    containers = data.get("Containers") or []
    volumes = data.get("Volumes") or []
    layers = data.get("LayersSize") or 0
    active_images = [i for i in images if i.get("Containers", 0) > 0]
    unused = layers - sum(i["Size"] - i.get("SharedSize", 0) for i in active_images)
    rows = [
        {
            "Type": "Images",
            "TotalCount": str(len(images)),
            "Active": str(len(active_images)),
            "Size": human_size(layers),
            "Reclaimable": _reclaimable(layers, max(0, unused)),
        },
        {
            "Type": "Containers",
            "TotalCount": str(len(containers)),
            "Active": str(sum(c["State"] == "running" for c in containers)),
            "Size": human_size(sum(c.get("SizeRw", 0) for c in containers)),
            "Reclaimable": _reclaimable(
                sum(c.get("SizeRw", 0) for c in containers),
                sum(c.get("SizeRw", 0) for c in containers if c["State"] != "running"),
            ),
        },
        {
            "Type": "Local Volumes",
            "TotalCount": str(len(volumes)),
            "Active": str(sum((v.get("UsageData") or {}).get("RefCount", 0) > 0 for v in volumes)),
            "Size": human_size(sum(max(0, (v.get("UsageData") or {}).get("Size", 0)) for v in volumes)),
            "Reclaimable": _reclaimable(0, 0),
        },
        {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"},
    ]
    if template:
        for row in rows:
            click.echo(go_template(template, row))
        return
    header = ("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE")
    click.echo(
        table(
            [header] + [(r["Type"], r["TotalCount"], r["Active"], r["Size"], r["Reclaimable"]) for r in rows]
        )
    )


@system.command("prune")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images not just dangling ones")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.pass_obj
def system_prune(conn, all_, force):
    """Remove unused data: stopped containers, unused networks, dangling (-a: unused) images."""
    if not force:
        what = (
            "all images without at least one container associated to them" if all_ else "all dangling images"
        )
        click.echo(
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at "
            f"least one container\n  - {what}\n  - unused build cache\n",
            err=True,
        )
        if not click.confirm("Are you sure you want to continue?", default=False, err=True):
            return
    client = conn.client
    reclaimed = 0
    containers = client.request("POST", "/containers/prune").json()
    reclaimed += containers.get("SpaceReclaimed") or 0
    if containers.get("ContainersDeleted"):
        click.echo("Deleted Containers:")
        for cid in containers["ContainersDeleted"]:
            click.echo(cid)
        click.echo("")
    query = {"filters": json.dumps({"dangling": {"false": True}})} if all_ else None
    images = client.request("POST", "/images/prune", query=query).json()
    reclaimed += images.get("SpaceReclaimed") or 0
    if images.get("ImagesDeleted"):
        click.echo("Deleted Images:")
        for item in images["ImagesDeleted"]:
            for key, value in item.items():
                click.echo(f"{key.lower()}: {value}")
        click.echo("")
    click.echo(f"Total reclaimed space: {human_size(reclaimed, 4)}")


# -- the container and image groups, as docker's -------------------------------------------------

CONTAINER_VERBS = {
    "attach": "attach",
    "create": "create",
    "diff": "diff",
    "exec": "exec",
    "export": "export",
    "inspect": "inspect",
    "kill": "kill",
    "logs": "logs",
    "ls": "ps",
    "list": "ps",
    "ps": "ps",
    "pause": "pause",
    "rename": "rename",
    "restart": "restart",
    "rm": "rm",
    "run": "run",
    "start": "start",
    "stats": "stats",
    "stop": "stop",
    "top": "top",
    "unpause": "unpause",
    "update": "update",
    "wait": "wait",
    "commit": "commit",
}
IMAGE_VERBS = {
    "ls": "images",
    "list": "images",
    "build": "build",
    "history": "history",
    "import": "import",
    "inspect": "image-inspect",
    "load": "load",
    "pull": "pull",
    "push": "push",
    "rm": "rmi",
    "save": "save",
    "tag": "tag",
}


class AliasGroup(click.Group):
    """docker's management commands: ``container ls`` is ``ps``, ``image rm`` is ``rmi``."""

    def __init__(self, *args, aliases: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.aliases = aliases

    def get_command(self, ctx: click.Context, name: str):
        target = self.aliases.get(name)
        if target is None:
            return super().get_command(ctx, name)
        root = ctx.find_root().command
        assert isinstance(root, click.Group)
        return root.get_command(ctx, target)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.aliases)


@cli.group("container", cls=AliasGroup, aliases=CONTAINER_VERBS)
def container_group():
    """Manage containers."""


@cli.group("image", cls=AliasGroup, aliases=IMAGE_VERBS)
def image_group():
    """Manage images."""


@container_group.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.pass_obj
def container_prune(conn, force):
    """Remove all stopped containers."""
    if not force and not click.confirm(
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?", err=True
    ):
        return
    reply = conn.client.request("POST", "/containers/prune").json()
    if reply.get("ContainersDeleted"):
        click.echo("Deleted Containers:")
        for cid in reply["ContainersDeleted"]:
            click.echo(cid)
        click.echo("")
    click.echo(f"Total reclaimed space: {human_size(reply.get('SpaceReclaimed') or 0, 4)}")


IMAGE_PRUNE_WARNINGS = {
    False: "WARNING! This will remove all dangling images.",
    True: "WARNING! This will remove all images without at least one container associated to them.",
}


@image_group.command("prune")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images, not just dangling ones")
@click.option("--filter", "filters", multiple=True, help='Provide filter values (e.g. "until=<timestamp>")')
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.pass_obj
def image_prune(conn, all_, filters, force):
    """Remove unused images: dangling ones (untagged, no other image's
    parent), with -a every image no container uses; then the space their
    blobs took."""
    from stepbox.core.engine.client import EngineError

    from .filters import filters_json

    wanted = json.loads(filters_json(filters) or "{}")
    if all_:
        wanted["dangling"] = {"false": True}
    if not force:
        click.echo(IMAGE_PRUNE_WARNINGS[all_] + "\nAre you sure you want to continue? [y/N] ", nl=False)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    query = {"filters": json.dumps(wanted)} if wanted else None
    try:
        report = conn.client.request("POST", "/images/prune", query=query).json()
    except EngineError as e:
        click.echo(f"Error response from daemon: {e.message}", err=True)
        sys.exit(1)
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        lines = [f"{key.lower()}: {value}" for item in deleted for key, value in item.items()]
        click.echo("Deleted Images:\n" + "".join(f"{line}\n" for line in lines))
    click.echo(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0, 4)}")
