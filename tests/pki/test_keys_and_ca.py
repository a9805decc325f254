"""CA key files, key types, CA certificate checks, and the CSR DER fix-up."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.der import read
from station.files import FileExists
from station.pki import ca
from station.pki.csr_der import pem_or_der_to_der
from station.pki.errors import CaMismatch, KeyFileError, PkiError, WrongPassphrase
from station.pki.keys import KeySpec, generate_private_key, load_private_key, save_private_key
from station.pki.weak_keys import rsa_weaknesses

from .conftest import Hierarchy, make_csr, rsa_key

NOW = datetime.now(UTC)


def test_key_file_is_encrypted_pkcs8_mode_0600(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "private" / "ca.key.pem"
    save_private_key(path, key, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = load_private_key(path, "correct horse")
    assert loaded.public_key() == key.public_key()
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        load_private_key(path, "wrong horse")
    with pytest.raises(FileExists):
        save_private_key(path, key, "correct horse")


def test_key_file_problems(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="too short"):
        save_private_key(tmp_path / "k.pem", ec.generate_private_key(ec.SECP256R1()), "short")
    with pytest.raises(KeyFileError, match="cannot read"):
        load_private_key(tmp_path / "missing.pem", "whatever1")
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyFileError, match="not an encrypted"):
        load_private_key(plain, "whatever1")


@pytest.mark.parametrize("text", ["ec-p256", "EC-P384", "ec-p521", "rsa-2048", "rsa-4096"])
def test_key_spec_round_trip(text: str) -> None:
    assert str(KeySpec.parse(text)) == text.lower()


@pytest.mark.parametrize("text", ["ec-p192", "rsa-1024", "ed25519", "ec-", "rsa-abc"])
def test_key_spec_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="unknown key type"):
        KeySpec.parse(text)


def test_generated_key_types() -> None:
    key = generate_private_key(KeySpec.parse("ec-p384"))
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp384r1"


def test_ca_certificate_shapes(hierarchy: Hierarchy) -> None:
    root_bc = hierarchy.root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (root_bc.critical, root_bc.value.ca, root_bc.value.path_length) == (True, True, None)
    bc = hierarchy.intermediate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (bc.critical, bc.value.ca, bc.value.path_length) == (True, True, 0)
    for cert in (hierarchy.root, hierarchy.intermediate):
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert (ku.critical, ku.value.key_cert_sign, ku.value.crl_sign) == (True, True, True)
        assert not ku.value.digital_signature
    aki = hierarchy.intermediate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == ca.issuer_ski(hierarchy.root).digest


def test_import_checks(hierarchy: Hierarchy) -> None:
    pub = hierarchy.key.public_key()
    ca.check_intermediate(hierarchy.intermediate, pub, hierarchy.root)
    with pytest.raises(CaMismatch, match="does not match"):
        ca.check_intermediate(
            hierarchy.intermediate,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            hierarchy.root,
        )
    with pytest.raises(CaMismatch, match="not signed by the root"):
        ca.check_intermediate(hierarchy.intermediate, pub, hierarchy.intermediate)
    # A leaf certificate for the same key is not a CA certificate.
    leaf = (
        x509.CertificateBuilder()
        .subject_name(hierarchy.intermediate.subject)
        .issuer_name(hierarchy.root.subject)
        .public_key(pub)
        .serial_number(9)
        .not_valid_before(NOW)
        .not_valid_after(NOW.replace(year=NOW.year + 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(hierarchy.root_key, hashes.SHA384())
    )
    with pytest.raises(CaMismatch, match="not a CA certificate"):
        ca.check_intermediate(leaf, pub, hierarchy.root)


def test_csr_der_normalisation_leaves_other_csrs_alone() -> None:
    for der in (make_csr(ec.generate_private_key(ec.SECP256R1())), make_csr(rsa_key(2048))):
        assert normalise_csr_der(der) == (der, False)
        pem = x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM)
        assert pem_or_der_to_der(pem) == der
    assert normalise_csr_der(b"\x30\x03abc") == (b"\x30\x03abc", False)
    element = read(b"\x30\x81\x80" + bytes(128), 0)
    assert (element.tag, element.body, element.end) == (0x30, 3, 131)


def test_rsa_weak_key_checks() -> None:
    n = rsa_key(2048).public_key().public_numbers().n
    assert rsa_weaknesses(n, 65537) == []
    # A 2048-bit modulus with the factor 3 (as a corrupted key would have).
    corrupt = 3 * ((n // 3) | 1)
    assert rsa_weaknesses(corrupt, 65537)[0].code == "key.rsa_small_factors"
