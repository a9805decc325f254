"""The export's window and events.jsonl at the edges of the fast paths: the since-window read
through the at index, and events SQLite writes otherwise than the definition."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from station.audit.chain import canonical_text, event_hash
from station.audit.records import parse_timestamp
from station.audit.snapshot import AuditSnapshot
from station.bench.seed import seed
from tests.audit.seeded import event, rehash_after, tamper, template
from tests.export.helpers import cms_verify
from tests.export.helpers import station as run


def test_the_since_window_reads_the_at_index(home: Path) -> None:
    """MIN(seq) alone walks the events from seq 1 (seconds at a million boards)."""
    seed(home / "audit.db", template(), 3, "line-7")
    with AuditSnapshot(home / "audit.db") as snap:
        traced: list[str] = []
        snap._conn.set_trace_callback(traced.append)
        snap.window_between(parse_timestamp(event(home / "audit.db", 3)["at"]), None)
        (sql,) = [s for s in traced if "MIN(" in s]
        plan = snap._conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    assert "USING COVERING INDEX idx_events_at" in plan[0][-1]


def test_events_sqlite_writes_otherwise_export_as_the_definition(
    home: Path, tmp_path: Path
) -> None:
    """An integer slot (schema 3) and a REAL (which SQLite writes otherwise than the
    definition): events.jsonl holds the definition's bytes."""
    db = home / "audit.db"
    seed(db, template(), 4, "line-7")
    for k, slot in ((4, 3), (6, 1.5)):
        row = {**event(db, k), "slot": slot}

        tamper(
            db, ("UPDATE events SET slot = ?, hash = ? WHERE seq = ?", (slot, event_hash(row), k))
        )
        rehash_after(db, k)
    out = tmp_path / "export"
    done = run(home, "audit", "export", "--out", out, "--until", "2099-01-01T00:00Z")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]
    conn.close()
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    expected = [f'{canonical_text(r)[:-1]},"hash":"{r["hash"]}"}}' for r in rows[: len(lines)]]
    assert lines == expected
    assert json.loads(lines[3])["slot"] == 3
    assert run(home, "audit", "verify-export", out).returncode == 0
    assert cms_verify(out, home / "ca/root.cert.pem").returncode == 0


def test_a_blob_in_the_window_refuses_the_export(home: Path, tmp_path: Path) -> None:
    db = home / "audit.db"
    seed(db, template(), 2, "line-7")
    tamper(db, ("UPDATE events SET text = ? WHERE seq = 4", (b"\x00\x01",)))
    done = run(home, "audit", "export", "--out", tmp_path / "export")
    assert done.returncode == 1
    assert "breaks the hash chain; nothing was exported" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "export").exists()
