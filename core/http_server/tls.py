"""TLS for tcp:// listeners and for clients, the way Docker sets it up.

Docker's model is *mutual* TLS with a private certificate authority: the
daemon has a certificate signed by the CA (``--tlscert``, ``--tlskey``)
and, with ``--tlsverify``, accepts only clients whose certificate the same
CA signed (``--tlscacert``).  The client checks the daemon's certificate
against that CA and shows its own.  Holding a client certificate is then
what "may use the daemon" means -- the role the UNIX socket's file
permissions play locally.

* ``--tls``: encrypt; the daemon asks for no client certificate.
* ``--tlsverify``: encrypt and require (daemon) / check (client) the
  other side's certificate.  Implies ``--tls``.

Without explicit paths, the files are ``ca.pem``, ``cert.pem`` and
``key.pem`` in ``$DOCKER_CERT_PATH`` (stepbox also reads
``$STEPBOX_CERT_PATH`` first), else ``~/.docker``.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass


class TLSConfigError(ValueError):
    """A certificate or key that cannot be used, named."""


def default_cert_dir() -> str:
    return (
        os.environ.get("STEPBOX_CERT_PATH")
        or os.environ.get("DOCKER_CERT_PATH")
        or os.path.join(os.path.expanduser("~"), ".docker")
    )


@dataclass(frozen=True)
class TLSFiles:
    ca: str
    cert: str
    key: str

    @classmethod
    def resolve(cls, ca: str | None = None, cert: str | None = None, key: str | None = None) -> TLSFiles:
        """The given paths, the defaults for those not given."""
        base = default_cert_dir()
        return cls(
            ca or os.path.join(base, "ca.pem"),
            cert or os.path.join(base, "cert.pem"),
            key or os.path.join(base, "key.pem"),
        )


def server_context(files: TLSFiles, verify_clients: bool) -> ssl.SSLContext:
    """The daemon's (or registry's) side: its certificate, and with
    ``verify_clients`` the CA a client's certificate must be signed by."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, files.cert, files.key)
    if verify_clients:
        _load_ca(context, files.ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(files: TLSFiles, verify_server: bool) -> ssl.SSLContext:
    """The client's side: check the daemon against the CA (``verify_server``)
    and show our certificate when the files exist (with ``--tls`` alone they
    may not: then none is shown, as docker does)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify_server:
        _load_ca(context, files.ca)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if os.path.exists(files.cert) or os.path.exists(files.key):
        _load_chain(context, files.cert, files.key)
    return context


def _load_chain(context: ssl.SSLContext, cert: str, key: str) -> None:
    for what, path in (("certificate", cert), ("key", key)):
        if not os.path.isfile(path):
            raise TLSConfigError(f"cannot read the TLS {what} {path}: no such file")
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"cannot use the TLS certificate {cert} with the key {key}: {e}") from None


def _load_ca(context: ssl.SSLContext, ca: str) -> None:
    if not os.path.isfile(ca):
        raise TLSConfigError(f"cannot read the TLS CA certificate {ca}: no such file")
    try:
        context.load_verify_locations(ca)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"cannot use the TLS CA certificate {ca}: {e}") from None
