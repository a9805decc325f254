"""A device key and its certificate complete a TLS 1.2 handshake with client authentication,
against a server that trusts only our root and offers only AWS IoT's TLS 1.2 cipher suites, and
a TLS 1.3 handshake with client authentication with each of AWS IoT's TLS 1.3 suites."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.pki.aws import AWS_IOT_TLS12_CIPHERS, AWS_IOT_TLS13_SUITES
from station.pki.profile import DeviceProfile, ReportedIdentity
from station.pki.signer import DeviceSigner

from .conftest import Hierarchy, accept, build_hierarchy, make_csr, pem, rsa_key

SERVER_NAME = "iot.test"


def key_pem(key: ec.EllipticCurvePrivateKey | object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_identity(
    directory: Path, name: str, key: object, chain: list[bytes]
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(b"".join(chain))
    key_path.write_bytes(key_pem(key))
    return cert_path, key_path


@pytest.fixture(scope="module")
def server_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A server CA of its own (the device trusts it) and server certificates, EC and RSA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = tmp_path_factory.mktemp("server")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test server CA")])
    server_ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now.replace(year=now.year - 1))
        .not_valid_after(now.replace(year=now.year + 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"server_ca": directory / "server-ca.crt"}
    files["server_ca"].write_bytes(pem(server_ca))
    for kind, key in (("ec", ec.generate_private_key(ec.SECP256R1())), ("rsa", rsa_key(2048))):
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(2)  # type: ignore[arg-type]
            .not_valid_before(now.replace(year=now.year - 1))
            .not_valid_after(now.replace(year=now.year + 1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        files[f"{kind}_cert"], files[f"{kind}_key"] = write_identity(
            directory, kind, key, [pem(cert)]
        )
    return files


def handshake(
    server_files: dict[str, Path],
    server_kind: str,
    trusted_root: Path,
    client_cert: Path,
    client_key: Path,
    ciphers: str = AWS_IOT_TLS12_CIPHERS,
) -> tuple[str | None, str | None, BaseException | None]:
    """Run one handshake over a socketpair; return (version, cipher, server error)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = server.maximum_version = ssl.TLSVersion.TLSv1_2
    server.set_ciphers(AWS_IOT_TLS12_CIPHERS)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(trusted_root))
    server.load_cert_chain(server_files[f"{server_kind}_cert"], server_files[f"{server_kind}_key"])
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers(ciphers)
    client.load_verify_locations(cafile=str(server_files["server_ca"]))
    client.load_cert_chain(client_cert, client_key)

    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    outcome: dict[str, BaseException | None] = {"error": None}

    def serve() -> None:
        try:
            with server.wrap_socket(a, server_side=True) as tls:
                tls.sendall(tls.recv(5))  # echo: the client's certificate was accepted
        except (ssl.SSLError, OSError) as e:
            outcome["error"] = e

    thread = threading.Thread(target=serve)
    thread.start()
    version = cipher = None
    try:
        with client.wrap_socket(b, server_hostname=SERVER_NAME) as tls:
            version, cipher = tls.version(), tls.cipher()[0]  # type: ignore[index]
            tls.sendall(b"hello")
            assert tls.recv(5) == b"hello"
    except (ssl.SSLError, OSError, AssertionError):
        pass
    finally:
        thread.join(timeout=10)
        a.close()
        b.close()
    return version, cipher, outcome["error"]


@pytest.fixture(scope="module")
def device(
    hierarchy: Hierarchy, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("devices")
    signer = DeviceSigner(hierarchy.intermediate, hierarchy.key, DeviceProfile(validity_days=365))
    out = {}
    for name, key in (("ec", ec.generate_private_key(ec.SECP256R1())), ("rsa", rsa_key(2048))):
        board = ReportedIdentity(uid=f"board-{name}")
        issued = signer.sign(accept(make_csr(key, cn=None), board))
        out[name] = write_identity(
            directory, name, key, [issued.pem.encode(), signer.issuer_pem.encode()]
        )
    return out


CASES = [
    ("ec", "ec", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("ec", "ec", "ECDHE-ECDSA-AES256-SHA384"),
    ("rsa", "rsa", "ECDHE-RSA-AES256-GCM-SHA384"),
    ("ec", "rsa", "AES128-GCM-SHA256"),
    ("rsa", "rsa", "AES256-SHA256"),
]


@pytest.mark.parametrize(
    ("device_kind", "server_kind", "cipher"), CASES, ids=[f"ok/{d}-device-{c}" for d, _, c in CASES]
)
def test_tls12_client_auth_handshake(
    device: dict[str, tuple[Path, Path]],
    server_files: dict[str, Path],
    hierarchy: Hierarchy,
    device_kind: str,
    server_kind: str,
    cipher: str,
) -> None:
    cert, key = device[device_kind]
    version, negotiated, error = handshake(
        server_files, server_kind, hierarchy.root_pem, cert, key, ciphers=cipher
    )
    assert error is None
    assert (version, negotiated) == ("TLSv1.2", cipher)


def foreign_identity(tmp_path: Path) -> tuple[Path, Path]:
    """A device certificate (chain and key files) from a hierarchy the server does not trust."""
    other = build_hierarchy(
        tmp_path / "other",
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    signer = DeviceSigner(other.intermediate, other.key, DeviceProfile(validity_days=365))
    key = ec.generate_private_key(ec.SECP256R1())
    issued = signer.sign(accept(make_csr(key)))
    return write_identity(
        tmp_path, "foreign", key, [issued.pem.encode(), signer.issuer_pem.encode()]
    )


def test_certificate_from_another_ca_is_refused(
    hierarchy: Hierarchy, server_files: dict[str, Path], tmp_path: Path
) -> None:
    cert, key_path = foreign_identity(tmp_path)
    _, _, error = handshake(server_files, "ec", hierarchy.root_pem, cert, key_path)
    assert isinstance(error, ssl.SSLError)
    assert "certificate verify failed" in str(error)


def test_server_offers_only_the_aws_cipher_list(
    device: dict[str, tuple[Path, Path]], server_files: dict[str, Path], hierarchy: Hierarchy
) -> None:
    cert, key = device["ec"]
    version, _, error = handshake(
        server_files, "ec", hierarchy.root_pem, cert, key, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305"
    )
    assert version is None
    assert isinstance(error, ssl.SSLError)


def tls13_handshake(
    server_files: dict[str, Path],
    server_kind: str,
    trusted_root: Path,
    client_cert: Path,
    client_key: Path,
    suite: str,
) -> tuple[str | None, str | None, BaseException | None]:
    """One TLS 1.3 handshake: a Python server that requires a client certificate chaining to
    ``trusted_root`` (TLS 1.3 only), and `openssl s_client` offering one suite only, so each
    of AWS's suites is exercised by itself. Returns (version, suite, server error) as the
    server saw them."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = server.maximum_version = ssl.TLSVersion.TLSv1_3
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(trusted_root))
    server.load_cert_chain(server_files[f"{server_kind}_cert"], server_files[f"{server_kind}_key"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    port = listener.getsockname()[1]
    seen: dict[str, Any] = {"version": None, "suite": None, "error": None}

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                seen["version"], seen["suite"] = tls.version(), tls.cipher()[0]  # type: ignore[index]
                assert tls.getpeercert(binary_form=True)  # the client sent its certificate
                tls.recv(5)  # its Finished and first record: the certificate was accepted
        except (ssl.SSLError, OSError, AssertionError) as e:
            seen["error"] = e

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
             "-ciphersuites", suite, "-cert", str(client_cert), "-cert_chain", str(client_cert),
             "-key", str(client_key),
             "-CAfile", str(server_files["server_ca"]), "-servername", SERVER_NAME,
             "-verify_return_error"],
            input=b"hello", capture_output=True, timeout=30, check=False,
        )  # fmt: skip
    finally:
        thread.join(timeout=20)
        listener.close()
    return seen["version"], seen["suite"], seen["error"]


TLS13_CASES = [
    (device, server, suite)
    for device, server in (("ec", "ec"), ("rsa", "rsa"), ("ec", "rsa"))
    for suite in AWS_IOT_TLS13_SUITES
]


@pytest.mark.parametrize(
    ("device_kind", "server_kind", "suite"),
    TLS13_CASES,
    ids=[f"ok/{d}-device-{s}-server-{c}" for d, s, c in TLS13_CASES],
)
def test_tls13_client_auth_handshake(
    device: dict[str, tuple[Path, Path]],
    server_files: dict[str, Path],
    hierarchy: Hierarchy,
    device_kind: str,
    server_kind: str,
    suite: str,
) -> None:
    cert, key = device[device_kind]
    version, negotiated, error = tls13_handshake(
        server_files, server_kind, hierarchy.root_pem, cert, key, suite
    )
    assert error is None
    assert (version, negotiated) == ("TLSv1.3", suite)


def test_tls13_certificate_from_another_ca_is_refused(
    hierarchy: Hierarchy, server_files: dict[str, Path], tmp_path: Path
) -> None:
    cert, key_path = foreign_identity(tmp_path)
    _, _, error = tls13_handshake(
        server_files, "ec", hierarchy.root_pem, cert, key_path, AWS_IOT_TLS13_SUITES[0]
    )
    assert isinstance(error, ssl.SSLError)
    assert "certificate verify failed" in str(error)
