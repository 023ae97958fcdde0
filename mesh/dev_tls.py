"""A development PKI for `jobmesh up --dev-tls`: a local CA, a server certificate and a client one.

Why generate rather than ship files: a private key committed to a repository is
a key everybody has. Each `--dev-tls` directory gets its own CA, made once and
reused on the next start (so a client configured with its `ca.pem` keeps
working), with a server certificate for every loopback name a client may dial
(localhost, 127.0.0.1, ::1) and a client certificate for mTLS. Keys are written
readable by their owner only. For production, use certificates of your own CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Names the development server certificate is valid for.
LOOPBACK_NAMES: Final = ("localhost", "127.0.0.1", "::1")
# Long enough for a development machine, short enough that a leaked one expires.
VALID_DAYS: Final = 90
CLIENT_NAME: Final = "dev-admin"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jobmesh development"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_ca(common_name: str = "jobmesh development CA") -> Issued:
    """A self-signed CA certificate allowed to sign leaf certificates only."""
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue(ca: Issued, common_name: str, *, hosts: Sequence[str] = (), client: bool = False) -> Issued:
    """A leaf certificate signed by `ca`: for a server valid for `hosts` (DNS names or IP
    addresses), or, with `client`, for a client whose subject CN is `common_name`."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _write(path: Path, data: bytes, secret: bool = False) -> None:
    path.write_bytes(data)
    if secret:
        os.chmod(path, 0o600)


@dataclass(frozen=True, slots=True)
class DevPki:
    """The files of a development PKI directory."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def client_cert(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.directory / "client.key"


def ensure_dev_pki(directory: Path, hosts: Sequence[str] = LOOPBACK_NAMES) -> DevPki:
    """The PKI in `directory`: made when it is not there yet, reused as it is when it is."""
    pki = DevPki(directory)
    needed = (pki.ca, pki.ca_key, pki.server_cert, pki.server_key, pki.client_cert, pki.client_key)
    if all(p.is_file() for p in needed):
        return pki
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    ca = make_ca()
    server = issue(ca, "jobmesh", hosts=hosts)
    client = issue(ca, CLIENT_NAME, client=True)
    _write(pki.ca, ca.cert_pem)
    _write(pki.ca_key, ca.key_pem, secret=True)
    _write(pki.server_cert, server.cert_pem)
    _write(pki.server_key, server.key_pem, secret=True)
    _write(pki.client_cert, client.cert_pem)
    _write(pki.client_key, client.key_pem, secret=True)
    return pki
