"""`station bench`'s factory figures, measured small against the test server."""

from __future__ import annotations

from pathlib import Path

from station.bench.factory_store import factory_store
from tests.factory.pg_server import PgServer


def test_factory_figures(pg_server: PgServer, tmp_path: Path) -> None:
    url = pg_server.create_database("bench")
    figures = {f.name: f for f in factory_store(tmp_path, url, 200)}
    assert set(figures) == {
        "factory ingest",
        "factory catch-up",
        "factory reservation",
        "factory catch-up memory",
    }
    assert figures["factory ingest"].value > 0
    assert "(1,000 events)" in figures["factory catch-up"].note
    assert figures["factory reservation"].target == "<= 2 ms"
