"""Values going into and out of the audit database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


class BoardLike(Protocol):
    @property
    def uid(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def firmware(self) -> str: ...


class IssuedLike(Protocol):
    """What :meth:`AuditDB.record_issued` needs (``station.pki.signer.IssuedCertificate``)."""

    @property
    def board(self) -> BoardLike: ...
    @property
    def serial_hex(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def spki_sha256(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def not_before(self) -> datetime: ...
    @property
    def not_after(self) -> datetime: ...
    @property
    def pem(self) -> str: ...


@dataclass(frozen=True)
class EventContext:
    """Where an event happened: the station, and the operator, slot and port if any.

    ``slot`` is the slot's name as the jig gives it ("A", "3"); see :func:`slot_name`.
    """

    station_id: str
    operator: str | None = None
    slot: str | None = None
    port: str | None = None


@dataclass(frozen=True)
class NewEvent:
    """An event to append. ``kind`` is an upper-case word (ISSUED, REJECTED, REVOKED, ...)."""

    kind: str
    board_uid: str | None = None
    serial: str | None = None
    code: str | None = None
    text: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RevokedRow:
    """A revoked certificate as the CRL needs it."""

    serial_hex: str
    revoked_at: datetime
    reason: str


@dataclass(frozen=True)
class ExportRecord:
    """One shift-end export: the slice of the event chain it covers and its manifest hash."""

    created_at: datetime
    out_dir: str
    since: datetime | None
    until: datetime
    first_seq: int | None  # None: the slice held no events
    last_seq: int  # the slice ends here; the next `--shift current` starts after it
    head_seq: int
    head_hash: str
    manifest_sha256: str


def slot_name(stored: object) -> str | None:
    """The slot of a stored event, as a name: what events record since schema version 4, and
    the text of the slot number that events recorded before hold (kept as stored: their hashes
    cover it as an integer)."""
    return None if stored is None else str(stored)


def timestamp(at: datetime) -> str:
    """The database's time format: UTC, ISO 8601, microseconds, ``Z`` suffix."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`timestamp`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
