"""Seed an audit database with many provisioned boards, fast, with a valid hash chain.

Each board gets what a real cycle writes: a boards row, a certificate row (status locked) and
the five events STARTED, ISSUED (with the PEM), DELIVERED, VERIFIED, LOCKED. Certificates are
copies of one real certificate with the serial bytes replaced (unique DER, unique fingerprint;
the signature no longer verifies, which nothing in the audit database checks).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.audit.certificates import CertificateStatus
from station.audit.chain import GENESIS, HASHED_COLUMNS, canonical_data, event_hash
from station.audit.records import parse_timestamp, timestamp

BATCH = 5000
_EVENT_COLUMNS = (*HASHED_COLUMNS, "hash")


def _variants(template: x509.Certificate, first: int) -> Iterator[tuple[str, str, str]]:
    """(serial hex, PEM, DER SHA-256) of endless unique copies of ``template``, the first one
    the copy number ``first + 1``."""
    der = template.public_bytes(serialization.Encoding.DER)
    serial = template.serial_number.to_bytes(20, "big")
    at = der.index(b"\x02\x14" + serial) + 2
    n = first
    while True:
        n += 1
        new = (0x40 << 152 | n).to_bytes(20, "big")
        copy = der[:at] + new + der[at + 20 :]
        body = base64.b64encode(copy).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        pem = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
        yield new.hex(), pem, hashlib.sha256(copy).hexdigest()


def seed(
    db_path: Path, template: x509.Certificate, boards: int, station_id: str, first: int = 0
) -> tuple[int, datetime]:
    """Append ``boards`` provisioned boards to the database (``SEED-<first>`` on, so seeding
    again goes on with new boards and certificates), board i provisioned one second after
    board i-1, the first one second after the newest event (the latest ``at``); returns the
    events written and the first board's time."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # a bulk load: durable once, at the end
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    newest_at = conn.execute("SELECT MAX(at) FROM events").fetchone()[0]  # not the last seq's
    newest = parse_timestamp(newest_at) if newest_at else datetime(2026, 1, 1, tzinfo=UTC)
    start = newest.replace(microsecond=0) + timedelta(seconds=1)
    variants = _variants(template, first)
    written = 0
    for batch in range(first, first + boards, BATCH):
        board_rows, cert_rows, event_rows = [], [], []
        for i in range(batch, min(batch + BATCH, first + boards)):
            uid = f"SEED-{i:08d}"
            serial, pem, sha = next(variants)
            spki = hashlib.sha256(uid.encode()).hexdigest()
            at = timestamp(start + timedelta(seconds=i - first))
            board_rows.append((uid, "SEED", "1.0.0", at, at))
            cert_rows.append(
                (
                    serial,
                    uid,
                    sha,
                    spki,
                    f"CN={uid}",
                    at,
                    "2046-01-01T00:00:00Z",
                    pem,
                    CertificateStatus.LOCKED.value,
                )
            )
            issued = {
                "sha256": sha,
                "spki_sha256": spki,
                "subject": f"CN={uid}",
                "not_before": at,
                "not_after": "2046-01-01T00:00:00Z",
                "model": "SEED",
                "firmware": "1.0.0",
                "pem": pem,
            }
            for kind, cert, data in (
                ("STARTED", None, {"state": "blank", "firmware": "1.0.0"}),
                ("ISSUED", serial, issued),
                ("DELIVERED", serial, {"previous_status": CertificateStatus.ISSUED.value}),
                ("VERIFIED", serial, {"previous_status": CertificateStatus.DELIVERED.value}),
                ("LOCKED", serial, {"previous_status": CertificateStatus.VERIFIED.value}),
            ):
                seq += 1
                row: dict[str, Any] = {
                    "seq": seq,
                    "at": at,
                    "kind": kind,
                    "station_id": station_id,
                    "operator": "seed",
                    "slot": str(1 + i % 16),
                    "port": f"/dev/ttyUSB{i % 16}",
                    "board_uid": uid,
                    "serial": cert,
                    "code": None,
                    "text": f"CN={uid}" if kind == "ISSUED" else None,
                    "data": canonical_data(data),
                    "prev_hash": prev,
                }
                row["hash"] = prev = event_hash(row)
                event_rows.append(tuple(row[c] for c in _EVENT_COLUMNS))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO boards VALUES (?, ?, ?, ?, ?)", board_rows)
        conn.executemany(
            "INSERT INTO certificates (serial, board_uid, sha256, spki_sha256, subject, "
            "not_before, not_after, pem, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cert_rows,
        )
        conn.executemany(
            f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})",
            event_rows,
        )
        conn.execute("COMMIT")
        written += len(event_rows)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return written, start
