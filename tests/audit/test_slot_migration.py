"""Schema version 4 stores slot names as text; chains recorded before it keep verifying."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from station.audit import AuditDB
from station.audit.chain import GENESIS, canonical_data, event_hash
from station.audit.migrations import MIGRATIONS
from station.audit.records import EventContext, NewEvent, slot_name
from tests.engine.conftest import ENV, home, template_home  # noqa: F401 - fixtures

#: Before version 4 a numbered slot was stored as its integer and a named slot as null.
OLD_SLOTS: list[int | None] = [1, 2, None, 4, None]


def old_database(path: Path, station_id: str) -> None:
    """An audit database as version 3 made it: the released migrations 1-3, and events whose
    slot is an integer or null, hash-chained as they were written then."""
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    conn.execute("BEGIN")
    for version, migration in enumerate(MIGRATIONS[:3], start=1):
        migration(db)
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, '2025-01-01T00:00:00.000000Z')", (version,)
        )
    prev = GENESIS
    for seq, slot in enumerate(OLD_SLOTS, start=1):
        row: dict[str, Any] = {
            "seq": seq,
            "at": f"2025-01-01T08:00:0{seq}.000000Z",
            "kind": "FAILED",
            "station_id": station_id,
            "operator": "op-1",
            "slot": slot,
            "port": f"/dev/ttyUSB{seq}",
            "board_uid": f"board-{seq}",
            "serial": None,
            "code": "board-error.TIMEOUT",
            "text": "the board stopped answering",
            "data": canonical_data({"step": "keygen"}),
            "prev_hash": prev,
        }
        row["hash"] = prev = event_hash(row)
        conn.execute(
            f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    conn.execute("COMMIT")
    conn.close()


def audit_verify(station_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(station_home), "audit", "verify"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )


def test_a_version_3_database_migrates_and_its_chain_still_verifies(
    home: Path,  # noqa: F811 - the fixture imported above
) -> None:
    path = home / "audit.db"
    for leftover in home.glob("audit.db*"):
        leftover.unlink()
    old_database(path, "line-7")

    first = audit_verify(home)  # opening the database migrates it
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith(f"OK {len(OLD_SLOTS)} events")

    with AuditDB.open(path) as audit:
        assert audit.schema_version == len(MIGRATIONS)
        stored = [e["slot"] for e in audit.events()]
        assert stored == OLD_SLOTS, "old events keep the slot they were hashed with"
        at = datetime(2025, 1, 2, tzinfo=UTC)
        for name in ("A", "B", "C", "D"):
            ctx = EventContext("line-7", "op-2", name, "/dev/ttyUSB0")
            audit.record_event(NewEvent("NOTE", f"board-{name}"), ctx, at)
        assert audit.first_broken_event() is None

    conn = sqlite3.connect(path)
    new = conn.execute("SELECT slot, typeof(slot) FROM events WHERE kind = 'NOTE' ORDER BY seq")
    assert new.fetchall() == [(n, "text") for n in ("A", "B", "C", "D")]
    kept = conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'events' ORDER BY name")
    assert {name for (name,) in kept} >= {
        "events",
        "events_append_only_update",
        "events_append_only_delete",
        "events_slot_is_text",
        "idx_events_at",
        "idx_events_board_uid",
        "idx_events_kind",
        "idx_events_serial",
    }
    conn.close()

    second = audit_verify(home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.startswith(f"OK {len(OLD_SLOTS) + 4} events")


def test_after_the_migration_events_stay_append_only_and_new_slots_are_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.db"
    old_database(path, "line-7")
    AuditDB.open(path).close()
    conn = sqlite3.connect(path)
    for statement in ("UPDATE events SET slot = 'A' WHERE seq = 1", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    with pytest.raises(sqlite3.IntegrityError, match="slot"):
        conn.execute(
            "INSERT INTO events (seq, at, kind, station_id, slot, data, prev_hash, hash) "
            "VALUES (99, 'x', 'NOTE', 's', 3, '{}', 'p', 'h')"
        )
    conn.close()


@pytest.mark.parametrize(("stored", "name"), [("A", "A"), ("3", "3"), (3, "3"), (None, None)])
def test_slot_name_reads_new_and_old_rows(stored: object, name: str | None) -> None:
    assert slot_name(stored) == name
