"""``[factory]`` in station.toml: the factory store this station pushes to (DESIGN section 9).

The password is never in station.toml (nor on a command line): libpq reads it from
``PGPASSWORD``, ``~/.pgpass`` or ``PGPASSFILE``; a ``url`` that carries one is refused.
"""

from __future__ import annotations

import enum
import re
import zoneinfo
from dataclasses import dataclass, field

from station.config_reader import TableReader
from station.home import StationHome
from station.phrasing import one_of, quoted


class ReserveMode(enum.StrEnum):
    """What happens before signing when a factory store is set."""

    REQUIRED = "required"  # no reservation in the store, no signing
    BEST_EFFORT = "best-effort"  # reserve when the store answers; sign in any case
    OFF = "off"  # local checks only


@dataclass(frozen=True)
class Shift:
    name: str
    start: int  # minutes after local midnight; the shift lasts until the next one starts


@dataclass(frozen=True)
class ShiftPlan:
    """The factory's shifts for `station factory report`: local start times in a time zone.
    A shift is named by the local day it starts (a night shift keeps its evening's date)."""

    timezone: str  # an IANA name, as PostgreSQL's AT TIME ZONE takes it
    shifts: tuple[Shift, ...]  # by start time, at least one


DEFAULT_SHIFTS = ShiftPlan("UTC", (Shift("A", 6 * 60), Shift("B", 14 * 60), Shift("C", 22 * 60)))
_SHIFT = re.compile(r"(\S+) ([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class FactorySection:
    url: str  # a libpq URL or conninfo; "" when the station has no factory store
    line: str
    reserve: ReserveMode
    connect_timeout: int  # seconds: how long a cycle or a sync waits for the store
    shifts: ShiftPlan = field(default=DEFAULT_SHIFTS)

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def read_factory(t: TableReader, home: StationHome) -> FactorySection:
    url = t.text("url", "")
    if url:
        # Imported here: psycopg takes 0.1-0.2 s to load, which a station without a factory
        # store, and every command that reads station.toml, should not pay.
        import psycopg

        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as e:
            t.problem("url", f"is not a libpq URL or conninfo: {e}")
        else:
            if params.get("password"):
                t.problem(
                    "url",
                    "holds a password: remove it and give the password through PGPASSWORD, "
                    "~/.pgpass or PGPASSFILE (libpq reads them)",
                )
    modes = tuple(m.value for m in ReserveMode)
    reserve = t.text("reserve", ReserveMode.OFF.value if not url else ReserveMode.REQUIRED.value)
    if reserve not in modes:
        t.problem("reserve", f"{quoted(reserve)} is not a reservation mode; use {one_of(modes)}")
        reserve = ReserveMode.OFF.value
    return FactorySection(
        url=url,
        line=t.text("line", ""),
        reserve=ReserveMode(reserve),
        connect_timeout=t.integer("connect_timeout", 3, low=1, high=60),
        shifts=_read_shifts(t),
    )


def _read_shifts(t: TableReader) -> ShiftPlan:
    """``timezone`` and ``shifts`` ("NAME HH:MM" for each shift's local start)."""
    timezone = t.text("timezone", DEFAULT_SHIFTS.timezone)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        t.problem("timezone", f"{quoted(timezone)} is not a time zone; use an IANA name such "
                              'as "UTC" or "Europe/Berlin"')  # fmt: skip
        timezone = DEFAULT_SHIFTS.timezone
    default = [f"{s.name} {s.start // 60:02d}:{s.start % 60:02d}" for s in DEFAULT_SHIFTS.shifts]
    shifts = []
    for entry in t.text_list("shifts", default):
        match = _SHIFT.fullmatch(entry)
        if match is None:
            t.problem("shifts", f"{quoted(entry)} is not a shift: write its name and local "
                                'start time, such as "A 06:00"')  # fmt: skip
            continue
        shifts.append(Shift(match[1], int(match[2]) * 60 + int(match[3])))
    names, starts = [s.name for s in shifts], [s.start for s in shifts]
    if not shifts:
        t.problem("shifts", 'needs at least one shift, such as ["A 06:00"]')
    elif len(set(names)) < len(names) or len(set(starts)) < len(starts):
        t.problem("shifts", "names a shift or a start time twice: each shift once, each start once")
    else:
        return ShiftPlan(timezone, tuple(sorted(shifts, key=lambda s: s.start)))
    return DEFAULT_SHIFTS
