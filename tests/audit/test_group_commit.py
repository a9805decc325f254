"""Group commit: concurrent callers' write batches share one transaction and one COMMIT.

Real SQLite files, real threads. A leader's batch holds the write lock until the others are
seen queued behind it (``wait_for_queued``), so they overlap for certain: the next leader
takes all of them into one group.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from station.audit import AuditDB, EventContext, NewEvent

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
FOLLOWERS = 7
WAIT = 30.0  # seconds: only ever reached when the code under test is broken


def _event(audit: AuditDB, name: str) -> None:
    audit.record_event(NewEvent("STARTED", name), EventContext("st-1", slot=name), T0)


def _overlapping(audit: AuditDB, works: list[Callable[[], None]]) -> list[BaseException | None]:
    """Commit ``works`` from one thread each, all queued behind a first caller's open
    transaction; return what each raised (None when it returned)."""
    outcomes: list[BaseException | None] = [None] * len(works)
    entered = threading.Event()

    def lead() -> None:
        entered.set()
        _event(audit, "leader")
        assert audit.wait_for_queued(len(works), WAIT), "the callers never queued"

    def call(i: int) -> None:
        try:
            audit.commit_group(works[i])
        except BaseException as e:  # recorded for the test to check
            outcomes[i] = e

    leader = threading.Thread(target=audit.commit_group, args=(lead,))
    leader.start()
    assert entered.wait(WAIT)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    for i, thread in enumerate(threads):
        thread.start()
        assert audit.wait_for_queued(i + 1, WAIT)  # queued in the order of ``works``
    for thread in (leader, *threads):
        thread.join()
    return outcomes


def _slots(audit: AuditDB) -> list[str]:
    return [str(event["slot"]) for event in audit.events()]


def test_concurrent_callers_all_land_in_one_chain_with_fewer_commits(tmp_path: Path) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:
        works = [lambda i=i: _event(audit, f"s{i}") for i in range(FOLLOWERS)]
        outcomes = _overlapping(audit, works)
        assert outcomes == [None] * FOLLOWERS
        assert sorted(_slots(audit)) == sorted(["leader", *(f"s{i}" for i in range(FOLLOWERS))])
        assert [e["seq"] for e in audit.events()] == list(range(1, FOLLOWERS + 2))
        assert audit.first_broken_event() is None
        # The leader's own group, then one group for every caller that queued behind it.
        assert audit.group_commits == 2


def test_a_failing_batch_is_rolled_back_alone_and_raises_only_in_its_caller(
    tmp_path: Path,
) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:

        def failing() -> None:
            _event(audit, "bad")  # written, then rolled back with its savepoint
            raise ValueError("batch 3 failed")

        works = [lambda i=i: _event(audit, f"s{i}") for i in range(FOLLOWERS)]
        works[3] = failing
        outcomes = _overlapping(audit, works)
        assert isinstance(outcomes[3], ValueError)
        assert [o for i, o in enumerate(outcomes) if i != 3] == [None] * (FOLLOWERS - 1)
        assert "bad" not in _slots(audit)
        assert len(_slots(audit)) == FOLLOWERS  # the leader and the six good ones
        assert audit.first_broken_event() is None
        assert audit.group_commits == 2


def test_a_failing_commit_raises_in_every_caller_of_its_group_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:
        # A deferred foreign key is checked at COMMIT: a dangling row makes the COMMIT fail.
        with audit._write() as conn:
            conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            conn.execute(
                "CREATE TABLE child (parent INTEGER "
                "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
            )

        def dangling() -> None:
            with audit._write() as conn:
                conn.execute("INSERT INTO child VALUES (42)")

        works = [lambda i=i: _event(audit, f"s{i}") for i in range(FOLLOWERS)]
        works[5] = dangling
        outcomes = _overlapping(audit, works)
        assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
        assert _slots(audit) == ["leader"]  # committed before, in its own group
        assert audit._conn.execute("SELECT COUNT(*) FROM child").fetchone()[0] == 0
        audit.commit_group(lambda: _event(audit, "after"))  # the database goes on
        assert _slots(audit) == ["leader", "after"]
        assert audit.first_broken_event() is None


def test_a_batch_that_ends_the_transaction_fails_those_before_it_and_requeues_the_rest(
    tmp_path: Path,
) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:

        def interrupted() -> None:
            # SQLite rolls back the whole transaction on an interrupted write, as on a full disk.
            with audit._write() as conn:
                conn.set_progress_handler(lambda: 1, 1)
                try:
                    conn.execute(
                        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r "
                        "WHERE i < 100000) INSERT INTO schema_migrations SELECT -i, '' FROM r"
                    )
                finally:
                    conn.set_progress_handler(None, 1)

        works = [lambda i=i: _event(audit, f"s{i}") for i in range(FOLLOWERS)]
        works[3] = interrupted
        outcomes = _overlapping(audit, works)
        # s0..s2 ran in the same transaction: their writes are gone, and they are told so.
        assert [type(o) for o in outcomes[:4]] == [sqlite3.OperationalError] * 4
        assert outcomes[4:] == [None] * (FOLLOWERS - 4)  # put back, committed by the next leader
        assert _slots(audit) == ["leader", *(f"s{i}" for i in range(4, FOLLOWERS))]
        assert audit.first_broken_event() is None
        assert audit.group_commits == 2


def test_reads_do_not_wait_for_a_transaction_in_progress(tmp_path: Path) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:
        _event(audit, "committed")
        inside, release, read = threading.Event(), threading.Event(), threading.Event()
        seen: list[object] = []

        def hold() -> None:
            with audit.transaction():
                _event(audit, "uncommitted")
                inside.set()
                release.wait(WAIT)

        def reads() -> None:
            seen.append(audit.key_known("00" * 32))
            seen.append(audit.certificate("01"))
            seen.append(audit.status_since("01"))
            seen.append(audit.revoked())
            seen.append(audit.next_crl_number())
            seen.append(audit.last_export())
            seen.append(_slots(audit))
            read.set()

        writer = threading.Thread(target=hold)
        writer.start()
        assert inside.wait(WAIT)
        reader = threading.Thread(target=reads)
        reader.start()
        finished = read.wait(WAIT)
        release.set()
        writer.join()
        reader.join()
        assert finished, "a read waited for another thread's write transaction"
        # The read saw the last COMMIT, not the write in progress.
        assert seen == [False, None, None, [], 1, None, ["committed"]]


@pytest.mark.parametrize("callers", [1, 16])
def test_callers_inside_a_transaction_join_it(tmp_path: Path, callers: int) -> None:
    with AuditDB.open(tmp_path / "audit.db") as audit:
        with audit.transaction():
            for i in range(callers):
                audit.commit_group(lambda i=i: _event(audit, f"s{i}"))
        assert len(_slots(audit)) == callers
        assert audit.group_commits == 0  # the transaction's own COMMIT holds them


def test_a_lone_batch_needs_no_savepoint_and_a_failing_one_keeps_nothing(tmp_path: Path) -> None:
    # A savepoint makes SQLite keep a statement journal (a temporary file made and deleted in
    # every transaction); a group of one has nothing to keep apart from its own writes.
    with AuditDB.open(tmp_path / "audit.db") as audit:
        statements: list[str] = []
        audit._conn.set_trace_callback(statements.append)
        audit.commit_group(lambda: _event(audit, "alone"))
        assert statements[0] == "BEGIN IMMEDIATE"
        assert statements[-1] == "COMMIT"
        assert not [s for s in statements if "SAVEPOINT" in s or "RELEASE" in s]

        def failing() -> None:
            _event(audit, "bad")
            raise ValueError("the lone batch failed")

        statements.clear()
        with pytest.raises(ValueError, match="the lone batch failed"):
            audit.commit_group(failing)
        assert statements[-1] == "ROLLBACK"
        assert not audit._conn.in_transaction
        assert _slots(audit) == ["alone"]
        assert audit.group_commits == 1  # the failed batch's transaction was never committed
        audit.commit_group(lambda: _event(audit, "after"))  # the database goes on
        assert _slots(audit) == ["alone", "after"]
        assert audit.first_broken_event() is None
