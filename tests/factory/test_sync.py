"""`station factory sync` against a real PostgreSQL: in sequence, batched, idempotent,
resumable, and checked on the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from station.audit import AuditDB, EventContext
from station.factory.local_chain import LocalChain
from station.factory.migrate import migrate, migrations, schema_version
from station.factory.store import Store
from station.factory.sync import sync
from tests.factory.stations import T0, station_db


def counts(store: Store, station_id: str) -> tuple[int, int, int]:
    (row,) = store.rows(
        "SELECT (SELECT count(*) FROM events WHERE station_id = %(s)s), "
        "(SELECT count(*) FROM certificates WHERE station_id = %(s)s AND status = 'locked'), "
        "(SELECT count(*) FROM reservations WHERE station_id = %(s)s)",
        {"s": station_id},  # type: ignore[arg-type]
    )
    return int(row[0]), int(row[1]), int(row[2])


def test_migrations_apply_once_in_order(store: Store) -> None:
    assert schema_version(store.conn) == len(migrations())
    assert migrate(store.conn) == []  # a second run applies nothing
    rows = store.rows("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(m.version, m.name) for m in migrations()] == [(v, n) for v, n in rows]


def test_sync_pushes_in_batches_and_a_repeat_changes_nothing(
    store: Store, new_db: Callable[[str], Path]
) -> None:
    path = station_db(new_db("st1"), "st1", 30)  # 150 events
    batches: list[int] = []
    with LocalChain(path) as chain:
        report = sync(
            store, chain, "st1", "L1", batch=40, on_batch=lambda r: batches.append(r.pushed)
        )
        assert report.pushed == 150
        assert report.head.seq == 150
        assert not report.diverged
        assert batches == [40, 80, 120, 150]
        assert counts(store, "st1") == (150, 30, 30)
        again = sync(store, chain, "st1", "L1", batch=40)
    assert again.pushed == 0
    assert again.head == report.head
    assert counts(store, "st1") == (150, 30, 30)


def test_sync_resumes_from_the_store_head(store: Store, new_db: Callable[[str], Path]) -> None:
    path = station_db(new_db("st1"), "st1", 10)
    with LocalChain(path) as chain:
        sync(store, chain, "st1", "L1")
    station_db(path, "st1", 10, first=10)  # ten more boards after the first sync
    with LocalChain(path) as chain:
        report = sync(store, chain, "st1", "L1")
    assert report.pushed == 50
    assert report.head.seq == 100
    assert counts(store, "st1") == (100, 20, 20)


def test_the_server_refuses_an_event_that_does_not_hash(store: Store) -> None:
    """The check is the server's: a client that sends a made-up event is refused there."""
    canonical = '{"seq":1,"prev_hash":"' + "0" * 64 + '"}'
    result = store.ingest("rogue", "L1", [(1, "f" * 64, canonical)], (1, "f" * 64))
    assert result.head.diverged_seq == 1
    assert "hash" in (result.head.diverged_reason or "")
    assert store.rows("SELECT count(*) FROM events")[0][0] == 0
    with pytest.raises(psycopg.errors.CheckViolation):  # even the table itself refuses it
        store.conn.execute(
            "INSERT INTO events (station_id, seq, hash, prev_hash, at, kind, data, canonical) "
            "VALUES ('rogue', 1, %s, '', now(), 'X', '{}', %s)",
            ("f" * 64, canonical),
        )


def test_a_station_cannot_push_another_stations_events(
    store: Store, new_db: Callable[[str], Path]
) -> None:
    path = station_db(new_db("st1"), "st1", 2)
    with LocalChain(path) as chain:
        report = sync(store, chain, "st2", "L1")
    assert report.head.diverged_seq == 1
    assert report.head.diverged_reason == "event 1 was recorded by station st1, not st2"
    assert store.rows("SELECT count(*) FROM events") == [(0,)]


@pytest.mark.parametrize("batch", [1, 3, 7, 1000])
def test_certificates_take_the_stations_status_whatever_the_batches(
    store: Store, new_db: Callable[[str], Path], batch: int
) -> None:
    """Batches that cut a board's cycle anywhere (ISSUED in one, LOCKED in a later one) leave
    each certificate in the store with the status the station holds."""
    path = station_db(new_db("st1"), "st1", 6)
    with AuditDB.open(path) as audit:  # one revoked after it was locked, in a later batch
        first = next(audit.iter_certificates()).serial
        audit.revoke(first, "key compromise", T0, EventContext(station_id="st1"))
        expected = {c.serial: c.status.value for c in audit.iter_certificates()}
    with LocalChain(path) as chain:
        assert not sync(store, chain, "st1", "L1", batch=batch).diverged
    stored = store.rows("SELECT serial, status FROM certificates WHERE station_id = 'st1'")
    assert dict(stored) == expected
    assert sorted(set(expected.values())) == ["locked", "revoked"]
