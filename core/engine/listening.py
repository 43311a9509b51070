"""Where the daemon listens, and the rules that keep that safe.

``stepbox daemon -H unix:///run/stepbox/stepbox.sock -H tcp://127.0.0.1:2376
--tlsverify --tlscacert ca.pem --tlscert server-cert.pem --tlskey
server-key.pem`` serves the same API on a UNIX socket and on a TCP port,
as dockerd does.  Whoever can talk to the daemon can run a privileged
container -- root on the host -- so:

* a UNIX socket is a file whose permissions (0660, root) say who may;
* a TCP port is open to whoever can route to it, so there the daemon wants
  mutual TLS (``--tlsverify``): only clients with a certificate signed by
  ``--tlscacert`` get in.  ``--tls`` alone encrypts but lets anyone in.
* Plain (or unauthenticated) TCP is allowed on loopback, with Docker's
  warning.  Anywhere else the daemon refuses to start, unless told
  explicitly with ``--tls=false`` or ``--tlsverify=false`` -- the opt-out
  dockerd asks for, where dockerd still starts (after a 15 second pause
  meant to be noticed) and warns that a later release will refuse.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass

from stepbox.core.http_server.listeners import Address, BadAddress, parse_address
from stepbox.core.http_server.tls import TLSConfigError, TLSFiles, server_context


class ListenRefused(ValueError):
    """A listener the daemon will not open, and why."""


@dataclass(frozen=True)
class TLSOptions:
    """dockerd's TLS flags.  ``tls``/``verify`` are None when not given:
    ``--tls=false`` (False) is a statement, their absence is not."""

    tls: bool | None = None
    verify: bool | None = None
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.tls or self.verify)

    @property
    def explicitly_unauthenticated(self) -> bool:
        return self.tls is False or self.verify is False

    def context(self) -> ssl.SSLContext | None:
        if not self.enabled:
            return None
        return server_context(
            TLSFiles.resolve(self.ca, self.cert, self.key), verify_clients=bool(self.verify)
        )


def daemon_listeners(
    hosts: list[str], tls: TLSOptions, say: Callable[[str], None]
) -> list[tuple[Address, ssl.SSLContext | None]]:
    """Each ``-H`` as an address and the TLS context its connections get
    (TLS is for tcp:// only; a UNIX socket is local by nature)."""
    addresses = []
    for host in hosts:
        try:
            address = parse_address(host, tls=tls.enabled)
        except BadAddress as e:
            if host.startswith(("ssh://", "fd://", "npipe://")):
                raise ListenRefused(
                    f"cannot listen on {host}: the daemon listens on unix:// or tcp:// "
                    "(ssh:// is for clients: they reach a daemon through `stepbox system dial-stdio`)"
                ) from None
            raise ListenRefused(str(e)) from None
        addresses.append(address)
    try:
        context = tls.context() if any(a.scheme == "tcp" for a in addresses) else None
    except TLSConfigError as e:
        raise ListenRefused(str(e)) from None
    result: list[tuple[Address, ssl.SSLContext | None]] = []
    for address in addresses:
        if address.scheme != "tcp":
            result.append((address, None))
            continue
        if not tls.verify:
            _check_unauthenticated(address, tls, say)
        result.append((address, context))
    return result


def _check_unauthenticated(address: Address, tls: TLSOptions, say: Callable[[str], None]) -> None:
    say(
        "WARNING: Binding to IP address without --tlsverify is insecure and gives root access on "
        f"this machine to everyone who has access to your network.  host=\"{address}\""
    )
    say(
        "WARNING: Binding to an IP address, even on localhost, can also give access to scripts run "
        f"in a browser. Be safe out there!  host=\"{address}\""
    )
    if address.is_loopback or tls.explicitly_unauthenticated:
        return
    raise ListenRefused(
        f"refusing to listen on {address} without --tlsverify: everyone who can reach it would get "
        "root on this machine.  Use --tlsverify with --tlscacert/--tlscert/--tlskey, listen on "
        "127.0.0.1, or say --tls=false (or --tlsverify=false) to do it anyway"
    )
