"""Reaching the daemon: which one, is anyone there, is it the right one.

``docker ps`` opens ``/var/run/docker.sock`` (or whatever ``-H``,
``DOCKER_HOST`` or the current context say) and fails if nobody listens.
``stepbox ps`` does the same with one difference that suits a learning
tool: when nobody listens on the socket of the chosen state directory, it
starts a daemon there (``core/engine/daemon_process.py``) and says so.  A daemon named
explicitly -- a host or a context -- is never started: it is someone else's.

Which daemon, first rule that applies:

1. ``-H`` / ``STEPBOX_HOST`` (``unix://``, ``tcp://``, ``ssh://``);
2. ``--context`` / ``STEPBOX_CONTEXT``;
3. ``--root`` / ``STEPBOX_ROOT``: that state directory's own daemon;
4. ``DOCKER_HOST`` (so a shell set up for docker works for stepbox too);
5. the current context (``stepbox context use``), if not ``default``;
6. the default state directory's daemon.

Over ``tcp://`` the TLS flags apply (``--tls``, ``--tlsverify``,
``--tlscacert``/``--tlscert``/``--tlskey``, and ``DOCKER_TLS_VERIFY``,
``DOCKER_TLS``, ``DOCKER_CERT_PATH`` or their ``STEPBOX_`` versions), as
docker's do; a context carries its own certificates.

A daemon that cannot be reached -- nobody listens, the socket is not ours
to use, it does not answer, the connection breaks -- ends the command with
docker 28's status: 125 for ``run`` (its errors are wrapped in the CLI's
StatusError), 1 for every other verb (``create`` included: its errors reach
the CLI's main as they are).  So does a client that cannot even begin: an
address it cannot read, TLS files it cannot load, an unknown context, both
``-H`` and ``--context`` ("Failed to initialize": 1 for every verb).

Every call begins like docker's, with ``HEAD /_ping``; the answer's
``Stepbox-Backend`` header says which kernel that daemon runs containers
on, so ``--backend sim`` never silently lands on a real-kernel daemon.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

from stepbox.core.engine.endpoints import BadEndpoint, Endpoint, TCPEndpoint, UnixEndpoint, endpoint_of
from stepbox.core.engine.locations import UnsafeSocketDir, private_socket_dir, socket_for_root, state_root

from .errors import CommandFailed

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    # The client (json, sockets, HTTP) is imported by the first call that
    # talks to a daemon: a verb that needs none (context ls) does without.
    from stepbox.core.engine.client import EngineClient

PING_TIMEOUT = 30.0  # seconds; a daemon that does not answer a ping is stuck
CANNOT_BEGIN = 1  # docker: "Failed to initialize" (an address, TLS files, a context), every verb


def unreachable_status(verb: str | None) -> int:
    """docker 28's exit status when the daemon cannot be reached: 125 for
    ``run``, 1 for the rest."""
    return 125 if verb == "run" else 1


class ClientTLS(SimpleNamespace):
    """The global TLS flags; None where not given.  (A SimpleNamespace, not a
    dataclass: ``run``'s lean path does without importing dataclasses.)"""

    tls: bool | None
    verify: bool | None
    ca: str | None
    cert: str | None
    key: str | None

    def __init__(
        self,
        tls: bool | None = None,
        verify: bool | None = None,
        ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(tls=tls, verify=verify, ca=ca, cert=cert, key=key)

    def resolved(self) -> tuple[bool, bool]:
        """(use TLS, verify the daemon), with the environment's defaults."""
        verify = self.verify
        if verify is None:
            verify = bool(os.environ.get("STEPBOX_TLS_VERIFY") or os.environ.get("DOCKER_TLS_VERIFY"))
        # As docker: saying --tlsverify at all (even =false) turns TLS on.
        use = bool(
            self.tls
            or verify
            or self.verify is not None
            or os.environ.get("STEPBOX_TLS")
            or os.environ.get("DOCKER_TLS")
        )
        return use, verify

    def context(self):
        use, verify = self.resolved()
        if not use:
            return None
        from stepbox.core.http_server.tls import TLSConfigError, TLSFiles, client_context

        try:
            return client_context(TLSFiles.resolve(self.ca, self.cert, self.key), verify_server=verify)
        except TLSConfigError as e:
            raise CommandFailed(f"stepbox: Error: {e}", CANNOT_BEGIN) from None


class Target:
    __slots__ = ("endpoint", "explicit")

    def __init__(self, endpoint: Endpoint, explicit: bool) -> None:
        self.endpoint = endpoint
        self.explicit = explicit  # named by the user (never started for them)


class Connection:
    """The global options and, on first use, a client connected to the
    daemon they select.  Commands that need no daemon (``--help``,
    ``login``, ``registry serve``, ``context``) never connect."""

    def __init__(
        self,
        backend: str,
        root: str | None,
        host: str | None,
        say,
        context: str | None = None,
        tls: ClientTLS | None = None,
        verb: str | None = None,
    ):
        self.backend = backend  # "auto", "sim" or "linux"
        self.root_option = root
        self.host = host
        self.context_name = context
        self.tls = tls or ClientTLS()
        self.say = say
        # The status of a daemon that cannot be reached, as docker gives it for this verb.
        self.unreachable = unreachable_status(verb)
        self._client: EngineClient | None = None

    @property
    def root(self) -> str:
        return state_root(self.root_option)

    @property
    def socket_path(self) -> str:
        """The local daemon's socket: an explicit ``unix://`` host's, else the
        state directory's; in the shared fallback directory
        (``/tmp/stepbox-UID``) only once that is known to be ours alone."""
        target = self.target()
        if isinstance(target.endpoint, UnixEndpoint):
            return checked_socket_path(target.endpoint.path)
        return checked_socket_path(socket_for_root(self.root))

    def target(self) -> Target:
        """Which daemon to talk to (the rules in the module docstring)."""
        if self.host and self.context_name:
            raise CommandFailed(
                "stepbox: Error: conflicting options: either specify --host or --context, not both",
                CANNOT_BEGIN,
            )
        if self.host:
            return Target(self._endpoint(self.host), True)
        if self.context_name:
            return self._context_target(self.context_name)
        if self.root_option is None:
            docker_host = os.environ.get("DOCKER_HOST")
            if docker_host:
                return Target(self._endpoint(docker_host), True)
            from . import context_store

            current = context_store.current_name()
            if current != context_store.DEFAULT:
                return self._context_target(current)
        return Target(UnixEndpoint(socket_for_root(self.root)), False)

    def _endpoint(self, host: str, tls_context=None, use_flags: bool = True) -> Endpoint:
        try:
            endpoint = endpoint_of(host)
        except BadEndpoint as e:
            raise CommandFailed(f"stepbox: Error: {e}", CANNOT_BEGIN) from None
        if isinstance(endpoint, TCPEndpoint):
            context = tls_context if tls_context is not None else self.tls.context() if use_flags else None
            if context is not None:
                endpoint = endpoint_of(host, context)
        return endpoint

    def _context_target(self, name: str) -> Target:
        from . import context_store

        try:
            context = context_store.load(name)
        except context_store.ContextError as e:
            raise CommandFailed(f"stepbox: Error: {e}", CANNOT_BEGIN) from None
        if not context.host:
            return Target(UnixEndpoint(socket_for_root(self.root)), False)
        tls_context = None
        if context.has_tls or context.skip_tls_verify:
            from stepbox.core.http_server.tls import TLSConfigError, TLSFiles, client_context

            files = TLSFiles(
                context.tls_file("ca") or "", context.tls_file("cert") or "", context.tls_file("key") or ""
            )
            try:
                tls_context = client_context(files, verify_server=not context.skip_tls_verify)
            except TLSConfigError as e:
                raise CommandFailed(f"stepbox: Error: context {name!r}: {e}", CANNOT_BEGIN) from None
        return Target(self._endpoint(context.host, tls_context, use_flags=False), True)

    @property
    def client(self) -> EngineClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> EngineClient:
        from stepbox.core.engine.client import EngineClient

        target = self.target()
        endpoint = target.endpoint
        if isinstance(endpoint, UnixEndpoint):
            checked_socket_path(endpoint.path, self.unreachable)
        backend = daemon_backend(endpoint, self.unreachable)
        if backend is None:
            # Only the state directory's own daemon (on its socket) is started.
            if target.explicit or not isinstance(endpoint, UnixEndpoint):
                raise CommandFailed(
                    f"stepbox: Error: Cannot connect to the stepbox daemon at {endpoint}. "
                    "Is the daemon running?",
                    self.unreachable,
                )
            backend = self._start_daemon(endpoint.path)
        if self.backend != "auto" and backend != self.backend:
            raise CommandFailed(
                f"stepbox: Error: the daemon on {endpoint} runs containers on the {backend} backend, "
                f"not {self.backend}: use --backend {backend}, or stop it (stepbox daemon stop) "
                f"to start one on {self.backend}",
                125,
            )
        # No timeout: `run` may wait for a container for hours, as docker does.
        return EngineClient(endpoint, timeout=None)

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
        backend = daemon_backend(path, self.unreachable)
        if backend is None:
            raise CommandFailed(
                f"stepbox: Error: the daemon on unix://{path} went away; see {daemon.log_path}",
                self.unreachable,
            )
        if daemon.lives:
            self.say(f"stepbox: started a daemon on unix://{path} (backend {backend})")
        return backend


def checked_socket_path(path: str, status: int = 125) -> str:
    """``path``, once its directory is known to be ours alone if it is the
    shared fallback one (``/tmp/stepbox-UID``): else someone else could
    impersonate the daemon."""
    try:
        private_socket_dir(path)
    except UnsafeSocketDir as e:
        raise CommandFailed(f"stepbox: Error: {e}", status) from None
    except OSError as e:
        raise CommandFailed(f"stepbox: Error: cannot use the socket directory: {e}", status) from None
    return path


def daemon_backend(endpoint: Endpoint | str, status: int = 125) -> str | None:
    """The backend of the daemon at ``endpoint`` (a socket path too); None
    if none listens there.  A daemon that is there but cannot be used ends
    the command with ``status``."""
    from stepbox.core.engine.client import EngineClient, EngineError

    if isinstance(endpoint, str):
        endpoint = UnixEndpoint(endpoint)
    try:
        reply = EngineClient(endpoint, timeout=PING_TIMEOUT).request("HEAD", "/_ping")
    except (FileNotFoundError, ConnectionRefusedError):
        return None  # no socket, or a socket nobody listens on (a dead daemon's)
    except PermissionError:
        raise CommandFailed(
            f"stepbox: Error: permission denied while trying to connect to the stepbox "
            f"daemon socket at {endpoint}",
            status,
        ) from None
    except (OSError, EngineError) as e:
        raise CommandFailed(
            f"stepbox: Error: the daemon at {endpoint} does not answer: {e}", status
        ) from None
    return reply.headers.get("Stepbox-Backend") or "unknown"
