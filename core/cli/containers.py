"""Container verbs: run, create, start, stop, kill, rm, ps, logs, inspect,
diff, wait, exec, export -- each a few requests to the daemon.

``conn.client`` is the connection to the daemon (:mod:`.connection`); the
request each verb sends is the one docker's CLI sends for it.
"""

from __future__ import annotations

import json
import signal as signals
import sys
from urllib.parse import quote

import click
from stepbox.core.engine.client import EngineError

from .attach import run_attached
from .attach import start as start_container
from .format import go_template, ps_table
from .main import cli
from .output import copy_body, copy_frames
from .run_options import NO_INTERSPERSED, create_body, with_run_options

RAW_STREAM = "application/vnd.docker.raw-stream"


def _quoted(name: str) -> str:
    """A container name or ID as a path segment."""
    return quote(name, safe="")


def _create(client, body: dict, name: str | None) -> str:
    """``POST /containers/create``; the new container's ID.  What the daemon
    said meanwhile (it built busybox from the host's binary ...) is shown."""
    reply = client.request("POST", "/containers/create", query={"name": name}, body=body).json()
    for line in reply.get("Warnings") or []:
        click.echo(line, err=True)
    return reply["Id"]


@cli.command(context_settings=NO_INTERSPERSED)
@click.option("-d", "--detach", is_flag=True, help="Run container in background and print container ID")
@with_run_options
@click.pass_obj
def run(conn, detach, name, image, command, **flags):
    """Create and run a new container from an image."""
    body = create_body(image, command, **flags)  # a bad flag fails before any request
    cid = _create(conn.client, body, name)
    if detach:
        start_container(conn.client, cid)
        click.echo(cid)
        return
    sys.exit(run_attached(conn.client, cid, wait_for="removed" if flags["auto_remove"] else "next-exit"))


@cli.command(context_settings=NO_INTERSPERSED)
@with_run_options
@click.pass_obj
def create(conn, name, image, command, **flags):
    """Create a new container."""
    click.echo(_create(conn.client, create_body(image, command, **flags), name))


@cli.command()
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and wait")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def start(conn, attach, containers):
    """Start one or more stopped containers."""
    for name in containers:
        if attach:
            sys.exit(run_attached(conn.client, name))
        start_container(conn.client, name)
        click.echo(name)


@cli.command()
@click.option("-t", "--time", "timeout", default=10, type=int, help="Seconds to wait before killing it")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def stop(conn, timeout, containers):
    """Stop one or more running containers."""
    for name in containers:
        conn.client.request("POST", f"/containers/{_quoted(name)}/stop", query={"t": timeout})
        click.echo(name)


@cli.command()
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def pause(conn, containers):
    """Pause all processes within one or more containers (the cgroup freezer)."""
    for name in containers:
        conn.client.request("POST", f"/containers/{_quoted(name)}/pause")
        click.echo(name)


@cli.command()
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def unpause(conn, containers):
    """Unpause all processes within one or more containers."""
    for name in containers:
        conn.client.request("POST", f"/containers/{_quoted(name)}/unpause")
        click.echo(name)


@cli.command()
@click.option("-s", "--signal", "sig", default="KILL", help="Signal to send to the container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def kill(conn, sig, containers):
    """Kill one or more running containers."""
    number = parse_signal(sig)
    for name in containers:
        conn.client.request("POST", f"/containers/{_quoted(name)}/kill", query={"signal": str(number)})
        click.echo(name)


def parse_signal(text: str) -> int:
    if text.isdigit():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(getattr(signals.Signals, name))
    except AttributeError:
        raise click.BadParameter(f"Invalid signal: {text}") from None


@cli.command()
@click.option("-f", "--force", is_flag=True, help="Force the removal of a running container")
@click.option("-v", "--volumes", is_flag=True, help="Remove anonymous volumes associated with the container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def rm(conn, force, volumes, containers):
    """Remove one or more containers."""
    failed = False
    for name in containers:
        try:
            query = {"force": force, "v": volumes}
            conn.client.request("DELETE", f"/containers/{_quoted(name)}", query=query)
            click.echo(name)
        except EngineError as e:
            click.echo(f"Error response from daemon: {e.message}", err=True)
            failed = True
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)")
@click.option("-q", "--quiet", is_flag=True, help="Only display container IDs")
@click.pass_obj
def ps(conn, all_, quiet):
    """List containers."""
    rows = conn.client.request("GET", "/containers/json", query={"all": all_}).json()
    if quiet:
        for row in rows:
            click.echo(row["Id"][:12])
    else:
        click.echo(ps_table(rows))


@cli.command()
@click.option("-f", "--follow", is_flag=True, help="Follow log output")
@click.argument("container")
@click.pass_obj
def logs(conn, follow, container):
    """Fetch the logs of a container."""
    query = {"stdout": True, "stderr": True, "follow": follow}
    with conn.client.stream("GET", f"/containers/{_quoted(container)}/logs", query=query) as reply:
        if reply.headers.get("Content-Type") == RAW_STREAM:
            copy_body(reply.body, None)  # a TTY container (docker run -t): one stream, no frames
        else:
            copy_frames(reply.body.read)


@cli.command()
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def inspect(conn, template, containers):
    """Return low-level information on containers."""
    documents = [_inspect_one(conn.client, name) for name in containers]
    if template:
        for doc in documents:
            click.echo(go_template(template, doc))
    else:
        click.echo(json.dumps(documents, indent=4))


def _inspect_one(client, name: str) -> dict:
    """Like docker: a container of that name, else an image of that name."""
    try:
        return client.request("GET", f"/containers/{_quoted(name)}/json").json()
    except EngineError as e:
        if e.status != 404:
            raise
    try:
        return client.request("GET", f"/images/{quote(name, safe='/:@')}/json").json()
    except EngineError as e:
        if e.status not in (400, 404):  # 400: not even an image name
            raise
    raise EngineError(404, f"No such container: {name}")


@cli.command()
@click.argument("container")
@click.pass_obj
def diff(conn, container):
    """Inspect changes to files or directories on a container's filesystem."""
    kinds = "CAD"  # FilesystemChange.Kind 0, 1, 2
    for change in conn.client.request("GET", f"/containers/{_quoted(container)}/changes").json() or []:
        click.echo(f"{kinds[change['Kind']]} {change['Path']}")


@cli.command()
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def wait(conn, containers):
    """Block until one or more containers stop, then print their exit codes."""
    for name in containers:
        click.echo(conn.client.request("POST", f"/containers/{_quoted(name)}/wait").json()["StatusCode"])


@cli.command("exec", context_settings=NO_INTERSPERSED)
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-w", "--workdir", default="", help="Working directory inside the container")
@click.option("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
@click.option("--privileged", is_flag=True, help="Give extended privileges to the command")
@click.argument("container")
@click.argument("command", nargs=-1, required=True)
@click.pass_obj
def exec_command(conn, env, workdir, user, privileged, container, command):
    """Execute a command in a running container."""
    client = conn.client
    exec_id = client.request(
        "POST",
        f"/containers/{_quoted(container)}/exec",
        body={
            "Cmd": list(command),
            "Env": list(env),
            "WorkingDir": workdir,
            "User": user,
            "Privileged": privileged,
            "AttachStdout": True,
            "AttachStderr": True,
        },
    ).json()["Id"]
    rfile, stream = client.upgrade("POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": False})
    with stream:
        copy_frames(rfile.read)
    sys.exit(client.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"])


@cli.command()
@click.option("-o", "--output", default=None, help="Write to a file, instead of STDOUT")
@click.argument("container")
@click.pass_obj
def export(conn, output, container):
    """Export a container's filesystem as a tar archive."""
    with conn.client.stream("GET", f"/containers/{_quoted(container)}/export") as reply:
        copy_body(reply.body, output)
