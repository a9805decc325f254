"""The C agent's protocol 1.3 on an emulated Cortex-M4 (QEMU mps2-an386): a 1.3 station
provisions it in fewer requests than a 1.2 one (inline objects, text chunks), the chain it stores
is the one sent, byte for byte, and a chunk with both `text` and `data` is BAD_REQUEST."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from device_protocol import messages as m
from device_protocol.errors import DeviceError

from .running import Agent
from .station13 import (
    PutCertFields,
    PutCertText,
    counting_link,
    old_and_new,
)

StartQemu = Callable[..., Agent]


def test_a_1_3_station_provisions_it_in_fewer_requests(start_qemu: StartQemu) -> None:
    old_board, new_board = start_qemu("old"), start_qemu("new")
    old_and_new(old_board, new_board)  # a 1.2 station ignores caps and the inline data
    assert old_board.stop() == new_board.stop() == 0


def test_a_chunk_with_text_and_data_is_bad_request(start_qemu: StartQemu) -> None:
    board = start_qemu()
    chain = b"-----BEGIN CERTIFICATE-----\nAAAA\n"
    with counting_link(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        assert link.call(m.PutCertBegin(len(chain), hashlib.sha256(chain).digest())).next == 0
        both = (("off", "0"), ("text", chain.decode()), ("data", base64.b64encode(chain).decode()))
        with pytest.raises(DeviceError) as refused:
            link.call(PutCertFields(both))
        assert refused.value.status == m.Status.BAD_REQUEST
        done = link.call(PutCertText(0, chain))  # the transfer is still on
        assert (done.next, done.done) == (len(chain), True)
    assert (board.state / "chain.pem").read_bytes() == chain
