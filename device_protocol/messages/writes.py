"""PUT_CERT and LOCK: what the station writes to the board (a certificate chain, committed
atomically on its last chunk) and the lock that ends re-keying."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

from device_protocol.messages.envelope import MAX_OBJECT, Request, Response
from device_protocol.messages.fields import (
    FieldError,
    b64,
    base64_field,
    integer,
    one_of,
    sha256_field,
)
from device_protocol.messages.identity import BoardState


@dataclass(frozen=True)
class Accepted:
    """PUT_CERT's answer: the next offset expected, whether the object is committed, and on
    the final chunk (SPEC.md 1.2) the SHA-256 of the chain as read back from storage."""

    next: int
    done: bool = False
    stored_sha256: bytes | None = None

    def to_fields(self) -> dict[str, str]:
        out = {"next": str(self.next)}
        if self.done:
            out["done"] = "1"
        if self.stored_sha256 is not None:
            out["sha"] = self.stored_sha256.hex()
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        stored = sha256_field(f) if "sha" in f else None
        return cls(integer(f, "next", 0, MAX_OBJECT), f.get("done") == "1", stored)


@dataclass(frozen=True)
class StateInfo:
    state: BoardState

    def to_fields(self) -> dict[str, str]:
        return {"state": self.state.value}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(BoardState(one_of(f, "state", BoardState)))


@dataclass(frozen=True)
class PutCertBegin(Request[Accepted]):
    """PUT_CERT with ``total`` and ``sha``: starts a transfer (discarding any unfinished one)."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[Response]] = Accepted
    total: int = 0
    sha256: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"total": str(self.total), "sha": self.sha256.hex()}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "total", 1, MAX_OBJECT), sha256_field(f))


@dataclass(frozen=True)
class PutCertChunk(Request[Accepted]):
    """PUT_CERT with ``off`` and the chunk's bytes: the board commits atomically on the final
    chunk. The bytes go as ``data`` (base64) or, with ``text`` (SPEC.md 1.3, to a board whose
    HELLO listed ``caps=text``), as the value itself; ``text`` needs ASCII bytes."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[Response]] = Accepted
    off: int = 0
    data: bytes = b""
    text: bool = False

    def to_fields(self) -> dict[str, str]:
        if self.text:
            return {"off": str(self.off), "text": self.data.decode("ascii")}
        return {"off": str(self.off), "data": b64(self.data)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        off = integer(f, "off", 0, MAX_OBJECT)
        if "data" in f and "text" in f:
            raise FieldError("a chunk carries 'data' or 'text', not both")
        if "text" in f:
            data, text = f["text"].encode("utf-8"), True
        elif "data" in f:
            data, text = base64_field(f, "data"), False
        else:
            raise FieldError("missing field 'data' (or 'text')")
        if not data:
            raise FieldError(
                f"field {'text' if text else 'data'!r} is empty: a chunk holds 1 or more bytes"
            )
        return cls(off, data, text)


@dataclass(frozen=True)
class Lock(Request[StateInfo]):
    NAME: ClassVar[str] = "LOCK"
    RESPONSE: ClassVar[type[Response]] = StateInfo
