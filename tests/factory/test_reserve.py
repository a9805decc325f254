"""Fleet-wide uniqueness: a key (and a board id) reserved in the store before signing, with
the three modes, on a real PostgreSQL and (for the cycle) a real station and virtual board."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer
from station.audit import AuditDB
from station.engine.cycle import Cycle, CycleOptions
from station.engine.reservation import ReservationRefused
from station.engine.station import StationContext
from station.factory.errors import FactoryError
from station.factory.local_chain import LocalChain
from station.factory.reserver import StoreReserver
from station.factory.store import Store
from station.factory.supervise import conflicts, settle_conflict
from station.factory.sync import sync
from station.factory_config import FactorySection, ReserveMode
from tests.factory.stations import key_of, provision

KEY = key_of("one key, two boards")


def section(url: str, mode: str) -> FactorySection:
    return FactorySection(url=url, line="L1", reserve=ReserveMode(mode), connect_timeout=2)


def test_a_key_is_reserved_once_fleet_wide(store: Store) -> None:
    assert store.reserve("st1", "L1", KEY, "B1").outcome == "reserved"
    assert store.reserve("st1", "L1", KEY, "B1").outcome == "reserved"  # a retried cycle
    taken = store.reserve("st2", "L2", KEY, "B2")
    assert (taken.outcome, taken.other_station, taken.other_board) == ("key-taken", "st1", "B1")
    (conflict,) = conflicts(store)
    assert (conflict.kind, conflict.found_by) == ("key", "reservation")
    assert (conflict.first_station, conflict.second_station) == ("st1", "st2")
    assert "nothing was signed on st2" in conflict.advice


def test_required_refuses_the_second_station_before_signing(store_url: str) -> None:
    first = StoreReserver(section(store_url, "required"), "st1")
    second = StoreReserver(section(store_url, "required"), "st2")
    first.reserve(KEY, "B1")
    with pytest.raises(ReservationRefused) as info:
        second.reserve(KEY, "B2")
    assert info.value.code == "factory.key-taken"
    assert "reserved for board B1 on st1" in str(info.value)
    assert "fresh key" in str(info.value)
    best = StoreReserver(section(store_url, "best-effort"), "st3")
    best.reserve(KEY, "B3")  # signs: the conflict is recorded for the supervisor
    with Store.connect(store_url) as store:
        assert [c.second_station for c in conflicts(store)] == ["st2", "st3"]
    for reserver in (first, second, best):
        reserver.close()


def test_best_effort_signs_and_the_sync_reports_the_conflict(
    store: Store, new_db: Callable[[str], Path]
) -> None:
    """Both stations certified one key while neither could ask the store."""
    for station_id, board in (("st1", "B1"), ("st2", "B2")):
        path = new_db(station_id)
        with AuditDB.open(path) as audit:
            provision(audit, station_id, board, key=KEY)
        with LocalChain(path) as chain:
            sync(store, chain, station_id, "L1")
    (conflict,) = conflicts(store)
    assert (conflict.kind, conflict.found_by) == ("key", "sync")
    assert (conflict.first_station, conflict.first_board) == ("st1", "B1")
    assert (conflict.second_station, conflict.second_board) == ("st2", "B2")
    assert conflict.second_serial is not None
    assert f"revoke certificate {conflict.second_serial} on st2" in conflict.advice
    settle_conflict(store, conflict.id, f"revoked {conflict.second_serial} on st2")
    assert conflicts(store) == []
    assert [c.id for c in conflicts(store, include_resolved=True)] == [conflict.id]
    with pytest.raises(FactoryError, match=f"no open conflict {conflict.id}"):
        settle_conflict(store, conflict.id, "twice")
    # Both certificates are in the store: nothing was merged away.
    assert store.rows("SELECT count(*) FROM certificates WHERE spki_sha256 = %s", (KEY,)) == [(2,)]


def test_a_serial_issued_on_two_stations_is_a_conflict_at_sync(
    store: Store, store_url: str, new_db: Callable[[str], Path]
) -> None:
    """Two stations issued one serial (to different boards, with different keys): the store
    keeps both certificates and reports the conflict, whichever batch brought either."""
    serial = "4f2a" * 5
    for station_id, board in (("st1", "B1"), ("st2", "B2")):
        path = new_db(station_id)
        with AuditDB.open(path) as audit:
            provision(audit, station_id, f"{station_id}-B0")  # a board with its own serial
            provision(audit, station_id, board, serial=serial)
        with LocalChain(path) as chain:
            assert not sync(store, chain, station_id, "L1", batch=3).diverged
    (conflict,) = conflicts(store)
    assert (conflict.kind, conflict.found_by) == ("serial", "sync")
    assert (conflict.first_station, conflict.first_board, conflict.first_serial) == (
        "st1",
        "B1",
        serial,
    )
    assert (conflict.second_station, conflict.second_board) == ("st2", "B2")
    assert conflict.second_serial == serial
    assert f"revoke certificate {serial} on st2" in conflict.advice
    assert "serial" in conflict.advice
    rows = store.rows("SELECT station_id FROM certificates WHERE serial = %s ORDER BY 1", (serial,))
    assert rows == [("st1",), ("st2",)]
    # A repeated sync reports it once.
    with LocalChain(path) as chain:
        sync(store, chain, "st2", "L1")
    assert len(conflicts(store)) == 1
    listed = subprocess.run(
        [sys.executable, "-m", "station", "factory", "conflicts", "--url", store_url],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert listed.returncode == 1, listed.stderr
    assert f"serial {serial}: st1 board B1 cert {serial} / st2 board B2" in listed.stdout


def test_store_unreachable(tmp_path: Path) -> None:
    nowhere = f"postgresql:///factory?host={tmp_path}&user=postgres"
    with pytest.raises(ReservationRefused) as info:
        StoreReserver(section(nowhere, "required"), "st1").reserve(KEY, "B1")
    assert info.value.code == "factory.unreachable"
    assert 'reserve = "required"' in str(info.value)
    assert "cannot reach the factory store factory on" in str(info.value)
    StoreReserver(section(nowhere, "best-effort"), "st1").reserve(KEY, "B1")  # goes on
    StoreReserver(section(nowhere, "off"), "st1").reserve(KEY, "B1")


def test_a_cycle_stops_before_signing_when_the_board_is_active_elsewhere(
    station: StationContext,
    store_url: str,
    make_board: Callable[..., BoardServer],
    new_db: Callable[[str], Path],
) -> None:
    board = make_board()
    other = new_db("st9")
    with AuditDB.open(other) as audit:
        provision(audit, "st9", board.identity.uid)
    with Store.connect(store_url) as store, LocalChain(other) as chain:
        sync(store, chain, "st9", "L9")
    required = StoreReserver(section(store_url, "required"), station.station_id)
    ctx = dataclasses.replace(station, reserver=required)
    result = Cycle(ctx, "1", board.url, CycleOptions(operator="op-1")).run()
    assert result.failure is not None
    assert result.failure.code == "factory.board-elsewhere"
    assert "active certificate" in result.failure.message
    assert "from st9" in result.failure.message
    kinds = [e["kind"] for e in station.audit.events()]
    assert "ISSUED" not in kinds  # refused before signing
    assert kinds[-1] == "FAILED"
    required.close()
