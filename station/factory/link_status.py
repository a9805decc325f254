"""The factory link in one line for the operator's screen. Pure: reports and times in, a
state and its words out (the shape of station/line/slot.py's reducers).

synced / N events behind / unreachable since HH:MM / diverged: call the supervisor. A line never
stops because the store is down: this only tells.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from station.factory.sync import SyncReport


@dataclass(frozen=True)
class LinkState:
    behind: int = 0  # the station's events the store does not hold yet (as last known)
    store_seq: int = 0  # the store's head for this station, as last known
    unreachable_since: datetime | None = None
    diverged_seq: int | None = None
    checked: bool = False  # False until the first sync attempt ended


def after_sync(state: LinkState, report: SyncReport) -> LinkState:
    """A sync ended: the store answered."""
    return LinkState(
        behind=report.behind,
        store_seq=report.head.seq,
        unreachable_since=None,
        diverged_seq=report.head.diverged_seq,
        checked=True,
    )


def after_failure(state: LinkState, now: datetime, local_seq: int) -> LinkState:
    """The store could not be reached at ``now``; the station's head is ``local_seq``."""
    return replace(
        state,
        behind=max(0, local_seq - state.store_seq),
        unreachable_since=state.unreachable_since or now,
        checked=True,
    )


def describe(state: LinkState) -> str:
    """The operator's line."""
    if not state.checked:
        return "factory: connecting..."
    if state.diverged_seq is not None:
        return f"factory: DIVERGED at seq {state.diverged_seq}: call the supervisor"
    if state.unreachable_since is not None:
        return (
            f"factory: unreachable since {state.unreachable_since:%H:%M} "
            f"({_events(state.behind)} behind); the line goes on"
        )
    if state.behind:
        return f"factory: {_events(state.behind)} behind"
    return "factory: synced"


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"
