"""The shift's figures: passed, failed, yield, median cycle time; and the export seam."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from station.engine.events import CycleResult, Outcome


@dataclass(frozen=True)
class ShiftStats:
    """Counts every finished cycle (a retried board counts once per attempt). A board found
    already provisioned is counted apart: it is neither this shift's pass nor a failure."""

    passed: int = 0
    failed: int = 0
    already: int = 0
    pass_times: tuple[float, ...] = ()
    failures: tuple[tuple[str, int], ...] = ()  # (code, count), most frequent first

    @property
    def cycles(self) -> int:
        return self.passed + self.failed

    @property
    def yield_pct(self) -> float | None:
        return None if not self.cycles else 100.0 * self.passed / self.cycles

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.pass_times) if self.pass_times else None

    def record(self, result: CycleResult) -> ShiftStats:
        """These figures with one more finished cycle."""
        if result.outcome is Outcome.ALREADY_PROVISIONED:
            return replace(self, already=self.already + 1)
        if result.failure is None:
            return replace(
                self, passed=self.passed + 1, pass_times=(*self.pass_times, result.elapsed)
            )
        counts = dict(self.failures)
        counts[result.failure.code] = counts.get(result.failure.code, 0) + 1
        ordered = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return replace(self, failed=self.failed + 1, failures=ordered)


def format_yield(stats: ShiftStats) -> str:
    value = stats.yield_pct
    return "—" if value is None else f"{value:.1f}%"


def format_median(stats: ShiftStats) -> str:
    value = stats.median_seconds
    return "—" if value is None else f"{value:.1f} s"


@dataclass(frozen=True)
class ShiftSummary:
    """What the end-of-shift screen shows, and what an exporter receives."""

    station_id: str
    operator: str
    started: datetime
    ended: datetime
    stats: ShiftStats = field(default_factory=ShiftStats)

    def lines(self) -> list[str]:
        """The summary as plain lines (for the screen and for logs)."""
        s = self.stats
        out = [
            f"Station {self.station_id}, operator {self.operator}",
            f"Shift {self.started:%Y-%m-%d %H:%M} to {self.ended:%H:%M}",
            f"Cycles {s.cycles}: passed {s.passed}, failed {s.failed}, yield {format_yield(s)}",
            f"Median cycle time (passed boards): {format_median(s)}",
        ]
        if s.already:
            out.append(f"Already provisioned (checked, not counted): {s.already}")
        out += [f"  {count} x {code}" for code, count in s.failures]
        return out


class ShiftExporter(Protocol):
    """The seam for the shift export (:class:`~station.line.shift_export.AuditShiftExporter`:
    the signed audit export of the shift; tests pass their own).

    ``export`` runs in a worker thread and returns a line for the operator, e.g. the file written.
    """

    def export(self, summary: ShiftSummary) -> str: ...
