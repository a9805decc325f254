"""The station's audit-signing certificate: signs export manifests (detached CMS, DER).

Issued by the station intermediate (never the CA key itself signing documents) to its own key,
which is stored encrypted (PKCS#8, mode 0600) beside the intermediate. EKU emailProtection (so
`openssl cms -verify` accepts it with its default S/MIME purpose) and id-kp-documentSigning
(RFC 9336); keyUsage digitalSignature + nonRepudiation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from station.files import write_new_file
from station.pki.ca import issuer_ski, load_certificate, require_key_matches, verify_issued_by
from station.pki.errors import CaMismatch
from station.pki.keys import CaPrivateKey, load_private_key, save_private_key
from station.pki.profile import key_usage
from station.pki.serials import random_serial

#: id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
SIGNER_EKUS = (ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING)


def signer_name(org: str, station_id: str) -> x509.Name:
    """Subject of a station's audit-signing certificate."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org} Station {station_id} Audit"[:64]),
        ]
    )


def build_signer_certificate(
    issuer_cert: x509.Certificate,
    issuer_key: CaPrivateKey,
    public_key: ec.EllipticCurvePublicKey,
    subject: x509.Name,
    *,
    now: datetime,
    days: int,
    serial: int,
) -> x509.Certificate:
    """The audit-signing certificate; its validity is capped at the issuer's notAfter."""
    require_key_matches(issuer_cert, issuer_key.public_key(), "the station intermediate")
    start = now.replace(microsecond=0) - timedelta(minutes=5)
    end = min(start + timedelta(days=days), issuer_cert.not_valid_after_utc)
    usage = key_usage(digital_signature=True, content_commitment=True)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(SIGNER_EKUS)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski(issuer_cert)),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class AuditSigner:
    """The signing certificate, its key, and the intermediate that issued it."""

    certificate: x509.Certificate
    key: CaPrivateKey
    intermediate: x509.Certificate

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS SignedData over ``data`` (binary, DER), carrying the chain."""
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(data)
            .add_signer(self.certificate, self.key, hashes.SHA256())
            .add_certificate(self.intermediate)
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )


@dataclass(frozen=True)
class SignerFiles:
    """Where the signer lives, and what to issue a new one from."""

    key: Path
    cert: Path
    intermediate_cert: Path
    org: str
    station_id: str
    days: int


def load_or_create(
    files: SignerFiles,
    signer_passphrase: str,
    issuer_key: Callable[[], CaPrivateKey],
    now: datetime,
) -> tuple[AuditSigner, bool]:
    """The audit signer, issued by the intermediate on first use; returns (signer, created).

    ``issuer_key`` opens the intermediate's key (a file or a token) only when a new certificate
    must be issued.
    """
    intermediate = load_certificate(files.intermediate_cert)
    if files.cert.exists() and files.key.exists():
        cert = load_certificate(files.cert)
        key = load_private_key(files.key, signer_passphrase)
        require_key_matches(cert, key.public_key(), "the audit signer")
        if not verify_issued_by(cert, intermediate):
            raise CaMismatch(
                f"the audit-signing certificate {files.cert} was not issued by the current "
                f"station intermediate; move {files.cert} and {files.key} away and export again "
                "to issue a new one"
            )
        return AuditSigner(cert, key, intermediate), False
    if files.cert.exists() or files.key.exists():
        raise CaMismatch(
            f"only one of {files.key} and {files.cert} exists; restore the other or move both "
            "away to issue a new audit-signing certificate"
        )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build_signer_certificate(
        intermediate,
        issuer_key(),
        key.public_key(),
        signer_name(files.org, files.station_id),
        now=now,
        days=files.days,
        serial=random_serial(),
    )
    save_private_key(files.key, key, signer_passphrase)
    write_new_file(files.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return AuditSigner(cert, key, intermediate), True
