"""``stepbox daemon``: run the engine as a server (see :mod:`stepbox.core.engine`);
``stepbox daemon stop``: stop the one serving the chosen state directory.

Other commands start a daemon themselves when none listens, so most people
meet this command only to stop one.  On the real kernel, containers keep
running while no daemon does (their shims hold them; the next daemon
re-attaches); simulated ones live inside the daemon and end with it.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import click
from stepbox.core.engine.locations import socket_for_root

from .bool_flags import GoBoolFlagsGroup
from .main import cli

STOP_TIMEOUT = 30  # seconds before SIGTERM becomes SIGKILL


class _DaemonGroup(GoBoolFlagsGroup):
    go_bool_flags = ("tls", "tlsverify")


@cli.group("daemon", cls=_DaemonGroup, invoke_without_command=True)
@click.option(
    "-H",
    "--host",
    "hosts",
    multiple=True,
    help="Where to listen, repeatable: unix:///path/to.sock, tcp://host:port (default: the state "
    "directory's socket, see stepbox --root)",
)
@click.option(
    "--backend",
    default=None,
    type=click.Choice(["auto", "sim", "linux"]),
    help="Kernel backend (overrides stepbox --backend)",
)
@click.option("--root", default=None, help="State directory (overrides stepbox --root)")
@click.option(
    "--insecure-registry",
    "insecure",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Pull from / push to this registry over plain http (loopback ones always are); "
    "also STEPBOX_INSECURE_REGISTRIES=a,b",
)
@click.option(
    "-b",
    "--bridge",
    default=None,
    metavar="NAME",
    help="The default network's Linux bridge (default stepbox0); 'none' disables it, so containers "
    "get loopback only unless given a network (also STEPBOX_BRIDGE)",
)
@click.option(
    "--bip", default="", metavar="CIDR", help="The default bridge's address and subnet, e.g. 172.17.0.1/16"
)
@click.option(
    "--default-address-pool",
    "pools",
    multiple=True,
    metavar="base=CIDR,size=N",
    help="Where networks get their subnets (default: Docker's, 172.17-31.0.0/16 and 192.168.0.0/16 in /20s)",
)
@click.option("--tls/--no-tls", default=None, help="Serve tcp:// with TLS; implied by --tlsverify")
@click.option(
    "--tlsverify/--no-tlsverify",
    default=None,
    help="Serve tcp:// with TLS and require client certificates signed by --tlscacert",
)
@click.option(
    "--tlscacert", default=None, help="CA that signs client certificates (default $DOCKER_CERT_PATH/ca.pem)"
)
@click.option(
    "--tlscert", default=None, help="The daemon's TLS certificate (default $DOCKER_CERT_PATH/cert.pem)"
)
@click.option("--tlskey", default=None, help="The daemon's TLS key (default $DOCKER_CERT_PATH/key.pem)")
@click.option("--debug", is_flag=True, help="Log every request")
@click.pass_context
def daemon(
    ctx: click.Context,
    hosts,
    backend,
    root,
    insecure,
    bridge,
    bip,
    pools,
    tls,
    tlsverify,
    tlscacert,
    tlscert,
    tlskey,
    debug,
):
    """Serve the Docker Engine API on a UNIX socket and/or TCP (the docker CLI can use it)."""
    connection = ctx.obj
    connection.root_option = root or connection.root_option
    hosts = list(hosts) or ([connection.host] if connection.host else [])
    if not hosts:
        hosts = [f"unix://{socket_for_root(connection.root)}"]
    # The pid file sits next to the first UNIX socket (or the state
    # directory's, for a daemon on TCP alone): `daemon stop` finds it there.
    ctx.meta["stepbox.daemon.pid_socket"] = _pid_socket(hosts, connection.root)
    if ctx.invoked_subcommand is not None:
        return  # `daemon stop`: it reads the options set above
    import logging

    from stepbox.core.engine.listening import ListenRefused, TLSOptions
    from stepbox.core.engine.locations import pid_path_of
    from stepbox.core.engine.pidfile import DaemonRunning, PidFile
    from stepbox.core.engine.server import open_daemon
    from stepbox.core.kernel.errors import KernelError
    from stepbox.core.network.store import NetworkError
    from stepbox.core.registry.client import insecure_from_env
    from stepbox.core.session import open_session

    logging.basicConfig(
        level=logging.INFO if debug else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
    )

    def say(message: str) -> None:
        click.echo(message, err=True)

    path = ctx.meta["stepbox.daemon.pid_socket"]
    try:
        # First of all: a second daemon for this socket stops here, before
        # it has opened (and maybe recovered) anything.
        pid_file = PidFile.acquire(pid_path_of(path))
    except DaemonRunning as e:
        click.echo(
            f"stepbox daemon: another daemon (pid {e.pid}) is already listening on unix://{path}", err=True
        )
        sys.exit(1)
    try:
        settings = _bridge_settings(bridge, bip, pools)
        session = open_session(
            backend or connection.backend, connection.root, say, trace=False, network=settings
        )
        running = open_daemon(
            session,
            hosts,
            say,
            pid_file,
            insecure_from_env() + list(insecure),
            TLSOptions(tls, tlsverify, tlscacert, tlscert, tlskey),
        )
    except (RuntimeError, ValueError, NetworkError, KernelError, ListenRefused) as e:
        pid_file.release()
        click.echo(f"stepbox daemon: {e}", err=True)
        sys.exit(1)
    except BaseException:
        pid_file.release()
        raise
    running.serve_forever()


def _bridge_settings(bridge: str | None, bip: str, pools: tuple[str, ...]):
    """dockerd's --bridge / --bip / --default-address-pool, checked."""
    from stepbox.core.network.ipam import DEFAULT_POOLS, AddressError, Pool
    from stepbox.core.network.manager import BridgeSettings
    from stepbox.core.network.store import DEFAULT_BRIDGE, InvalidNetwork

    bridge = bridge or os.environ.get("STEPBOX_BRIDGE") or DEFAULT_BRIDGE
    try:
        parsed = tuple(Pool.parse(p) for p in pools) or DEFAULT_POOLS
    except AddressError as e:
        raise InvalidNetwork(str(e)) from None
    settings = BridgeSettings(bridge=bridge, bip=bip, pools=parsed)
    settings.check()
    if bridge == "none" and bip:
        raise InvalidNetwork("--bip cannot be used with --bridge=none (there is no default bridge)")
    return settings


def _pid_socket(hosts: list[str], root: str) -> str:
    from stepbox.core.http_server.listeners import BadAddress, parse_address

    for host in hosts:
        try:
            address = parse_address(host)
        except BadAddress:
            continue
        if address.scheme == "unix":
            return address.path
    return socket_for_root(root)


@daemon.command("stop")
@click.option(
    "-t",
    "--time",
    "timeout",
    default=STOP_TIMEOUT,
    show_default=True,
    type=float,
    help="Seconds to wait after SIGTERM before SIGKILL",
)
@click.pass_context
def stop(ctx, timeout):
    """Stop the daemon (of --root's state directory, or at -H)."""
    from stepbox.core.engine.locations import pid_path_of
    from stepbox.core.engine.pidfile import running_pid

    path = ctx.meta["stepbox.daemon.pid_socket"]
    pid_path = pid_path_of(path)
    pid = running_pid(pid_path)
    if pid is None:
        click.echo(f"stepbox: no daemon is running on unix://{path}", err=True)
        return
    os.kill(pid, signal.SIGTERM)
    if not _gone(pid_path, timeout):
        click.echo(f"stepbox: the daemon (pid {pid}) did not stop within {timeout:g}s: SIGKILL", err=True)
        os.kill(pid, signal.SIGKILL)
        _gone(pid_path, STOP_TIMEOUT)
    click.echo(f"stepbox: stopped the daemon on unix://{path} (pid {pid})", err=True)


def _gone(pid_path: str, timeout: float) -> bool:
    """Wait until no process holds the daemon's pid file (it has exited)."""
    from stepbox.core.engine.pidfile import running_pid

    deadline = time.monotonic() + timeout
    while running_pid(pid_path) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
