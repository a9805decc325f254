"""The supervisor's side of the store: every station's state, conflicts, resolving a
divergence. Reads, except :func:`resolve` (which needs a supervisor's role, not a station's)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from station.factory.errors import FactoryError
from station.factory.store import Store


@dataclass(frozen=True)
class StationState:
    station_id: str
    line: str
    last_seen: datetime | None
    head_seq: int
    diverged_seq: int | None
    diverged_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return out


@dataclass(frozen=True)
class Conflict:
    """Two stations (or boards) holding what must be unique, and what to do about it."""

    id: int
    kind: str  # key, board, serial
    found_by: str  # reservation, sync
    found_at: datetime
    spki_sha256: str | None
    board_uid: str
    first_station: str
    first_board: str
    first_serial: str | None
    second_station: str
    second_board: str
    second_serial: str | None

    @property
    def advice(self) -> str:
        if self.second_serial is None:
            return (
                f"nothing was signed on {self.second_station} (refused before signing); "
                "check why the board offered a key or an id already in use"
            )
        if self.kind == "key":
            return (
                f"revoke certificate {self.second_serial} on {self.second_station} "
                f"(`station revoke`) and re-provision board {self.second_board}: its key "
                f"is also certified for board {self.first_board} on {self.first_station}"
            )
        if self.kind == "serial":
            return (
                f"revoke certificate {self.second_serial} on {self.second_station} "
                f"(`station revoke`) and re-provision board {self.second_board}: its serial "
                f"was issued before to board {self.first_board} on {self.first_station}; then "
                f"check how {self.second_station} draws serials (a copied home, its random "
                "source)"
            )
        return (
            f"board {self.board_uid} holds certificates from {self.first_station} "
            f"({self.first_serial}) and {self.second_station} ({self.second_serial}): keep the "
            "one on the board, revoke the other on its station"
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["found_at"] = self.found_at.isoformat()
        out["advice"] = self.advice
        return out


@dataclass(frozen=True)
class Resolved:
    archived: int  # stored events set aside (kept in archived_events)
    head_seq: int  # the station's head in the store now


def stations(store: Store) -> list[StationState]:
    rows = store.rows(
        "SELECT station_id, line, last_seen, head_seq, diverged_seq, diverged_reason "
        "FROM stations ORDER BY line, station_id"
    )
    return [StationState(*row) for row in rows]


def conflicts(store: Store, *, include_resolved: bool = False) -> list[Conflict]:
    rows = store.rows(
        "SELECT id, kind, found_by, found_at, spki_sha256, board_uid, first_station, "
        "first_board, first_serial, second_station, second_board, second_serial "
        "FROM conflicts WHERE %s OR resolved_at IS NULL ORDER BY id",
        (include_resolved,),
    )
    return [Conflict(*row) for row in rows]


def resolve(store: Store, station_id: str, note: str) -> Resolved:
    """Accept a diverged station again: the stored events from its first bad seq on are set
    aside (kept, with ``note`` and the reason), and it pushes from there on its next sync."""
    (row,) = store.rows("SELECT * FROM factory_resolve(%s, %s)", (station_id, note))
    return Resolved(int(row[0]), int(row[1]))


def settle_conflict(store: Store, conflict_id: int, note: str) -> None:
    """Mark a conflict resolved with what was done (it stays listed with ``--all``)."""
    rows = store.rows(
        "UPDATE conflicts SET resolved_at = now(), resolution = %s "
        "WHERE id = %s AND resolved_at IS NULL RETURNING id",
        (note, conflict_id),
    )
    if not rows:
        raise FactoryError(
            f"no open conflict {conflict_id}: list them with `station factory conflicts`"
        )
