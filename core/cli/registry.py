"""Registry verbs: ``pull``, ``push``, ``login``, ``logout``, ``registry serve``.

``pull`` and ``push`` go through the daemon (it owns the image store and
talks to the registry: ``POST /images/create?fromImage=…``,
``POST /images/{name}/push``).  ``login``/``logout`` stay here, as docker's
do: credentials are the client's, kept in its config file and sent along
with each pull or push.  Which registries may be reached over plain http is
the daemon's setting (``stepbox daemon --insecure-registry``).
``registry serve`` runs a registry server in this process.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

from .main import cli


def _fail(e: Exception | str) -> NoReturn:
    click.echo(f"stepbox: Error: {e}", err=True)
    sys.exit(1)


def _transfer(conn, method: str, path: str, name: str, quiet: bool, query: dict | None = None) -> None:
    """Pull or push through the daemon, printing its progress lines as they
    come.  The credentials `stepbox login` stored go with the request
    (X-Registry-Auth), as docker's CLI sends its own: the daemon keeps none.
    An invalid name fails here, before the daemon is asked (exit 1, as
    docker's pull of one: its daemon refuses it)."""
    from stepbox.core.engine import registry_auth
    from stepbox.core.engine.client import EngineError, json_messages
    from stepbox.core.image.reference import InvalidReference, parse_reference
    from stepbox.core.registry.credentials import load_credentials

    try:
        registry = parse_reference(name).registry
    except InvalidReference as e:
        _fail(e)
    credentials = load_credentials(registry)
    headers = (
        {registry_auth.HEADER: registry_auth.encode(credentials.username, credentials.password, registry)}
        if credentials
        else {}
    )
    try:
        with (
            conn.client.stream(method, path, query=query, headers=headers) as reply,
            _ProgressView(quiet) as view,
        ):
            for message in json_messages(reply.body):
                if "error" in message:
                    raise EngineError(500, message["error"])
                view.show(message)
    except EngineError as e:
        _fail(e.message)


class _ProgressView:
    """The daemon's progress messages as docker shows them: one bar per
    layer on a terminal, and elsewhere only the lines that say something
    happened ("a1b2c3d4e5f6: Pull complete")."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.progress: Progress | None = None
        self.tasks: dict[str | None, TaskID] = {}

    def __enter__(self) -> _ProgressView:
        if not self.quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=Console(stderr=True)
            )
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, message: dict) -> None:
        if self.quiet or not message.get("status"):
            return
        layer, detail = message.get("id"), message.get("progressDetail") or {}
        line = f"{layer}: {message['status']}" if layer else message["status"]
        if detail.get("total"):  # bytes moving: a bar, or nothing
            if self.progress is not None:
                if layer not in self.tasks:
                    self.tasks[layer] = self.progress.add_task(line, total=detail["total"])
                self.progress.update(self.tasks[layer], completed=detail.get("current", 0))
            return
        if self.progress is not None and layer in self.tasks:
            task = self.tasks[layer]  # the bar ends with its final word
            self.progress.update(task, description=line, completed=self.progress.tasks[task].total)
        elif self.progress is not None:
            self.progress.console.print(line, highlight=False)
        else:
            click.echo(line)


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.argument("name")
@click.pass_obj
def pull(conn, quiet, name):
    """Download an image from a registry (through the daemon)."""
    _transfer(conn, "POST", "/images/create", name, quiet, query={"fromImage": name})
    if quiet:
        from .images import image_path

        click.echo(conn.client.request("GET", image_path(name) + "/json").json()["Id"])


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.argument("name")
@click.pass_obj
def push(conn, quiet, name):
    """Upload an image to a registry (through the daemon)."""
    from .images import image_path

    _transfer(conn, "POST", image_path(name) + "/push", name, quiet)


@cli.command()
@click.option("-u", "--username", default=None, help="Username")
@click.option("-p", "--password", default=None, help="Password")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin")
@click.argument("server", required=False)
def login(username, password, password_stdin, server):
    """Log in to a registry (checks the credentials, then stores them)."""
    from stepbox.core.registry.client import insecure_from_env
    from stepbox.core.registry.client import login as check_and_store
    from stepbox.core.registry.errors import RegistryClientError

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
    click.echo(
        f"Removing login credentials for {registry}"
        if erase_credentials(registry)
        else f"Not logged in to {registry}"
    )


@cli.group()
def registry():
    """Run an OCI distribution registry."""


@registry.command()
@click.option("--addr", default="127.0.0.1:5000", show_default=True, help="host:port to listen on")
@click.option("--root", "root", required=True, help="Directory for the registry's blobs and repositories")
@click.option(
    "--htpasswd",
    default=None,
    help="Require Basic auth with users from this file "
    "(lines user:$5$… -- make them with `stepbox registry hash-password`)",
)
@click.option("--quiet", is_flag=True, help="No access log")
@click.option("--tls-cert", default=None, help="Serve HTTPS with this certificate (PEM)")
@click.option("--tls-key", default=None, help="The certificate's private key (PEM)")
@click.option(
    "--enable-delete",
    is_flag=True,
    help="Allow DELETE of manifests and blobs (off by default: 405, as the CNCF registry)",
)
@click.option(
    "--upload-ttl",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds an unfinished upload may sit idle before its bytes are deleted",
)
def serve(addr, root, htpasswd, quiet, tls_cert, tls_key, enable_delete, upload_ttl):
    """Serve the registry until interrupted."""
    from stepbox.core.registry.server import RegistryConfigError, make_server

    try:
        server = make_server(
            addr,
            root,
            htpasswd,
            access_log=not quiet,
            tls_cert=tls_cert,
            tls_key=tls_key,
            allow_delete=enable_delete,
            upload_ttl=upload_ttl,
        )
    except (RegistryConfigError, OSError) as e:
        _fail(e)
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

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    click.echo(f"{username}:{hash_password(password)}")
