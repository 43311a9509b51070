"""How a client reaches a daemon: ``unix://``, ``tcp://`` (TLS) or ``ssh://``.

The seed says the client talks to the daemon "through a UNIX socket or a
network interface".  Docker's client knows three ways, and so does this:

* ``unix:///run/stepbox/stepbox.sock`` -- a socket file on this machine;
* ``tcp://host:2376`` -- the network, normally with mutual TLS: the client
  checks the daemon's certificate against a CA and shows its own;
* ``ssh://user@host`` -- no port opened at all: ``ssh`` runs ``stepbox
  system dial-stdio`` on the far side, which connects to the daemon's
  socket there and copies bytes both ways, and the client speaks HTTP
  over ssh's stdin and stdout (docker does exactly this with ``docker
  system dial-stdio``).  Authentication is ssh's own (keys, agent).

Every endpoint gives the client the same thing: a connected socket.  (This
module is imported by every ``stepbox`` command: ``ssl`` and ``subprocess``
only load when a tcp or ssh endpoint is used.)
"""

from __future__ import annotations

import os
import socket

SSH_COMMAND_ENV = "STEPBOX_SSH_COMMAND"  # e.g. "ssh -F ~/.ssh/lab_config" (as GIT_SSH_COMMAND)


class BadEndpoint(ValueError):
    pass


class UnixEndpoint:
    scheme = "unix"

    def __init__(self, path: str):
        self.path = os.path.abspath(path)

    def __str__(self) -> str:
        return f"unix://{self.path}"

    def connect(self, timeout: float | None) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        return sock


class TCPEndpoint:
    scheme = "tcp"

    def __init__(self, host: str, port: int, tls_context=None):
        self.host, self.port, self.tls_context = host, port, tls_context

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    def connect(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls_context is None:
            return sock
        try:
            return self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class SSHEndpoint:
    """``ssh [-l user] [-p port] host -- stepbox system dial-stdio``, its stdin
    and stdout one end of a socket pair and ours the other."""

    scheme = "ssh"

    def __init__(self, host: str, user: str | None = None, port: int | None = None):
        self.host, self.user, self.port = host, user, port

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{self.host}{port}"

    def argv(self) -> list[str]:
        import shlex

        command = shlex.split(os.environ.get(SSH_COMMAND_ENV) or "ssh")
        command += ["-o", "ConnectTimeout=30", "-T"]
        if self.user:
            command += ["-l", self.user]
        if self.port:
            command += ["-p", str(self.port)]
        return [*command, "--", self.host, "stepbox", "system", "dial-stdio"]

    def connect(self, timeout: float | None) -> socket.socket:
        import subprocess

        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                self.argv(), stdin=theirs.fileno(), stdout=theirs.fileno(), start_new_session=True
            )
        except OSError as e:
            ours.close()
            raise ConnectionError(f"cannot run ssh for {self}: {e}") from None
        finally:
            theirs.close()
        # ssh ends when we close our end (it reads EOF); reap it then.
        import threading

        threading.Thread(target=process.wait, name=f"ssh {self.host}", daemon=True).start()
        ours.settimeout(timeout)
        return ours


Endpoint = UnixEndpoint | TCPEndpoint | SSHEndpoint


def endpoint_of(host: str, tls_context=None) -> Endpoint:
    """``-H``'s value as an endpoint; a bare path is a UNIX socket."""
    host = host.strip()
    if "://" not in host:
        if host.startswith(("/", ".")):
            return UnixEndpoint(host)
        raise BadEndpoint(f"bad host {host!r}: expected unix:///path, tcp://host:port or ssh://[user@]host")
    scheme, _, rest = host.partition("://")
    scheme = scheme.lower()
    if scheme == "unix":
        if not rest:
            raise BadEndpoint(f"bad host {host!r}: unix:// needs a path")
        return UnixEndpoint(rest)
    if scheme in ("tcp", "ssh"):
        from urllib.parse import urlsplit  # here: a local daemon's commands do without it

        try:
            split = urlsplit(f"{scheme}://{rest}")
            hostname, port = split.hostname, split.port
        except ValueError as e:
            raise BadEndpoint(f"bad host {host!r}: {e}") from None
        if not hostname:
            raise BadEndpoint(f"bad host {host!r}: no host name")
        if split.path not in ("", "/") or split.query:
            raise BadEndpoint(f"bad host {host!r}: a path or query is not allowed here")
        if scheme == "ssh":
            if split.password:
                raise BadEndpoint(f"bad host {host!r}: put no password in an ssh:// URL (use ssh keys)")
            return SSHEndpoint(hostname, split.username, port)
        if split.username:
            raise BadEndpoint(f"bad host {host!r}: tcp:// takes no user")
        return TCPEndpoint(
            hostname, port if port is not None else (2376 if tls_context else 2375), tls_context
        )
    raise BadEndpoint(f"unsupported host {host!r}: use unix://, tcp:// or ssh://")
