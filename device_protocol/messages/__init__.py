"""Typed messages of SPEC.md: each request names its response type; both sides share them.

Requests go station -> board; the board answers ``OK`` (fields of the response type), ``ERR``
(a :class:`Status` and a text) or, while it works, ``BUSY`` keep-alives. Field parsing raises
:class:`FieldError`, which a board turns into ``ERR BAD_REQUEST`` and a station into a
ProtocolError.

One module per family: ``envelope`` (the answer kinds, ERR's status table, BUSY, the request
base), ``identity`` (HELLO, KEYGEN), ``objects`` (GET_CSR, GET_CERT, SIGN, READ), ``writes``
(PUT_CERT, LOCK), ``rate`` (BAUD) and ``fields`` (field parsing); everything is imported from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from device_protocol.messages.envelope import (
    BUSY,
    ERR,
    MAX_OBJECT,
    MIN_MTU,
    NAK,
    OK,
    Failure,
    Progress,
    Request,
    Status,
    status_name,
)
from device_protocol.messages.fields import FieldError, b64
from device_protocol.messages.identity import (
    CAP_TEXT,
    BoardState,
    Hello,
    HelloInfo,
    Keygen,
    KeyInfo,
    KeyType,
    parse_caps,
)
from device_protocol.messages.objects import (
    Chunk,
    GetCert,
    GetCsr,
    ObjectInfo,
    ObjectKind,
    Read,
    Sign,
)
from device_protocol.messages.rate import DEFAULT_BAUD, Baud, RateInfo, parse_bauds
from device_protocol.messages.writes import Accepted, Lock, PutCertBegin, PutCertChunk, StateInfo

AnyRequest = (
    Hello | Keygen | GetCsr | GetCert | Sign | Read | PutCertBegin | PutCertChunk | Lock | Baud
)

_SIMPLE: dict[str, type[AnyRequest]] = {
    cls.NAME: cls for cls in (Hello, Keygen, GetCsr, GetCert, Sign, Read, Lock, Baud)
}


class UnknownRequest(ValueError):
    """The frame names a message this protocol version does not define."""


def decode_request(name: str, fields: Mapping[str, str]) -> AnyRequest:
    """Board side: a request frame's name and fields as a typed request.

    Raises :class:`UnknownRequest` (answer ``UNSUPPORTED``) or :class:`FieldError`
    (answer ``BAD_REQUEST``).
    """
    if name == "PUT_CERT":
        if "total" in fields:
            return PutCertBegin.from_fields(fields)
        return PutCertChunk.from_fields(fields)
    cls = _SIMPLE.get(name)
    if cls is None:
        raise UnknownRequest(name)
    return cls.from_fields(fields)


__all__ = [
    "BUSY",
    "CAP_TEXT",
    "DEFAULT_BAUD",
    "ERR",
    "MAX_OBJECT",
    "MIN_MTU",
    "NAK",
    "OK",
    "Accepted",
    "AnyRequest",
    "Baud",
    "BoardState",
    "Chunk",
    "Failure",
    "FieldError",
    "GetCert",
    "GetCsr",
    "Hello",
    "HelloInfo",
    "KeyInfo",
    "KeyType",
    "Keygen",
    "Lock",
    "ObjectInfo",
    "ObjectKind",
    "Progress",
    "PutCertBegin",
    "PutCertChunk",
    "RateInfo",
    "Read",
    "Request",
    "Sign",
    "StateInfo",
    "Status",
    "UnknownRequest",
    "b64",
    "decode_request",
    "parse_bauds",
    "parse_caps",
    "status_name",
]
