"""`station factory report`: the fleet's figures over a window, computed by the server.

Yield by line, station, operator and shift (a cycle passed when it reached LOCKED, failed when
it reached FAILED), failure reasons ranked, cycle times (STARTED to LOCKED or FAILED: median and
p95) and certificates on boards expiring within ``expiring_days``. Shifts come from
``[factory] shifts`` and ``timezone`` (by default UTC A 06-14, B 14-22, C 22-06), each named
by the local day it starts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from station.factory.store import Store
from station.factory_config import DEFAULT_SHIFTS, ShiftPlan

_CYCLES = """
WITH ends AS (
    SELECT e.station_id, e.seq, e.at, e.kind, e.code, e.operator, e.board_uid
    FROM events e WHERE e.kind IN ('LOCKED', 'FAILED') AND e.at >= %(since)s AND e.at < %(until)s
)
SELECT s.line, ends.station_id, coalesce(ends.operator, '-') AS operator,
       (SELECT to_char(local.at, 'YYYY-MM-DD') || ' ' || x.name
        FROM unnest(%(shift_offsets)s::int[], %(shift_names)s::text[]) AS x(off, name)
        WHERE x.off <= extract(hour FROM local.at) * 60 + extract(minute FROM local.at)
        ORDER BY x.off DESC LIMIT 1) AS shift,
       ends.kind, ends.code,
       extract(epoch FROM ends.at - started.at) AS seconds
FROM ends
JOIN stations s ON s.station_id = ends.station_id
-- Local time moved back to the first shift's start: its date is the shift's day, its time of
-- day the minutes since the first shift started.
CROSS JOIN LATERAL (
    SELECT (ends.at AT TIME ZONE %(shift_zone)s) - make_interval(mins => %(shift_first)s) AS at
) AS local
LEFT JOIN LATERAL (
    SELECT b.at FROM events b
    WHERE b.station_id = ends.station_id AND b.board_uid = ends.board_uid
      AND b.kind = 'STARTED' AND b.seq < ends.seq
    ORDER BY b.seq DESC LIMIT 1
) AS started ON true
"""


def _groups(store: Store, params: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = store.rows(
        f"SELECT {key}, count(*) FILTER (WHERE kind = 'LOCKED'), "  # noqa: S608 - fixed keys
        f"count(*) FILTER (WHERE kind = 'FAILED') FROM ({_CYCLES}) c GROUP BY {key} "
        f"ORDER BY {key}",
        params,  # type: ignore[arg-type]
    )
    names = key.split(", ")
    out = []
    for row in rows:
        passed, failed = int(row[-2]), int(row[-1])
        group = dict(zip(names, row[:-2], strict=True))
        total = passed + failed
        out.append({**group, "passed": passed, "failed": failed,
                    "yield": round(passed / total, 4) if total else None})  # fmt: skip
    return out


def fleet_report(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    expiring_days: int = 60,
    shifts: ShiftPlan = DEFAULT_SHIFTS,
) -> dict[str, Any]:
    """The report's figures as plain values (for --json and the text view)."""
    first = shifts.shifts[0].start
    params: dict[str, Any] = {
        "since": since,
        "until": until,
        "days": expiring_days,
        "shift_zone": shifts.timezone,
        "shift_first": first,
        "shift_offsets": [s.start - first for s in shifts.shifts],
        "shift_names": [s.name for s in shifts.shifts],
    }
    reasons = store.rows(
        f"SELECT code, count(*) FROM ({_CYCLES}) c WHERE kind = 'FAILED' "  # noqa: S608
        "GROUP BY code ORDER BY count(*) DESC, code",
        params,  # type: ignore[arg-type]
    )
    ((median, p95, timed),) = store.rows(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), "  # noqa: S608
        f"percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds), count(seconds) FROM ({_CYCLES}) c",
        params,  # type: ignore[arg-type]
    )
    expiring = store.rows(
        "SELECT station_id, serial, board_uid, not_after FROM certificates "
        "WHERE status IN ('delivered', 'verified', 'locked') "
        "AND not_after < now() + make_interval(days => %(days)s) ORDER BY not_after",
        params,  # type: ignore[arg-type]
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "by_line": _groups(store, params, "line"),
        "by_station": _groups(store, params, "line, station_id"),
        "by_operator": _groups(store, params, "operator"),
        "by_shift": _groups(store, params, "shift"),
        "failure_reasons": [{"code": code, "count": int(n)} for code, n in reasons],
        "cycle_seconds": {"median": median, "p95": p95, "cycles": int(timed)},
        "expiring": [
            {"station": s, "serial": serial, "board": b, "not_after": t.isoformat()}
            for s, serial, b, t in expiring
        ],
    }
