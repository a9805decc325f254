"""AuditDB: the typed API over the station's SQLite audit file.

Every change to ``certificates`` is made in the same transaction as the event that describes
it, so the table can be re-derived from the event chain. Writes are serialised by a lock and
run as ``BEGIN IMMEDIATE`` transactions; with WAL and ``synchronous=FULL`` a returned write is
durable.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils

from station.audit.chain import GENESIS, canonical_data, event_hash, first_broken
from station.audit.errors import (
    AlreadyRevoked,
    AuditError,
    KeyAlreadyRecorded,
    UnknownCertificate,
    UnstorableEvent,
)
from station.audit.migrations import MIGRATIONS
from station.audit.records import (
    EventContext,
    ExportRecord,
    IssuedLike,
    NewEvent,
    RevokedRow,
    parse_timestamp,
    timestamp,
)
from station.audit.storable import check_storable

#: One board's events in chain order: a search of the events(board_uid) index, whose entries
#: for one board are already in seq (rowid) order, so neither a scan nor a sort.
BOARD_EVENTS = "SELECT * FROM events WHERE board_uid = ? ORDER BY seq"


class AuditDB:
    """One station's audit database. Open with :meth:`open`; close (or use ``with``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        # One connection per thread: a sqlite3 connection must not be used by two threads at
        # once, and slots provision in parallel. SQLite (WAL, busy_timeout) orders the writers.
        self._local = threading.local()
        self._local.conn = conn
        self._all = [conn]

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as e:
            raise AuditError(f"cannot open audit database {path}: {e}") from e
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def _db(self) -> sqlite_utils.Database:
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None or db.conn is not self._conn:
            db = sqlite_utils.Database(self._conn)  # runs PRAGMAs: once per thread, not per query
            self._local.db = db
        return db

    @classmethod
    def open(cls, path: Path) -> AuditDB:
        """Open (creating if needed) and migrate the database at ``path``."""
        audit = cls(cls._connect(path), path)
        audit._migrate()
        return audit

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    def __enter__(self) -> AuditDB:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if getattr(self._local, "depth", 0):  # inside transaction(): join it
            yield self._conn
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._local.depth = 0
            self._conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one durable commit (all or none)."""
        with self._write():
            yield

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version <= self.schema_version:
                continue
            with self._write() as conn:
                migration(self._db)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)",
                    (version, timestamp(datetime.now(UTC))),
                )

    @property
    def schema_version(self) -> int:
        """The highest migration applied."""
        row = self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _append(
        self, conn: sqlite3.Connection, event: NewEvent, ctx: EventContext, at: datetime
    ) -> int:
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        self._insert(conn, seq, prev, event, ctx, at)
        return int(seq)

    def _insert(
        self,
        conn: sqlite3.Connection,
        seq: int,
        prev: str,
        event: NewEvent,
        ctx: EventContext,
        at: datetime,
    ) -> str:
        """Insert event ``seq`` linked to ``prev``; return its hash. Values that cannot be
        stored faithfully raise UnstorableEvent before anything is hashed or written."""
        check_storable(event, ctx)
        try:
            data = canonical_data(event.data)
        except ValueError as e:  # an integer too long for a decimal string, say
            raise UnstorableEvent(f"{event.kind!r} event: data is not storable as JSON: {e}") from e
        row: dict[str, Any] = {
            "seq": seq,
            "at": timestamp(at),
            "kind": event.kind,
            "station_id": ctx.station_id,
            "operator": ctx.operator,
            "slot": ctx.slot,
            "port": ctx.port,
            "board_uid": event.board_uid,
            "serial": event.serial,
            "code": event.code,
            "text": event.text,
            "data": data,
            "prev_hash": prev,
        }
        row["hash"] = event_hash(row)
        columns = ", ".join(row)
        try:
            conn.execute(
                f"INSERT INTO events ({columns}) VALUES ({', '.join('?' * len(row))})",  # noqa: S608
                tuple(row.values()),
            )
        except sqlite3.Error as e:  # e.g. "string or blob too big", a full disk
            raise AuditError(f"cannot append {event.kind!r} event to {self.path}: {e}") from e
        return str(row["hash"])

    def record_event(self, event: NewEvent, ctx: EventContext, at: datetime) -> int:
        """Append one event (durably); return its sequence number."""
        with self._write() as conn:
            return self._append(conn, event, ctx, at)

    def record_events(self, batch: Iterable[tuple[NewEvent, EventContext, datetime]]) -> int:
        """Append many events in one durable transaction (same chain logic); return the last
        seq. For bulk imports and benchmarks: one commit instead of one per event."""
        with self._write() as conn:
            last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            seq, prev = last.fetchone() or (0, GENESIS)
            for event, ctx, at in batch:
                seq += 1
                prev = self._insert(conn, seq, prev, event, ctx, at)
        return int(seq)

    def record_export(self, export: ExportRecord, ctx: EventContext) -> int:
        """Record a finished export and its EXPORTED event (with the manifest hash)."""
        row = {
            "created_at": timestamp(export.created_at),
            "out_dir": export.out_dir,
            "since": timestamp(export.since) if export.since else None,
            "until": timestamp(export.until),
            "first_seq": export.first_seq,
            "last_seq": export.last_seq,
            "head_seq": export.head_seq,
            "head_hash": export.head_hash,
            "manifest_sha256": export.manifest_sha256,
        }
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO exports ({', '.join(row)}) "  # noqa: S608 - fixed column names
                f"VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            event = NewEvent("EXPORTED", code=None, text=export.out_dir, data=row)
            return self._append(conn, event, ctx, export.created_at)

    def last_export(self) -> dict[str, Any] | None:
        """The newest export row, or None before the first export."""
        with self._lock:
            rows = list(self._db.query("SELECT * FROM exports ORDER BY id DESC LIMIT 1"))
        return rows[0] if rows else None

    def key_known(self, spki_sha256: str) -> bool:
        """Was a certificate ever issued here for this public key (SPKI SHA-256 hex)?"""
        with self._lock:  # one connection, shared by slot workers: never interleave
            row = self._conn.execute(
                "SELECT 1 FROM certificates WHERE spki_sha256 = ? LIMIT 1", (spki_sha256,)
            ).fetchone()
        return row is not None

    def record_issued(self, issued: IssuedLike, ctx: EventContext, at: datetime) -> int:
        """Commit the board, the certificate (status ``issued``) and its ISSUED event in one
        durable transaction, before the certificate goes anywhere. Returns the event seq."""
        board = issued.board
        when = timestamp(at)
        data = {
            "sha256": issued.sha256,
            "spki_sha256": issued.spki_sha256,
            "subject": issued.subject,
            "not_before": timestamp(issued.not_before),
            "not_after": timestamp(issued.not_after),
            "model": board.model,
            "firmware": board.firmware,
            "pem": issued.pem,
        }
        event = NewEvent("ISSUED", board.uid, issued.serial_hex, text=issued.subject, data=data)
        check_storable(event, ctx)  # before the boards row, which holds the same values
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO boards (uid, model, firmware, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(uid) DO UPDATE SET "
                    "model = excluded.model, firmware = excluded.firmware, "
                    "last_seen = excluded.last_seen",
                    (board.uid, board.model, board.firmware, when, when),
                )
                conn.execute(
                    "INSERT INTO certificates (serial, board_uid, sha256, spki_sha256, subject, "
                    "not_before, not_after, pem, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'issued')",
                    (
                        issued.serial_hex,
                        board.uid,
                        issued.sha256,
                        issued.spki_sha256,
                        issued.subject,
                        data["not_before"],
                        data["not_after"],
                        issued.pem,
                    ),
                )
                return self._append(conn, event, ctx, at)
        except sqlite3.Error as e:
            if isinstance(e, sqlite3.IntegrityError) and "spki_sha256" in str(e):
                raise KeyAlreadyRecorded(
                    f"a certificate for public key {issued.spki_sha256} is already recorded; "
                    "the board must generate a fresh key"
                ) from e
            raise AuditError(f"cannot record certificate {issued.serial_hex}: {e}") from e

    def certificate(self, serial_hex: str) -> dict[str, Any] | None:
        """The certificate row for a serial (lower-case hex), or None."""
        with self._lock:
            rows = list(self._db.query("SELECT * FROM certificates WHERE serial = ?", [serial_hex]))
        return rows[0] if rows else None

    def revoke(self, serial_hex: str, reason: str, at: datetime, ctx: EventContext) -> int:
        """Mark a certificate revoked, with its REVOKED event, in one transaction."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT status, board_uid FROM certificates WHERE serial = ?", (serial_hex,)
            ).fetchone()
            if row is None:
                raise UnknownCertificate(
                    f"no certificate with serial {serial_hex} in {self.path}; check the serial "
                    "(hex) and the station home"
                )
            if row[0] == "revoked":
                raise AlreadyRevoked(f"certificate {serial_hex} is already revoked")
            conn.execute(
                "UPDATE certificates SET status = 'revoked', revoked_at = ?, "
                "revocation_reason = ? WHERE serial = ?",
                (timestamp(at), reason, serial_hex),
            )
            event = NewEvent(
                "REVOKED",
                row[1],
                serial_hex,
                code=reason,
                data={"reason": reason, "previous_status": row[0]},
            )
            return self._append(conn, event, ctx, at)

    def undelivered(self) -> list[dict[str, Any]]:
        """Certificates issued but never confirmed on their board (an interrupted cycle)."""
        return list(
            self._db.query(
                "SELECT serial, board_uid FROM certificates WHERE status = 'issued' ORDER BY rowid"
            )
        )

    def iter_certificates(self) -> Iterator[dict[str, Any]]:
        """Every certificate row, streamed."""
        yield from self._db.query("SELECT * FROM certificates ORDER BY rowid")

    def all_certificates(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Certificates, newest first (all of them without ``limit``)."""
        sql = "SELECT * FROM certificates ORDER BY rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return list(self._db.query(sql))

    def board_certificates(self, uid: str) -> list[dict[str, Any]]:
        """Every certificate issued to board ``uid``, newest first."""
        return list(
            self._db.query(
                "SELECT * FROM certificates WHERE board_uid = ? ORDER BY rowid DESC", [uid]
            )
        )

    def board_events(self, uid: str) -> list[dict[str, Any]]:
        """Every event about board ``uid``, in sequence order (indexed: see BOARD_EVENTS)."""
        return list(self._db.query(BOARD_EVENTS, [uid]))

    def advance(self, serial_hex: str, status: str, ctx: EventContext, at: datetime) -> int:
        """Move a certificate forward (issued -> delivered -> verified -> locked) with the
        event named after the new status, in one transaction."""
        order = ("issued", "delivered", "verified", "locked")
        if status not in order[1:]:
            raise AuditError(f"cannot advance a certificate to {status!r}")
        with self._write() as conn:
            row = conn.execute(
                "SELECT status, board_uid FROM certificates WHERE serial = ?", (serial_hex,)
            ).fetchone()
            if row is None:
                raise UnknownCertificate(f"no certificate with serial {serial_hex}")
            if row[0] not in order or order.index(row[0]) >= order.index(status):
                raise AuditError(f"certificate {serial_hex} is {row[0]}; it cannot become {status}")
            conn.execute(
                "UPDATE certificates SET status = ? WHERE serial = ?", (status, serial_hex)
            )
            event = NewEvent(status.upper(), row[1], serial_hex, data={"previous_status": row[0]})
            return self._append(conn, event, ctx, at)

    def supersede(
        self, old_serial: str, new_serial: str, ctx: EventContext, at: datetime, *, revoke: bool
    ) -> int:
        """Mark ``old_serial`` superseded by ``new_serial`` (and revoked, if ``revoke``)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT status, board_uid FROM certificates WHERE serial = ?", (old_serial,)
            ).fetchone()
            if row is None:
                raise UnknownCertificate(f"no certificate with serial {old_serial}")
            conn.execute(
                "UPDATE certificates SET status = ?, superseded_by = ?, revoked_at = ?, "
                "revocation_reason = ? WHERE serial = ?",
                (
                    "revoked" if revoke else "superseded",
                    new_serial,
                    timestamp(at) if revoke else None,
                    "superseded" if revoke else None,
                    old_serial,
                ),
            )
            event = NewEvent(
                "SUPERSEDED",
                row[1],
                old_serial,
                code="superseded" if revoke else None,
                data={"superseded_by": new_serial, "previous_status": row[0], "revoked": revoke},
            )
            return self._append(conn, event, ctx, at)

    def revoked(self) -> list[RevokedRow]:
        """Every revoked certificate, oldest revocation first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT serial, revoked_at, revocation_reason FROM certificates "
                "WHERE status = 'revoked' ORDER BY revoked_at, serial"
            ).fetchall()
        return [RevokedRow(s, parse_timestamp(at), reason) for s, at, reason in rows]

    def next_crl_number(self) -> int:
        """One more than the last CRL number recorded (1 for the first CRL)."""
        with self._lock:
            row = self._conn.execute("SELECT MAX(number) FROM crls").fetchone()
        return int(row[0] or 0) + 1

    def record_crl(
        self,
        number: int,
        this_update: datetime,
        next_update: datetime,
        sha256: str,
        ctx: EventContext,
    ) -> int:
        """Record a CRL that was signed, with its CRL event."""
        data = {
            "number": number,
            "this_update": timestamp(this_update),
            "next_update": timestamp(next_update),
            "sha256": sha256,
        }
        with self._write() as conn:
            conn.execute(
                "INSERT INTO crls (number, this_update, next_update, sha256) VALUES (?, ?, ?, ?)",
                (number, data["this_update"], data["next_update"], sha256),
            )
            return self._append(conn, NewEvent("CRL", data=data), ctx, this_update)

    def events(self) -> Iterator[dict[str, Any]]:
        """All events in sequence order (streamed)."""
        cursor = self._conn.execute("SELECT * FROM events ORDER BY seq")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def first_broken_event(self) -> int | None:
        """The seq of the first event that breaks the hash chain, or None if it holds."""
        return first_broken(self.events())
