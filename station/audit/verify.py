"""`audit verify`: walk the hash chain, then check the certificates table against the chain.

The certificates table is a projection of the events: replaying ISSUED, DELIVERED, VERIFIED,
LOCKED, REVOKED and SUPERSEDED must give each row's status, and each row's DER fingerprint must
be the one its ISSUED event recorded. So an UPDATE, DELETE or reordering of either table names
the first row that no longer fits. One streaming pass over each table: memory grows with the
number of certificates (a status and a fingerprint each), not with the number of events.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.audit.certificates import CertificateRecord
from station.audit.chain import GENESIS
from station.audit.chain_read import walk_range
from station.audit.chain_scan import COLUMNS, ChainState, scan
from station.audit.readonly import connect_readonly
from station.phrasing import quoted

__all__ = [
    "COLUMNS",
    "ChainState",
    "Finding",
    "check",
    "file_findings",
    "findings",
    "walk",
    "walk_file",
]


@dataclass(frozen=True)
class Finding:
    table: str
    key: str  # events: the seq; certificates: the serial
    problem: str

    def __str__(self) -> str:
        row = "event seq" if self.table == "events" else "certificate"
        return f"{self.table}: {row} {self.key}: {self.problem}"


def walk(events: Iterable[Mapping[str, Any]], start_seq: int = 1) -> ChainState:
    """Check each event's sequence, link and hash, and replay certificate statuses.

    From ``start_seq`` (1: the whole chain, whose first link is the genesis hash).
    """
    rows = (tuple(e.get(c) for c in COLUMNS) for e in events)
    return scan(rows, start_seq, GENESIS if start_seq == 1 else None)


def walk_file(path: Path, workers: int | None = None) -> ChainState:
    """:func:`walk` over a database file, cut into sequence ranges checked in parallel
    processes; the links between ranges are checked when the ranges are merged."""
    conn = connect_readonly(Path(path))
    try:
        last = int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
    finally:
        conn.close()
    bounds = ranges(last, workers or min(os.cpu_count() or 1, 8))
    if len(bounds) == 1:
        return walk_range(path, *bounds[0])
    with ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(bounds))) as pool:
        parts = list(pool.map(walk_range, [path] * len(bounds), *zip(*bounds, strict=True)))
    state = parts[0]
    for part in parts[1:]:
        state = state.then(part)
    return state


#: Below this many events one process walks the chain (starting workers costs more).
PARALLEL_FROM = 50_000
#: Sequence ranges per worker process: more ranges than workers, so a worker slowed by another
#: program on its core does fewer of them.
RANGES_PER_WORKER = 8


def ranges(last: int, workers: int) -> list[tuple[int, int]]:
    """The sequence ranges ``(lo, hi)`` that walk events 1..``last`` with ``workers``
    processes (one range below :data:`PARALLEL_FROM` events or with one worker)."""
    if last < PARALLEL_FROM or workers <= 1:
        return [(1, max(last, 1))]
    step = max(-(-last // (workers * RANGES_PER_WORKER)), PARALLEL_FROM // 2, 1)
    return [(lo, min(lo + step - 1, last)) for lo in range(1, last + 1, step)]


_PEM_HEAD = "-----BEGIN CERTIFICATE-----\n"
_PEM_TAIL = "\n-----END CERTIFICATE-----\n"


def pem_sha256(pem: str) -> str | None:
    """SHA-256 of the DER inside a one-certificate PEM (no X.509 parsing: fast at scale)."""
    # binascii.a2b_base64(strict_mode=True) is what base64.b64decode(validate=True) runs, without
    # its wrapper (about 0.7 of the 2.5 us a certificate's decode took); a str that is not ASCII
    # raises ValueError in both.
    if pem.startswith(_PEM_HEAD) and pem.endswith(_PEM_TAIL):
        # The usual shape: base64 lines between the two markers. Anything else in the body
        # (another marker, a CR, a stray character) fails the strict decode: the general way.
        body = pem[len(_PEM_HEAD) : -len(_PEM_TAIL)].replace("\n", "")
        try:
            return hashlib.sha256(binascii.a2b_base64(body, strict_mode=True)).hexdigest()
        except (binascii.Error, ValueError):
            pass
    lines = [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]
    try:
        return hashlib.sha256(binascii.a2b_base64("".join(lines), strict_mode=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def check(
    events: Iterable[Mapping[str, Any]], certificates: Iterable[CertificateRecord]
) -> list[Finding]:
    """Every problem found, the chain's first break first."""
    state = walk(events)
    return findings(state, certificates)


def findings(state: ChainState, certificates: Iterable[CertificateRecord]) -> list[Finding]:
    """Every problem in the walked chain and the certificate records."""
    rows = (
        (c.serial, c.status.value, c.sha256, pem_sha256(c.pem) == c.sha256) for c in certificates
    )
    return _findings(state, rows)


def file_findings(state: ChainState, path: Path) -> list[Finding]:
    """:func:`findings` with the certificate records read straight from the database file."""
    conn = connect_readonly(path)
    try:
        rows = conn.execute("SELECT serial, status, sha256, pem FROM certificates ORDER BY rowid")
        return _findings(state, ((s, st, sha, pem_sha256(pem) == sha) for s, st, sha, pem in rows))
    finally:
        conn.close()


def compare_records(state: ChainState, path: Path, bad_pem: set[str]) -> list[Finding]:
    """:func:`file_findings` with the PEMs already checked: ``bad_pem`` are the serials whose
    PEM does not hold the DER their fingerprint names (see :mod:`station.audit.verify_file`)."""
    conn = connect_readonly(path)
    try:
        rows = conn.execute("SELECT serial, status, sha256 FROM certificates ORDER BY rowid")
        return _findings(state, ((s, st, sha, s not in bad_pem) for s, st, sha in rows))
    finally:
        conn.close()


def certificate_findings(state: ChainState, conn: sqlite3.Connection) -> list[Finding]:
    """:func:`findings` for a walk of part of the chain (the events after a checkpoint): the
    break, and the records of the certificates those events name (fingerprints of those
    issued in it)."""
    serials = sorted(state.status)
    rows: list[tuple[str, str, str, bool]] = []
    for n in range(0, len(serials), 500):
        chunk = serials[n : n + 500]
        rows += (
            (serial, stored, sha, pem_sha256(pem) == sha)
            for serial, stored, sha, pem in conn.execute(
                "SELECT serial, status, sha256, pem FROM certificates "  # noqa: S608
                f"WHERE serial IN ({', '.join('?' * len(chunk))}) ORDER BY rowid",
                chunk,
            )
        )
    return _findings(state, rows, partial=True)


def _findings(
    state: ChainState, certificates: Iterable[tuple[str, str, str, bool]], partial: bool = False
) -> list[Finding]:
    """Certificate rows are (serial, status as stored, sha256, whether the PEM's DER has that
    sha256); ``partial``: the walk began after some certificates were issued, whose
    fingerprints it does not know."""
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
    for serial, stored, fingerprint, pem_matches in certificates:
        expected = status.pop(serial, None)
        if expected is None:
            out.append(Finding("certificates", serial, "no ISSUED event for this row"))
            continue
        if stored != expected:
            out.append(
                Finding(
                    "certificates",
                    serial,
                    f"status {quoted(stored)} but the events say {quoted(expected.value)}",
                )
            )
        if partial and serial not in sha:
            continue
        if fingerprint != sha.get(serial) or not pem_matches:
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
