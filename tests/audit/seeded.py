"""A real audit database with many provisioned boards (the bench's seeding), and tampering."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.audit import AuditDB
from station.audit.chain import GENESIS, event_hash, first_broken
from station.bench.seed import seed

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def template() -> x509.Certificate:
    """A certificate with a 20-byte serial, as the seeding needs."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "template")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x40 << 152 | 0x1234)
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def seeded(path: Path, boards: int) -> Path:
    """A database at ``path`` with ``boards`` provisioned boards (5 events each)."""
    AuditDB.open(path).close()
    seed(path, template(), boards, "test-1")
    return path


def tamper(path: Path, *sql: str | tuple[str, tuple[Any, ...] | Mapping[str, Any]]) -> None:
    """Run statements with the append-only triggers dropped (what an attacker with the file
    can do). A statement that fails rolls the others back and leaves no lock behind."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_append_only_update")
        conn.execute("DROP TRIGGER IF EXISTS events_append_only_delete")
        conn.execute("DROP TRIGGER IF EXISTS events_slot_is_text")
        for statement in sql:
            if isinstance(statement, tuple):
                conn.execute(*statement)
            else:
                conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def event(path: Path, seq: int) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()
    conn.close()
    return dict(row)


def reference_break(path: Path) -> int | None:
    """The first broken event by the definition (station.audit.chain), one row at a time."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return first_broken(dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq"))
    finally:
        conn.close()


def link_of(path: Path, seq: int) -> str:
    return GENESIS if seq == 1 else str(event(path, seq - 1)["hash"])


def rehash_after(path: Path, k: int) -> None:
    """Re-link every event after k (the chain stays whole: only the changed values differ)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    prev = conn.execute("SELECT hash FROM events WHERE seq = ?", (k,)).fetchone()[0]
    for row in conn.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq", (k,)).fetchall():
        fixed = {**dict(row), "prev_hash": prev}
        prev = event_hash(fixed)
        conn.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?",
            (fixed["prev_hash"], prev, row["seq"]),
        )
    conn.commit()
    conn.close()
