"""A station database altered after it synced: the next sync detects it, names the first bad
seq, marks the station diverged, and the store takes nothing more until a supervisor resolves
it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from station.audit import AuditDB
from station.factory.errors import FactoryError
from station.factory.local_chain import LocalChain
from station.factory.store import Store
from station.factory.supervise import resolve
from station.factory.sync import SyncReport, sync
from tests.factory.stations import station_db
from tests.factory.tamper import rewrite, truncate


def push(store: Store, path: Path, batch: int = 2000) -> SyncReport:
    with LocalChain(path) as chain:
        return sync(store, chain, "st1", "L1", batch=batch)


@pytest.fixture
def synced(store: Store, new_db: Callable[[str], Path]) -> Path:
    """A station with 20 boards (100 events), all synced."""
    path = station_db(new_db("st1"), "st1", 20)
    assert push(store, path).head.seq == 100
    return path


def test_rewritten_and_recomputed_chain(store: Store, synced: Path) -> None:
    rewrite(synced, 37, "nothing happened here")
    with AuditDB.open(synced) as audit:
        assert audit.first_broken_event() is None  # no local check can see it
    station_db(synced, "st1", 2, first=20)  # the line goes on after the rewrite
    report = push(store, synced)
    assert report.head.diverged_seq == 37
    assert "rewritten or forked" in (report.head.diverged_reason or "")
    assert report.pushed == 0
    assert report.head.seq == 100  # nothing of the altered history was taken
    assert store.rows("SELECT count(*) FROM events WHERE station_id = 'st1'")[0][0] == 100


def test_newest_events_deleted(store: Store, synced: Path) -> None:
    truncate(synced, 88)
    report = push(store, synced)
    assert report.head.diverged_seq == 89
    assert "deleted" in (report.head.diverged_reason or "")


def test_truncated_then_new_events_on_top(store: Store, synced: Path) -> None:
    truncate(synced, 88)
    station_db(synced, "st1", 5, first=50)  # seqs 89.. again, with other events
    assert push(store, synced).head.diverged_seq == 89


def test_a_different_history_with_the_same_seqs(
    store: Store, synced: Path, new_db: Callable[[str], Path]
) -> None:
    other = station_db(new_db("other"), "st1", 20, first=1000)
    shutil.copy(other, synced)
    assert push(store, synced).head.diverged_seq == 1


def test_diverged_accepts_nothing_until_resolved(store: Store, synced: Path) -> None:
    rewrite(synced, 60, "edited")
    assert push(store, synced).head.diverged_seq == 60
    again = push(store, synced, batch=7)
    assert again.pushed == 0
    assert again.head.diverged_seq == 60
    assert store.reserve("st1", "L1", "a" * 64, "B-new").outcome == "diverged"

    outcome = resolve(store, "st1", "database restored from the line PC's backup, see ticket 42")
    assert outcome.archived == 41  # seqs 60..100 kept aside, not deleted
    assert outcome.head_seq == 59
    report = push(store, synced)  # the station's history as it is now
    assert report.head.diverged_seq is None
    assert report.head.seq == 100
    (row,) = store.rows("SELECT seq, note FROM divergences WHERE station_id = 'st1'")
    assert row == (60, "database restored from the line PC's backup, see ticket 42")
    assert store.rows("SELECT count(*) FROM archived_events")[0][0] == 41


def test_resolving_a_station_that_is_not_diverged_is_refused(store: Store, synced: Path) -> None:
    with pytest.raises(FactoryError, match="not diverged"):
        resolve(store, "st1", "by mistake")
