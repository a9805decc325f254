"""CA material: the storage steps of `station init` and `station ca ...`.

Keys are written encrypted (PKCS#8, mode 0600) and never overwritten, or generated on a PKCS#11
token they never leave; certificates are public files. The certificate logic itself is in
:mod:`station.pki.ca`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.files import write_new_file
from station.pki import ca
from station.pki.errors import CaKeyMissing, CaMismatch
from station.pki.keys import (
    CaPrivateKey,
    KeyRef,
    KeySecrets,
    KeySpec,
    check_passphrase,
    create_ca_key,
    generate_private_key,
    load_ca_key,
    save_private_key,
)
from station.pki.serials import random_serial

PEM = serialization.Encoding.PEM


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM bytes of a certificate."""
    return cert.public_bytes(PEM)


@dataclass(frozen=True)
class IntermediatePaths:
    """Where the station keeps its intermediate key and certificate and the root certificate."""

    key: KeyRef
    cert: Path
    root_cert: Path
    csr: Path


def create_root(
    key_path: Path,
    cert_path: Path,
    org: str,
    spec: KeySpec,
    days: int,
    passphrase: str,
    now: datetime,
) -> tuple[x509.Certificate, CaPrivateKey]:
    """Generate a root key (encrypted, 0600) and its self-signed certificate."""
    check_passphrase(passphrase)
    if key_path.exists() or cert_path.exists():
        raise CaMismatch(f"a root CA already exists in {key_path.parent}; move it away first")
    key = generate_private_key(spec)
    cert = ca.build_root(key, ca.root_name(org), ca.CaValidity(now, days), random_serial())
    save_private_key(key_path, key, passphrase)
    write_new_file(cert_path, cert_pem(cert), 0o644)
    return cert, key


def install_root_cert(paths: IntermediatePaths, root: x509.Certificate) -> None:
    """Put the root certificate where the station expects it (or check the one there)."""
    if paths.root_cert.exists():
        present = ca.load_certificate(paths.root_cert)
        if present != root:
            raise CaMismatch(
                f"{paths.root_cert} holds a different root certificate; move it away if the "
                "station is changing roots"
            )
        return
    write_new_file(paths.root_cert, cert_pem(root), 0o644)


def create_intermediate(
    paths: IntermediatePaths,
    root_cert: x509.Certificate,
    root_key: CaPrivateKey,
    org: str,
    station_id: str,
    spec: KeySpec,
    days: int,
    secrets: KeySecrets,
    now: datetime,
) -> x509.Certificate:
    """Generate the station intermediate key (file or token) and have the root sign its
    certificate."""
    ca.require_key_matches(root_cert, root_key.public_key(), "the root")
    if paths.cert.exists() or (isinstance(paths.key, Path) and paths.key.exists()):
        raise CaMismatch(
            f"a station intermediate already exists ({paths.cert}); move it away first"
        )
    key = create_ca_key(paths.key, spec, secrets)
    cert = ca.build_intermediate(
        root_cert,
        root_key,
        key.public_key(),
        ca.intermediate_name(org, station_id),
        ca.CaValidity(now, days),
        random_serial(),
    )
    ca.check_intermediate(cert, key.public_key(), root_cert)
    write_new_file(paths.cert, cert_pem(cert), 0o644)
    install_root_cert(paths, root_cert)
    return cert


def intermediate_csr(
    paths: IntermediatePaths, org: str, station_id: str, spec: KeySpec, secrets: KeySecrets
) -> x509.CertificateSigningRequest:
    """A CSR for the station intermediate, for an external root; creates the key if needed."""
    try:
        key = load_ca_key(paths.key, secrets)
    except CaKeyMissing:
        key = create_ca_key(paths.key, spec, secrets)
    csr = ca.build_intermediate_csr(key, ca.intermediate_name(org, station_id))
    paths.csr.parent.mkdir(parents=True, exist_ok=True)
    paths.csr.write_bytes(csr.public_bytes(PEM))
    return csr


def import_intermediate(
    paths: IntermediatePaths, cert_file: Path, root_file: Path, secrets: KeySecrets
) -> x509.Certificate:
    """Install an intermediate certificate issued by an external root, after checking that it
    matches our key, is a proper CA certificate, and was signed by that root."""
    cert = ca.load_certificate(cert_file)
    root = ca.load_certificate(root_file)
    key = load_ca_key(paths.key, secrets)
    ca.check_intermediate(cert, key.public_key(), root)
    if paths.cert.exists():
        raise CaMismatch(f"{paths.cert} exists already; move it away to install a new one")
    install_root_cert(paths, root)
    write_new_file(paths.cert, cert_pem(cert), 0o644)
    return cert
