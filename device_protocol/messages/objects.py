"""GET_CSR, GET_CERT, SIGN and READ: objects the board offers (its CSR, its chain, a signature),
announced with their length and SHA-256 and read in chunks that fit the board's mtu."""

from __future__ import annotations

import enum
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


class ObjectKind(enum.StrEnum):
    CSR = "csr"
    CERT = "cert"
    SIG = "sig"


@dataclass(frozen=True)
class ObjectInfo:
    """An object ready to READ: its length and SHA-256 (and the signature algorithm for SIGN),
    and (SPEC.md 1.3) its first bytes inline, from offset 0, when the board sends them."""

    total: int
    sha256: bytes
    alg: str | None = None
    data: bytes | None = None  # inline: the object's bytes from offset 0 (None: READ from 0)

    def to_fields(self) -> dict[str, str]:
        out = {"total": str(self.total), "sha": self.sha256.hex()}
        if self.alg:
            out["alg"] = self.alg
        if self.data:
            out["data"] = b64(self.data)
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        total = integer(f, "total", 1, MAX_OBJECT)
        data = base64_field(f, "data") if "data" in f else None
        if data is not None and not data:
            raise FieldError("field 'data' is empty: a board leaves it out instead")
        if data is not None and len(data) > total:
            raise FieldError(f"field 'data' holds {len(data)} bytes, more than total={total}")
        return cls(total, sha256_field(f), f.get("alg") or None, data)


@dataclass(frozen=True)
class Chunk:
    off: int
    data: bytes

    def to_fields(self) -> dict[str, str]:
        return {"off": str(self.off), "data": b64(self.data)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "off", 0, MAX_OBJECT), base64_field(f, "data"))


@dataclass(frozen=True)
class GetCsr(Request[ObjectInfo]):
    NAME: ClassVar[str] = "GET_CSR"
    RESPONSE: ClassVar[type[Response]] = ObjectInfo
    cn: str = ""  # a hint only: the station builds the certificate subject itself

    def to_fields(self) -> dict[str, str]:
        return {"cn": self.cn} if self.cn else {}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(f.get("cn", "")[:64])


@dataclass(frozen=True)
class GetCert(Request[ObjectInfo]):
    NAME: ClassVar[str] = "GET_CERT"
    RESPONSE: ClassVar[type[Response]] = ObjectInfo


@dataclass(frozen=True)
class Sign(Request[ObjectInfo]):
    NAME: ClassVar[str] = "SIGN"
    RESPONSE: ClassVar[type[Response]] = ObjectInfo
    challenge: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"ch": b64(self.challenge)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        challenge = base64_field(f, "ch")
        if not 16 <= len(challenge) <= 64:
            raise FieldError("challenge must be 16..64 bytes")
        return cls(challenge)


@dataclass(frozen=True)
class Read(Request[Chunk]):
    NAME: ClassVar[str] = "READ"
    RESPONSE: ClassVar[type[Response]] = Chunk
    obj: str = ObjectKind.CSR.value
    off: int = 0

    def to_fields(self) -> dict[str, str]:
        return {"obj": self.obj, "off": str(self.off)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(one_of(f, "obj", ObjectKind), integer(f, "off", 0, MAX_OBJECT))
