"""The fast full verify (SQLite writes the canonical bytes, ranges walked in worker processes)
finds and names tampering exactly as the definition does: in the first and the last range,
and on both sides of a boundary between ranges."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.audit import verify
from station.audit.chain import SORTED_COLUMNS, event_hash
from station.audit.chain_read import sqlite_writes_canonical, walk_connection
from station.audit.chain_scan import COLUMNS, scan
from station.audit.verify_file import verify_file
from tests.audit.parallel_db import parallel_fixtures
from tests.audit.seeded import event, link_of, reference_break, rehash_after, tamper

pytestmark = pytest.mark.component  # worker processes

BOARDS = 400  # 2,000 events
WORKERS = 2


pristine, db, parallel_at_any_size = parallel_fixtures(BOARDS)


def bounds() -> list[tuple[int, int]]:
    return verify.ranges(BOARDS * 5, WORKERS)


def update(path: Path, k: int) -> None:
    tamper(path, ("UPDATE events SET operator = 'mallory' WHERE seq = ?", (k,)))


def delete(path: Path, k: int) -> None:
    tamper(path, ("DELETE FROM events WHERE seq = ?", (k,)))


def insert(path: Path, k: int) -> None:
    """A forged event put in at seq k, hashed and linked to k-1; later events renumbered."""
    forged = {**event(path, k), "seq": k, "operator": "mallory", "prev_hash": link_of(path, k)}
    forged["hash"] = event_hash(forged)
    names = ", ".join(forged)
    tamper(
        path,
        ("UPDATE events SET seq = -seq - 1 WHERE seq >= ?", (k,)),
        "UPDATE events SET seq = -seq WHERE seq < 0",
        (
            f"INSERT INTO events ({names}) VALUES ({', '.join('?' * len(forged))})",
            tuple(forged.values()),
        ),
    )


def reorder(path: Path, k: int) -> None:
    """Events k and k+1 swap places (k-1 and k for the last event)."""
    a, b = (k - 1, k) if k == BOARDS * 5 else (k, k + 1)
    tamper(
        path,
        ("UPDATE events SET seq = -1 WHERE seq = ?", (a,)),
        ("UPDATE events SET seq = ? WHERE seq = ?", (a, b)),
        ("UPDATE events SET seq = ? WHERE seq = -1", (b,)),
    )


POSITIONS: dict[str, Callable[[], int]] = {
    "first-event": lambda: 1,
    "end-of-first-range": lambda: bounds()[0][1],
    "start-of-second-range": lambda: bounds()[1][0],
    "start-of-last-range": lambda: bounds()[-1][0],
    "last-event": lambda: BOARDS * 5,
}


def test_the_walk_is_cut_into_ranges() -> None:
    assert len(bounds()) == WORKERS * verify.RANGES_PER_WORKER


def test_this_sqlite_writes_the_canonical_form(tmp_path: Path) -> None:
    """Otherwise every test here would only exercise the Python walk."""
    assert sqlite_writes_canonical(sqlite3.connect(tmp_path / "x.db"))


def test_an_untouched_database_verifies(db: Path) -> None:
    state = verify.walk_file(db, workers=WORKERS)
    assert (state.broken_at, state.count) == (None, BOARDS * 5)
    assert state.head_hash == event(db, BOARDS * 5)["hash"]
    assert len(state.status) == BOARDS
    assert verify.file_findings(state, db) == []


@pytest.mark.parametrize("tampering", [update, delete, insert, reorder])
@pytest.mark.parametrize("position", list(POSITIONS))
def test_tampering_is_found_and_named_as_the_definition_does(
    db: Path, tampering: Callable[[Path, int], None], position: str
) -> None:
    k = POSITIONS[position]()
    tampering(db, k)
    expected = reference_break(db)
    state = verify.walk_file(db, workers=WORKERS)
    found = verify.file_findings(state, db)
    assert state.broken_at == expected
    assert verify_file(db, workers=WORKERS)[1] == found  # what `station audit verify` runs
    if expected is not None:
        assert str(found[0]) == (
            f"events: event seq {expected}: hash chain broken here "
            "(row changed, removed or reordered)"
        )
    else:  # the last event deleted: the chain just ends earlier; its certificate row tells
        assert (tampering, position) == (delete, "last-event")
        assert [str(f) for f in found] == [
            f"certificates: certificate {event(db, k - 1)['serial']}: "
            'status "locked" but the events say "verified"'
        ]


@pytest.mark.parametrize("rowid", [1, BOARDS // 2, BOARDS // 2 + 1, BOARDS])
def test_a_certificate_pem_swapped_or_changed_is_named(db: Path, rowid: int) -> None:
    """The PEMs are checked by the workers, over rowid ranges (boundaries at BOARDS / 2)."""
    other = 1 if rowid != 1 else 2
    tamper(
        db,
        (
            "UPDATE certificates SET pem = (SELECT pem FROM certificates WHERE rowid = ?) "
            "WHERE rowid = ?",
            (other, rowid),
        ),
    )
    conn = sqlite3.connect(db)
    serial = conn.execute("SELECT serial FROM certificates WHERE rowid = ?", (rowid,)).fetchone()
    conn.close()
    state, found = verify_file(db, workers=WORKERS)
    assert state.broken_at is None
    assert [str(f) for f in found] == [
        f"certificates: certificate {serial[0]}: "
        "certificate or fingerprint differs from the one recorded when it was issued"
    ]


def test_an_integer_slot_from_schema_3_and_a_real_value_still_verify(db: Path) -> None:
    """An integer slot (schema 3) hashes as SQLite writes it; a REAL, which SQLite writes
    otherwise than the definition, is judged by the definition."""
    for k, slot in ((3, 7), (4, 2.5)):
        row = {**event(db, k), "slot": slot}
        tamper(
            db, ("UPDATE events SET slot = ?, hash = ? WHERE seq = ?", (slot, event_hash(row), k))
        )
        rehash_after(db, k)
    state = verify.walk_file(db, workers=WORKERS)
    assert state.broken_at is None
    assert state.count == BOARDS * 5


def test_a_blob_is_named(db: Path) -> None:
    k = bounds()[1][0] + 3
    tamper(db, ("UPDATE events SET text = ? WHERE seq = ?", (b"\x00\xff", k)))
    assert verify.walk_file(db, workers=WORKERS).broken_at == k


_TEXT = st.one_of(st.none(), st.text())


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({c: _TEXT for c in SORTED_COLUMNS if c != "seq"}))
def test_sqlite_and_python_walks_hash_as_the_definition(values: dict[str, str | None]) -> None:
    """Any text (or null) in any column: both fast walks accept the row its definition
    hashes, and refuse it with one character changed."""
    row = {**values, "seq": 1, "prev_hash": "0" * 64}
    try:
        row["hash"] = event_hash(row)
    except UnicodeEncodeError:  # lone surrogates: the database refuses to store them
        return
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE events ({', '.join(COLUMNS)})")
    conn.execute(
        f"INSERT INTO events VALUES ({', '.join('?' * len(COLUMNS))})",
        tuple(row[c] for c in COLUMNS),
    )
    stored = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events").fetchone()
    assert scan([stored], 1, "0" * 64).broken_at is None
    assert walk_connection(conn, 1, 1).broken_at is None
    conn.execute("UPDATE events SET at = coalesce(at, '') || 'x'")
    changed = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events").fetchone()
    assert scan([changed], 1, "0" * 64).broken_at == 1
    assert walk_connection(conn, 1, 1).broken_at == 1
    conn.close()
