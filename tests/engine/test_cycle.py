"""The engine over real ptys against virtual boards, with a real station home and database."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fixtures.board import BoardServer, Faults
from station.audit import CertificateStatus
from station.engine.cycle import Cycle, CycleOptions
from station.engine.events import (
    BoardIdentified,
    CycleResult,
    EngineEvent,
    FailureKind,
    Outcome,
    Step,
    StepStarted,
)
from station.engine.gang import provision_all
from station.engine.station import StationContext
from station.logbook import Logbook
from tests.verifiers import openssl_verify

MakeBoard = Callable[..., BoardServer]


def run(station: StationContext, board: BoardServer, **options: object) -> CycleResult:
    return Cycle(station, "1", board.url, CycleOptions(operator="op-1", **options)).run()  # type: ignore[arg-type]


def events(station: StationContext, uid: str) -> list[dict[str, object]]:
    return [e for e in station.audit.events() if e["board_uid"] == uid]


@pytest.mark.parametrize("key_type", ["ec-p256", "ec-p384", "rsa-2048"])
def test_boards_provision_to_locked_with_verifiable_certificates(
    station: StationContext, make_board: MakeBoard, home: Path, tmp_path: Path, key_type: str
) -> None:
    board = make_board(key_types=(key_type,))
    steps: list[str] = []
    result = Cycle(
        station,
        "3",
        board.url,
        CycleOptions(operator="op-1"),
        listener=lambda e: steps.append(e.step.value) if isinstance(e, StepStarted) else None,
    ).run()
    assert result.passed, result.failure
    assert steps == [
        "hello",
        "keygen",
        "csr",
        "policy",
        "issue",
        "deliver",
        "readback",
        "prove",
        "lock",
    ]
    assert board.device.element.locked
    chain = board.device.element.chain()
    assert chain is not None
    verified = openssl_verify(home, chain, tmp_path)
    assert verified.returncode == 0, verified
    assert ": OK" in verified.stdout
    row = station.audit.certificate(result.serial or "")
    assert row is not None
    assert row.status is CertificateStatus.LOCKED
    kinds = [e["kind"] for e in events(station, board.identity.uid)]
    assert kinds == ["STARTED", "ISSUED", "DELIVERED", "VERIFIED", "LOCKED"]
    assert station.audit.first_broken_event() is None


def test_eight_boards_at_once(station: StationContext, make_board: MakeBoard) -> None:
    boards = [make_board(Faults(chatter=0.3)) for _ in range(8)]
    results = provision_all(station, [b.url for b in boards], operator="op-1")
    assert [r.passed for r in results] == [True] * 8, [r.failure for r in results]
    assert len({r.serial for r in results}) == 8
    assert all(b.device.element.locked for b in boards)


@pytest.mark.parametrize(
    ("faults", "kind", "code"),
    [
        pytest.param(
            Faults(hang="KEYGEN"),
            FailureKind.NOT_RESPONDING,
            "not-responding.KEYGEN",
            id="hang-keygen",
        ),
        pytest.param(
            Faults(hang="PUT_CERT"),
            FailureKind.NOT_RESPONDING,
            "not-responding.DELIVER",
            id="hang-put-cert",
        ),
        pytest.param(
            Faults(disconnect="GET_CSR"),
            FailureKind.NOT_RESPONDING,
            "disconnected.CSR",
            id="disconnect-csr",
        ),
        pytest.param(
            Faults(flash_fail=True),
            FailureKind.BOARD_ERROR,
            "board-error.STORAGE_FAILED",
            id="flash-fail",
        ),
        pytest.param(Faults(bad_csr="signature"), FailureKind.POLICY, "policy.", id="bad-sig"),
        pytest.param(Faults(bad_csr="weak-key"), FailureKind.POLICY, "policy.", id="weak-key"),
        pytest.param(
            Faults(bad_csr="foreign-subject"), FailureKind.POLICY, "policy.", id="foreign-subject"
        ),
        pytest.param(
            Faults(wrong_key=True), FailureKind.PROTOCOL, "possession.failed", id="wrong-key"
        ),
        pytest.param(
            Faults(disconnect="PUT_CERT"),
            FailureKind.NOT_RESPONDING,
            "disconnected.DELIVER",
            id="disconnect-put-cert",
        ),
        pytest.param(
            Faults(hang="SIGN"), FailureKind.NOT_RESPONDING, "not-responding.PROVE", id="hang-sign"
        ),
        pytest.param(
            Faults(mute="LOCK"), FailureKind.NOT_RESPONDING, "not-responding.LOCK", id="mute-lock"
        ),
    ],
)
def test_faults_fail_with_their_class_and_the_board_passes_once_cleared(
    station: StationContext, make_board: MakeBoard, faults: Faults, kind: FailureKind, code: str
) -> None:
    board = make_board(faults)
    result = run(station, board)
    assert result.failure is not None
    assert result.failure.kind is kind
    assert result.failure.code.startswith(code)
    assert "slot 1" in result.failure.message
    failed = [e for e in events(station, board.identity.uid) if e["kind"] == "FAILED"]
    assert failed
    assert failed[-1]["code"] == result.failure.code
    assert failed[-1]["text"] == result.failure.message
    # No stray state: nothing issued stays "issued" unless it may be on the board.
    if faults.flash_fail or faults.bad_csr:
        statuses = [c.status for c in station.audit.board_certificates(board.identity.uid)]
        assert "issued" not in statuses

    board.faults = Faults()
    if faults.disconnect:
        board.start()  # plugged back in: a new port
    retry = run(station, board)
    assert retry.passed, retry.failure
    assert board.device.element.locked
    statuses = [c.status for c in station.audit.board_certificates(board.identity.uid)]
    assert statuses.count("locked") == 1
    assert "issued" not in statuses
    assert station.audit.first_broken_event() is None


def test_one_percent_corruption_still_passes(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board(Faults(corrupt=0.01), seed=11)
    # A line this noisy loses whole answers now and then (a damaged marker is silence, not a
    # NAK): the station gets the station default's 2 s timeout and more retries, as a line
    # engineer would configure for it; the test then does not depend on a loaded CI machine
    # scheduling the board within 0.5 s.
    noisy_line = dataclasses.replace(station, request_timeout=2.0, retries=6)
    result = run(noisy_line, board)
    assert result.passed, result.failure


def test_a_wrong_label_stops_before_keygen(station: StationContext, make_board: MakeBoard) -> None:
    board = make_board()
    result = run(station, board, expect_id="VB1-NOT-THIS-ONE")
    assert result.failure is not None
    assert result.failure.kind is FailureKind.IDENTITY
    assert "label says VB1-NOT-THIS-ONE" in result.failure.message
    assert board.device.element.key_type is None  # KEYGEN never ran


def test_a_provisioned_board_is_refused_unless_reprovisioned(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board()
    first = run(station, board)
    assert first.passed
    again = run(station, board)  # locked with its recorded certificate: nothing to do
    assert again.outcome is Outcome.ALREADY_PROVISIONED, again.failure

    # The board is erased (reflashed) and comes back blank: still refused without reprovision.
    element = board.device.element
    element.wipe()
    refused = run(station, board)
    assert refused.failure is not None
    assert refused.failure.code == "identity.already-provisioned"
    assert element.key_type is None

    replaced = run(station, board, reprovision=True)
    assert replaced.passed, replaced.failure
    old = station.audit.certificate(first.serial or "")
    assert old is not None
    assert old.status is CertificateStatus.REVOKED
    assert old.superseded_by == replaced.serial
    kinds = [e["kind"] for e in events(station, board.identity.uid)]
    assert "SUPERSEDED" in kinds


def test_a_locked_board_that_refuses_keys_gets_a_clear_message(
    station: StationContext, make_board: MakeBoard
) -> None:
    board = make_board()
    assert run(station, board).passed
    result = run(station, board, reprovision=True)
    assert result.failure is not None
    assert "erase it" in result.failure.message


def test_no_private_key_or_passphrase_in_the_database_or_logs(
    station: StationContext, make_board: MakeBoard, home: Path
) -> None:
    boards = [make_board(Faults(chatter=1.0)) for _ in range(2)]
    logbook = Logbook(home / "logs" / "station.log", station.station_id)
    provision_all(station, [b.url for b in boards], operator="op-1", listener=logbook)
    logbook.close()
    log = (home / "logs" / "station.log").read_text()
    assert "console | " in log
    assert log.count(" PASS ") == 2
    secrets = [b"PRIVATE KEY", b"engine-test-ca-pass", b"engine-test-root-pass"]
    for board in boards:
        key = board.device.element.key()
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        d = key.private_numbers().private_value.to_bytes(32, "big")
        secrets += [d, d.hex().encode(), d.hex().upper().encode(), base64.b64encode(d)[:40]]
    station.audit.close()
    for path in home.rglob("*"):
        if (
            path.is_file()
            and "offline-root" not in path.parts
            and not path.name.endswith(".key.pem")
        ):
            data = path.read_bytes()
            for secret in secrets:
                assert secret not in data, (path, secret[:20])


def test_a_board_leaving_during_hello_is_reported_with_the_request(
    station: StationContext, make_board: MakeBoard
) -> None:
    result = run(station, make_board(Faults(disconnect="HELLO")))
    assert result.failure is not None
    assert result.failure.code == "disconnected.HELLO"
    assert "left the line while answering HELLO (" in result.failure.message
    assert result.failure.message.endswith("reseat it and retry.")


def test_boards_using_the_freedoms_of_the_spec_provision(
    station: StationContext, make_board: MakeBoard
) -> None:
    """A console fragment before each answer, lower-case escapes, CR LF, fields in another
    order, and a 16 KiB mtu (chunks as large as the chain)."""
    faults = Faults(fragment=True, lower_escapes=True, crlf=True, reorder=True)
    result = run(station, make_board(faults, mtu=16384))
    assert result.passed, result.failure


def test_a_board_whose_hello_overruns_its_mtu_still_provisions(
    station: StationContext, make_board: MakeBoard
) -> None:
    """SPEC.md 1.1 makes the worst-case HELLO fit the mtu; a 1.0 board that overruns it (three
    key types at mtu 128, state certified) is still read whole by the station."""
    board = make_board(mtu=128, key_types=("rsa-2048", "ec-p256", "ec-p384"))
    result = run(station, board)
    assert result.passed, result.failure


def test_a_board_refusing_the_chain_as_too_large_is_told_it_is_its_own_limit(
    station: StationContext, make_board: MakeBoard
) -> None:
    # It claims 64 KiB of chain storage in HELLO but holds 1000 bytes: only PUT_CERT tells.
    board = make_board(Faults(store=1000), hello_overrides={"store": "65536"})
    result = run(station, board)
    assert result.failure is not None
    assert result.failure.code == "board-error.TOO_LARGE"
    assert "larger than the board's chain storage: retrying will not help" in (
        result.failure.message
    )
    statuses = [c.status for c in station.audit.board_certificates(board.identity.uid)]
    assert statuses == [CertificateStatus.REVOKED]  # never delivered: revoked, not left issued


def test_console_text_holding_the_marker_costs_resends_not_the_board(
    station: StationContext, make_board: MakeBoard
) -> None:
    """SPEC.md 2.3 forbids '~P' in console text (conformance fails it); on the line such a line
    is a damaged frame: counted, the pending request re-sent, the board still provisioned."""
    result = run(station, make_board(Faults(tilde_console=True)))
    assert result.passed, result.failure


def test_the_board_is_identified_right_after_hello(
    station: StationContext, make_board: MakeBoard
) -> None:
    """Listeners learn who is on the slot before the board is asked to do anything."""
    board = make_board()
    heard: list[EngineEvent] = []
    result = Cycle(station, "2", board.url, CycleOptions(operator="op-1"), listener=heard.append)
    assert result.run().passed
    identified = [e for e in heard if isinstance(e, BoardIdentified)]
    assert identified == [BoardIdentified("2", board.identity.uid, "VB-1", "1.0.0", "blank")]
    order = [
        e.step if isinstance(e, StepStarted) else "identified"
        for e in heard
        if isinstance(e, StepStarted | BoardIdentified)
    ]
    assert order[:3] == [Step.HELLO, "identified", Step.KEYGEN]
