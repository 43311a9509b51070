"""Mutual TLS on a tcp:// listener (127.0.0.1 only), through Python's ssl."""

from __future__ import annotations

import socket
import ssl

import pytest
from stepbox.core.http_server.limits import Limits
from stepbox.core.http_server.listeners import parse_address
from stepbox.core.http_server.tls import TLSConfigError, TLSFiles, client_context, server_context

from tests.support.certs import make_certs

from .conftest import read_all, statuses


@pytest.fixture
def certs(tmp_path):
    return make_certs(str(tmp_path / "certs"))


def get(address, context: ssl.SSLContext) -> bytes:
    with socket.create_connection((address.host, address.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=address.host) as sock:
            sock.sendall(b"GET /tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return read_all(sock)


def refused(address, context: ssl.SSLContext) -> bool:
    """The server would not talk: the handshake failed (TLS 1.3 reports a
    missing client certificate at the first read) or no answer came."""
    try:
        return not statuses(get(address, context))
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


def test_mutual_tls_lets_in_only_certificates_of_the_ca(serve, certs):
    server_files = TLSFiles(certs.ca, certs.server_cert, certs.server_key)
    served = serve(
        Limits(head_timeout=2),
        listeners=[(parse_address("tcp://127.0.0.1:0"), server_context(server_files, verify_clients=True))],
    )
    address = served.server.addresses[0]
    assert address.port != 0
    ours = client_context(TLSFiles(certs.ca, certs.client_cert, certs.client_key), verify_server=True)
    assert statuses(get(address, ours)) == [200]
    anonymous = client_context(TLSFiles(certs.ca, "/nonexistent", "/nonexistent"), verify_server=True)
    assert refused(address, anonymous)
    rogue = client_context(
        TLSFiles(certs.ca, f"{certs.rogue_dir}/cert.pem", f"{certs.rogue_dir}/key.pem"), verify_server=True
    )
    assert refused(address, rogue)
    # And the client checks the server: a CA that did not sign it is refused.
    other_ca = client_context(
        TLSFiles(f"{certs.rogue_dir}/cert.pem", certs.client_cert, certs.client_key), verify_server=True
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        get(address, other_ca)
    # A plain-text client gets nothing useful and the server keeps serving.
    with socket.create_connection((address.host, address.port), timeout=10) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not statuses(read_all(plain))
    assert statuses(get(address, ours)) == [200]


def test_a_silent_tls_client_does_not_hold_the_server(serve, certs):
    files = TLSFiles(certs.ca, certs.server_cert, certs.server_key)
    served = serve(
        Limits(head_timeout=0.5, max_connections=1),
        listeners=[(parse_address("tcp://127.0.0.1:0"), server_context(files, verify_clients=False))],
    )
    address = served.server.addresses[0]
    with socket.create_connection((address.host, address.port), timeout=10):
        # connected, never says hello; the only slot frees after head_timeout
        context = client_context(TLSFiles(certs.ca, "/none", "/none"), verify_server=True)
        assert statuses(get(address, context)) == [200]


def test_unusable_files_are_named(certs, tmp_path):
    with pytest.raises(TLSConfigError, match="no such file"):
        server_context(TLSFiles(certs.ca, str(tmp_path / "missing.pem"), certs.server_key), True)
    with pytest.raises(TLSConfigError, match="cannot use"):
        server_context(TLSFiles(certs.ca, certs.server_cert, certs.client_key), True)  # wrong key
