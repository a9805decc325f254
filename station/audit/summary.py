"""The shift summary of an export: counts by outcome, operator and slot; yield; failure reasons.

Pure and streaming: :meth:`ExportSummary.add` sees one event at a time and keeps only counters
(bounded by the number of operators, slots and failure codes, not by the number of events).
Cycle times come from the database (see :meth:`AuditSnapshot.cycle_times`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from station.audit.records import slot_name

#: The event that ends a cycle, and the outcome it stands for. A board found already
#: provisioned is counted apart: neither a pass of this window nor a failure.
OUTCOMES = {"LOCKED": "passed", "FAILED": "failed", "ALREADY_PROVISIONED": "already"}


@dataclass
class ExportSummary:
    """Counters over the events of one export window."""

    events: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    by_operator: dict[str, Counter[str]] = field(default_factory=dict)
    by_slot: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    reason_text: dict[str, str] = field(default_factory=dict)
    qa: Counter[str] = field(default_factory=Counter)

    def add(self, event: Mapping[str, Any]) -> None:
        """Count one event."""
        self.events += 1
        kind = str(event["kind"])
        self.by_kind[kind] += 1
        if kind == "QA":
            self.qa["passed" if event["code"] == "qa.passed" else "failed"] += 1
        outcome = OUTCOMES.get(kind)
        if outcome is None:
            return
        self.outcomes[outcome] += 1
        operator = str(event["operator"] or "-")
        slot = slot_name(event["slot"]) or "-"
        if outcome == "already":
            return
        self.by_operator.setdefault(operator, Counter())[outcome] += 1
        self.by_slot.setdefault(slot, Counter())[outcome] += 1
        if outcome == "failed":
            code = str(event["code"] or "unknown")
            self.reasons[code] += 1
            self.reason_text.setdefault(code, str(event["text"] or ""))

    @property
    def cycle_yield(self) -> float | None:
        """Passed cycles / finished cycles (None when no cycle finished)."""
        done = self.outcomes["passed"] + self.outcomes["failed"]
        return None if done == 0 else self.outcomes["passed"] / done

    def as_dict(
        self, cycles: tuple[int, float | None, float | None], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The summary.json object; ``cycles`` is (count, median, p95) in seconds."""

        def outcome_counts(c: Counter[str]) -> dict[str, int]:
            return {"passed": c["passed"], "failed": c["failed"]}

        timed, median, p95 = cycles
        return {
            **extra,
            "events": self.events,
            "events_by_kind": dict(sorted(self.by_kind.items())),
            "cycles": {
                **outcome_counts(self.outcomes),
                "already_provisioned": self.outcomes["already"],
                "yield": None if self.cycle_yield is None else round(self.cycle_yield, 4),
            },
            "by_operator": {k: outcome_counts(v) for k, v in sorted(self.by_operator.items())},
            "by_slot": {k: outcome_counts(v) for k, v in sorted(self.by_slot.items())},
            "failure_reasons": [
                {"code": code, "count": n, "example": self.reason_text[code]}
                for code, n in sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))
            ],
            "cycle_time_seconds": {
                "timed": timed,
                "median": None if median is None else round(median, 3),
                "p95": None if p95 is None else round(p95, 3),
            },
            "qa": {"passed": self.qa["passed"], "failed": self.qa["failed"]},
        }


def render_text(summary: Mapping[str, Any]) -> str:
    """summary.txt: the same facts for a person at the end of a shift."""
    cycles, times = summary["cycles"], summary["cycle_time_seconds"]
    yield_text = "n/a" if cycles["yield"] is None else f"{cycles['yield'] * 100:.1f}%"
    lines = [
        f"Station {summary['station_id']}: audit export",
        f"Window: {summary['since'] or 'beginning'} .. {summary['until']} "
        f"(events {summary['first_seq'] or '-'}..{summary['last_seq']})",
        f"Events: {summary['events']}",
        f"Cycles: {cycles['passed']} passed, {cycles['failed']} failed, yield {yield_text}"
        + (
            f" ({cycles['already_provisioned']} already provisioned)"
            if cycles.get("already_provisioned")
            else ""
        ),
        f"Cycle time: median {_secs(times['median'])}, p95 {_secs(times['p95'])} "
        f"({times['timed']} timed)",
        f"Certificates: {summary['certificates_issued']} issued, "
        f"{summary['certificates_revoked']} revoked",
        f"QA: {summary['qa']['passed']} passed, {summary['qa']['failed']} failed",
    ]
    for title, key in (("By operator", "by_operator"), ("By slot", "by_slot")):
        lines.append(f"{title}:")
        lines += [
            f"  {name:<16} {c['passed']:>6} passed {c['failed']:>6} failed"
            for name, c in summary[key].items()
        ] or ["  (none)"]
    lines.append("Failure reasons (most frequent first):")
    lines += [
        f"  {r['count']:>6}  {r['code']}  {r['example']}" for r in summary["failure_reasons"]
    ] or ["  (none)"]
    return "\n".join(lines) + "\n"


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}s"
