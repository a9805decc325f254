"""Schema migrations: an ordered list of functions; version N is ``MIGRATIONS[N-1]``.

Each runs once, in its own transaction, and is recorded in ``schema_migrations``. Never edit
a released migration: append a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from station.audit.certificates import CERTIFICATE_STATUSES

Migration = Callable[[sqlite_utils.Database], None]


def _v1_foundation(db: sqlite_utils.Database) -> None:
    db.table("boards").create(
        {"uid": str, "model": str, "firmware": str, "first_seen": str, "last_seen": str},
        pk="uid",
        not_null={"first_seen", "last_seen"},
    )
    statuses = ", ".join(f"'{s}'" for s in CERTIFICATE_STATUSES)
    db.execute(
        f"""
        CREATE TABLE certificates (
            serial TEXT PRIMARY KEY,
            board_uid TEXT NOT NULL REFERENCES boards(uid),
            sha256 TEXT NOT NULL UNIQUE,
            spki_sha256 TEXT NOT NULL,
            subject TEXT NOT NULL,
            not_before TEXT NOT NULL,
            not_after TEXT NOT NULL,
            pem TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            revoked_at TEXT,
            revocation_reason TEXT,
            superseded_by TEXT REFERENCES certificates(serial)
        )"""
    )
    db.table("certificates").create_index(["spki_sha256"], unique=True)
    db.table("certificates").create_index(["board_uid"])
    db.table("certificates").create_index(["status"])
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            station_id TEXT NOT NULL,
            operator TEXT,
            slot INTEGER,
            port TEXT,
            board_uid TEXT,
            serial TEXT,
            code TEXT,
            text TEXT,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    db.table("events").create_index(["board_uid"])
    db.table("events").create_index(["serial"])
    db.table("events").create_index(["kind"])
    db.execute(
        "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )
    db.table("crls").create(
        {"number": int, "this_update": str, "next_update": str, "sha256": str},
        pk="number",
        not_null={"this_update", "next_update", "sha256"},
    )


def _v2_exports(db: sqlite_utils.Database) -> None:
    # One row per shift-end export; the next `--shift current` starts after last_seq.
    db.execute(
        """
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            out_dir TEXT NOT NULL,
            since TEXT,
            until TEXT NOT NULL,
            first_seq INTEGER,
            last_seq INTEGER NOT NULL,
            head_seq INTEGER NOT NULL,
            head_hash TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL
        )"""
    )


def _v3_event_time_index(db: sqlite_utils.Database) -> None:
    # Export windows given by time (--since/--until) find their first and last event by `at`.
    db.table("events").create_index(["at"])


def _v4_slot_names(db: sqlite_utils.Database) -> None:
    # A jig names its slots ("A".."D" as well as "1".."4"): events.slot becomes the slot's name,
    # as text. SQLite cannot retype a column, so the table is rebuilt. The new column is declared
    # without a type (no affinity: a value is kept exactly as given). A TEXT column would turn the
    # integers of the rows copied over into text, and an event's hash covers its slot as stored
    # (a JSON number for those rows): every chain recorded before would stop verifying. So older
    # events keep their integers, and a trigger makes every slot written from now on text.
    conn = db.conn
    kept = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
    ).fetchall()
    conn.execute(
        """
        CREATE TABLE events_v4 (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            station_id TEXT NOT NULL,
            operator TEXT,
            slot,
            port TEXT,
            board_uid TEXT,
            serial TEXT,
            code TEXT,
            text TEXT,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    conn.execute(f"INSERT INTO events_v4 SELECT {_EVENT_COLUMNS} FROM events")  # noqa: S608
    conn.execute("DROP TABLE events")  # with its indexes and triggers, recreated below
    conn.execute("ALTER TABLE events_v4 RENAME TO events")
    for (sql,) in kept:
        conn.execute(sql)
    conn.execute(
        "CREATE TRIGGER events_slot_is_text BEFORE INSERT ON events "
        "WHEN NEW.slot IS NOT NULL AND typeof(NEW.slot) <> 'text' "
        "BEGIN SELECT RAISE(ABORT, 'an event''s slot is the slot''s name, as text'); END"
    )


_EVENT_COLUMNS = (
    "seq, at, kind, station_id, operator, slot, port, board_uid, serial, code, text, data, "
    "prev_hash, hash"
)

MIGRATIONS: tuple[Migration, ...] = (
    _v1_foundation,
    _v2_exports,
    _v3_event_time_index,
    _v4_slot_names,
)
