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


MIGRATIONS: tuple[Migration, ...] = (_v1_foundation, _v2_exports, _v3_event_time_index)
