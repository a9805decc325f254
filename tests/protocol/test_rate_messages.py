"""SPEC.md 1.2's message additions: HELLO ``bauds``, BAUD, the final PUT_CERT chunk's ``sha``."""

from __future__ import annotations

import hashlib

import pytest

from device_protocol import messages as m
from device_protocol.limits import worst_case_hello

INFO = m.HelloInfo(1, "WX-210", "3C71BF4A92D2", "1.5.0", ("ec-p256",), m.BoardState.BLANK, 256)


def test_hello_bauds_round_trip_and_count_in_the_worst_case_length() -> None:
    fast = m.HelloInfo(**{**INFO.__dict__, "bauds": (460800, 921600)})
    fields = fast.to_fields()
    assert fields["bauds"] == "460800,921600"
    assert m.HelloInfo.from_fields(fields) == fast
    assert "bauds" not in INFO.to_fields()
    assert m.HelloInfo.from_fields(INFO.to_fields()).bauds == ()
    assert worst_case_hello(fast) == worst_case_hello(INFO) + len(" bauds=460800,921600")
    # Rates up to the default are well-formed (the station only switches up, and ignores them).
    assert m.HelloInfo.from_fields({**fields, "bauds": "57600,115200,921600"}).bauds == (
        57600,
        115200,
        921600,
    )


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("921600,460800", "strictly ascending"),
        ("460800,460800", "strictly ascending"),
        ("921600,200000000", "200000000 is above 100000000"),
        ("fast", "'fast' is not a decimal rate"),
        ("", "'' is not a decimal rate"),
        ("0921600", "is not a decimal rate"),
        ("460800,", "'' is not a decimal rate"),
    ],
)
def test_a_malformed_bauds_is_a_bad_hello_answer_saying_what_is_wrong(raw: str, says: str) -> None:
    with pytest.raises(m.FieldError, match="bauds") as info:
        m.HelloInfo.from_fields({**INFO.to_fields(), "bauds": raw})
    assert says in str(info.value)


def test_baud_request_and_answer() -> None:
    request = m.decode_request("BAUD", {"rate": "921600"})
    assert request == m.Baud(921600)
    assert request.parse_response({"rate": "921600"}) == m.RateInfo(921600)
    with pytest.raises(m.FieldError):
        m.decode_request("BAUD", {})


def test_final_chunk_sha_is_optional_and_checked_when_present() -> None:
    sha = hashlib.sha256(b"chain").digest()
    done = m.Accepted(5, True, sha)
    assert done.to_fields() == {"next": "5", "done": "1", "sha": sha.hex()}
    assert m.Accepted.from_fields(done.to_fields()) == done
    assert m.Accepted.from_fields({"next": "5", "done": "1"}).stored_sha256 is None
    with pytest.raises(m.FieldError, match="sha"):
        m.Accepted.from_fields({"next": "5", "done": "1", "sha": "ABC"})
