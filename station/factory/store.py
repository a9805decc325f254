"""The connection to the factory store and the calls a station makes on it.

Every call runs in its own transaction (autocommit): a server that goes away between two
calls loses nothing, and the next call starts from what the store holds. psycopg's errors are
turned into :mod:`station.factory.errors` here, at the boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psycopg

from station.factory.errors import FactoryError, StoreUnreachable
from station.factory.migrate import migrate


@dataclass(frozen=True)
class StationHead:
    """What the store holds of one station."""

    seq: int
    hash: str
    diverged_seq: int | None
    diverged_reason: str | None


@dataclass(frozen=True)
class IngestResult:
    head: StationHead
    accepted: int


@dataclass(frozen=True)
class Reservation:
    outcome: str  # reserved, key-taken, board-elsewhere, diverged
    other_station: str | None
    other_board: str | None
    other_serial: str | None


def describe(url: str) -> str:
    """The store's host and database for messages (never the password: there is none)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the factory store"
    host = params.get("host") or "localhost"
    return f"the factory store {params.get('dbname') or ''} on {host}:{params.get('port') or 5432}"


class Store:
    """One connection to the factory store. Open with :meth:`connect`; close or use ``with``."""

    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self.conn = conn
        self.where = describe(url)

    @classmethod
    def connect(cls, url: str, *, timeout: int = 3, migrate_schema: bool = False) -> Store:
        """Connect (libpq reads the password from its environment or files); with
        ``migrate_schema``, apply the migrations the store lacks."""
        try:
            conn = psycopg.connect(url, connect_timeout=timeout, autocommit=True)
        except psycopg.Error as e:
            raise StoreUnreachable(
                f"cannot reach {describe(url)}: {_first_line(e)}; check [factory] url, the "
                "network and the password in PGPASSWORD or ~/.pgpass"
            ) from e
        store = cls(conn, url)
        if migrate_schema:
            store.call(lambda: migrate(conn))
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def call(self, fn: Any) -> Any:
        """Run ``fn`` with psycopg's errors translated."""
        try:
            return fn()
        except psycopg.OperationalError as e:
            raise StoreUnreachable(
                f"lost {self.where}: {_first_line(e)}; the next sync resumes where it stopped"
            ) from e
        except psycopg.Error as e:
            hint = getattr(e.diag, "message_hint", None)
            raise FactoryError(
                f"{self.where} refused the request: {_first_line(e)}"
                + (f" ({hint})" if hint else "; check that its schema is migrated")
            ) from e

    def rows(self, sql: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query."""
        return list(self.call(lambda: self.conn.execute(sql, params).fetchall()))

    def head(self, station_id: str) -> StationHead:
        rows = self.rows(
            "SELECT head_seq, head_hash, diverged_seq, diverged_reason FROM stations "
            "WHERE station_id = %s",
            (station_id,),
        )
        if not rows:
            return StationHead(0, "0" * 64, None, None)
        return StationHead(*rows[0])

    def hashes(self, station_id: str, seqs: Sequence[int]) -> dict[int, str]:
        rows = self.rows("SELECT * FROM factory_hashes(%s, %s)", (station_id, list(seqs)))
        return {int(seq): str(h) for seq, h in rows}

    def ingest(
        self,
        station_id: str,
        line: str,
        events: Sequence[tuple[int, str, str]],
        local_head: tuple[int, str],
    ) -> IngestResult:
        """Push events (seq, hash, canonical text) in seq order; the store checks them."""
        rows = self.rows(
            "SELECT * FROM factory_ingest(%s, %s, %b, %b, %b, %s, %s)",
            (
                station_id,
                line,
                [e[0] for e in events],
                [e[1] for e in events],
                [e[2] for e in events],
                local_head[0],
                local_head[1],
            ),
        )
        seq, head_hash, accepted, diverged_seq, reason = rows[0]
        return IngestResult(StationHead(seq, head_hash, diverged_seq, reason), accepted)

    def reserve(self, station_id: str, line: str, spki_sha256: str, board_uid: str) -> Reservation:
        rows = self.rows(
            "SELECT * FROM factory_reserve(%s, %s, %s, %s)",
            (station_id, line, spki_sha256, board_uid),
        )
        return Reservation(*rows[0])


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
