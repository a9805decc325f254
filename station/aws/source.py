"""Where the certificates to hand over come from, and where the cloud steps are recorded.

The sync and the reconcile work over a :class:`HandoffSource`. The first is one station's audit
database (:class:`StationSource`); the factory store is meant to be another, over the same code.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509
from cryptography.x509.oid import NameOID

from station.audit import AuditDB, CertificateRecord, CertificateStatus, EventContext, NewEvent
from station.audit.records import parse_timestamp


class LocalState(enum.StrEnum):
    """What the cloud should make of a certificate."""

    PENDING = "pending"  # issued, not yet confirmed on its board: not for the cloud yet
    ON_BOARD = "on-board"  # confirmed on its board: ACTIVE in AWS IoT
    RETIRED = "retired"  # revoked or superseded here: REVOKED in AWS IoT


@dataclass(frozen=True)
class LocalCertificate:
    """One certificate as the handoff needs it."""

    serial: str
    board_uid: str
    certificate_id: str  # SHA-256 of the DER: AWS IoT's certificateId
    pem: str
    thing_name: str
    state: LocalState
    not_before: datetime

    @classmethod
    def from_record(cls, record: CertificateRecord) -> LocalCertificate:
        cert = x509.load_pem_x509_certificate(record.pem.encode("ascii"))
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        thing = str(names[0].value) if names else record.board_uid
        if record.status.on_board:
            state = LocalState.ON_BOARD
        elif record.status in (CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED):
            state = LocalState.RETIRED
        else:
            state = LocalState.PENDING
        return cls(
            serial=record.serial,
            board_uid=record.board_uid,
            certificate_id=record.sha256,
            pem=record.pem,
            thing_name=thing,
            state=state,
            not_before=parse_timestamp(record.not_before),
        )


class HandoffSource(Protocol):
    """The certificates to hand over, and the record of every cloud step."""

    def certificates(self) -> Iterable[LocalCertificate]:
        """Every certificate, oldest first."""
        ...

    def cloud_events(self) -> Iterable[Mapping[str, Any]]:
        """The AWS events recorded so far (kind, code, serial, data), in order."""
        ...

    def record(self, event: NewEvent) -> None:
        """Record one AWS event durably before returning."""
        ...


class StationSource:
    """One station's audit database as a handoff source."""

    def __init__(self, audit: AuditDB, ctx: EventContext, clock: Any) -> None:
        self.audit = audit
        self.ctx = ctx
        self.clock = clock

    def certificates(self) -> Iterator[LocalCertificate]:
        for record in self.audit.iter_certificates():
            yield LocalCertificate.from_record(record)

    def cloud_events(self) -> Iterator[Mapping[str, Any]]:
        for event in self.audit.events():
            if str(event["kind"]).startswith("AWS_"):
                yield event

    def record(self, event: NewEvent) -> None:
        self.audit.record_event(event, self.ctx, self.clock())
