"""A private certificate authority for the TLS tests, made on the spot.

Docker's model of remote access is mutual TLS with a CA of one's own:
the daemon's certificate and every client's are signed by it.  The tests
make one with the ``cryptography`` package (EC P-256 keys: fast), write the
PEM files docker expects (``ca.pem``, ``cert.pem``, ``key.pem`` for a
client; ``server-cert.pem``, ``server-key.pem`` for the daemon), and a
second, unrelated CA whose client certificate must be refused.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertFiles:
    directory: str

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    @property
    def ca(self) -> str:
        return self.path("ca.pem")

    @property
    def server_cert(self) -> str:
        return self.path("server-cert.pem")

    @property
    def server_key(self) -> str:
        return self.path("server-key.pem")

    @property
    def client_cert(self) -> str:
        return self.path("cert.pem")

    @property
    def client_key(self) -> str:
        return self.path("key.pem")

    @property
    def rogue_dir(self) -> str:
        """ca.pem (ours), cert.pem/key.pem signed by another CA."""
        return self.path("rogue")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ca(common_name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(ca_key, ca_cert, common_name: str, server: bool):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def make_certs(directory: str) -> CertFiles:
    files = CertFiles(directory)
    os.makedirs(files.rogue_dir, exist_ok=True)
    ca_key, ca_cert = _ca("stepbox test CA")
    pem = serialization.Encoding.PEM
    _write(files.ca, ca_cert.public_bytes(pem))
    for (cert_path, key_path), server in (
        ((files.server_cert, files.server_key), True),
        ((files.client_cert, files.client_key), False),
    ):
        key, cert = _leaf(ca_key, ca_cert, "localhost" if server else "client", server)
        _write(cert_path, cert.public_bytes(pem))
        _write(key_path, _key_pem(key), 0o600)
    rogue_key, rogue_cert = _ca("somebody else's CA")
    key, cert = _leaf(rogue_key, rogue_cert, "intruder", server=False)
    _write(os.path.join(files.rogue_dir, "ca.pem"), ca_cert.public_bytes(pem))
    _write(os.path.join(files.rogue_dir, "cert.pem"), cert.public_bytes(pem))
    _write(os.path.join(files.rogue_dir, "key.pem"), _key_pem(key), 0o600)
    return files
