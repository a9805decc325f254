"""The pure QA checks, table-driven: facts in, named results out (no board, no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.audit.certificates import CertificateRecord, CertificateStatus
from station.pki.ca import CaValidity, build_intermediate, build_root, intermediate_name, root_name
from station.pki.profile import DeviceProfile, ReportedIdentity
from station.qa.checks import CHECK_NAMES, QaFacts, fingerprint, run_checks

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def hierarchy() -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = build_root(root_key, root_name("T"), CaValidity(NOW - timedelta(days=1), 3650), 1)
    key = ec.generate_private_key(ec.SECP256R1())
    inter = build_intermediate(
        root, root_key, key.public_key(), intermediate_name("T", "s"), CaValidity(NOW, 3000), 2
    )
    return root, inter, key


ROOT, INTER, INTER_KEY = hierarchy()
BOARD_KEY = ec.generate_private_key(ec.SECP256R1())


def device_cert(days: int = 365, eku: bool = True) -> x509.Certificate:
    profile = DeviceProfile(validity_days=days)
    board = ReportedIdentity("VB1-0001")
    start, end = profile.validity(NOW, INTER.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(profile.subject(board))
        .issuer_name(INTER.subject)
        .public_key(BOARD_KEY.public_key())
        .serial_number(77)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    ski = INTER.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    for ext, critical in profile.extensions(BOARD_KEY.public_key(), ski):
        if eku or not isinstance(ext, x509.ExtendedKeyUsage):
            builder = builder.add_extension(ext, critical)
    return builder.sign(INTER_KEY, hashes.SHA256())


def facts(cert: x509.Certificate | None = None, **changes: object) -> QaFacts:
    cert = cert or device_cert()
    challenge = b"c" * 32
    base = QaFacts(
        uid="VB1-0001",
        locked=True,
        chain_pem=cert.public_bytes(serialization.Encoding.PEM),
        chain_error="",
        challenge=challenge,
        signature=BOARD_KEY.sign(challenge, ec.ECDSA(hashes.SHA256())),
        signature_error="",
        root=ROOT,
        intermediate=INTER,
        records=[record(cert, CertificateStatus.LOCKED)],
        min_remaining=timedelta(days=30),
        now=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def record(
    cert: x509.Certificate, status: CertificateStatus, superseded_by: str | None = None
) -> CertificateRecord:
    """The audit record of ``cert`` (only what the checks read is realistic)."""
    return CertificateRecord(
        serial="4d",
        board_uid="VB1-0001",
        sha256=fingerprint(cert),
        spki_sha256="",
        subject=cert.subject.rfc4514_string(),
        not_before="",
        not_after="",
        pem="",
        status=status,
        superseded_by=superseded_by,
    )


def failed(f: QaFacts) -> list[str]:
    results = run_checks(f)
    assert [r.name for r in results] == list(CHECK_NAMES)
    return [r.name for r in results if not r.ok]


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        pytest.param(facts(), [], id="ok/provisioned"),
        pytest.param(facts(locked=False), ["locked"], id="fail/not-locked"),
        pytest.param(facts(device_cert(days=20)), ["validity"], id="fail/expires-within-30-days"),
        pytest.param(facts(device_cert(eku=False)), ["aws-profile"], id="fail/no-client-auth"),
        pytest.param(facts(signature=b"\x30\x00"), ["possession"], id="fail/bad-signature"),
        pytest.param(
            facts(signature=None, signature_error="SIGN failed: LOCKED"),
            ["possession"],
            id="fail/no-signature",
        ),
        pytest.param(facts(records=[]), ["audit-record", "status"], id="fail/unknown-board"),
        pytest.param(facts(uid="VB1-0002"), ["audit-record"], id="fail/another-boards-cert"),
        pytest.param(facts(now=NOW + timedelta(days=400)), ["validity"], id="fail/expired"),
        pytest.param(
            facts(chain_pem=None, chain_error="GET_CERT failed: NO_OBJECT"),
            list(CHECK_NAMES[:-1]),
            id="fail/no-certificate",
        ),
        pytest.param(facts(chain_pem=b"garbage"), list(CHECK_NAMES[:-1]), id="fail/garbage"),
    ],
)
def test_checks(f: QaFacts, expected: list[str]) -> None:
    assert failed(f) == expected


@pytest.mark.parametrize(
    "status",
    [CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED, CertificateStatus.ISSUED],
)
def test_status_fails_unless_on_a_board(status: CertificateStatus) -> None:
    cert = device_cert()
    superseded_by = "99" if status is CertificateStatus.SUPERSEDED else None
    results = run_checks(facts(cert, records=[record(cert, status, superseded_by)]))
    (bad,) = [r for r in results if not r.ok]
    assert bad.name == "status"
    assert status in bad.detail
