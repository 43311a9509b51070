"""``stepbox network ...`` and ``stepbox port``: requests to the daemon's /networks.

As with docker, a network is an object the daemon manages: ``network create``
asks it to make a bridge with a subnet of its own, ``run --network NAME``
puts a container on it, and containers on one network reach each other by
name (its embedded DNS server), while other networks cannot reach them.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import click

from .format import go_template, table
from .main import cli


def _path(name: str, suffix: str = "") -> str:
    return "/networks/" + quote(name, safe="") + suffix


def _key_values(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if not key:
            raise click.BadParameter(f"invalid {what} {pair!r}: expected KEY=VALUE")
        found[key] = value
    return found


@cli.group("network")
def network():
    """Manage networks."""


@network.command("create")
@click.option("-d", "--driver", default="bridge", show_default=True, help="Driver to manage the network")
@click.option("--subnet", default="", help="Subnet in CIDR format, e.g. 172.28.0.0/16")
@click.option("--gateway", default="", help="IPv4 gateway for the subnet")
@click.option("--ip-range", default="", help="Allocate container addresses from a sub-range")
@click.option("--internal", is_flag=True, help="Restrict external access to the network")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment")
@click.option("--label", multiple=True, help="Set metadata on a network (KEY=VALUE)")
@click.option("-o", "--opt", multiple=True, help="Set driver specific options (KEY=VALUE)")
@click.argument("name")
@click.pass_obj
def create(conn, driver, subnet, gateway, ip_range, internal, attachable, label, opt, name):
    """Create a network."""
    if (gateway or ip_range) and not subnet:
        raise click.BadParameter("--gateway and --ip-range need --subnet")
    config = {
        key: value
        for key, value in (("Subnet", subnet), ("Gateway", gateway), ("IPRange", ip_range))
        if value
    }
    body = {
        "Name": name,
        "Driver": driver,
        "Internal": internal,
        "Attachable": attachable,
        "IPAM": {"Driver": "default", "Config": [config] if config else [], "Options": {}},
        "Labels": _key_values(label, "label"),
        "Options": _key_values(opt, "option"),
    }
    reply = conn.client.request("POST", "/networks/create", body=body).json()
    click.echo(reply["Id"])


@network.command("ls")
@click.option("-f", "--filter", "filters", multiple=True, help="Provide filter values (e.g. driver=bridge)")
@click.option("-q", "--quiet", is_flag=True, help="Only display network IDs")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output")
@click.option("--format", "template", default=None, help="Format output using a Go template")
@click.pass_obj
def ls(conn, filters, quiet, no_trunc, template):
    """List networks."""
    wanted: dict[str, list[str]] = {}
    for f in filters:
        key, eq, value = f.partition("=")
        if not eq:
            raise click.BadParameter(f"bad format of filter (expected name=value): {f}")
        wanted.setdefault(key, []).append(value)
    query = {"filters": json.dumps(wanted)} if wanted else {}
    networks = conn.client.request("GET", "/networks", query=query).json()
    networks.sort(key=lambda n: n["Name"])
    rows = [("NETWORK ID", "NAME", "DRIVER", "SCOPE")]
    for n in networks:
        shown = n["Id"] if no_trunc else n["Id"][:12]
        if quiet:
            click.echo(shown)
        elif template:
            click.echo(go_template(template, {**n, "ID": shown}))
        else:
            rows.append((shown, n["Name"], n["Driver"], n["Scope"]))
    if not quiet and not template:
        click.echo(table(rows))


@network.command("inspect")
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def inspect(conn, template, names):
    """Display detailed information on one or more networks."""
    documents = [conn.client.request("GET", _path(name)).json() for name in names]
    if template:
        for doc in documents:
            click.echo(go_template(template, doc))
    else:
        click.echo(json.dumps(documents, indent=4))


@network.command("rm")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def rm(conn, names):
    """Remove one or more networks."""
    for name in names:
        conn.client.request("DELETE", _path(name))
        click.echo(name)


@network.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. label=x)")
@click.pass_obj
def prune(conn, force, filters):
    """Remove all unused networks."""
    if not force and not click.confirm(
        "WARNING! This will remove all custom networks not used by at least one container.\n"
        "Are you sure you want to continue?"
    ):
        return
    wanted: dict[str, list[str]] = {}
    for f in filters:
        key, _, value = f.partition("=")
        wanted.setdefault(key, []).append(value)
    query = {"filters": json.dumps(wanted)} if wanted else {}
    reply = conn.client.request("POST", "/networks/prune", query=query).json()
    deleted = reply.get("NetworksDeleted") or []
    if deleted:
        click.echo("Deleted Networks:")
        for name in deleted:
            click.echo(name)


@network.command("connect")
@click.option("--alias", multiple=True, help="Add network-scoped alias for the container")
@click.option("--ip", default="", help="IPv4 address")
@click.argument("name")
@click.argument("container")
@click.pass_obj
def connect(conn, alias, ip, name, container):
    """Connect a container to a network."""
    settings: dict = {}
    if alias:
        settings["Aliases"] = list(alias)
    if ip:
        settings["IPAMConfig"] = {"IPv4Address": ip}
    conn.client.request(
        "POST", _path(name, "/connect"), body={"Container": container, "EndpointConfig": settings}
    )


@network.command("disconnect")
@click.option("-f", "--force", is_flag=True, help="Force the container to disconnect from a network")
@click.argument("name")
@click.argument("container")
@click.pass_obj
def disconnect(conn, force, name, container):
    """Disconnect a container from a network."""
    conn.client.request("POST", _path(name, "/disconnect"), body={"Container": container, "Force": force})


@cli.command("port")
@click.argument("container")
@click.argument("private", required=False)
@click.pass_obj
def port(conn, container, private):
    """List port mappings or a specific mapping for the container."""
    doc = conn.client.request("GET", "/containers/" + quote(container, safe="") + "/json").json()
    ports = (doc.get("NetworkSettings") or {}).get("Ports") or {}
    if private:
        key = private if "/" in private else f"{private}/tcp"
        bindings = ports.get(key)
        if not bindings:
            raise click.ClickException(f"No public port '{key}' published for {container}")
        for b in bindings:
            click.echo(f"{b['HostIp']}:{b['HostPort']}")
        return
    rows = []
    for key, bindings in ports.items():
        for b in bindings or []:
            rows.append((int(key.split("/")[0]), f"{key} -> {b['HostIp']}:{b['HostPort']}"))
    for _, line in sorted(rows):
        click.echo(line)
