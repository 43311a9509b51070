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

from .attach import Wiring, check_tty, run_attached
from .attach import attach as attach_to
from .attach import start as start_container
from .main import cli
from .output import copy_body, copy_frames
from .run_options import NO_INTERSPERSED, create_body, with_run_options
from .run_verb import create_container, prepare_run, run_prepared

RAW_STREAM = "application/vnd.docker.raw-stream"


def _quoted(name: str) -> str:
    """A container name or ID as a path segment."""
    return quote(name, safe="")


@cli.command(context_settings=NO_INTERSPERSED)
@click.option("-d", "--detach", is_flag=True, help="Run container in background and print container ID")
@click.option("--detach-keys", default="", help="Override the key sequence for detaching a container")
@click.option(
    "--sig-proxy/--no-sig-proxy", default=True, help="Proxy received signals to the process (non-TTY only)"
)
@with_run_options
@click.pass_obj
def run(conn, detach, detach_keys, sig_proxy, name, image, command, **flags):
    """Create and run a new container from an image."""
    prepared = prepare_run(detach, detach_keys, sig_proxy, image, command, flags)
    sys.exit(run_prepared(conn, prepared, name, flags))


@cli.command(context_settings=NO_INTERSPERSED)
@with_run_options
@click.pass_obj
def create(conn, name, image, command, **flags):
    """Create a new container."""
    click.echo(
        create_container(conn, create_body(image, command, **flags), name, flags["pull"], flags["cidfile"])
    )


@cli.command()
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and forward signals")
@click.option("-i", "--interactive", is_flag=True, help="Attach container's STDIN")
@click.option("--detach-keys", default="", help="Override the key sequence for detaching a container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def start(conn, attach, interactive, detach_keys, containers):
    """Start one or more stopped containers."""
    if (attach or interactive) and len(containers) > 1:
        raise click.UsageError("you cannot start and attach multiple containers at once")
    for name in containers:
        if attach or interactive:
            info = conn.client.request("GET", f"/containers/{_quoted(name)}/json").json()
            wiring = Wiring(
                stdin=interactive and info["Config"]["OpenStdin"],
                tty=info["Config"]["Tty"],
                detach_keys=detach_keys,
            )
            check_tty(wiring)
            sys.exit(run_attached(conn.client, info["Id"], wiring=wiring))
        start_container(conn.client, name)
        click.echo(name)


@cli.command("attach")
@click.option("--no-stdin", is_flag=True, help="Do not attach STDIN")
@click.option("--detach-keys", default="", help="Override the key sequence for detaching a container")
@click.option("--sig-proxy/--no-sig-proxy", default=True, help="Proxy all received signals to the process")
@click.argument("container")
@click.pass_obj
def attach_command(conn, no_stdin, detach_keys, sig_proxy, container):
    """Attach local standard input, output, and error streams to a running container."""
    wiring = Wiring(stdin=not no_stdin, detach_keys=detach_keys, sig_proxy=sig_proxy)
    sys.exit(attach_to(conn.client, container, wiring))


@cli.command()
@click.option("-t", "--time", "timeout", default=None, type=int, help="Seconds to wait before killing it")
@click.option("-s", "--signal", "sig", default=None, help="Signal to send to the container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def stop(conn, timeout, sig, containers):
    """Stop one or more running containers."""
    # neither given: the container's own --stop-timeout / --stop-signal (docker's CLI sends none)
    query = {key: value for key, value in (("t", timeout), ("signal", sig)) if value is not None}
    for name in containers:
        conn.client.request("POST", f"/containers/{_quoted(name)}/stop", query=query)
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
    if text.isdecimal():
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
        from .format import ps_table  # here: run need not import it

        click.echo(ps_table(rows))


@cli.command()
@click.option("-f", "--follow", is_flag=True, help="Follow log output")
@click.option(
    "--since",
    default=None,
    help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")',
)
@click.option(
    "--until", default=None, help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative'
)
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps")
@click.option(
    "-n", "--tail", default="all", help='Number of lines to show from the end of the logs (default "all")'
)
@click.option(
    "--details", is_flag=True, help="Show extra details provided to logs (not supported by stepbox)"
)
@click.argument("container")
@click.pass_obj
def logs(conn, follow, since, until, timestamps, tail, details, container):
    """Fetch the logs of a container."""
    from .system_verbs import _timestamp

    if details:
        raise click.BadParameter(
            "not supported by stepbox: it records no log attributes (labels, env) to show",
            param_hint="'--details'",
        )
    # --tail goes to the daemon as given, as docker's CLI sends it: a value
    # that is not a number means all the lines (see engine.containers.tail_count).
    query = {
        "stdout": True,
        "stderr": True,
        "follow": follow,
        "timestamps": timestamps,
        "tail": tail,
        "since": _timestamp(since),
        "until": _timestamp(until),
    }
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
            from .format import go_template

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
@click.option("-d", "--detach", is_flag=True, help="Detached mode: run command in the background")
@click.option("--detach-keys", default="", help="Override the key sequence for detaching a container")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached")
@click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY")
@click.option("-w", "--workdir", default="", help="Working directory inside the container")
@click.option("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
@click.option("--privileged", is_flag=True, help="Give extended privileges to the command")
@click.argument("container")
@click.argument("command", nargs=-1, required=True)
@click.pass_obj
def exec_command(
    conn, detach, detach_keys, env, interactive, tty, workdir, user, privileged, container, command
):
    """Execute a command in a running container."""
    from .exec_session import run_exec

    wiring = Wiring(stdin=interactive and not detach, tty=tty, detach_keys=detach_keys)
    if not detach:
        check_tty(wiring)
        wiring.keys()
    status = run_exec(
        conn.client,
        container,
        list(command),
        list(env),
        workdir,
        wiring,
        detach,
        user=user,
        privileged=privileged,
    )
    sys.exit(status)


@cli.command()
@click.option("-o", "--output", default=None, help="Write to a file, instead of STDOUT")
@click.argument("container")
@click.pass_obj
def export(conn, output, container):
    """Export a container's filesystem as a tar archive."""
    with conn.client.stream("GET", f"/containers/{_quoted(container)}/export") as reply:
        copy_body(reply.body, output)
