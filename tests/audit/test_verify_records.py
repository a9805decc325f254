"""What `station audit verify` runs on a big database (chain ranges and PEM checks in worker
processes, the records compared with the replay while the PEMs are checked) finds exactly what
the one-pass definition, :func:`station.audit.verify.check`, finds: every kind of finding, in
the same words and the same order, for each tampering of either table alone and combined."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.audit import verify
from station.audit.certificates import CertificateRecord
from station.audit.verify_file import verify_file
from tests.audit.parallel_db import parallel_fixtures
from tests.audit.seeded import tamper

pytestmark = pytest.mark.component  # worker processes

BOARDS = 200  # 1,000 events; certificate rowids 1..200
WORKERS = 2  # 16 chain ranges, 8 rowid ranges of certificates (25 rows each)


pristine, db, parallel_at_any_size = parallel_fixtures(BOARDS)


def reference(path: Path) -> list[str]:
    """The findings of :func:`check`: events in sequence order, certificate rows in rowid
    order, every value read as stored."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        events = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]
        certificates = [
            CertificateRecord.from_row(r)
            for r in conn.execute("SELECT * FROM certificates ORDER BY rowid")
        ]
    finally:
        conn.close()
    return [str(f) for f in verify.check(events, certificates)]


def parallel(path: Path) -> list[str]:
    state, found = verify_file(path, workers=WORKERS)
    assert len(verify.ranges(state.count, WORKERS)) > 1  # the pool path, not one process
    return [str(f) for f in found]


def _other_hex(rowid: int) -> str:
    return hashlib.sha256(f"forged {rowid}".encode()).hexdigest()


# Each tampering of certificate row k (rowid) or of its board's events: board k's STARTED,
# ISSUED, DELIVERED, VERIFIED and LOCKED are events 5k-4 .. 5k.
TAMPERINGS: dict[str, tuple[str, ...]] = {
    "status": ("UPDATE certificates SET status = 'revoked' WHERE rowid = :k",),
    "fingerprint": ("UPDATE certificates SET sha256 = :hex WHERE rowid = :k",),
    "pem-swapped": (
        "UPDATE certificates SET pem = (SELECT pem FROM certificates WHERE rowid = "
        "CASE WHEN :k = 1 THEN 2 ELSE 1 END) WHERE rowid = :k",
    ),
    "pem-garbled": ("UPDATE certificates SET pem = replace(pem, 'M', '!') WHERE rowid = :k",),
    "pem-crlf": (  # another shape, the same DER: not a finding
        "UPDATE certificates SET pem = replace(pem, char(10), char(13, 10)) WHERE rowid = :k",
    ),
    "row-deleted": ("DELETE FROM certificates WHERE rowid = :k",),
    "row-moved-last": (  # the same row again at the end of the table, its status changed
        "CREATE TEMP TABLE moved AS SELECT * FROM certificates WHERE rowid = :k",
        "DELETE FROM certificates WHERE rowid = :k",
        "INSERT INTO certificates SELECT * FROM temp.moved",
        "UPDATE certificates SET status = 'issued' WHERE serial = (SELECT serial FROM temp.moved)",
        "DROP TABLE temp.moved",
    ),
    "row-without-events": (
        "INSERT INTO certificates (serial, board_uid, sha256, spki_sha256, subject, not_before, "
        "not_after, pem, status) SELECT :hex, board_uid, :hex, :hex, subject, not_before, "
        "not_after, pem, status FROM certificates WHERE rowid = :k",
    ),
    "event-changed": ("UPDATE events SET operator = 'mallory' WHERE seq = 5 * :k - 2",),
    "locked-event-deleted": ("DELETE FROM events WHERE seq = 5 * :k",),
    "issued-event-deleted": ("DELETE FROM events WHERE seq = 5 * :k - 3",),
    "events-swapped": (
        "UPDATE events SET seq = -1 WHERE seq = 5 * :k - 1",
        "UPDATE events SET seq = 5 * :k - 1 WHERE seq = 5 * :k",
        "UPDATE events SET seq = 5 * :k WHERE seq = -1",
    ),
}


def apply(path: Path, name: str, k: int) -> None:
    params = {"k": k, "hex": _other_hex(k)}
    tamper(path, "PRAGMA foreign_keys=OFF", *((sql, params) for sql in TAMPERINGS[name]))


# What each tampering alone must make verify say (a fragment of a finding), at row 60.
EXPECTED = {
    "status": 'status "revoked" but the events say "locked"',
    "fingerprint": "certificate or fingerprint differs",
    "pem-swapped": "certificate or fingerprint differs",
    "pem-garbled": "certificate or fingerprint differs",
    "pem-crlf": None,
    "row-deleted": "row missing (the events record it)",
    "row-moved-last": 'status "issued" but the events say "locked"',
    "row-without-events": "no ISSUED event for this row",
    "event-changed": "hash chain broken here",
    "locked-event-deleted": 'status "locked" but the events say "verified"',
    "issued-event-deleted": "certificate or fingerprint differs",
    "events-swapped": "hash chain broken here",
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_tampering_is_found_as_the_definition_finds_it(db: Path, name: str) -> None:
    apply(db, name, 60)
    found = parallel(db)
    assert found == reference(db)
    fragment = EXPECTED[name]
    if fragment is None:
        assert found == []
    else:
        assert any(fragment in f for f in found), found


def test_an_untouched_database_has_no_finding(db: Path) -> None:
    assert parallel(db) == reference(db) == []


def test_a_row_with_a_bad_pem_and_a_wrong_status_gets_both_findings_in_order(db: Path) -> None:
    for name in ("pem-garbled", "status", "fingerprint"):
        apply(db, name, 1)
    apply(db, "status", 200)
    apply(db, "pem-swapped", 120)
    found = parallel(db)
    assert found == reference(db)
    assert [f.split(": ", 2)[1] for f in found] == [
        f"certificate {_serial(db, r)}" for r in (1, 1, 120, 200)
    ]


def _serial(path: Path, rowid: int) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(
            conn.execute("SELECT serial FROM certificates WHERE rowid = ?", (rowid,)).fetchone()[0]
        )
    finally:
        conn.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(TAMPERINGS)), st.integers(1, BOARDS - 1)),
        min_size=1,
        max_size=5,
    )
)
def test_any_mix_of_tamperings_is_found_as_the_definition_finds_it(
    pristine: Path, tmp_path: Path, mix: list[tuple[str, int]]
) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "audit.db"  # a new file for each example
    shutil.copy(pristine, path)
    for name, k in mix:
        # The same forged row twice breaks a unique constraint: that one is not applied.
        with contextlib.suppress(sqlite3.IntegrityError):
            apply(path, name, k)
    assert parallel(path) == reference(path)
