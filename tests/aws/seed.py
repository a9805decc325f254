"""Certificates on boards in a station's audit database, without boards: signed by the
station's own signer and recorded through the same calls the cycle makes."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from station.audit import CertificateRecord, CertificateStatus, EventContext
from station.engine.station import StationContext
from station.pki.policy import CsrPolicy, check_csr
from station.pki.profile import ReportedIdentity
from station.pki.signer import utc_now
from tests.pki.conftest import make_csr, never_seen

REGION = "eu-west-1"
CTX = EventContext(station_id="line-7", operator="op-1")


def provisioned(
    station: StationContext, count: int, prefix: str = "board", ctx: EventContext = CTX
) -> list[str]:
    """``count`` certificates issued and locked on boards; their serials, in order."""
    serials = []
    for i in range(count):
        board = ReportedIdentity(uid=f"{prefix}-{i:04d}", model="m1", firmware="1.0")
        key = ec.generate_private_key(ec.SECP256R1())
        accepted = check_csr(
            make_csr(key, cn=None),
            board,
            policy=CsrPolicy(),
            profile=station.profile,
            key_known=never_seen,
        )
        issued = station.signer.sign(accepted)
        audit = station.audit
        audit.record_issued(issued, ctx, utc_now())
        for status in (
            CertificateStatus.DELIVERED,
            CertificateStatus.VERIFIED,
            CertificateStatus.LOCKED,
        ):
            audit.advance(issued.serial_hex, status, ctx, utc_now())
        serials.append(issued.serial_hex)
    return serials


def record(station: StationContext, serial: str) -> CertificateRecord:
    found = station.audit.certificate(serial)
    assert found is not None
    return found
