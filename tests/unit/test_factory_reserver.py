"""The operator's words when the factory store refuses a reservation. Pure."""

from __future__ import annotations

from station.engine.events import FailureKind, Step
from station.engine.failures import classify
from station.engine.reservation import ReservationRefused
from station.factory.reserver import refusal_text
from station.factory.store import Reservation

KEY = "ab" * 32


def test_key_taken_names_the_other_station_board_and_certificate() -> None:
    text = refusal_text(Reservation("key-taken", "st2", "B9", "0f1e"), KEY, "B1")
    assert text.startswith("the factory store has its public key abababababababab... reserved")
    assert "for board B9 on st2 (certificate 0f1e)" in text
    assert text.endswith("(its key generator may be broken)")


def test_board_elsewhere_and_diverged() -> None:
    elsewhere = refusal_text(Reservation("board-elsewhere", "st3", "B1", "77aa"), KEY, "B1")
    assert elsewhere.startswith("board B1 has an active certificate 77aa from st3; revoke")
    diverged = refusal_text(Reservation("diverged", None, None, None), KEY, "B1")
    assert "call the supervisor (`station factory resolve`)" in diverged


def test_a_refusal_is_a_policy_failure_with_the_stores_reason() -> None:
    failure = classify(ReservationRefused("factory.key-taken", "why"), Step.ISSUE, "3")
    assert failure.kind is FailureKind.POLICY
    assert failure.code == "factory.key-taken"
    assert failure.message == "Board on slot 3 was not signed: why."
