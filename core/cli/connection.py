"""Reaching the daemon: which socket, is anyone there, is it the right one.

``docker ps`` opens ``/var/run/docker.sock`` and fails if nobody listens.
``stepbox ps`` does the same with one difference that suits a learning
tool: when nobody listens on the socket of the chosen state directory, it
starts a daemon there (``core/engine/daemon_process.py``) and says so.  A socket given
explicitly (``-H`` / ``STEPBOX_HOST``) is never started: that daemon is
someone else's.

Every call begins like docker's, with ``HEAD /_ping``; the answer's
``Stepbox-Backend`` header says which kernel that daemon runs containers
on, so ``--backend sim`` never silently lands on a real-kernel daemon.
"""

from __future__ import annotations

from stepbox.core.engine.client import EngineClient, EngineError
from stepbox.core.engine.locations import (
    UnsafeSocketDir,
    private_socket_dir,
    socket_for_root,
    socket_path_of,
    state_root,
)

from .errors import CommandFailed

PING_TIMEOUT = 30.0  # seconds; a daemon that does not answer a ping is stuck


class Connection:
    """The global options (``--backend``, ``--root``, ``-H``) and, on first
    use, a client connected to the daemon they select.  Commands that need
    no daemon (``--help``, ``login``, ``registry serve``) never connect."""

    def __init__(self, backend: str, root: str | None, host: str | None, say):
        self.backend = backend  # "auto", "sim" or "linux"
        self.root_option = root
        self.host = host
        self.say = say
        self._client: EngineClient | None = None

    @property
    def root(self) -> str:
        return state_root(self.root_option)

    @property
    def socket_path(self) -> str:
        """The daemon's socket; in the shared fallback directory
        (``/tmp/stepbox-UID``) only once that is known to be ours alone."""
        if self.host:
            try:
                path = socket_path_of(self.host)
            except ValueError as e:
                raise CommandFailed(f"stepbox: Error: {e}", 125) from None
        else:
            path = socket_for_root(self.root)
        try:
            private_socket_dir(path)
        except UnsafeSocketDir as e:
            raise CommandFailed(f"stepbox: Error: {e}", 125) from None
        except OSError as e:
            raise CommandFailed(f"stepbox: Error: cannot use the socket directory: {e}", 125) from None
        return path

    @property
    def client(self) -> EngineClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> EngineClient:
        path = self.socket_path
        backend = daemon_backend(path)
        if backend is None:
            if self.host:
                raise CommandFailed(
                    f"stepbox: Error: Cannot connect to the stepbox daemon at unix://{path}. "
                    "Is the daemon running?",
                    125,
                )
            backend = self._start_daemon(path)
        if self.backend != "auto" and backend != self.backend:
            raise CommandFailed(
                f"stepbox: Error: the daemon on unix://{path} runs containers on the {backend} backend, "
                f"not {self.backend}: use --backend {backend}, or stop it (stepbox daemon stop) "
                f"to start one on {self.backend}",
                125,
            )
        # No timeout: `run` may wait for a container for hours, as docker does.
        return EngineClient(path, timeout=None)

    def _start_daemon(self, path: str) -> str:
        """Start the state directory's daemon in the background (see
        core/engine/daemon_process.py); its backend once it answers.  Two
        commands may start one at the same moment: only the one whose
        daemon lives says so."""
        from stepbox.core.engine.daemon_process import DaemonDidNotStart, start_daemon

        try:
            daemon = start_daemon(self.backend, self.root, path)
        except DaemonDidNotStart as e:
            raise CommandFailed(f"stepbox: Error: {e}", 125) from None
        backend = daemon_backend(path)
        if backend is None:
            raise CommandFailed(
                f"stepbox: Error: the daemon on unix://{path} went away; see {daemon.log_path}", 125
            )
        if daemon.lives:
            self.say(f"stepbox: started a daemon on unix://{path} (backend {backend})")
        return backend


def daemon_backend(path: str) -> str | None:
    """The backend of the daemon listening on ``path``; None if none listens."""
    try:
        reply = EngineClient(path, timeout=PING_TIMEOUT).request("HEAD", "/_ping")
    except (FileNotFoundError, ConnectionRefusedError):
        return None  # no socket, or a socket nobody listens on (a dead daemon's)
    except PermissionError:
        raise CommandFailed(
            f"stepbox: Error: permission denied while trying to connect to the stepbox "
            f"daemon socket at unix://{path}",
            125,
        ) from None
    except (OSError, EngineError) as e:
        raise CommandFailed(
            f"stepbox: Error: the daemon at unix://{path} does not answer: {e}", 125
        ) from None
    return reply.headers.get("Stepbox-Backend") or "unknown"
