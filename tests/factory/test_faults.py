"""The store's reliability on a real PostgreSQL: a server that stops in the middle of a sync,
a store that cannot be reached while the line provisions, three stations pushing at once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer
from station.audit import AuditDB
from station.engine.cycle import Cycle, CycleOptions
from station.engine.reservation import ReservationRefused
from station.engine.station import StationContext
from station.factory.errors import StoreUnreachable
from station.factory.local_chain import LocalChain
from station.factory.reserver import StoreReserver
from station.factory.store import Store
from station.factory.sync import SyncReport, sync
from station.factory.views import verify
from station.factory_config import FactorySection, ReserveMode
from tests.factory.pg_server import PgServer
from tests.factory.stations import key_of, provision, station_db


def section(url: str, mode: str) -> FactorySection:
    return FactorySection(url=url, line="L1", reserve=ReserveMode(mode), connect_timeout=2)


def test_server_stopped_mid_sync_then_started(
    pg_server: PgServer, store_url: str, new_db: Callable[[str], Path]
) -> None:
    path = station_db(new_db("st1"), "st1", 40)  # 200 events

    def stop_after_two_batches(report: SyncReport) -> None:
        if report.pushed == 100:
            pg_server.stop()

    try:
        with (
            Store.connect(store_url) as store,
            LocalChain(path) as chain,
            pytest.raises(StoreUnreachable, match="the next sync resumes"),
        ):
            sync(store, chain, "st1", "L1", batch=50, on_batch=stop_after_two_batches)
    finally:
        pg_server.start()
    with Store.connect(store_url) as store, LocalChain(path) as chain:
        assert store.head("st1").seq == 100  # what was committed stayed
        report = sync(store, chain, "st1", "L1", batch=50)
        assert report.pushed == 100
        assert store.rows("SELECT count(*), count(DISTINCT seq) FROM events") == [(200, 200)]
        assert store.rows("SELECT count(*) FROM certificates WHERE status = 'locked'") == [(40,)]
        assert all(check.ok for check in verify(store))


def test_unreachable_store_while_twenty_boards_provision(
    tmp_path: Path, store_url: str, new_db: Callable[[str], Path]
) -> None:
    nowhere = f"postgresql:///factory?host={tmp_path}&user=postgres"
    clock = [0.0]
    best = StoreReserver(section(nowhere, "best-effort"), "st1", clock=lambda: clock[0])
    required = StoreReserver(section(nowhere, "required"), "st1")
    path = new_db("st1")
    with AuditDB.open(path) as audit:
        for n in range(20):
            board, key = f"B{n:02d}", key_of(f"st1/B{n:02d}")
            with pytest.raises(ReservationRefused) as refused:
                required.reserve(key, board)
            assert refused.value.code == "factory.unreachable"
            best.reserve(key, board)  # the line goes on
            provision(audit, "st1", board, key=key)
            clock[0] += 1.0
    # Once reachable, the station catches up, and the keys are reserved in the store.
    with Store.connect(store_url) as store, LocalChain(path) as chain:
        assert sync(store, chain, "st1", "L1").pushed == 100
        assert store.rows("SELECT count(*) FROM reservations WHERE station_id = 'st1'") == [(20,)]
    reachable = StoreReserver(section(store_url, "best-effort"), "st1", clock=lambda: clock[0])
    reachable.reserve(key_of("st1/B00"), "B00")  # its own key, its own board: fine
    reachable.close()


def test_a_cycle_with_the_store_down(
    station: StationContext, tmp_path: Path, make_board: Callable[..., BoardServer]
) -> None:
    nowhere = f"postgresql:///factory?host={tmp_path}&user=postgres"
    refused = Cycle(
        dataclasses.replace(station, reserver=StoreReserver(section(nowhere, "required"), "s")),
        "1",
        make_board().url,
        CycleOptions(operator="op-1"),
    ).run()
    assert refused.failure is not None
    assert refused.failure.code == "factory.unreachable"
    assert "no reservation, so no signing" in refused.failure.message
    assert "cannot reach the factory store" in refused.failure.message
    passed = Cycle(
        dataclasses.replace(station, reserver=StoreReserver(section(nowhere, "best-effort"), "s")),
        "2",
        make_board().url,
        CycleOptions(operator="op-1"),
    ).run()
    assert passed.failure is None
    assert [e["kind"] for e in station.audit.events()].count("LOCKED") == 1


def test_three_stations_provision_and_sync_at_once(
    store_url: str, new_db: Callable[[str], Path]
) -> None:
    paths = {name: new_db(name) for name in ("st1", "st2", "st3")}
    errors: list[BaseException] = []

    def line(name: str) -> None:
        try:
            with AuditDB.open(paths[name]) as audit, Store.connect(store_url) as store:
                for n in range(30):
                    provision(audit, name, f"{name}-B{n:03d}")
                    if n % 5 == 4:
                        with LocalChain(paths[name]) as chain:
                            sync(store, chain, name, "L1", batch=7)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=line, args=(name,)) for name in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.connect(store_url) as store:
        for name, path in paths.items():
            with LocalChain(path) as chain:
                sync(store, chain, name, "L1")
                local_seq = chain.head()[0]
            assert store.head(name).seq == local_seq
        local_events = 0
        for path in paths.values():
            with LocalChain(path) as chain:
                local_events += chain.head()[0]
        assert store.rows("SELECT count(*) FROM events") == [(local_events,)]
        assert store.rows("SELECT count(*) FROM certificates") == [(90,)]
        assert store.rows("SELECT count(*) FROM boards") == [(90,)]
        assert store.rows("SELECT count(*) FROM conflicts") == [(0,)]
        assert all(check.ok for check in verify(store))
