"""Bugs the hostile-HELLO fuzz tests found, pinned as plain tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from device_protocol import Link
from device_protocol.errors import DeviceError, ProtocolError
from device_protocol.framing import Frame, parse_line
from fixtures.board import BoardServer, Faults
from fixtures.board.hostile import encode_lenient
from station.engine.events import Step
from station.engine.failures import MAX_MESSAGE_CHARS, IdentityMismatch, classify

MakeBoard = Callable[..., BoardServer]


@pytest.mark.parametrize("version", ["2", "999"])
def test_a_board_answering_a_version_never_offered_is_given_up_on(
    make_board: MakeBoard, version: str
) -> None:
    # SPEC.md 6.2: "A station MUST give up on a board that answers a v of 0 or above the one
    # it offered." v=0 already fails to parse; anything above 1 used to be accepted.
    board = make_board(Faults(boot_chatter=False), hello_overrides={"v": version})
    with (
        Link.open_url(board.url, timeout=0.5, retries=1) as link,
        pytest.raises(ProtocolError) as e,
    ):
        link.hello()
    assert f"v={version}" in str(e.value)


@pytest.mark.parametrize(
    "error",
    [
        IdentityMismatch("identity.no-common-key-type", "offers key types \x1b[2J\nrsa-1024"),
        DeviceError(
            "/dev/pts/9",
            request="KEYGEN",
            status=6,
            name="UNSUPPORTED_KEY",
            text="no\r\nsuch key \u202efdp.exe",
        ),
    ],
)
def test_board_text_in_a_failure_message_is_one_printable_line(error: Exception) -> None:
    failure = classify(error, Step.KEYGEN, "3")
    assert failure.message.isprintable()
    assert "\\n" in failure.message  # shown escaped, not dropped


def test_a_long_board_text_is_cut() -> None:
    failure = classify(IdentityMismatch("identity.x", "k," * 2000), Step.HELLO, "1")
    assert len(failure.message) == MAX_MESSAGE_CHARS
    assert failure.message.endswith("\u2026")


def test_lenient_encoding_puts_invalid_utf8_on_the_wire() -> None:
    wire = encode_lenient(Frame(seq=7, name="OK", fields={"uid": "a\udcffb", "fw": "\ud800"}))
    assert b"uid=a%FFb" in wire
    assert b"fw=%ED%A0%80" in wire
    (event,) = parse_line(wire.rstrip(b"\n"))
    assert getattr(event, "reason", None) == "malformed field value"
