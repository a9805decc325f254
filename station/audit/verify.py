"""`audit verify`: walk the hash chain, then check the certificates table against the chain.

The certificates table is a projection of the events: replaying ISSUED, DELIVERED, VERIFIED,
LOCKED, REVOKED and SUPERSEDED must give each row's status, and each row's DER fingerprint must
be the one its ISSUED event recorded. So an UPDATE, DELETE or reordering of either table names
the first row that no longer fits. One streaming pass over each table: memory grows with the
number of certificates (a status and a fingerprint each), not with the number of events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.audit.certificates import CertificateRecord, CertificateStatus
from station.audit.chain import GENESIS, SORTED_COLUMNS, values_hash
from station.audit.readonly import connect_readonly
from station.phrasing import quoted

#: The hashed columns in canonical order, then the stored hash: how rows are walked.
COLUMNS = (*SORTED_COLUMNS, "hash")
_SEQ = COLUMNS.index("seq")
_PREV = COLUMNS.index("prev_hash")
_SERIAL = COLUMNS.index("serial")
_KIND = COLUMNS.index("kind")
_DATA = COLUMNS.index("data")
_HASH = COLUMNS.index("hash")
# ISSUED data is canonical JSON with sorted keys: its "sha256" key follows "{" or ",".
_SHA_RE = re.compile(r'[{,]"sha256":"([0-9a-f]{64})"')

_STATUS_OF = {
    "ISSUED": CertificateStatus.ISSUED,
    "DELIVERED": CertificateStatus.DELIVERED,
    "VERIFIED": CertificateStatus.VERIFIED,
    "LOCKED": CertificateStatus.LOCKED,
    "REVOKED": CertificateStatus.REVOKED,
}


@dataclass(frozen=True)
class Finding:
    table: str
    key: str  # events: the seq; certificates: the serial
    problem: str

    def __str__(self) -> str:
        row = "event seq" if self.table == "events" else "certificate"
        return f"{self.table}: {row} {self.key}: {self.problem}"


@dataclass
class ChainState:
    """What a pass over (a range of) the events learns: the first break, the ends, and each
    certificate's last status and issued fingerprint."""

    broken_at: int | None = None
    first_seq: int | None = None
    first_prev: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS
    count: int = 0
    status: dict[str, CertificateStatus] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)

    def feed(self, row: Sequence[Any], expected_seq: int, prev: str | None) -> None:
        """One event as a tuple in :data:`COLUMNS` order; ``prev`` None means "first of a
        range: its link is checked on merge"."""
        seq = row[_SEQ]
        if self.first_seq is None:
            self.first_seq, self.first_prev = seq, row[_PREV]
        if self.broken_at is None and (
            seq != expected_seq
            or (prev is not None and row[_PREV] != prev)
            or values_hash(row[:_HASH]) != row[_HASH]
        ):
            self.broken_at = seq
        self.count += 1
        self.head_seq, self.head_hash = seq, row[_HASH]
        serial, kind = row[_SERIAL], row[_KIND]
        if not serial:
            return
        if kind == "ISSUED":
            found = _SHA_RE.search(row[_DATA])
            self.sha256[serial] = found.group(1) if found else ""
        if kind in _STATUS_OF:
            self.status[serial] = _STATUS_OF[kind]
        elif kind == "SUPERSEDED":
            revoked = json.loads(row[_DATA]).get("revoked")
            self.status[serial] = (
                CertificateStatus.REVOKED if revoked else CertificateStatus.SUPERSEDED
            )

    def then(self, later: ChainState) -> ChainState:
        """This range followed by the next one (ranges merge in sequence order)."""
        if later.count == 0:
            return self
        broken = self.broken_at
        if broken is None and (
            later.first_seq != self.head_seq + 1 or later.first_prev != self.head_hash
        ):
            broken = later.first_seq
        if broken is None:
            broken = later.broken_at
        self.status.update(later.status)
        self.sha256.update(later.sha256)
        return ChainState(
            broken,
            self.first_seq,
            self.first_prev,
            later.head_seq,
            later.head_hash,
            self.count + later.count,
            self.status,
            self.sha256,
        )


def walk(events: Iterable[Mapping[str, Any]], start_seq: int = 1) -> ChainState:
    """Check each event's sequence, link and hash, and replay certificate statuses.

    From ``start_seq`` (1: the whole chain, whose first link is the genesis hash).
    """
    return _walk_rows(([e.get(c) for c in COLUMNS] for e in events), start_seq)


def _walk_rows(rows: Iterable[Sequence[Any]], start_seq: int) -> ChainState:
    state = ChainState()
    prev: str | None = GENESIS if start_seq == 1 else None
    expected = start_seq
    for row in rows:
        state.feed(row, expected, prev)
        prev, expected = state.head_hash, expected + 1
    return state


def _walk_range(path: str, lo: int, hi: int) -> ChainState:
    conn = connect_readonly(Path(path))
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq BETWEEN ? AND ? "  # noqa: S608
            "ORDER BY seq",
            (lo, hi),
        )
        return _walk_rows(cursor, start_seq=lo)
    finally:
        conn.close()


def walk_file(path: Path, workers: int | None = None) -> ChainState:
    """:func:`walk` over a database file, cut into sequence ranges checked in parallel
    processes; the links between ranges are checked when the ranges are merged."""
    conn = connect_readonly(Path(path))
    try:
        last = int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
    finally:
        conn.close()
    workers = workers or min(os.cpu_count() or 1, 8)
    if last < PARALLEL_FROM or workers == 1:
        return _walk_range(str(path), 1, max(last, 1))
    step = -(-last // workers)
    bounds = [(lo, min(lo + step - 1, last)) for lo in range(1, last + 1, step)]
    with ProcessPoolExecutor(max_workers=len(bounds)) as pool:
        parts = list(
            pool.map(
                _walk_range,
                [str(path)] * len(bounds),
                [lo for lo, _ in bounds],
                [hi for _, hi in bounds],
            )
        )
    state = parts[0]
    for part in parts[1:]:
        state = state.then(part)
    return state


#: Below this many events one process walks the chain (starting workers costs more).
PARALLEL_FROM = 50_000


def pem_sha256(pem: str) -> str | None:
    """SHA-256 of the DER inside a one-certificate PEM (no X.509 parsing: fast at scale)."""
    lines = [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]
    try:
        return hashlib.sha256(base64.b64decode("".join(lines), validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def check(
    events: Iterable[Mapping[str, Any]], certificates: Iterable[CertificateRecord]
) -> list[Finding]:
    """Every problem found, the chain's first break first."""
    state = walk(events)
    return findings(state, certificates)


def findings(state: ChainState, certificates: Iterable[CertificateRecord]) -> list[Finding]:
    out = []
    if state.broken_at is not None:
        out.append(
            Finding(
                "events",
                str(state.broken_at),
                "hash chain broken here (row changed, removed or reordered)",
            )
        )
    status = dict(state.status)
    sha = state.sha256
    for row in certificates:
        serial = row.serial
        expected = status.pop(serial, None)
        if expected is None:
            out.append(Finding("certificates", serial, "no ISSUED event for this row"))
            continue
        if row.status != expected:
            out.append(
                Finding(
                    "certificates",
                    serial,
                    f"status {quoted(row.status.value)}"
                    f" but the events say {quoted(expected.value)}",
                )
            )
        if row.sha256 != sha.get(serial) or pem_sha256(row.pem) != row.sha256:
            out.append(
                Finding(
                    "certificates",
                    serial,
                    "certificate or fingerprint differs from the one recorded when it was issued",
                )
            )
    for serial in sorted(status):
        out.append(Finding("certificates", serial, "row missing (the events record it)"))
    return out
