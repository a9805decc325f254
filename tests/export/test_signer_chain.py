"""The export signer's chain, checked the RFC 5280 way: `station audit verify-export` and
`openssl cms -verify` agree on exports signed through good and bad CA chains, and a refusal
names the certificate that is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from station.audit import EventContext
from station.audit.export import ExportRequest, export_audit
from station.pki.audit_signer import build_signer_certificate, signer_name
from station.pki.ca import CaValidity, build_intermediate, build_root, root_name
from station.pki.profile import key_usage
from tests.export.helpers import cms_verify
from tests.export.helpers import station as run
from tests.export.memory_probe import seed

NOW = datetime.now(UTC).replace(microsecond=0)
Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Ca:
    cert: x509.Certificate
    key: Key


@dataclass(frozen=True)
class ChainSigner:
    """A manifest signer that carries any chain of intermediates (nearest the signer first)."""

    certificate: x509.Certificate
    key: Key
    chain: tuple[x509.Certificate, ...]

    @property
    def intermediate(self) -> x509.Certificate:
        return self.chain[0]

    def sign_detached(self, data: bytes) -> bytes:
        builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
        builder = builder.add_signer(self.certificate, self.key, hashes.SHA256())
        for cert in self.chain:
            builder = builder.add_certificate(cert)
        return builder.sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )


def _key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _root() -> Ca:
    key = _key()
    return Ca(
        build_root(key, root_name("Chain Test"), CaValidity(NOW - timedelta(days=1), 90), 1), key
    )


def _ca(
    cn: str,
    issuer: Ca,
    *,
    path_length: int | None,
    key_cert_sign: bool = True,
    days: tuple[int, int] = (-1, 60),
    eku: x509.ObjectIdentifier | None = None,
) -> Ca:
    """A CA certificate; ``key_cert_sign=False`` leaves out keyCertSign (keeps cRLSign)."""
    key = _key()
    usage = key_usage(ca=True)
    if not key_cert_sign:
        usage = x509.KeyUsage(True, False, False, False, False, False, True, False, False)
    issuer_ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = x509.CertificateBuilder()
    if eku is not None:  # a CA limited to one purpose
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    cert = (
        builder.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski.value),
            critical=False,
        )
        .sign(issuer.key, hashes.SHA256())
    )
    return Ca(cert, key)


def _station_intermediate(root: Ca) -> Ca:
    """What `station init` makes: pathLen 0, keyCertSign + cRLSign."""
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Chain Test Station CA")])
    cert = build_intermediate(
        root.cert, root.key, key.public_key(), name, CaValidity(NOW - timedelta(days=1), 60), 2
    )
    return Ca(cert, key)


def _signer(*path: Ca, days: int = 30) -> ChainSigner:
    """The audit signer issued by ``path[-1]``; the CMS carries ``path`` (root excluded)."""
    key = _key()
    cert = build_signer_certificate(
        path[-1].cert,
        path[-1].key,
        key.public_key(),
        signer_name("Chain Test", "s1"),
        now=NOW,
        days=days,
        serial=x509.random_serial_number(),
    )
    return ChainSigner(cert, key, tuple(ca.cert for ca in reversed(path)))


def fail_signer_for_tls_clients(root: Ca) -> ChainSigner:
    """A signer certificate of the device profile (EKU clientAuth), not a document signer."""
    issuer, key = _station_intermediate(root), _key()
    ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TLS Client")]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
        .sign(issuer.key, hashes.SHA256())
    )
    return ChainSigner(cert, key, (issuer.cert,))


def ok_station_profile(root: Ca) -> ChainSigner:
    return _signer(_station_intermediate(root))


def ok_two_intermediates_within_path_length(root: Ca) -> ChainSigner:
    policy_ca = _ca("Policy CA", root, path_length=1)
    return _signer(policy_ca, _ca("Issuing CA", policy_ca, path_length=0))


def ok_intermediate_limited_to_email_protection(root: Ca) -> ChainSigner:
    eku = ExtendedKeyUsageOID.EMAIL_PROTECTION
    return _signer(_ca("S/MIME CA", root, path_length=0, eku=eku))


def fail_intermediate_limited_to_tls_clients(root: Ca) -> ChainSigner:
    eku = ExtendedKeyUsageOID.CLIENT_AUTH
    return _signer(_ca("TLS Client CA", root, path_length=0, eku=eku))


def fail_intermediate_without_key_cert_sign(root: Ca) -> ChainSigner:
    return _signer(_ca("No CertSign CA", root, path_length=0, key_cert_sign=False))


def fail_sub_ca_below_path_length_0(root: Ca) -> ChainSigner:
    station_ca = _station_intermediate(root)
    return _signer(station_ca, _ca("Rogue Sub CA", station_ca, path_length=None))


def fail_intermediate_not_yet_valid(root: Ca) -> ChainSigner:
    return _signer(_ca("Future CA", root, path_length=0, days=(10, 60)))


CASES: dict[str, tuple[Callable[[Ca], ChainSigner], list[str]]] = {
    "ok/station-profile": (ok_station_profile, []),
    "ok/two-intermediates-within-path-length": (ok_two_intermediates_within_path_length, []),
    "ok/intermediate-limited-to-email-protection": (
        ok_intermediate_limited_to_email_protection,
        [],
    ),
    "fail/intermediate-limited-to-tls-clients": (
        fail_intermediate_limited_to_tls_clients,
        ["CN=TLS Client CA", "extendedKeyUsage"],
    ),
    "fail/intermediate-without-keyCertSign": (
        fail_intermediate_without_key_cert_sign,
        ["CN=No CertSign CA", "keyCertSign"],
    ),
    "fail/sub-ca-below-pathLen-0": (
        fail_sub_ca_below_path_length_0,
        ["CN=Rogue Sub CA", "CN=Chain Test Station CA", "pathLenConstraint 0"],
    ),
    "fail/signer-for-tls-clients": (
        fail_signer_for_tls_clients,
        ["CN=TLS Client", "not for signing documents"],
    ),
    "fail/intermediate-not-yet-valid": (
        fail_intermediate_not_yet_valid,
        ["CN=Future CA", "not valid at", "signing time"],
    ),
}


@pytest.mark.component  # `station audit verify-export` and openssl as processes
@pytest.mark.parametrize("case", CASES)
def test_verify_export_and_openssl_agree_on_the_signer_chain(tmp_path: Path, case: str) -> None:
    make, named = CASES[case]
    root = _root()
    signer = make(root)
    with seed(tmp_path / "audit.db", 10) as audit:
        export_audit(audit, ExportRequest(tmp_path / "ex", NOW), signer, EventContext("probe"))
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))

    ours = run(tmp_path / "no-home", "audit", "verify-export", "--root", root_pem, tmp_path / "ex")
    theirs = cms_verify(tmp_path / "ex", root_pem)

    if case.startswith("ok/"):
        assert ours.returncode == 0, ours.stdout + ours.stderr
        assert theirs.returncode == 0, theirs.stderr
        return
    assert theirs.returncode != 0, theirs.stderr
    assert ours.returncode == 1, ours.stdout + ours.stderr
    (line,) = ours.stdout.splitlines()
    assert line.startswith("BAD manifest.json.p7s: signature check failed: "), line
    for text in named:
        assert text in line, (text, line)
