"""``[factory]`` in station.toml: the factory store this station pushes to (DESIGN section 9).

The password is never in station.toml (nor on a command line): libpq reads it from
``PGPASSWORD``, ``~/.pgpass`` or ``PGPASSFILE``; a ``url`` that carries one is refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import psycopg

from station.config_reader import TableReader
from station.home import StationHome
from station.phrasing import one_of, quoted


class ReserveMode(enum.StrEnum):
    """What happens before signing when a factory store is set."""

    REQUIRED = "required"  # no reservation in the store, no signing
    BEST_EFFORT = "best-effort"  # reserve when the store answers; sign in any case
    OFF = "off"  # local checks only


@dataclass(frozen=True)
class FactorySection:
    url: str  # a libpq URL or conninfo; "" when the station has no factory store
    line: str
    reserve: ReserveMode
    connect_timeout: int  # seconds: how long a cycle or a sync waits for the store

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def read_factory(t: TableReader, home: StationHome) -> FactorySection:
    url = t.text("url", "")
    if url:
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
    )
