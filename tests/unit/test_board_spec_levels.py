"""A virtual board's protocol level (SPEC.md 1.3 by default; ``spec-1.2``; ``no-stored-digest``,
a 1.1 board): what its HELLO announces, what its object answers carry, and how it reads a text
chunk. The request handling only (fixtures/board/device.py), no line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from device_protocol import messages as m
from fixtures.board.device import Device
from fixtures.board.element import SecureElement
from fixtures.board.faults import Faults
from fixtures.board.identity import BoardIdentity

CHAIN = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def board(tmp_path: Path, faults: Faults, mtu: int = 256) -> Device:
    identity = BoardIdentity.random(key_types=("ec-p256",), mtu=mtu)
    device = Device(identity, SecureElement(tmp_path / identity.uid))
    device.faults = faults
    device.handle(m.Keygen("ec-p256"))
    return device


def begin(device: Device) -> None:
    sha = hashlib.sha256(CHAIN).hexdigest()
    device.handle(device.decode("PUT_CERT", {"total": str(len(CHAIN)), "sha": sha}))


def test_a_1_3_board_announces_text_and_stores_a_text_chunk(tmp_path: Path) -> None:
    device = board(tmp_path, Faults())
    assert device.hello_info().caps == (m.CAP_TEXT,)
    begin(device)
    answer = device.handle(device.decode("PUT_CERT", {"off": "0", "text": CHAIN.decode()}))
    assert answer.fields["done"] == "1"
    assert device.element.chain() == CHAIN


@pytest.mark.parametrize("faults", [Faults(spec_12=True), Faults(no_stored_digest=True)])
def test_an_older_board_has_no_caps_and_takes_no_text_chunk(tmp_path: Path, faults: Faults) -> None:
    """Before 1.3 ``text`` is a field the board does not know: the chunk has no data, which
    the serving loop answers BAD_REQUEST (a FieldError); with data as well, data is taken."""
    device = board(tmp_path, faults)
    assert device.hello_info().caps == ()
    begin(device)
    with pytest.raises(m.FieldError, match="missing field 'data'"):
        device.decode("PUT_CERT", {"off": "0", "text": CHAIN.decode()})
    both = {"off": "0", "text": "ignored", "data": m.b64(CHAIN)}
    assert device.handle(device.decode("PUT_CERT", both)).fields["done"] == "1"


@pytest.mark.parametrize(
    ("faults", "inline"),
    [
        pytest.param(Faults(), True, id="ok/1.3-inline"),
        pytest.param(Faults(spec_12=True), False, id="ok/1.2-none"),
        pytest.param(Faults(no_stored_digest=True), False, id="ok/1.1-none"),
    ],
)
def test_object_answers_carry_inline_bytes_on_a_1_3_board(
    tmp_path: Path, faults: Faults, inline: bool
) -> None:
    device = board(tmp_path, faults)
    fields = device.handle(m.Sign(b"c" * 32)).fields
    info = m.ObjectInfo.from_fields(fields)
    assert (info.data is not None) is inline
    if info.data is not None:
        assert len(info.data) == info.total  # an ECDSA signature fits whole
        assert hashlib.sha256(info.data).digest() == info.sha256


def test_a_board_without_room_for_caps_in_hello_leaves_it_out(tmp_path: Path) -> None:
    """caps is never cut: at mtu 128 with two key types a 1.3 board does without it."""
    identity = BoardIdentity.random(key_types=("ec-p256", "ec-p384"), mtu=128)
    device = Device(identity, SecureElement(tmp_path / identity.uid))
    assert device.hello_info().caps == ()
    roomy = BoardIdentity.random(key_types=("ec-p256",), mtu=128)
    assert Device(roomy, SecureElement(tmp_path / roomy.uid)).hello_info().caps == ("text",)
