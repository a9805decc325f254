"""TLS to the store with sslmode=verify-full: a real server with a certificate for its name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.factory.errors import StoreUnreachable
from station.factory.store import Store
from tests.factory.pg_server import PgServer

NOW = dt.datetime.now(dt.UTC)


def _cert(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey]
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer[0])
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
    )


def make_ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _cert(name, key, (subject, key))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[PgServer, Path]]:
    ca, ca_key = make_ca("Factory store test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        _cert("localhost", key, (ca.subject, ca_key))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    root = tmp_path / "store-ca.pem"
    root.write_bytes(pem(ca))
    server = PgServer(tls=(pem(server_cert), key_pem))
    server.start()
    yield server, root
    server.remove()


def test_verify_full(tls_server: tuple[PgServer, Path], tmp_path: Path) -> None:
    server, root = tls_server
    url = f"postgresql://postgres@localhost:{server.port}/postgres?sslmode=verify-full"
    with Store.connect(f"{url}&sslrootcert={root}") as store:
        assert store.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [(True,)]
    other = tmp_path / "other-ca.pem"
    other.write_bytes(pem(make_ca("Someone else")[0]))
    with pytest.raises(StoreUnreachable, match="certificate verify failed"):
        Store.connect(f"{url}&sslrootcert={other}")
    wrong_name = url.replace("localhost", "127.0.0.1")  # the server, by a name not certified
    with pytest.raises(StoreUnreachable, match="does not match host name"):
        Store.connect(f"{wrong_name}&sslrootcert={root}")
