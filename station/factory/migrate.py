"""The store's schema: numbered SQL files in ``migrations/``, each applied once, in order.

``NNNN_name.sql`` is version NNNN. Each runs in its own transaction with its row in
``schema_migrations``; a released file is never edited: a new one is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from station.factory.errors import FactoryError

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
#: Serialises two stations migrating one store at the same moment.
_LOCK_KEY = 7215150000


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the station, in version order."""
    found = []
    for entry in resources.files("station.factory").joinpath("migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise FactoryError(f"store migrations are not numbered 1..{len(found)}: reinstall")
    return found


def schema_version(conn: psycopg.Connection) -> int:
    """The highest migration applied to the store (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(version[0] or 0) if version else 0


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations the store lacks; return the versions applied."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for migration in migrations():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            if migration.version <= schema_version(conn):
                continue
            try:
                conn.execute(migration.sql.encode())
            except psycopg.Error as e:
                raise FactoryError(
                    f"store migration {migration.version:04d}_{migration.name}.sql failed: "
                    f"{e}; the store is left at version {migration.version - 1}"
                ) from e
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    return applied
