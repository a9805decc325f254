"""How long a request may take on the line and how often it may be sent; the ERR answer's
fields. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from device_protocol import messages as m
from device_protocol.errors import ProtocolError
from device_protocol.framing import SEQ_MODULO, Frame, encode


@dataclass(frozen=True)
class RequestLimits:
    """How one request is retried (see :meth:`device_protocol.link.Link.call`): the wait for
    each answer, the re-sends after a timeout, a cap on transmissions of any cause (None: no
    cap but the retries and the link's re-send bound), and whether a damaged answer is re-sent
    (False: only a NAK is, SPEC.md 7.10)."""

    timeout: float
    retries: int
    transmissions: int | None = None
    resend_damaged: bool = True


def worst_case_length(request: m.Request[Any]) -> int:
    """The longest line ``request`` can take on the wire: with the largest sequence number."""
    frame = Frame(seq=SEQ_MODULO - 1, name=request.NAME, fields=request.to_fields())
    return len(encode(frame))


def parse_failure(port: str, request: str, frame: Frame) -> m.Failure:
    """An ERR frame's status and text; a malformed one is the board breaking the contract."""
    try:
        return m.Failure.from_fields(frame.fields)
    except m.FieldError as e:
        raise ProtocolError(port, f"bad ERR answer to {request}: {e}") from e
