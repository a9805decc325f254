"""Shared fixtures: virtual boards on real ptys in a per-test state folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fixtures.board import BoardIdentity, BoardServer, Faults

# The fast tier (which tests are component tests, and pure tests kept pure), and pytester for
# its own tests.
pytest_plugins = ("tests.tiers", "pytester")


@pytest.fixture
def make_board(tmp_path: Path) -> Iterator[Callable[..., BoardServer]]:
    """Start virtual boards on ptys; every board is stopped when the test ends."""
    started: list[BoardServer] = []

    def make(
        faults: Faults | None = None,
        *,
        seed: int | None = 1,
        transport: str = "pty",
        **identity: object,
    ) -> BoardServer:
        board = BoardServer(
            BoardIdentity.random(**identity),  # type: ignore[arg-type]
            tmp_path / "boards",
            faults=faults,
            transport=transport,
            seed=seed,
        )
        board.start()
        started.append(board)
        return board

    yield make
    for board in started:
        board.stop()
