"""The factory link of a running station: one sync after another, from a worker thread.

:meth:`FactoryLink.step` pushes what the store lacks and returns the new :class:`LinkState`;
it never raises for a store that is down (the line goes on), and keeps its connection between
steps, reconnecting after a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from station.factory.errors import FactoryError
from station.factory.link_status import LinkState, after_failure, after_sync
from station.factory.local_chain import LocalChain
from station.factory.store import Store
from station.factory.sync import sync
from station.factory_config import FactorySection


class FactoryLink:
    def __init__(
        self,
        section: FactorySection,
        station_id: str,
        audit_db: Path,
        *,
        interval: float = 10.0,
        wall: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        self.section = section
        self.station_id = station_id
        self.audit_db = audit_db
        self.interval = interval  # seconds between syncs
        self.state = LinkState()
        self._wall = wall
        self._store: Store | None = None

    def step(self) -> LinkState:
        """One sync; the link's state after it."""
        try:
            if self._store is None:
                self._store = Store.connect(self.section.url, timeout=self.section.connect_timeout)
            with LocalChain(self.audit_db) as chain:
                report = sync(self._store, chain, self.station_id, self.section.line)
            self.state = after_sync(self.state, report)
        except FactoryError:
            self.close()
            self.state = after_failure(self.state, self._wall(), self._local_seq())
        return self.state

    def _local_seq(self) -> int:
        try:
            with LocalChain(self.audit_db) as chain:
                return chain.head()[0]
        except FactoryError:
            return self.state.store_seq + self.state.behind

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
