"""`station audit verify` on a real database after real provisioning, untouched and tampered."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer
from station.audit import AuditDB, verify
from station.engine.gang import provision_all
from station.engine.station import StationContext
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]


def audit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "audit", *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )


@pytest.fixture
def provisioned(station: StationContext, make_board: MakeBoard, home: Path) -> Path:
    boards = [make_board() for _ in range(3)]
    results = provision_all(station, [b.url for b in boards], operator="op-1")
    assert all(r.passed for r in results)
    station.audit.close()
    return home / "audit.db"


def tamper(db: Path, *sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER IF EXISTS events_append_only_update")
    conn.execute("DROP TRIGGER IF EXISTS events_append_only_delete")
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_an_untouched_database_verifies(provisioned: Path, home: Path) -> None:
    result = audit(home, "verify", "--json")
    assert result.returncode == 0, result
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["events"] == 1 + 15  # STATION_INIT, then 3 boards x 5 events


def test_the_triggers_refuse_an_update_through_sqlite(provisioned: Path) -> None:
    conn = sqlite3.connect(provisioned)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE events SET text = 'x' WHERE seq = 2")
    conn.close()


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        pytest.param(
            ["UPDATE events SET operator = 'mallory' WHERE seq = 7"],
            "event seq 7",
            id="update-event",
        ),
        pytest.param(["DELETE FROM events WHERE seq = 4"], "event seq 5", id="delete-event"),
        pytest.param(
            [
                "UPDATE events SET seq = 100 WHERE seq = 3",
                "UPDATE events SET seq = 3 WHERE seq = 4",
                "UPDATE events SET seq = 4 WHERE seq = 100",
            ],
            "event seq 3",
            id="reorder-events",
        ),
        pytest.param(
            ["UPDATE certificates SET status = 'issued' WHERE rowid = 2"],
            "certificate",
            id="update-certificate-status",
        ),
        pytest.param(
            ["DELETE FROM certificates WHERE rowid = 1"], "row missing", id="delete-certificate"
        ),
    ],
)
def test_tampering_makes_verify_exit_1_naming_the_row(
    provisioned: Path, home: Path, sql: list[str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper(provisioned, "PRAGMA foreign_keys=OFF", *sql)
    result = audit(home, "verify")
    assert result.returncode == 1, result
    assert "BAD" in result.stdout
    assert named in result.stdout
    assert "Traceback" not in result.stderr
    # The parallel walk (used on big databases) finds the same first break as one pass.
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
    with AuditDB.open(provisioned) as db:
        sequential = verify.walk(db.events())
    for workers in (2, 3, 5):
        parallel = verify.walk_file(provisioned, workers=workers)
        assert parallel.broken_at == sequential.broken_at
        assert (parallel.count, parallel.head_hash) == (sequential.count, sequential.head_hash)
        assert parallel.status == sequential.status


def test_list_and_show(provisioned: Path, home: Path) -> None:
    listed = audit(home, "list", "--json")
    assert listed.returncode == 0
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 3
    assert {r["status"] for r in rows} == {"locked"}
    shown = audit(home, "show", rows[0]["serial"], "--json")
    record = json.loads(shown.stdout)
    assert record["board"] == rows[0]["board_uid"]
    assert [e["kind"] for e in record["events"]] == [
        "STARTED",
        "ISSUED",
        "DELIVERED",
        "VERIFIED",
        "LOCKED",
    ]
    missing = audit(home, "show", "NO-SUCH-BOARD")
    assert missing.returncode == 1
    assert "nothing recorded" in missing.stderr
