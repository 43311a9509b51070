"""Putting the daemon together: a socket, a router, an engine.

``stepbox daemon`` = open the state directory and the backend (the same
:func:`~stepbox.core.session.open_session` `stepbox step` uses too),
re-attach to containers a previous daemon left running, then serve the API
on a UNIX socket until SIGTERM/SIGINT.

Why a UNIX socket?  It is a file: its permissions (0660, owner root) decide
who may talk to the daemon -- and whoever may talk to it may run containers,
which on a real kernel is as good as root.  That is Docker's model too.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass

from .container_admin import ContainerAdminEndpoints
from .containers import ContainerEndpoints
from .engine import Engine
from .execs import ExecSessions
from .http import UnixHTTPServer
from .images import ImageEndpoints
from .locations import MAX_SOCKET_PATH, someone_listening
from .networks import NetworkEndpoints
from .pidfile import PidFile
from .routes import Router
from .system import SystemEndpoints

log = logging.getLogger("stepbox.engine")


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
    server: UnixHTTPServer
    socket_path: str
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
    socket_path: str,
    say=print,
    pid_file: PidFile | None = None,
    insecure_registries: list[str] | None = None,
) -> Daemon:
    """Open the socket and start serving ``session`` (not yet blocking).
    ``pid_file`` is the one the caller locked before it opened the session;
    it stays locked while this process lives."""
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
    engine = Engine(session.runtime, session.backend, session.root, insecure_registries)
    engine.backend_reason = session.why
    for line in engine.recover():
        say(line)
    server = UnixHTTPServer(socket_path, build_app(engine))
    say(
        f"stepbox daemon: {session.backend} kernel, state in {session.root}, API 1.44 on unix://{socket_path}"
    )
    return Daemon(engine, server, socket_path, pid_file)
