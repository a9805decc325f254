"""Fixtures of the tests of verify's worker-pool path: a seeded database built once per module,
a fresh copy of it per test, and the pool used at any size (not only from PARALLEL_FROM events).

    pristine, db, parallel_at_any_size = parallel_fixtures(BOARDS)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from station.audit import verify
from tests.audit.seeded import seeded


def parallel_fixtures(boards: int) -> tuple[Callable[..., Any], ...]:
    """The three fixtures for a database of ``boards`` boards (five events each)."""

    @pytest.fixture(scope="module")
    def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return seeded(tmp_path_factory.mktemp("seeded") / "audit.db", boards)

    @pytest.fixture
    def db(pristine: Path, tmp_path: Path) -> Path:
        copy = tmp_path / "audit.db"
        shutil.copy(pristine, copy)
        return copy

    @pytest.fixture(autouse=True)
    def parallel_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(verify, "PARALLEL_FROM", 0)

    return pristine, db, parallel_at_any_size
