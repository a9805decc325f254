"""The cycle's resume and orphan paths over a memory line: a virtual board's request handling
at the far end, a CA made in process, a real audit database file, a fake clock. Pure: no ptys,
no processes, no sleeps (the component twins over ptys are test_orphans.py and test_cycle.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from device_protocol.link import Link
from fixtures.board.element import generate_key
from fixtures.board.faults import Faults
from station.audit import AuditDB, CertificateRecord, CertificateStatus
from station.audit.verify import check
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult, Outcome, StepStarted
from station.engine.station import StationContext
from station.pki.policy import CsrPolicy
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner
from tests.memory_line import FakeClock, MemoryBoard
from tests.pki.conftest import Hierarchy, build_hierarchy

FRESH = ["ISSUED", "DELIVERED", "VERIFIED", "LOCKED"]


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    return build_hierarchy(
        tmp_path_factory.mktemp("ca"),
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )


@pytest.fixture
def memory_station(tmp_path: Path, hierarchy: Hierarchy) -> Iterator[StationContext]:
    profile = DeviceProfile(organization="Acme Test")
    with AuditDB.open(tmp_path / "audit.db") as audit:
        yield StationContext(
            station_id="line-7",
            signer=DeviceSigner(hierarchy.intermediate, hierarchy.key, profile),
            policy=CsrPolicy(),
            audit=audit,
            request_timeout=0.5,
            retries=2,
        )


@pytest.fixture
def board(tmp_path: Path) -> MemoryBoard:
    return MemoryBoard(tmp_path / "boards")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def run(
    station: StationContext,
    board: MemoryBoard,
    clock: FakeClock,
    *,
    steps: list[str] | None = None,
    wall: Callable[[], datetime] | None = None,
    **options: Any,
) -> CycleResult:
    """One cycle with ``board`` put on the jig (a fresh line to it)."""

    def open_link(url: str, **kw: Any) -> Link:
        assert url == f"memory://{board.identity.uid}"
        return Link(board.line(clock), clock=clock, **kw)

    def listen(event: object) -> None:
        if steps is not None and isinstance(event, StepStarted):
            steps.append(event.step.value)

    extra: dict[str, Any] = {} if wall is None else {"clock": wall}
    return Cycle(
        station,
        "1",
        f"memory://{board.identity.uid}",
        CycleOptions(operator="op-1", **options),
        listener=listen,
        link_factory=open_link,
        timer=clock,
        **extra,
    ).run()


def kinds(station: StationContext, uid: str, after: int = 0) -> list[str]:
    return [str(e["kind"]) for e in station.audit.events() if e["board_uid"] == uid][after:]


def only_certificate(station: StationContext, board: MemoryBoard) -> CertificateRecord:
    (record,) = station.audit.board_certificates(board.identity.uid)
    return record


def test_a_blank_board_provisions_to_locked(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    steps: list[str] = []
    result = run(memory_station, board, clock, steps=steps)
    assert result.passed, result.failure
    assert steps == [
        *("hello", "keygen", "csr", "policy", "issue"),
        *("deliver", "readback", "prove", "lock"),
    ]
    assert board.device.element.locked
    assert kinds(memory_station, board.identity.uid) == ["STARTED", *FRESH]
    assert only_certificate(memory_station, board).status is CertificateStatus.LOCKED
    assert result.elapsed == pytest.approx(0.0, abs=0.05)  # the fake timer: no wire waits


def test_the_cycle_stamps_its_records_with_its_clock(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    result = run(memory_station, board, clock, wall=lambda: at)
    assert result.passed, result.failure
    stamps = {e["at"] for e in memory_station.audit.events() if e["kind"] != "ISSUED"}
    assert stamps == {"2026-03-04T05:06:07.000000Z"}


def orphan(station: StationContext, board: MemoryBoard, clock: FakeClock) -> CertificateRecord:
    """A certificate issued and recorded, never delivered: the board stops answering PUT_CERT."""
    board.hang = {"PUT_CERT"}
    start = clock()
    first = run(station, board, clock)
    assert first.failure is not None
    assert first.failure.code == "not-responding.DELIVER"
    assert clock() - start == pytest.approx(3 * 0.5, abs=0.2)  # 3 sends x request_timeout
    record = only_certificate(station, board)
    assert record.status is CertificateStatus.ISSUED
    assert board.device.element.chain() is None
    assert kinds(station, board.identity.uid) == ["STARTED", "ISSUED", "FAILED"]
    board.hang = set()
    return record


def new_key(board: MemoryBoard, foreign: bytes) -> None:
    board.device.element.store_key(generate_key("ec-p256"), "ec-p256")


def other_chain(board: MemoryBoard, foreign: bytes) -> None:
    board.device.element.store_chain(foreign)


def blank(board: MemoryBoard, foreign: bytes) -> None:
    board.device.element.wipe()


def locked(board: MemoryBoard, foreign: bytes) -> None:
    board.device.element.store_chain(foreign)
    board.device.element.lock()


@pytest.mark.parametrize(
    ("comes_back", "state", "after_revocation"),
    [
        pytest.param(new_key, "keyed", FRESH, id="new-key"),
        pytest.param(other_chain, "certified", FRESH, id="other-chain"),
        pytest.param(blank, "blank", FRESH, id="board-blank"),
        pytest.param(locked, "locked", ["FAILED"], id="board-locked"),
    ],
)
def test_an_orphan_is_revoked_once_and_the_board_starts_afresh(
    memory_station: StationContext,
    board: MemoryBoard,
    clock: FakeClock,
    hierarchy: Hierarchy,
    comes_back: Callable[[MemoryBoard, bytes], None],
    state: str,
    after_revocation: list[str],
) -> None:
    record = orphan(memory_station, board, clock)
    comes_back(board, hierarchy.intermediate_pem.read_bytes())
    assert board.device.hello_info().state.value == state

    result = run(memory_station, board, clock)

    uid = board.identity.uid
    assert kinds(memory_station, uid, after=3) == [
        "STARTED",
        "REVOKED",
        "ORPHAN_REVOKED",
        *after_revocation,
    ]
    revoked = memory_station.audit.certificate(record.serial)
    assert revoked is not None
    assert (revoked.status, revoked.revocation_reason) == (
        CertificateStatus.REVOKED,
        "cessation-of-operation",
    )
    assert revoked.superseded_by is None
    if state == "locked":
        assert result.failure is not None
        assert result.failure.code == "identity.locked"
        assert "did not issue" in result.failure.message
    else:
        assert result.passed, result.failure
        assert result.serial != record.serial
    assert check(memory_station.audit.events(), memory_station.audit.all_certificates()) == []


def test_an_issued_certificate_reaches_the_board_that_kept_its_key(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    board.leave = "PUT_CERT"  # the board leaves as the chain is about to go out
    first = run(memory_station, board, clock)
    assert first.failure is not None
    record = only_certificate(memory_station, board)
    assert record.status is CertificateStatus.ISSUED
    assert board.device.hello_info().state.value == "keyed"

    steps: list[str] = []
    result = run(memory_station, board, clock, steps=steps)

    assert result.passed, result.failure
    assert result.serial == record.serial
    assert result.note == "delivered a certificate issued before an interruption"
    assert steps == ["hello", "csr", "deliver", "readback", "prove", "lock"]
    assert kinds(memory_station, board.identity.uid, after=3) == [
        "STARTED",
        "DELIVERED",
        "VERIFIED",
        "LOCKED",
    ]
    assert only_certificate(memory_station, board).status is CertificateStatus.LOCKED


def test_a_board_that_left_after_delivery_is_finished_from_where_it_stopped(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    board.device.faults = Faults(no_stored_digest=True)  # a 1.1 board: the chain is read back
    board.leave = "GET_CERT"  # chain committed on the board, read-back never answered
    first = run(memory_station, board, clock)
    assert first.failure is not None
    record = only_certificate(memory_station, board)
    assert record.status is CertificateStatus.DELIVERED

    steps: list[str] = []
    result = run(memory_station, board, clock, steps=steps)

    assert result.passed, result.failure
    assert result.serial == record.serial
    assert result.note == "resumed an interrupted cycle"
    assert steps == ["hello", "readback", "readback", "prove", "lock"]
    assert kinds(memory_station, board.identity.uid)[-3:] == ["STARTED", "VERIFIED", "LOCKED"]
    assert board.device.element.locked


def test_a_board_locked_as_its_answer_was_lost_is_not_locked_again(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    board.leave_after = "LOCK"  # locked on the board; the station never heard so
    first = run(memory_station, board, clock)
    assert first.failure is not None
    assert board.device.element.locked
    record = only_certificate(memory_station, board)
    assert record.status is CertificateStatus.VERIFIED

    result = run(memory_station, board, clock)

    assert result.passed, result.failure
    assert result.note == "resumed an interrupted cycle"
    assert only_certificate(memory_station, board).status is CertificateStatus.LOCKED
    assert kinds(memory_station, board.identity.uid)[-2:] == ["STARTED", "LOCKED"]


def test_a_finished_board_back_on_the_jig_is_already_provisioned(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    first = run(memory_station, board, clock)
    assert first.passed, first.failure
    steps: list[str] = []
    again = run(memory_station, board, clock, steps=steps)
    assert again.outcome is Outcome.ALREADY_PROVISIONED
    assert again.serial == first.serial
    assert steps == ["hello", "readback", "prove"]
    assert kinds(memory_station, board.identity.uid, after=5) == [
        "STARTED",
        "ALREADY_PROVISIONED",
    ]


def test_a_board_provisioned_before_is_refused_unless_reprovisioning(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    first = run(memory_station, board, clock)
    assert first.passed, first.failure
    blank(board, b"")
    refused = run(memory_station, board, clock)
    assert refused.failure is not None
    assert refused.failure.code == "identity.already-provisioned"
    replaced = run(memory_station, board, clock, reprovision=True)
    assert replaced.passed, replaced.failure
    old = memory_station.audit.certificate(first.serial or "")
    assert old is not None
    assert old.status is CertificateStatus.REVOKED
    assert old.superseded_by == replaced.serial


def test_a_timeout_is_reached_on_the_fake_clock_not_the_wall_clock(
    memory_station: StationContext, board: MemoryBoard, clock: FakeClock
) -> None:
    board.hang = {"KEYGEN"}
    wall = datetime.now(UTC)
    result = run(memory_station, board, clock)
    assert result.failure is not None
    assert result.failure.code == "not-responding.KEYGEN"
    assert result.elapsed == pytest.approx(1.5, abs=0.2)
    assert datetime.now(UTC) - wall < timedelta(seconds=1.5)
