"""``stepbox context create|use|ls|inspect|rm|show``: named daemons.

A context is a name for "that daemon, with these certificates", so
switching between the local daemon and a lab machine is one command::

    stepbox context create lab --docker "host=tcp://lab:2376,ca=ca.pem,cert=cert.pem,key=key.pem"
    stepbox context use lab        # every command now goes to lab, over mutual TLS
    stepbox context use default    # back to the local daemon

Stored as docker stores them (see :mod:`.context_store`).
"""

from __future__ import annotations

import json
import sys

import click

from . import context_store
from .main import cli

DOCKER_FIELDS = ("host", "ca", "cert", "key", "skip-tls-verify")


def _fail(e: Exception) -> None:
    click.echo(f"stepbox: Error: {e}", err=True)
    sys.exit(1)


def parse_docker_spec(spec: str) -> dict[str, str]:
    """``host=tcp://x:2376,ca=/p/ca.pem`` -> a dict, with unknown fields refused by name."""
    fields: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise context_store.ContextError(f"--docker: {part!r} is not key=value")
        if key not in DOCKER_FIELDS:
            raise context_store.ContextError(
                f"--docker: unsupported field {key!r} (stepbox knows {', '.join(DOCKER_FIELDS)})"
            )
        fields[key] = value
    return fields


@cli.group("context")
def context():
    """Manage contexts (named daemons to talk to)."""


@context.command("create")
@click.argument("name")
@click.option("--description", default="", help="Description of the context")
@click.option(
    "--docker",
    "docker_spec",
    required=True,
    help="The daemon: host=unix://…|tcp://…|ssh://…[,ca=FILE,cert=FILE,key=FILE,skip-tls-verify=true]",
)
def create(name, description, docker_spec):
    """Create a context."""
    from stepbox.core.engine.endpoints import BadEndpoint, endpoint_of

    try:
        fields = parse_docker_spec(docker_spec)
        host = fields.get("host")
        if not host:
            raise context_store.ContextError("--docker needs host=…")
        endpoint_of(host)  # refuse a bad address now, not at first use
        skip = fields.get("skip-tls-verify", "false").lower() in ("1", "true", "yes")
        tls = {which: fields[which] for which in ("ca", "cert", "key") if fields.get(which)}
        context_store.create(name, host, description, tls, skip)
    except (context_store.ContextError, BadEndpoint) as e:
        _fail(e)
    click.echo(name)
    click.echo(f'Successfully created context "{name}"', err=True)


@context.command("use")
@click.argument("name")
def use(name):
    """Set the current context."""
    try:
        context_store.set_current(name)
    except context_store.ContextError as e:
        _fail(e)
    click.echo(name)
    click.echo(f'Current context is now "{name}"', err=True)


@context.command("show")
def show():
    """Print the name of the current context."""
    click.echo(context_store.current_name())


@context.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Only show context names")
@click.pass_obj
def ls(connection, quiet):
    """List contexts."""
    from stepbox.core.engine.locations import socket_for_root

    try:
        contexts = context_store.all_contexts()
        current = context_store.current_name()
    except context_store.ContextError as e:
        _fail(e)
    if quiet:
        for c in contexts:
            click.echo(c.name)
        return
    rows = [("NAME", "DESCRIPTION", "DOCKER ENDPOINT")]
    for c in contexts:
        endpoint = c.host or f"unix://{socket_for_root(connection.root)}"
        rows.append((c.name + (" *" if c.name == current else ""), c.description, endpoint))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, description, endpoint in rows:
        click.echo(f"{name.ljust(widths[0])}   {description.ljust(widths[1])}   {endpoint}")


@context.command("inspect")
@click.argument("names", nargs=-1)
def inspect(names):
    """Show contexts in detail (the current one if none is named)."""
    out = []
    try:
        for name in names or (context_store.current_name(),):
            c = context_store.load(name)
            out.append(
                {
                    "Name": c.name,
                    "Metadata": {"Description": c.description},
                    "Endpoints": {"docker": {"Host": c.host, "SkipTLSVerify": c.skip_tls_verify}},
                    "TLSMaterial": {"docker": [f"{w}.pem" for w in ("ca", "cert", "key") if c.tls_file(w)]},
                    "Storage": {"TLSPath": c.tls_dir},
                }
            )
    except context_store.ContextError as e:
        _fail(e)
    click.echo(json.dumps(out, indent=4))


@context.command("rm")
@click.argument("names", nargs=-1, required=True)
def rm(names):
    """Remove contexts."""
    for name in names:
        try:
            context_store.remove(name)
        except context_store.ContextError as e:
            _fail(e)
        click.echo(name)
