"""Registry verbs: ``pull``, ``push``, ``login``, ``logout``, ``registry serve``."""

from __future__ import annotations

import sys

import click

from stepbox.core.registry.errors import RegistryClientError

from .main import cli


def _image_store(session):
    """The image store alone: pull and push need no kernel backend, so they
    do not open one (``<root>/images``, the layout of :mod:`.session`)."""
    import os

    from stepbox.core.image.store import ImageStore

    from .session import default_root
    args = getattr(session, "args", None)          # the CLI's lazy session: (backend, root, say)
    if args is None:
        return session.runtime.images
    return ImageStore(os.path.join(os.path.abspath(args[1] or default_root()), "images"))


def _client(session, quiet: bool, insecure: tuple[str, ...]):
    from stepbox.core.registry.client import RegistryClient, insecure_from_env
    say = (lambda line: None) if quiet else (lambda line: click.echo(line))
    return RegistryClient(_image_store(session), insecure=insecure_from_env() + list(insecure), say=say,
                          progress=None if not quiet else False)


INSECURE = click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST[:PORT]",
                        help="Talk plain http to this registry (loopback ones always are); "
                             "also STEPBOX_INSECURE_REGISTRIES=a,b")


def _fail(e: Exception) -> None:
    click.echo(f"stepbox: Error: {e}", err=True)
    sys.exit(1)


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@INSECURE
@click.argument("name")
@click.pass_obj
def pull(session, quiet, insecure, name):
    """Download an image from a registry."""
    try:
        result = _client(session, quiet, insecure).pull(name)
    except RegistryClientError as e:
        _fail(e)
    if quiet:
        click.echo(result.image.id)


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@INSECURE
@click.argument("name")
@click.pass_obj
def push(session, quiet, insecure, name):
    """Upload an image to a registry."""
    try:
        _client(session, quiet, insecure).push(name)
    except RegistryClientError as e:
        _fail(e)


@cli.command()
@click.option("-u", "--username", default=None, help="Username")
@click.option("-p", "--password", default=None, help="Password")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin")
@click.argument("server", required=False)
@click.pass_obj
def login(session, username, password, password_stdin, server):
    """Log in to a registry (checks the credentials, then stores them)."""
    from stepbox.core.registry.client import insecure_from_env, login as check_and_store
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if username is None:
        username = click.prompt("Username")
    if password is None:
        password = click.prompt("Password", hide_input=True)
    try:
        registry = check_and_store(server, username, password, insecure_from_env())
    except RegistryClientError as e:
        _fail(e)
    click.echo(f"Login Succeeded ({registry})")


@cli.command()
@click.argument("server", required=False)
def logout(server):
    """Forget the stored credentials of a registry."""
    from stepbox.core.registry.client import normalise_server
    from stepbox.core.registry.credentials import erase_credentials
    registry = normalise_server(server)
    click.echo(f"Removing login credentials for {registry}" if erase_credentials(registry)
               else f"Not logged in to {registry}")


@cli.group()
def registry():
    """Run an OCI distribution registry."""


@registry.command()
@click.option("--addr", default="127.0.0.1:5000", show_default=True, help="host:port to listen on")
@click.option("--root", "root", required=True, help="Directory for the registry's blobs and repositories")
@click.option("--htpasswd", default=None, help="Require Basic auth with users from this file "
              "(lines user:$5$… -- make them with `stepbox registry hash-password`)")
@click.option("--quiet", is_flag=True, help="No access log")
def serve(addr, root, htpasswd, quiet):
    """Serve the registry until interrupted."""
    from stepbox.core.registry.server import make_server
    server = make_server(addr, root, htpasswd, access_log=not quiet)
    click.echo(f"stepbox registry listening on {server.url} (storage: {root})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@registry.command("gc")
@click.option("--root", "root", required=True, help="The registry's storage directory")
def gc_command(root):
    """Delete blobs no repository links (run with the registry stopped)."""
    from stepbox.core.registry.storage import RegistryStorage
    for digest in RegistryStorage(root).garbage_collect():
        click.echo(f"deleted {digest}")


@registry.command("hash-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin")
def hash_password_command(username, password_stdin):
    """Print an htpasswd line (SHA-256-crypt) for USERNAME."""
    from stepbox.core.registry.htpasswd import hash_password
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    click.echo(f"{username}:{hash_password(password)}")
