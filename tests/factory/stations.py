"""Station audit databases for the factory tests: boards issued and locked through AuditDB,
as a station records them (no certificates are signed: the store reads the events)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.audit import AuditDB, CertificateStatus, EventContext

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Board:
    uid: str
    model: str = "sensor"
    firmware: str = "1.0.0"


@dataclass(frozen=True)
class Issued:
    """Shaped like station.pki.signer.IssuedCertificate, as far as the database cares."""

    serial_hex: str
    spki_sha256: str
    board: Board
    sha256: str = ""
    subject: str = ""
    not_before: datetime = T0
    not_after: datetime = T0 + timedelta(days=365)
    pem: str = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", self.sha256 or f"{self.serial_hex:0>64}")
        object.__setattr__(self, "subject", self.subject or f"CN={self.board.uid}")


def key_of(name: str) -> str:
    """A public key's SPKI SHA-256, made up from a name."""
    return hashlib.sha256(name.encode()).hexdigest()


def provision(
    audit: AuditDB,
    station_id: str,
    board_uid: str,
    *,
    key: str | None = None,
    serial: str | None = None,
    at: datetime = T0,
    not_after: datetime | None = None,
) -> str:
    """Record one board's cycle (STARTED, ISSUED, DELIVERED, VERIFIED, LOCKED); its serial."""
    from station.audit import NewEvent

    ctx = EventContext(station_id=station_id, operator="op1", slot="1", port="/dev/pts/9")
    serial = serial or hashlib.sha256(f"{station_id}/{board_uid}".encode()).hexdigest()[:16]
    audit.record_event(NewEvent("STARTED", board_uid, data={"state": "blank"}), ctx, at)
    issued = Issued(serial, key or key_of(f"{station_id}/{board_uid}"), Board(board_uid))
    if not_after is not None:
        issued = dataclasses.replace(issued, not_after=not_after)
    audit.record_issued(issued, ctx, at)
    for status in (CertificateStatus.DELIVERED, CertificateStatus.VERIFIED):
        audit.advance(serial, status, ctx, at)
    audit.advance(serial, CertificateStatus.LOCKED, ctx, at + timedelta(seconds=3))
    return serial


def station_db(path: Path, station_id: str, boards: int, *, first: int = 0) -> Path:
    """A station database with ``boards`` boards provisioned (5 events each)."""
    with AuditDB.open(path) as audit:
        for n in range(first, first + boards):
            provision(audit, station_id, f"{station_id}-B{n:05d}", at=T0 + timedelta(minutes=n))
    return path
