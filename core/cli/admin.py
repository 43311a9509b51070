"""Verbs that look at and change running containers: restart, rename,
update, top, stats -- each the request docker's CLI sends for it."""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import quote

import click
from stepbox.core.engine.client import EngineError

from .format import go_template, table
from .main import cli


def _path(name: str) -> str:
    return f"/containers/{quote(name, safe='')}"


def _each(conn, containers, request) -> None:
    """Run ``request(name)`` for each; docker prints the name, or the error
    and goes on, ending with status 1 if any failed."""
    failed = False
    for name in containers:
        try:
            request(name)
            click.echo(name)
        except EngineError as e:
            click.echo(f"Error response from daemon: {e.message}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@cli.command()
@click.option(
    "-t", "--time", "timeout", default=None, type=int, help="Seconds to wait before killing the container"
)
@click.option("-s", "--signal", "sig", default=None, help="Signal to send to the container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def restart(conn, timeout, sig, containers):
    """Restart one or more containers."""
    query = {} if timeout is None else {"t": timeout}
    if sig:
        query["signal"] = sig
    _each(conn, containers, lambda name: conn.client.request("POST", f"{_path(name)}/restart", query=query))


@cli.command()
@click.argument("container")
@click.argument("new_name")
@click.pass_obj
def rename(conn, container, new_name):
    """Rename a container."""
    conn.client.request("POST", f"{_path(container)}/rename", query={"name": new_name})


@cli.command()
@click.option("-m", "--memory", default=None, help="Memory limit")
@click.option("--cpus", default=None, help="Number of CPUs")
@click.option("--pids-limit", default=None, type=int, help="Tune container pids limit (set -1 for unlimited)")
@click.option("--restart", default=None, help="Restart policy to apply when a container exits")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def update(conn, memory, cpus, pids_limit, restart, containers):
    """Update configuration of one or more containers."""
    from stepbox.core.container.flags import InvalidConfig, parse_cpus, parse_size
    from stepbox.core.container.restart_policy import RestartPolicy

    body: dict = {}
    if memory is not None:
        try:
            body["Memory"] = parse_size(memory)
        except InvalidConfig as e:
            raise click.BadParameter(str(e)) from None
    if cpus is not None:
        try:
            body["NanoCpus"] = round(parse_cpus(cpus) * 1e9)
        except InvalidConfig as e:
            raise click.BadParameter(str(e)) from None
    if pids_limit is not None:
        body["PidsLimit"] = pids_limit
    if restart is not None:
        try:
            body["RestartPolicy"] = RestartPolicy.parse(restart).to_api()
        except InvalidConfig as e:
            raise click.BadParameter(str(e)) from None
    if not body:
        raise click.UsageError("you must provide one or more flags when using this command")
    _each(conn, containers, lambda name: conn.client.request("POST", f"{_path(name)}/update", body=body))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("container")
@click.argument("ps_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def top(conn, container, ps_args):
    """Display the running processes of a container."""
    query = {"ps_args": " ".join(ps_args)} if ps_args else {}
    reply = conn.client.request("GET", f"{_path(container)}/top", query=query).json()
    rows = [tuple(reply["Titles"])] + [tuple(p) for p in reply["Processes"] or []]
    click.echo(table(rows))


# -- stats -----------------------------------------------------------------------------------

STATS_HEADER = ("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS")


def bytes_size(size: float) -> str:
    """go-units' BytesSize: binary units, 4 significant digits (``1.328MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024:
            return f"{size:.4g}{unit}"
        size /= 1024
    return f"{size:.4g}EiB"


def stats_row(sample: dict) -> dict:
    """The docker CLI's computation from one stats document (cgroup v2)."""
    cpu, pre = sample["cpu_stats"], sample["precpu_stats"]
    cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
    system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or 1
    cpu_percent = cpu_delta / system_delta * online * 100.0 if system_delta > 0 and cpu_delta > 0 else 0.0
    memory = sample["memory_stats"]
    used = max(0, (memory.get("usage") or 0) - (memory.get("stats") or {}).get("inactive_file", 0))
    limit = memory.get("limit") or 0
    mem_percent = used / limit * 100.0 if limit else 0.0
    return {
        "ID": sample["id"][:12],
        "Container": sample["id"][:12],
        "Name": sample["name"].lstrip("/") or "--",
        "CPUPerc": f"{cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(used)} / {bytes_size(limit)}",
        "MemPerc": f"{mem_percent:.2f}%",
        "NetIO": "0B / 0B",
        "BlockIO": "0B / 0B",
        "PIDs": str((sample.get("pids_stats") or {}).get("current", 0)),
    }


@cli.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)")
@click.option("--no-stream", is_flag=True, help="Disable streaming stats and only pull the first result")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@click.option("--format", "template", default=None, help="Format output using a Go template")
@click.argument("containers", nargs=-1)
@click.pass_obj
def stats(conn, all_, no_stream, no_trunc, template, containers):
    """Display a live stream of container(s) resource usage statistics."""
    client = conn.client
    while True:
        names = list(containers) or [
            row["Id"] for row in client.request("GET", "/containers/json", query={"all": all_}).json()
        ]
        rows = []
        for name in names:
            sample = client.request("GET", f"{_path(name)}/stats", query={"stream": 0}).json()
            row = stats_row(sample)
            if no_trunc:
                row["ID"] = row["Container"] = sample["id"]
            rows.append(row)
        if template and not template.startswith("table"):
            text = "\n".join(go_template(template, row) for row in rows)
        else:
            keys = ("ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs")
            text = table([STATS_HEADER] + [tuple(row[k] for k in keys) for row in rows])
        if no_stream:
            click.echo(text)
            return
        click.echo("\033[2J\033[H" + text)  # clear the screen, as docker stats does
        time.sleep(0.5)


def print_json(value) -> None:
    click.echo(json.dumps(value, indent=4))
