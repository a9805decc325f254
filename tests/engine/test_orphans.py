"""Orphaned certificates and boards that come back: real ptys, a real database, a real CRL.

An orphan is a certificate recorded ISSUED whose delivery never completed (here: the board
hangs at PUT_CERT). When its board returns without it, the orphan is revoked once, for
cessation-of-operation, and the board starts afresh with nothing to supersede.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer, Faults
from fixtures.board.element import generate_key
from station.audit import CertificateRecord, CertificateStatus
from station.audit.verify import check
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import CycleResult, Outcome, StepStarted
from station.engine.station import StationContext
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]


def run(station: StationContext, board: BoardServer, **options: object) -> CycleResult:
    return Cycle(station, "1", board.url, CycleOptions(operator="op-1", **options)).run()  # type: ignore[arg-type]


def kinds(station: StationContext, uid: str, after: int = 0) -> list[str]:
    return [str(e["kind"]) for e in station.audit.events() if e["board_uid"] == uid][after:]


def crl_text(home: Path, tmp_path: Path) -> str:
    out = tmp_path / "station.crl.pem"
    made = subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "crl", "--out", str(out)],
        env={**ENV, "STATION_OPERATOR": "sup-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    shown = subprocess.run(
        ["openssl", "crl", "-in", str(out), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout


def crl_reasons(text: str) -> dict[str, str]:
    """Serial (lower-case hex, no leading zeros) -> reason, from `openssl crl -text`."""
    reasons: dict[str, str] = {}
    serial = None
    lines = iter(text.splitlines())
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("Serial Number:"):
            serial = stripped.split(":", 1)[1].strip().lower().lstrip("0")
            reasons[serial] = ""
        elif stripped == "X509v3 CRL Reason Code:" and serial is not None:
            reasons[serial] = next(lines).strip()
    return reasons


def orphan(station: StationContext, make_board: MakeBoard) -> tuple[BoardServer, CertificateRecord]:
    """A board whose certificate was issued and recorded, and never delivered."""
    board = make_board(Faults(hang="PUT_CERT"))
    first = run(station, board)
    assert first.failure is not None
    assert first.failure.code == "not-responding.DELIVER"
    (record,) = station.audit.board_certificates(board.identity.uid)
    assert record.status is CertificateStatus.ISSUED
    assert board.device.element.chain() is None
    assert kinds(station, board.identity.uid) == ["STARTED", "ISSUED", "FAILED"]
    board.faults = Faults()
    return board, record


def foreign_chain(home: Path) -> bytes:
    """A chain that is not the orphan's: this station's own intermediate certificate."""
    return (home / "ca" / "intermediate.cert.pem").read_bytes()


def new_key(board: BoardServer, home: Path) -> None:
    board.device.element.store_key(generate_key("ec-p256"), "ec-p256")


def other_chain(board: BoardServer, home: Path) -> None:
    board.device.element.store_chain(foreign_chain(home))


def blank(board: BoardServer, home: Path) -> None:
    board.device.element.wipe()


def locked(board: BoardServer, home: Path) -> None:
    board.device.element.store_chain(foreign_chain(home))
    board.device.element.lock()


FRESH = ["ISSUED", "DELIVERED", "VERIFIED", "LOCKED"]


@pytest.mark.parametrize(
    ("comes_back", "state", "after_revocation"),
    [
        pytest.param(new_key, "keyed", FRESH, id="new-key"),
        pytest.param(other_chain, "certified", FRESH, id="other-chain"),
        pytest.param(blank, "blank", FRESH, id="board-blank"),
        pytest.param(locked, "locked", ["FAILED"], id="board-locked"),
    ],
)
def test_an_orphan_is_revoked_once_for_cessation_of_operation(
    station: StationContext,
    make_board: MakeBoard,
    home: Path,
    tmp_path: Path,
    comes_back: Callable[[BoardServer, Path], None],
    state: str,
    after_revocation: list[str],
) -> None:
    board, record = orphan(station, make_board)
    comes_back(board, home)
    assert board.device.hello_info().state.value == state

    result = run(station, board)

    uid = board.identity.uid
    assert kinds(station, uid, after=3) == [
        "STARTED",
        "REVOKED",
        "ORPHAN_REVOKED",
        *after_revocation,
    ]
    revoked = station.audit.certificate(record.serial)
    assert revoked is not None
    assert revoked.status is CertificateStatus.REVOKED
    assert revoked.revocation_reason == "cessation-of-operation"
    assert revoked.superseded_by is None
    events = [e for e in station.audit.events() if e["serial"] == record.serial]
    assert [e["kind"] for e in events if e["kind"] in ("REVOKED", "SUPERSEDED")] == ["REVOKED"]
    assert revoked.revoked_at == next(e["at"] for e in events if e["kind"] == "REVOKED")
    if state == "locked":
        assert result.failure is not None
        assert result.failure.code == "identity.locked"
        assert "did not issue" in result.failure.message
    else:
        assert result.passed, result.failure
        assert result.serial != record.serial
        current = station.audit.certificate(result.serial or "")
        assert current is not None
        assert current.status is CertificateStatus.LOCKED
    assert check(station.audit.events(), station.audit.all_certificates()) == []

    reasons = crl_reasons(crl_text(home, tmp_path))
    assert reasons == {record.serial.lstrip("0"): "Cessation Of Operation"}


def test_a_revoked_certificate_is_not_superseded_or_revoked_again(
    station: StationContext, make_board: MakeBoard, home: Path, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from station.audit import EventContext
    from station.audit.errors import AlreadyRevoked

    _board, record = orphan(station, make_board)
    ctx, now = EventContext("line-7", "sup-1"), datetime.now(UTC)
    station.audit.revoke(record.serial, "cessation-of-operation", now, ctx)
    for attempt in (
        lambda: station.audit.supersede(record.serial, "ab", ctx, now, revoke=True),
        lambda: station.audit.supersede(record.serial, "ab", ctx, now, revoke=False),
        lambda: station.audit.revoke(record.serial, "superseded", now, ctx),
    ):
        with pytest.raises(AlreadyRevoked, match=record.serial):
            attempt()
    after = station.audit.certificate(record.serial)
    assert after is not None
    assert (after.status, after.revocation_reason) == (
        CertificateStatus.REVOKED,
        "cessation-of-operation",
    )
    assert crl_reasons(crl_text(home, tmp_path)) == {
        record.serial.lstrip("0"): "Cessation Of Operation"
    }


def test_a_finished_board_back_on_the_jig_is_already_provisioned(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board()
    first = run(station, board)
    assert first.passed, first.failure
    uid = board.identity.uid
    steps: list[str] = []
    again = Cycle(
        station,
        "1",
        board.url,
        CycleOptions(operator="op-1"),
        listener=lambda e: steps.append(e.step.value) if isinstance(e, StepStarted) else None,
    ).run()
    assert again.failure is None
    assert again.outcome is Outcome.ALREADY_PROVISIONED
    assert not again.passed
    assert again.good
    assert again.serial == first.serial
    assert steps == ["hello", "readback", "prove"]  # possession checked, nothing written
    locked_at = next(e["at"] for e in station.audit.events() if e["kind"] == "LOCKED")
    assert again.provisioned_at is not None
    assert again.provisioned_at.isoformat().replace("+00:00", "Z") == locked_at
    assert first.serial in again.note
    assert f"{again.provisioned_at:%Y-%m-%d}" in again.note
    assert kinds(station, uid, after=5) == ["STARTED", "ALREADY_PROVISIONED"]
    assert [c.status for c in station.audit.board_certificates(uid)] == [CertificateStatus.LOCKED]


def test_already_provisioned_needs_proof_of_possession(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board()
    assert run(station, board).passed
    board.faults = Faults(wrong_key=True)
    result = run(station, board)
    assert result.outcome is Outcome.FAILED
    assert result.failure is not None
    assert result.failure.code == "possession.failed"
    assert result.provisioned_at is None


def test_a_locked_board_with_a_certificate_no_longer_current_fails_with_the_reason(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board()
    first = run(station, board)
    assert first.passed
    element = board.device.element
    old_chain = element.chain()
    assert old_chain is not None
    blank(board, Path())
    replaced = run(station, board, reprovision=True)
    assert replaced.passed, replaced.failure
    # The board turns up locked with its first, since revoked, certificate.
    element.store_chain(old_chain)
    result = run(station, board)
    assert result.failure is not None
    assert result.failure.code == "identity.locked"
    assert f"certificate {first.serial}, which this station recorded as revoked" in (
        result.failure.message
    )
    assert f"certificate {replaced.serial} is current" in result.failure.message
