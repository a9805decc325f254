"""AuditDB: the typed API over the station's SQLite audit file.

Every change to ``certificates`` is made in the same transaction as the event that describes
it, so the table can be re-derived from the event chain. Writes are serialised by a lock and
run as ``BEGIN IMMEDIATE`` transactions; with WAL and ``synchronous=FULL`` a returned write is
durable. Reads take no lock: each thread has its own WAL connection, so a read outside a
transaction sees the last COMMIT as one snapshot, and a read inside one (on the same thread's
connection, which the transaction holds) sees its writes in progress.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from station.audit import certificates
from station.audit.certificates import CertificateRecord, CertificateStatus
from station.audit.chain import GENESIS, canonical_data, event_hash, first_broken
from station.audit.connection import AuditConnection
from station.audit.errors import AuditError, KeyAlreadyRecorded, UnstorableEvent
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


class AuditDB(AuditConnection):
    """One station's audit database. Open with :meth:`open`; close (or use ``with``)."""

    def _append(
        self,
        conn: sqlite3.Connection,
        event: NewEvent,
        ctx: EventContext,
        at: datetime,
        *,
        checked: bool = False,
    ) -> int:
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        self._insert(conn, seq, prev, event, ctx, at, checked=checked)
        return int(seq)

    def _insert(
        self,
        conn: sqlite3.Connection,
        seq: int,
        prev: str,
        event: NewEvent,
        ctx: EventContext,
        at: datetime,
        *,
        checked: bool = False,
    ) -> str:
        """Insert event ``seq`` linked to ``prev``; return its hash. Values that cannot be
        stored faithfully raise UnstorableEvent before anything is hashed or written
        (``checked``: the caller checked them already)."""
        if not checked:
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
        rows = list(self._db.query("SELECT * FROM exports ORDER BY id DESC LIMIT 1"))
        return rows[0] if rows else None

    def key_known(self, spki_sha256: str) -> bool:
        """Was a certificate ever issued here for this public key (SPKI SHA-256 hex)?"""
        row = self._conn.execute(  # this thread's connection: no write lock (module doc)
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
                    "not_before, not_after, pem, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        issued.serial_hex,
                        board.uid,
                        issued.sha256,
                        issued.spki_sha256,
                        issued.subject,
                        data["not_before"],
                        data["not_after"],
                        issued.pem,
                        CertificateStatus.ISSUED.value,
                    ),
                )
                return self._append(conn, event, ctx, at, checked=True)
        except sqlite3.Error as e:
            if isinstance(e, sqlite3.IntegrityError) and "spki_sha256" in str(e):
                raise KeyAlreadyRecorded(
                    f"a certificate for public key {issued.spki_sha256} is already recorded; "
                    "the board must generate a fresh key"
                ) from e
            raise AuditError(f"cannot record certificate {issued.serial_hex}: {e}") from e

    def certificate(self, serial_hex: str) -> CertificateRecord | None:
        """The certificate with a serial (lower-case hex), or None."""
        rows = list(self._db.query("SELECT * FROM certificates WHERE serial = ?", [serial_hex]))
        return CertificateRecord.from_row(rows[0]) if rows else None

    def revoke(self, serial_hex: str, reason: str, at: datetime, ctx: EventContext) -> int:
        """Mark a certificate revoked, with its REVOKED event, in one transaction; a revoked
        certificate is refused (AlreadyRevoked)."""
        with self._write() as conn:
            event = certificates.revoke(conn, self.path, serial_hex, reason, at)
            return self._append(conn, event, ctx, at)

    def undelivered(self) -> list[CertificateRecord]:
        """Certificates issued but never confirmed on their board (an interrupted cycle)."""
        rows = self._db.query(
            "SELECT * FROM certificates WHERE status = ? ORDER BY rowid",
            [CertificateStatus.ISSUED.value],
        )
        return [CertificateRecord.from_row(row) for row in rows]

    def iter_certificates(self) -> Iterator[CertificateRecord]:
        """Every certificate, streamed."""
        for row in self._db.query("SELECT * FROM certificates ORDER BY rowid"):
            yield CertificateRecord.from_row(row)

    def all_certificates(self, limit: int | None = None) -> list[CertificateRecord]:
        """Certificates, newest first (all of them without ``limit``)."""
        sql = "SELECT * FROM certificates ORDER BY rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [CertificateRecord.from_row(row) for row in self._db.query(sql)]

    def board_certificates(self, uid: str) -> list[CertificateRecord]:
        """Every certificate issued to board ``uid``, newest first."""
        rows = self._rows("SELECT * FROM certificates WHERE board_uid = ? ORDER BY rowid DESC", uid)
        return [CertificateRecord.from_row(row) for row in rows]

    def _rows(self, sql: str, *params: object) -> list[dict[str, Any]]:
        """The rows of a query as dicts, on this thread's connection. What sqlite_utils'
        ``query`` gives, for the lookups every cycle makes: a thread's first sqlite_utils
        Database loads its plugins (entry points), tens of milliseconds of CPU."""
        cursor = self._conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def board_events(self, uid: str) -> list[dict[str, Any]]:
        """Every event about board ``uid``, in sequence order (indexed: see BOARD_EVENTS)."""
        return list(self._db.query(BOARD_EVENTS, [uid]))

    def status_since(self, serial_hex: str) -> datetime | None:
        """When the certificate reached its current status (the time of the last event that
        changed it), or None if no event names it."""
        row = self._conn.execute(
            "SELECT at FROM events WHERE serial = ? AND kind IN "
            "('ISSUED', 'DELIVERED', 'VERIFIED', 'LOCKED', 'REVOKED', 'SUPERSEDED') "
            "ORDER BY seq DESC LIMIT 1",
            (serial_hex,),
        ).fetchone()
        return parse_timestamp(row[0]) if row else None

    def advance(
        self, serial_hex: str, status: CertificateStatus, ctx: EventContext, at: datetime
    ) -> int:
        """Move a certificate forward (issued -> delivered -> verified -> locked) with the
        event named after the new status, in one transaction."""
        with self._write() as conn:
            event = certificates.advance(conn, self.path, serial_hex, status)
            return self._append(conn, event, ctx, at)

    def supersede(
        self, old_serial: str, new_serial: str, ctx: EventContext, at: datetime, *, revoke: bool
    ) -> int:
        """Mark ``old_serial`` superseded by ``new_serial`` (and revoked, if ``revoke``); a
        certificate already revoked or superseded is refused."""
        with self._write() as conn:
            event = certificates.supersede(
                conn, self.path, old_serial, new_serial, at, revoke=revoke
            )
            return self._append(conn, event, ctx, at)

    def revoked(self) -> list[RevokedRow]:
        """Every revoked certificate, oldest revocation first."""
        rows = self._conn.execute(
            "SELECT serial, revoked_at, revocation_reason FROM certificates "
            "WHERE status = ? ORDER BY revoked_at, serial",
            (CertificateStatus.REVOKED.value,),
        ).fetchall()
        return [RevokedRow(s, parse_timestamp(at), reason) for s, at, reason in rows]

    def next_crl_number(self) -> int:
        """One more than the last CRL number recorded (1 for the first CRL)."""
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
