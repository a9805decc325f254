"""Certificate records: the status lifecycle, the typed row, and each lifecycle change.

A certificate moves issued -> delivered -> verified -> locked; ``revoked`` and ``superseded``
end it (a superseded certificate kept valid may still be revoked later; a revoked one never
changes again). Each change here is made on the caller's connection, inside the caller's
transaction, and returns the event that describes it, for the caller to append in the same
transaction (see :class:`station.audit.db.AuditDB`).
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from station.audit.errors import AlreadyRevoked, AuditError, UnknownCertificate
from station.audit.records import NewEvent, timestamp


class CertificateStatus(enum.StrEnum):
    """Where a certificate is in its life; the value is what the database stores."""

    ISSUED = "issued"  # signed and recorded; not yet confirmed on its board
    DELIVERED = "delivered"
    VERIFIED = "verified"  # the board proved it holds the certified key
    LOCKED = "locked"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # replaced by a newer certificate and kept valid

    @property
    def active(self) -> bool:
        """Current for its board: issued and not yet revoked or superseded."""
        return self in PROGRESSION

    @property
    def on_board(self) -> bool:
        """Confirmed on its board and still good (what AWS IoT should know as ACTIVE)."""
        return self in ON_BOARD


#: The forward path, in order; :meth:`AuditDB.advance` only moves along it.
PROGRESSION = (
    CertificateStatus.ISSUED,
    CertificateStatus.DELIVERED,
    CertificateStatus.VERIFIED,
    CertificateStatus.LOCKED,
)
ON_BOARD = PROGRESSION[1:]
#: Every status, in the order of the schema's CHECK constraint.
CERTIFICATE_STATUSES = tuple(s.value for s in CertificateStatus)


@dataclass(frozen=True)
class CertificateRecord:
    """One row of the ``certificates`` table. Times are as stored (UTC ISO 8601, ``Z``)."""

    serial: str  # lower-case hex
    board_uid: str
    sha256: str  # of the DER: also AWS IoT's certificateId
    spki_sha256: str
    subject: str
    not_before: str
    not_after: str
    pem: str
    status: CertificateStatus
    revoked_at: str | None = None
    revocation_reason: str | None = None
    superseded_by: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CertificateRecord:
        """A record from a row of ``SELECT * FROM certificates`` (extra columns ignored)."""
        try:
            status = CertificateStatus(row["status"])
        except ValueError:
            raise AuditError(
                f"certificate {row['serial']} has status {row['status']!r}, which no version of "
                "the station writes; run `station audit verify` and report the database"
            ) from None
        return cls(
            serial=row["serial"],
            board_uid=row["board_uid"],
            sha256=row["sha256"],
            spki_sha256=row["spki_sha256"],
            subject=row["subject"],
            not_before=row["not_before"],
            not_after=row["not_after"],
            pem=row["pem"],
            status=status,
            revoked_at=row["revoked_at"],
            revocation_reason=row["revocation_reason"],
            superseded_by=row["superseded_by"],
        )

    def as_dict(self) -> dict[str, Any]:
        """The row as plain values (for JSON)."""
        return {**asdict(self), "status": self.status.value}


def _status_and_board(
    conn: sqlite3.Connection, serial_hex: str, path: Path
) -> tuple[CertificateStatus, str]:
    row = conn.execute(
        "SELECT status, board_uid FROM certificates WHERE serial = ?", (serial_hex,)
    ).fetchone()
    if row is None:
        raise UnknownCertificate(
            f"no certificate with serial {serial_hex} in {path}; check the serial (hex) and "
            "the station home"
        )
    return CertificateStatus(row[0]), str(row[1])


def revoke(
    conn: sqlite3.Connection, path: Path, serial_hex: str, reason: str, at: datetime
) -> NewEvent:
    """Mark a certificate revoked; its REVOKED event. A revoked certificate is refused: its
    recorded reason and time are what the CRL states, and they never change."""
    status, board = _status_and_board(conn, serial_hex, path)
    if status is CertificateStatus.REVOKED:
        raise AlreadyRevoked(f"certificate {serial_hex} is already revoked; nothing changed")
    conn.execute(
        "UPDATE certificates SET status = ?, revoked_at = ?, revocation_reason = ? "
        "WHERE serial = ?",
        (CertificateStatus.REVOKED.value, timestamp(at), reason, serial_hex),
    )
    data = {"reason": reason, "previous_status": status.value}
    return NewEvent("REVOKED", board, serial_hex, code=reason, data=data)


def supersede(
    conn: sqlite3.Connection,
    path: Path,
    old_serial: str,
    new_serial: str,
    at: datetime,
    *,
    revoke: bool,
) -> NewEvent:
    """Mark ``old_serial`` superseded by ``new_serial`` (and revoked, reason ``superseded``,
    if ``revoke``); its SUPERSEDED event. Only a current certificate can be superseded: a
    revoked or superseded one is refused, so its record (and the CRL's reason) stays."""
    status, board = _status_and_board(conn, old_serial, path)
    if status is CertificateStatus.REVOKED:
        raise AlreadyRevoked(
            f"certificate {old_serial} is already revoked; it cannot be superseded by {new_serial}"
        )
    if not status.active:
        raise AuditError(
            f"certificate {old_serial} is already {status.value}; it cannot be superseded "
            f"by {new_serial}"
        )
    conn.execute(
        "UPDATE certificates SET status = ?, superseded_by = ?, revoked_at = ?, "
        "revocation_reason = ? WHERE serial = ?",
        (
            (CertificateStatus.REVOKED if revoke else CertificateStatus.SUPERSEDED).value,
            new_serial,
            timestamp(at) if revoke else None,
            "superseded" if revoke else None,
            old_serial,
        ),
    )
    return NewEvent(
        "SUPERSEDED",
        board,
        old_serial,
        code="superseded" if revoke else None,
        data={"superseded_by": new_serial, "previous_status": status.value, "revoked": revoke},
    )


def advance(
    conn: sqlite3.Connection, path: Path, serial_hex: str, status: CertificateStatus
) -> NewEvent:
    """Move a certificate forward along :data:`PROGRESSION`; the event named after the new
    status (DELIVERED, VERIFIED, LOCKED)."""
    if status not in ON_BOARD:
        raise AuditError(f"cannot advance a certificate to {status.value!r}")
    current, board = _status_and_board(conn, serial_hex, path)
    if current not in PROGRESSION or PROGRESSION.index(current) >= PROGRESSION.index(status):
        raise AuditError(
            f"certificate {serial_hex} is {current.value}; it cannot become {status.value}"
        )
    conn.execute("UPDATE certificates SET status = ? WHERE serial = ?", (status.value, serial_hex))
    data = {"previous_status": current.value}
    return NewEvent(status.value.upper(), board, serial_hex, data=data)
