"""Fleet views over the store: a board on any station, every station's chain checked on the
server. Read only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.factory.store import Store

#: Every station's stored chain walked by the server: the first seq out of order, not linking
#: to the one before, or not hashing to its hash; and whether the recorded head is the last event.
_VERIFY = """
SELECT s.station_id, s.head_seq, s.head_hash, s.diverged_seq, s.diverged_reason,
       count(x.seq),
       min(x.seq) FILTER (WHERE x.seq <> x.n OR x.prev_hash <> x.prev
           OR x.canonical::jsonb->>'prev_hash' <> x.prev_hash
           OR x.hash <> encode(sha256(convert_to(x.canonical, 'UTF8')), 'hex')),
       max(x.seq), (array_agg(x.hash ORDER BY x.seq DESC))[1]
FROM stations s
LEFT JOIN (
    SELECT e.station_id, e.seq, e.hash, e.prev_hash, e.canonical,
           lag(e.hash, 1, repeat('0', 64)) OVER w AS prev, row_number() OVER w AS n
    FROM events e WINDOW w AS (PARTITION BY e.station_id ORDER BY e.seq)
) x ON x.station_id = s.station_id
GROUP BY s.station_id ORDER BY s.station_id
"""


@dataclass(frozen=True)
class ChainCheck:
    station_id: str
    events: int
    head_seq: int
    first_break: int | None  # the first stored event that breaks the chain
    head_ok: bool  # the station's recorded head is its last stored event
    diverged_seq: int | None
    diverged_reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_break is None and self.head_ok and self.diverged_seq is None

    def describe(self) -> str:
        if self.first_break is not None:
            return (
                f"BAD {self.station_id}: the stored chain breaks at seq {self.first_break}; "
                "the store was altered outside factory_ingest: restore it from its backup"
            )
        if not self.head_ok:
            return (
                f"BAD {self.station_id}: the recorded head (seq {self.head_seq}) is not the "
                "last stored event: restore the store from its backup"
            )
        if self.diverged_seq is not None:
            return (
                f"DIVERGED {self.station_id} at seq {self.diverged_seq}: "
                f"{self.diverged_reason}; resolve with `station factory resolve`"
            )
        return f"OK {self.station_id}: {self.events} events, chain intact"

    def as_dict(self) -> dict[str, Any]:
        return {
            "station": self.station_id,
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "first_break": self.first_break,
            "head_ok": self.head_ok,
            "diverged_seq": self.diverged_seq,
            "diverged_reason": self.diverged_reason,
        }


def verify(store: Store) -> list[ChainCheck]:
    checks = []
    for row in store.rows(_VERIFY):
        station, head_seq, head_hash, dseq, dreason, count, first_break, last, last_hash = row
        head_ok = (last or 0) == head_seq and (last is None or last_hash == head_hash)
        checks.append(
            ChainCheck(station, int(count), int(head_seq), first_break, head_ok, dseq, dreason)
        )
    return checks


def find_board(store: Store, board_uid: str) -> dict[str, Any]:
    """Every certificate and event of a board, on any station."""
    certs = store.rows(
        "SELECT station_id, serial, status, sha256, spki_sha256, not_before, not_after, "
        "issued_at FROM certificates WHERE board_uid = %s ORDER BY issued_at",
        (board_uid,),
    )
    events = store.rows(
        "SELECT station_id, seq, at, kind, operator, slot, serial, code, text FROM events "
        "WHERE board_uid = %s ORDER BY at, station_id, seq",
        (board_uid,),
    )
    cert_keys = ("station", "serial", "status", "sha256", "spki_sha256", "not_before",
                 "not_after", "issued_at")  # fmt: skip
    event_keys = ("station", "seq", "at", "kind", "operator", "slot", "serial", "code", "text")
    return {
        "board": board_uid,
        "certificates": [dict(zip(cert_keys, map(_plain, r), strict=True)) for r in certs],
        "events": [dict(zip(event_keys, map(_plain, r), strict=True)) for r in events],
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
