"""QA checks of a provisioned board. Pure: facts in (values read from the board and the audit
database, a time), a list of :class:`CheckResult` out, one per check, in a fixed order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from device_protocol.signatures import verify_sha256
from station.audit.certificates import CertificateRecord, CertificateStatus
from station.config import AWS_EC_CURVES, AWS_MIN_RSA_BITS
from station.pki.ca import verify_issued_by
from station.pki.keys import curve_label
from station.pki.profile import name_text

#: The checks, in the order they are reported.
CHECK_NAMES = (
    "certificate",
    "chain",
    "audit-record",
    "status",
    "possession",
    "aws-profile",
    "validity",
    "locked",
)
_AWS_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class QaFacts:
    """Everything the checks look at, gathered by :func:`station.qa.runner.run_qa`."""

    uid: str
    locked: bool
    chain_pem: bytes | None  # as read with GET_CERT; None when the board gave none
    chain_error: str  # why there is no chain
    challenge: bytes
    signature: bytes | None  # SIGN over the challenge; None when the board refused
    signature_error: str
    root: x509.Certificate
    intermediate: x509.Certificate
    records: Sequence[CertificateRecord]  # the audit database's certificates for ``uid``
    min_remaining: timedelta
    now: datetime


def fingerprint(cert: x509.Certificate) -> str:
    """Lower-case hex SHA-256 of the certificate's DER (also its AWS IoT certificate id)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def run_checks(f: QaFacts) -> list[CheckResult]:
    """Every check, in :data:`CHECK_NAMES` order."""
    certs: list[x509.Certificate] = []
    problem = f.chain_error or "the board returned no certificate"
    if f.chain_pem:
        try:
            certs = x509.load_pem_x509_certificates(f.chain_pem)
        except ValueError as e:
            problem = f"the board's certificate chain does not parse: {e}"
    locked = CheckResult(
        "locked", f.locked, "board is locked" if f.locked else "board is not locked; run LOCK"
    )
    if not certs:
        skipped = [CheckResult(n, False, f"not checked: {problem}") for n in CHECK_NAMES[1:-1]]
        return [CheckResult("certificate", False, problem), *skipped, locked]
    leaf = certs[0]
    record = next((r for r in f.records if r.sha256 == fingerprint(leaf)), None)
    return [
        CheckResult("certificate", True, _describe(leaf)),
        _chain(leaf, certs[1:], f),
        _audit_record(leaf, record, f),
        _status(record),
        _possession(leaf, f),
        _aws_profile(leaf),
        _validity(leaf, f),
        locked,
    ]


def _describe(leaf: x509.Certificate) -> str:
    return f"serial {leaf.serial_number:x}, subject {name_text(leaf.subject)}"


def _chain(leaf: x509.Certificate, extra: list[x509.Certificate], f: QaFacts) -> CheckResult:
    issuer = next((c for c in [f.intermediate, *extra] if verify_issued_by(leaf, c)), None)
    if issuer is None:
        return CheckResult(
            "chain",
            False,
            f"issued by {name_text(leaf.issuer)}, not by this station's intermediate "
            f"({name_text(f.intermediate.subject)}); the board holds a foreign certificate: "
            "re-provision it",
        )
    if not verify_issued_by(issuer, f.root):
        return CheckResult(
            "chain",
            False,
            f"issued by {name_text(issuer.subject)}, which does not chain to the station "
            f"root ({name_text(f.root.subject)}); the board holds a foreign certificate: "
            "re-provision it",
        )
    for cert in (issuer, f.root):
        if not cert.not_valid_before_utc <= f.now <= cert.not_valid_after_utc:
            return CheckResult("chain", False, f"{name_text(cert.subject)} is not valid now")
    return CheckResult("chain", True, f"chains to {name_text(f.root.subject)}")


def _audit_record(
    leaf: x509.Certificate, record: CertificateRecord | None, f: QaFacts
) -> CheckResult:
    if not f.records:
        return CheckResult(
            "audit-record",
            False,
            f"board {f.uid} is unknown to this station's audit database; provision it here or "
            "check the station home",
        )
    if record is None:
        newest = f.records[0]
        return CheckResult(
            "audit-record",
            False,
            f"the board's certificate (SHA-256 {fingerprint(leaf)[:16]}...) is not one this "
            f"station issued to {f.uid}; newest recorded: serial {newest.serial} "
            f"({newest.status}); re-provision the board",
        )
    names = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not names or names[0].value != f.uid:
        return CheckResult("audit-record", False, f"certificate subject is not for board {f.uid}")
    return CheckResult("audit-record", True, f"matches serial {record.serial} (SHA-256)")


def _status(record: CertificateRecord | None) -> CheckResult:
    if record is None:
        return CheckResult("status", False, "no audit record for this certificate")
    status = record.status
    if status.on_board:
        return CheckResult("status", True, status.value)
    if status is CertificateStatus.ISSUED:
        detail = "issued but never confirmed delivered; run provisioning again to resume"
    else:
        detail = f"{status} at {record.revoked_at or '?'}"
        if record.revocation_reason:
            detail += f" ({record.revocation_reason})"
        if record.superseded_by:
            detail += f", superseded by {record.superseded_by}"
        detail += "; this board must not ship with it: re-provision it"
    return CheckResult("status", False, detail)


def _possession(leaf: x509.Certificate, f: QaFacts) -> CheckResult:
    if f.signature is None:
        return CheckResult("possession", False, f"the board did not sign: {f.signature_error}")
    if verify_sha256(leaf.public_key(), f.signature, f.challenge):
        return CheckResult("possession", True, "signed a fresh challenge with the certified key")
    return CheckResult(
        "possession",
        False,
        "the signature over a fresh challenge does not verify with the certificate's key: the "
        "board holds another key; set it aside for repair",
    )


def _aws_profile(leaf: x509.Certificate) -> CheckResult:
    problems = []
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < AWS_MIN_RSA_BITS:
            problems.append(f"RSA {key.key_size} bits (AWS IoT needs >= {AWS_MIN_RSA_BITS})")
        what = f"RSA {key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        what = f"EC {curve_label(key.curve)}"
        if curve_label(key.curve) not in AWS_EC_CURVES:
            problems.append(f"curve {key.curve.name} (AWS IoT accepts {', '.join(AWS_EC_CURVES)})")
    else:
        what = type(key).__name__
        problems.append(f"key type {what} is not accepted by AWS IoT")
    try:
        algorithm = leaf.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    # AWS lists RSASSA-PSS too, but the station never issues it (DESIGN section 4).
    if _is_pss(leaf) or not isinstance(algorithm, _AWS_HASHES):
        problems.append(f"signature algorithm {leaf.signature_algorithm_oid.dotted_string}")
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            problems.append("no clientAuth in extendedKeyUsage")
    except x509.ExtensionNotFound:
        problems.append("no extendedKeyUsage (clientAuth)")
    try:
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            problems.append("a CA certificate on a device")
    except x509.ExtensionNotFound:
        problems.append("no basicConstraints")
    if problems:
        return CheckResult("aws-profile", False, "; ".join(problems))
    return CheckResult("aws-profile", True, f"{what}, {algorithm and algorithm.name}, clientAuth")


def _is_pss(leaf: x509.Certificate) -> bool:
    return leaf.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10"


def _validity(leaf: x509.Certificate, f: QaFacts) -> CheckResult:
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if f.now < start:
        return CheckResult("validity", False, f"not valid before {start:%Y-%m-%d %H:%M}Z")
    left = end - f.now
    detail = f"expires {end:%Y-%m-%d}, {left.days} days left"
    if left < f.min_remaining:
        return CheckResult(
            "validity",
            False,
            f"{detail}; at least {f.min_remaining.days} required (AWS IoT flags certificates "
            "expiring within 30 days): rotate it",
        )
    return CheckResult("validity", True, detail)
