"""The factory link's line on the operator's screen. Pure."""

from __future__ import annotations

from datetime import datetime

import pytest

from station.factory.link_status import LinkState, after_failure, after_sync, describe
from station.factory.store import StationHead
from station.factory.sync import SyncReport

T = datetime(2026, 3, 1, 14, 7).astimezone()


def report(local: int, store: int, diverged: int | None = None) -> SyncReport:
    return SyncReport("st1", 0, local, StationHead(store, "h", diverged, "why"))


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (LinkState(), "factory: connecting..."),
        (after_sync(LinkState(), report(40, 40)), "factory: synced"),
        (after_sync(LinkState(), report(41, 40)), "factory: 1 event behind"),
        (
            after_failure(after_sync(LinkState(), report(40, 40)), T, 52),
            "factory: unreachable since 14:07 (12 events behind); the line goes on",
        ),
        (
            after_sync(LinkState(), report(90, 60, diverged=61)),
            "factory: DIVERGED at seq 61: call the supervisor",
        ),
    ],
    ids=["connecting", "synced", "behind", "unreachable", "diverged"],
)
def test_words(state: LinkState, words: str) -> None:
    assert describe(state) == words


def test_unreachable_keeps_the_first_time_and_clears_on_the_next_sync() -> None:
    down = after_failure(LinkState(), T, 5)
    later = after_failure(down, T.replace(hour=15), 9)
    assert later.unreachable_since == T
    assert later.behind == 9
    assert after_sync(later, report(9, 9)).unreachable_since is None
