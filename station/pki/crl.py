"""Certificate revocation lists signed by the station intermediate. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from station.pki.ca import issuer_ski, require_key_matches
from station.pki.keys import CaPrivateKey
from station.pki.profile import signature_hash

#: Reasons an operator may give, as typed on the command line, and their CRL reason codes.
#: ``unspecified`` is recorded without a reasonCode extension (RFC 5280 5.3.1).
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "privilege-withdrawn": x509.ReasonFlags.privilege_withdrawn,
}


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate as the CRL lists it."""

    serial: int
    revoked_at: datetime
    reason: str  # a key of REASONS


def build_crl(
    issuer_cert: x509.Certificate,
    issuer_key: CaPrivateKey,
    revoked: Sequence[RevokedEntry],
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """A v2 CRL with CRL number and AKI, one entry per revoked certificate (by serial)."""
    require_key_matches(issuer_cert, issuer_key.public_key(), "the CRL issuer")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update.replace(microsecond=0))
        .next_update(next_update.replace(microsecond=0))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski(issuer_cert)),
            critical=False,
        )
    )
    for entry in sorted(revoked, key=lambda e: e.serial):
        item = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at.replace(microsecond=0))
        )
        flag = REASONS[entry.reason]
        if flag is not x509.ReasonFlags.unspecified:
            item = item.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(item.build())
    return builder.sign(issuer_key, signature_hash(issuer_key))
