"""Fixtures of the factory store's tests: one real PostgreSQL per test session, a fresh,
migrated database per test, and station audit databases with events in them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.factory.store import Store
from tests.factory.pg_server import PgServer

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def store_url(pg_server: PgServer) -> str:
    """A new database on the server, with the store's schema migrated."""
    url = pg_server.create_database(f"store{next(_names)}")
    with Store.connect(url, migrate_schema=True):
        pass
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.connect(store_url) as connected:
        yield connected


@pytest.fixture
def new_db(tmp_path: Path) -> Callable[[str], Path]:
    """The path of a new station audit database (created by the first write)."""

    def make(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        return folder / "audit.db"

    return make


# A real station home (`station init`) and a StationContext over it, as the engine tests have.
from tests.engine.conftest import home, station, template_home  # noqa: E402, F401
