"""Putting the daemon together: listeners, a router, an engine.

``stepbox daemon`` = open the state directory and the backend (the same
:func:`~stepbox.core.session.open_session` `stepbox step` uses too),
re-attach to containers a previous daemon left running, then serve the API
on every ``-H`` -- a UNIX socket by default, TCP (with TLS) if asked, see
:mod:`.listening` -- until SIGTERM/SIGINT.

Why a UNIX socket by default?  It is a file: its permissions (0660, owner
root) decide who may talk to the daemon -- and whoever may talk to it may
run containers, which on a real kernel is as good as root.  That is
Docker's model too.
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import time
from dataclasses import dataclass

from stepbox.core.http_server.limits import Limits
from stepbox.core.http_server.server import HTTPServer

from . import API_VERSION
from .container_admin import ContainerAdminEndpoints
from .containers import ContainerEndpoints
from .engine import Engine
from .execs import ExecSessions
from .images import ImageEndpoints
from .listening import TLSOptions, daemon_listeners
from .locations import MAX_SOCKET_PATH, someone_listening
from .networks import NetworkEndpoints
from .pidfile import PidFile
from .routes import Router
from .system import SystemEndpoints

log = logging.getLogger("stepbox.engine")

# Headers on every answer, as dockerd sends them (the CLI reads Api-Version).
DEFAULT_HEADERS = (
    ("Server", "stepbox"),
    ("Api-Version", API_VERSION),
    ("Docker-Experimental", "false"),
    ("Ostype", "linux"),
)
# A tar sent to /images/load, /build or import may be big; JSON bodies have
# their own, small limit (Request.json).
DAEMON_LIMITS = Limits(max_body_bytes=16 << 30)


def make_server(app, listeners, limits: Limits = DAEMON_LIMITS) -> HTTPServer:
    return HTTPServer(
        app,
        listeners,
        limits=limits,
        default_headers=DEFAULT_HEADERS,
        name="stepbox daemon",
        logger=log,
    )


def build_app(engine: Engine) -> Router:
    router = Router()
    execs = ExecSessions(engine)
    SystemEndpoints(engine).register(router)
    ContainerEndpoints(engine, execs).register(router)
    ContainerAdminEndpoints(engine).register(router)
    ImageEndpoints(engine).register(router)
    NetworkEndpoints(engine).register(router)
    return router


@dataclass
class Daemon:
    engine: Engine
    server: HTTPServer
    pid_file: PidFile | None = None

    def serve_forever(self) -> None:
        """Serve until SIGTERM or SIGINT, then shut down cleanly."""
        # The handler only sets a flag: taking a lock in a signal handler (as
        # Event.set does) can deadlock with the main thread inside Event.wait.
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        self.server.serve_in_thread()
        while not stop:
            time.sleep(0.2)
        self.close()

    def close(self) -> None:
        log.info("shutting down")
        self.server.close()
        self.engine.close()
        # The pid file stays locked until this process has exited (the kernel
        # drops the lock then): `stepbox daemon stop` waits for exactly that.


def open_daemon(
    session,
    hosts: list[str],
    say=print,
    pid_file: PidFile | None = None,
    insecure_registries: list[str] | None = None,
    tls: TLSOptions | None = None,
) -> Daemon:
    """Open the listeners and start serving ``session`` (not yet blocking).
    ``hosts`` are ``-H`` addresses (``unix:///path``, ``tcp://host:port``).
    ``pid_file`` is the one the caller locked before it opened the session;
    it stays locked while this process lives."""
    listeners = daemon_listeners(hosts, tls or TLSOptions(), say)
    for address, _ in listeners:
        if address.scheme == "unix":
            _prepare_socket_path(address.path)
    engine = Engine(session.runtime, session.backend, session.root, insecure_registries, session.why)
    for line in engine.recover():
        say(line)
    try:
        server = make_server(build_app(engine), listeners)
    except OSError as e:
        engine.close()
        raise RuntimeError(f"cannot listen: {e}") from None
    where = ", ".join(
        f"{address}{' (TLS, client certificates required)' if context and context.verify_mode == ssl.CERT_REQUIRED else ' (TLS)' if context else ''}"
        for address, context in zip(server.addresses, (c for _, c in listeners), strict=True)
    )
    say(f"stepbox daemon: {session.backend} kernel, state in {session.root}, API {API_VERSION} on {where}")
    return Daemon(engine, server, pid_file)


def _prepare_socket_path(socket_path: str) -> None:
    if len(socket_path.encode()) > MAX_SOCKET_PATH:
        raise ValueError(
            f"socket path too long for a UNIX socket ({len(socket_path)} bytes, "
            f"at most {MAX_SOCKET_PATH}): {socket_path}"
        )
    os.makedirs(os.path.dirname(socket_path), mode=0o755, exist_ok=True)
    if os.path.exists(socket_path):
        if someone_listening(socket_path):
            raise RuntimeError(f"another daemon is already listening on {socket_path}")
        os.unlink(socket_path)  # left behind by a daemon that died
