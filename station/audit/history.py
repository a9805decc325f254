"""One board's history: what `station audit show` prints, read through indexes only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.audit.certificates import CertificateRecord
from station.audit.db import AuditDB


@dataclass(frozen=True)
class BoardHistory:
    """A board's certificates (newest first) and events (in chain order)."""

    board: str
    certificates: list[CertificateRecord]
    events: list[dict[str, Any]]

    @property
    def empty(self) -> bool:
        return not self.certificates and not self.events

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for JSON)."""
        return {
            "board": self.board,
            "certificates": [c.as_dict() for c in self.certificates],
            "events": self.events,
        }


def board_history(db: AuditDB, ident: str) -> BoardHistory:
    """The history of board ``ident``, or of the board that holds certificate ``ident`` (a
    serial in hex). Each read is an index search, so it costs the same at any database size."""
    cert = db.certificate(ident.lower())
    uid = cert.board_uid if cert else ident
    return BoardHistory(uid, db.board_certificates(uid), db.board_events(uid))
