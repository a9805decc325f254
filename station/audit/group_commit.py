"""Group commit: concurrent callers' write batches share one durable COMMIT.

A caller queues its batch and takes the audit write lock. Whoever gets the lock first (the
leader) takes every batch queued so far and runs them, in queue order, in one ``BEGIN
IMMEDIATE`` transaction on its own connection, each inside its own SAVEPOINT: a batch that
raises is rolled back alone and its exception is handed back to its own caller. One COMMIT
(one fsync) then makes every surviving batch durable, and only then is each caller released.
A failed COMMIT (a full disk, a deferred constraint) rolls the whole transaction back and
raises in every caller of that group: nothing of theirs is kept. A caller whose batch another
leader ran finds it done when it gets the lock, and returns (or raises) at once.

Events are appended by the batches themselves, one after another on one connection, so the
hash chain stays exactly one chain in commit order.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.disk import full_disk_said

#: One caller's writes; they run on the leader's thread, inside its transaction.
Work = Callable[[], object]


@dataclass(eq=False)
class Batch:
    """One caller's writes and, once its group committed or failed, the outcome."""

    work: Work
    done: bool = False
    error: BaseException | None = None


class BatchQueue:
    """The batches waiting for a leader, in arrival order."""

    def __init__(self) -> None:
        self._batches: list[Batch] = []
        self._changed = threading.Condition()

    def put(self, batch: Batch) -> None:
        with self._changed:
            self._batches.append(batch)
            self._changed.notify_all()

    def take_all(self) -> list[Batch]:
        """Every batch queued so far (the leader's group), oldest first."""
        with self._changed:
            taken, self._batches = self._batches, []
            return taken

    def put_back(self, batches: list[Batch]) -> None:
        """Batches a leader could not run, back at the head of the queue for the next one."""
        with self._changed:
            self._batches[:0] = batches
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` batches are queued; False if ``timeout`` passed first.
        Lets a monitor (or a test) see callers lining up behind a leader."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._batches) >= count, timeout)


def run_group(conn: sqlite3.Connection, group: list[Batch], home: Path) -> list[Batch]:
    """Run ``group`` in the transaction open on ``conn``, one SAVEPOINT per batch; return the
    batches not run because a failure ended the transaction early (to be queued again).

    A batch's exception is stored on it. If a failing batch took the whole transaction with
    it (SQLite rolls back on some errors, e.g. a full disk), every batch run so far lost its
    writes too, and gets that exception. A full disk under ``home`` is said as DiskFull.

    A lone batch runs without a SAVEPOINT: rolled back, it takes nothing else with it, so the
    whole transaction is rolled back instead (no COMMIT follows). A savepoint would make SQLite
    keep a statement journal, a temporary file created, written and deleted per transaction."""
    if len(group) == 1:
        return _run_alone(conn, group[0], home)
    for i, batch in enumerate(group):
        conn.execute("SAVEPOINT batch")
        try:
            with full_disk_said(home):
                batch.work()
        except BaseException as e:  # handed back to the batch's caller, never swallowed
            batch.error = e
            if not conn.in_transaction:
                for earlier in group[:i]:
                    earlier.error = earlier.error or e
                return group[i + 1 :]
            conn.execute("ROLLBACK TO batch")
        conn.execute("RELEASE batch")
    return []


def _run_alone(conn: sqlite3.Connection, batch: Batch, home: Path) -> list[Batch]:
    """:func:`run_group` for a group of one: on failure the transaction is rolled back."""
    try:
        with full_disk_said(home):
            batch.work()
    except BaseException as e:  # handed back to the batch's caller, never swallowed
        batch.error = e
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return []
