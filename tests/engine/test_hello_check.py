"""The checks right after HELLO (SPEC.md 1.1), pure: table-driven ok/... and fail/... cases."""

from __future__ import annotations

import dataclasses

import pytest

from device_protocol import messages as m
from device_protocol.limits import uid_problem
from station.engine.hello_check import check_hello, pick_key_type
from station.engine.station import DEFAULT_KEY_PREFERENCE, StationContext
from station.pki.profile import DeviceProfile

BOARD = m.HelloInfo(1, "VB-1", "VB1-0123", "1.0", ("ec-p256",), m.BoardState.BLANK, 256)


@pytest.mark.parametrize(
    ("uid", "problem"),
    [
        pytest.param("3C71BF4A92D0", None, id="ok/hex"),
        pytest.param("line-1:board-7", None, id="ok/colon-dash"),
        pytest.param("VB1.0123", "'.'", id="fail/dot"),
        pytest.param("VB1_0123", "'_'", id="fail/underscore"),
        pytest.param("a b", "' '", id="fail/space"),
        pytest.param("U" * 65, "65 characters long", id="fail/long"),
    ],
)
def test_uid_alphabet(uid: str, problem: str | None) -> None:
    found = uid_problem(uid)
    assert found is None if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({}, None, id="ok/plain"),
        pytest.param({"store": 4096}, None, id="ok/minimum-store"),
        pytest.param({"key_types": ("rsa-4096",), "store": 4096}, None, id="ok/rsa-4096"),
        pytest.param({"state": m.BoardState.LOCKED, "store": 100}, None, id="ok/locked-no-store"),
        pytest.param({"uid": "VB1.0123"}, "board.uid", id="fail/uid"),
        pytest.param({"store": 1000}, "board.chain-store", id="fail/store"),
        pytest.param({"uid": "U" * 64}, "subject.invalid_thing_name", id="fail/thing-name"),
    ],
)
def test_check_hello(station: StationContext, changes: dict[str, object], code: str | None) -> None:
    profile = DeviceProfile(common_name="{model}-{uid}")
    refusal = check_hello(
        dataclasses.replace(BOARD, **changes),  # type: ignore[arg-type]
        profile=profile,
        key_preference=DEFAULT_KEY_PREFERENCE,
        issuer=station.signer.issuer_cert,
    )
    assert (refusal and refusal.code) == code
    if refusal is not None:
        assert "no key was generated" in refusal.message


def test_the_key_type_is_the_stations_preference_not_the_boards_order() -> None:
    board = dataclasses.replace(BOARD, key_types=("rsa-2048", "ec-p384", "ec-p256"))
    assert pick_key_type(board, DEFAULT_KEY_PREFERENCE) == "ec-p256"
    assert pick_key_type(board, ("rsa-2048", "ec-p256")) == "rsa-2048"
    assert pick_key_type(board, ("ec-p521",)) is None
