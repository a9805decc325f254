"""The CA hierarchy: root and intermediate certificates, the intermediate CSR, and the checks
an imported CA certificate must pass. Pure, apart from :func:`load_certificate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from station.pki.errors import CaMismatch, KeyFileError
from station.pki.keys import CaPrivateKey, CertifiablePublicKey, spki_der
from station.pki.profile import key_usage, signature_hash


@dataclass(frozen=True)
class CaValidity:
    """When a CA certificate is valid: from ``now`` for ``days`` days."""

    now: datetime
    days: int

    @property
    def not_before(self) -> datetime:
        return self.now.replace(microsecond=0)

    @property
    def not_after(self) -> datetime:
        return self.not_before + timedelta(days=self.days)


def root_name(org: str) -> x509.Name:
    """Subject of the organisation's root CA."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org} Device Root CA"[:64]),
        ]
    )


def intermediate_name(org: str, station_id: str) -> x509.Name:
    """Subject of a station's intermediate CA."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org} Station {station_id} CA"[:64]),
        ]
    )


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: CertifiablePublicKey,
    validity: CaValidity,
    serial: int,
    path_length: int | None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(serial)
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def build_root(
    key: CaPrivateKey, subject: x509.Name, validity: CaValidity, serial: int
) -> x509.Certificate:
    """A self-signed root: CA:TRUE (no path length limit), keyCertSign+cRLSign, SKI."""
    builder = _ca_builder(subject, subject, key.public_key(), validity, serial, None)
    return builder.sign(key, signature_hash(key))


def build_intermediate(
    root_cert: x509.Certificate,
    root_key: CaPrivateKey,
    public_key: CertifiablePublicKey,
    subject: x509.Name,
    validity: CaValidity,
    serial: int,
) -> x509.Certificate:
    """An intermediate signed by the root: CA:TRUE pathLen 0, keyCertSign+cRLSign, SKI, AKI.

    Its validity is capped at the root's notAfter.
    """
    require_key_matches(root_cert, root_key.public_key(), "the root")
    builder = _ca_builder(subject, root_cert.subject, public_key, validity, serial, 0)
    if validity.not_after > root_cert.not_valid_after_utc:
        builder = builder.not_valid_after(root_cert.not_valid_after_utc)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski(root_cert)),
        critical=False,
    )
    return builder.sign(root_key, signature_hash(root_key))


def build_intermediate_csr(key: CaPrivateKey, subject: x509.Name) -> x509.CertificateSigningRequest:
    """A CSR for the station intermediate, to be signed by an external root."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(ca=True), critical=True)
        .sign(key, signature_hash(key))
    )


def issuer_ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    """The certificate's subjectKeyIdentifier; a CA certificate without one is refused."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound as e:
        raise CaMismatch(
            f"CA certificate {cert.subject.rfc4514_string()} has no subjectKeyIdentifier; "
            "reissue it with one"
        ) from e


def require_key_matches(cert: x509.Certificate, key: CertifiablePublicKey, what: str) -> None:
    """Refuse a certificate whose public key is not ``key``."""
    if spki_der(cert.public_key()) != spki_der(key):
        raise CaMismatch(
            f"the certificate of {what} ({cert.subject.rfc4514_string()}) does not match its "
            "private key; use the certificate issued for this key"
        )


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s key made ``cert``'s signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_intermediate(
    cert: x509.Certificate, key: CertifiablePublicKey, root: x509.Certificate
) -> None:
    """An imported intermediate must match our key, be a CA for certificates and CRLs,
    carry a SKI, and be signed by the given root."""
    require_key_matches(cert, key, "the station intermediate")
    subject = cert.subject.rfc4514_string()
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound as e:
        raise CaMismatch(
            f"{subject} lacks basicConstraints or keyUsage: not a CA certificate"
        ) from e
    if not (bc.critical and bc.value.ca):
        raise CaMismatch(f"{subject} is not a CA certificate (basicConstraints CA:TRUE critical)")
    if bc.value.path_length not in (0, None):
        raise CaMismatch(f"{subject} allows sub-CAs (pathLen {bc.value.path_length}); expected 0")
    if not (ku.value.key_cert_sign and ku.value.crl_sign):
        raise CaMismatch(f"{subject} cannot sign certificates and CRLs (keyUsage)")
    issuer_ski(cert)
    if not verify_issued_by(cert, root):
        raise CaMismatch(f"{subject} was not signed by the root {root.subject.rfc4514_string()}")


def load_certificate(path: Path) -> x509.Certificate:
    """Read one PEM certificate file."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as e:
        raise KeyFileError(f"cannot read certificate {path}: {e.strerror}") from e
    except ValueError as e:
        raise KeyFileError(f"{path} is not a PEM certificate: {e}") from e
