"""A measured figure, its target, and whether it is met. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str  # as DESIGN section 7 states it, e.g. "<= 1.10"
    met: bool | None  # None: reported, no target
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def at_most(name: str, value: float, limit: float, unit: str, note: str = "") -> Figure:
    return Figure(name, value, unit, f"<= {limit:g} {unit}".rstrip(), value <= limit, note)


def at_least(name: str, value: float, limit: float, unit: str, note: str = "") -> Figure:
    return Figure(name, value, unit, f">= {limit:g} {unit}".rstrip(), value >= limit, note)


def info(name: str, value: float, unit: str, note: str = "") -> Figure:
    return Figure(name, value, unit, "", None, note)


def table(figures: list[Figure]) -> str:
    """A plain-text table for a terminal."""
    width = max((len(f.name) for f in figures), default=10)
    lines = [f"{'figure':<{width}}  {'value':>12}  {'target':<16}  met"]
    for f in figures:
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        value = f"{f.value:,.3f}" if abs(f.value) < 1000 else f"{f.value:,.0f}"
        lines.append(f"{f.name:<{width}}  {value:>8} {f.unit:<3}  {f.target:<16}  {met}")
        if f.note:
            lines.append(f"{'':<{width}}    {f.note}")
    return "\n".join(lines)
