"""Where a server listens: ``unix:///path/to.sock`` or ``tcp://host:port``.

dockerd's ``-H`` takes exactly these (``-H unix:///var/run/docker.sock -H
tcp://0.0.0.0:2376``), as many as wanted.  A UNIX socket is a file, so its
permissions decide who may connect; a TCP port is open to whoever can route
to it, which is why TCP wants TLS (:mod:`.tls`) and why plain TCP is only
for loopback (the daemon's rule, see core/engine/server.py).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

BACKLOG = 1024  # connections the kernel holds while every worker is busy
PLAIN_TCP_PORT = 2375  # Docker's: 2375 without TLS, 2376 with
TLS_TCP_PORT = 2376


class BadAddress(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    scheme: str  # "unix" or "tcp"
    path: str = ""  # unix
    host: str = ""  # tcp
    port: int = 0

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """A UNIX socket, or a TCP address every resolution of which is a
        loopback one (127.0.0.0/8, ::1)."""
        if self.scheme == "unix":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(self.host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def parse_address(text: str, tls: bool = False) -> Address:
    """``unix:///p``, a bare path, ``tcp://host:port``, ``tcp://:port``
    (host 127.0.0.1, as dockerd's "localhost"), ``tcp://host`` (port 2375,
    2376 with TLS) or ``tcp://[::1]:2375``."""
    text = text.strip()
    if not text:
        raise BadAddress("empty address")
    if "://" not in text:
        if text.startswith("/") or text.startswith("."):
            return Address("unix", path=os.path.abspath(text))
        raise BadAddress(f"bad address {text!r}: expected unix:///path or tcp://host:port")
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme == "unix":
        if not rest:
            raise BadAddress(f"bad address {text!r}: unix:// needs a path")
        return Address("unix", path=os.path.abspath(rest))
    if scheme == "tcp":
        try:
            split = urlsplit("tcp://" + rest)
            host, port = split.hostname, split.port
        except ValueError as e:
            raise BadAddress(f"bad address {text!r}: {e}") from None
        if split.path not in ("", "/") or split.query or split.username:
            raise BadAddress(f"bad address {text!r}: tcp://host:port takes no path or user")
        if port is None:
            port = TLS_TCP_PORT if tls else PLAIN_TCP_PORT
        return Address("tcp", host=host or "127.0.0.1", port=port)
    raise BadAddress(f"unsupported address {text!r}: a server listens on unix:// or tcp://")


def open_listener(address: Address, unix_mode: int = 0o660) -> socket.socket:
    """A listening socket for ``address``.  A UNIX socket is bound under a
    umask that lets nobody in, chmod'ed, and only then listens: no one may
    connect while it is still open to everyone."""
    if address.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(address.path)
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(old_umask)
        os.chmod(address.path, unix_mode)
        sock.listen(BACKLOG)
        return sock
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(address.host, address.port, family, socket.SOCK_STREAM)
    except socket.gaierror:
        infos = socket.getaddrinfo(address.host, address.port, 0, socket.SOCK_STREAM)
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def bound_address(address: Address, sock: socket.socket) -> Address:
    """``address`` with the port the kernel chose for ``tcp://…:0``."""
    if address.scheme != "tcp":
        return address
    host, port = sock.getsockname()[:2]
    return Address("tcp", host=host, port=port)
