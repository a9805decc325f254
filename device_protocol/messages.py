"""Typed messages of SPEC.md: each request names its response type; both sides share them.

Requests go station -> board; the board answers ``OK`` (fields of the response type), ``ERR``
(a :class:`Status` and a text) or, while it works, ``BUSY`` keep-alives. Field parsing raises
:class:`FieldError`, which a board turns into ``ERR BAD_REQUEST`` and a station into a
ProtocolError.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from device_protocol.framing import VERSION

OK = "OK"
ERR = "ERR"
BUSY = "BUSY"
#: Sent by the board, with sequence number 0, for a line that looked like a frame but was damaged.
NAK = "NAK"

#: Smallest line length a board may state in HELLO (SPEC.md 2.4).
MIN_MTU = 128
#: Largest object a board must accept or the station will move (CSR, chain, signature).
MAX_OBJECT = 65536


class Status(enum.IntEnum):
    """Status codes carried by ERR (SPEC.md section 5)."""

    UNSUPPORTED = 1
    BAD_REQUEST = 2
    BAD_VERSION = 3
    BAD_STATE = 4
    LOCKED = 5
    UNSUPPORTED_KEY = 6
    KEYGEN_FAILED = 7
    BAD_OFFSET = 8
    DIGEST_MISMATCH = 9
    TOO_LARGE = 10
    STORAGE_FAILED = 11
    NO_OBJECT = 12
    INTERNAL = 13


def status_name(code: int) -> str:
    try:
        return Status(code).name
    except ValueError:
        return f"STATUS_{code}"


class KeyType(enum.StrEnum):
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    EC_P521 = "ec-p521"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"


class BoardState(enum.StrEnum):
    BLANK = "blank"  # no key
    KEYED = "keyed"  # key pair made, no certificate committed
    CERTIFIED = "certified"  # certificate chain committed, not locked
    LOCKED = "locked"  # refuses KEYGEN and PUT_CERT from now on


class ObjectKind(enum.StrEnum):
    CSR = "csr"
    CERT = "cert"
    SIG = "sig"


class FieldError(ValueError):
    """A field is missing or does not parse."""


_UID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}\Z")


def _get(fields: Mapping[str, str], key: str) -> str:
    try:
        return fields[key]
    except KeyError:
        raise FieldError(f"missing field {key!r}") from None


def _int(fields: Mapping[str, str], key: str, lo: int = 0, hi: int = 2**31) -> int:
    raw = _get(fields, key)
    # isascii(): str.isdigit() also accepts digits such as '²' (int() raises) and '٣' (int() = 3).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise FieldError(f"field {key!r} is not a decimal integer")
    value = int(raw)
    if not lo <= value <= hi:
        raise FieldError(f"field {key!r}={value} outside {lo}..{hi}")
    return value


def _b64(fields: Mapping[str, str], key: str) -> bytes:
    raw = _get(fields, key)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        raise FieldError(f"field {key!r} is not valid base64") from None


def _sha(fields: Mapping[str, str], key: str = "sha") -> bytes:
    raw = _get(fields, key)
    if not _HEX64_RE.match(raw):
        raise FieldError(f"field {key!r} is not 64 lowercase hex digits")
    return bytes.fromhex(raw)


def _enum(fields: Mapping[str, str], key: str, kind: type[enum.StrEnum]) -> str:
    raw = _get(fields, key)
    if raw not in kind._value2member_map_:
        allowed = ", ".join(sorted(kind._value2member_map_))
        raise FieldError(f"field {key!r}={raw!r} is not one of {allowed}")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---- responses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelloInfo:
    """Who the board is (HELLO's answer)."""

    version: int
    model: str
    uid: str
    firmware: str
    key_types: tuple[str, ...]
    state: BoardState
    mtu: int
    key_type: str | None = None  # the key pair on board, if any
    store: int | None = None  # bytes of chain storage (SPEC.md 1.1; absent: the minimum)

    def to_fields(self) -> dict[str, str]:
        out = {
            "v": str(self.version),
            "model": self.model,
            "uid": self.uid,
            "fw": self.firmware,
            "keys": ",".join(self.key_types),
            "state": self.state.value,
            "mtu": str(self.mtu),
        }
        if self.key_type:
            out["kt"] = self.key_type
        if self.store is not None:
            out["store"] = str(self.store)
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        uid = _get(f, "uid")
        if not _UID_RE.match(uid):
            raise FieldError(f"board id {uid[:80]!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
        kt = f.get("kt") or None
        if kt is not None and kt not in KeyType._value2member_map_:
            raise FieldError(f"field 'kt'={kt!r} is not a known key type")
        return cls(
            version=_int(f, "v", 1, 999),
            model=_get(f, "model")[:64],
            uid=uid,
            firmware=_get(f, "fw")[:64],
            key_types=tuple(k for k in _get(f, "keys").split(",") if k),
            state=BoardState(_enum(f, "state", BoardState)),
            mtu=_int(f, "mtu", MIN_MTU, 65536),
            key_type=kt,
            store=_int(f, "store", 1, 2**31) if "store" in f else None,
        )


@dataclass(frozen=True)
class KeyInfo:
    key_type: str

    def to_fields(self) -> dict[str, str]:
        return {"kt": self.key_type}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_enum(f, "kt", KeyType))


@dataclass(frozen=True)
class ObjectInfo:
    """An object ready to READ: its length and SHA-256 (and the signature algorithm for SIGN)."""

    total: int
    sha256: bytes
    alg: str | None = None

    def to_fields(self) -> dict[str, str]:
        out = {"total": str(self.total), "sha": self.sha256.hex()}
        if self.alg:
            out["alg"] = self.alg
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "total", 1, MAX_OBJECT), _sha(f), f.get("alg") or None)


@dataclass(frozen=True)
class Chunk:
    off: int
    data: bytes

    def to_fields(self) -> dict[str, str]:
        return {"off": str(self.off), "data": b64(self.data)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "off", 0, MAX_OBJECT), _b64(f, "data"))


@dataclass(frozen=True)
class Accepted:
    """PUT_CERT's answer: the next offset expected, and whether the object is committed."""

    next: int
    done: bool = False

    def to_fields(self) -> dict[str, str]:
        out = {"next": str(self.next)}
        if self.done:
            out["done"] = "1"
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "next", 0, MAX_OBJECT), f.get("done") == "1")


@dataclass(frozen=True)
class StateInfo:
    state: BoardState

    def to_fields(self) -> dict[str, str]:
        return {"state": self.state.value}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(BoardState(_enum(f, "state", BoardState)))


@dataclass(frozen=True)
class Progress:
    """A BUSY keep-alive: the board is working on the request with this sequence number."""

    pct: int | None = None
    text: str = ""

    def to_fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.pct is not None:
            out["pct"] = str(self.pct)
        if self.text:
            out["msg"] = self.text
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        pct = f.get("pct", "")
        valid = pct.isascii() and pct.isdigit() and len(pct) <= 3
        return cls(int(pct) if valid else None, f.get("msg", ""))


@dataclass(frozen=True)
class Failure:
    """An ERR answer."""

    status: int
    text: str = ""

    def to_fields(self) -> dict[str, str]:
        return {"code": str(self.status), "msg": self.text}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "code", 0, 9999), f.get("msg", "")[:200])


# ---- requests --------------------------------------------------------------------------------

R = TypeVar("R")


class _Response(Protocol):
    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Any: ...


class Request(Generic[R]):
    """A station -> board message. Subclasses are frozen dataclasses naming their response type."""

    NAME: ClassVar[str]
    RESPONSE: ClassVar[type[_Response]]

    def to_fields(self) -> dict[str, str]:
        return {}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls()

    def parse_response(self, f: Mapping[str, str]) -> R:
        parsed: R = self.RESPONSE.from_fields(f)
        return parsed


@dataclass(frozen=True)
class Hello(Request[HelloInfo]):
    NAME: ClassVar[str] = "HELLO"
    RESPONSE: ClassVar[type[_Response]] = HelloInfo
    max_version: int = VERSION

    def to_fields(self) -> dict[str, str]:
        return {"v": str(self.max_version)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "v", 1, 999))


@dataclass(frozen=True)
class Keygen(Request[KeyInfo]):
    NAME: ClassVar[str] = "KEYGEN"
    RESPONSE: ClassVar[type[_Response]] = KeyInfo
    key_type: str = KeyType.EC_P256.value

    def to_fields(self) -> dict[str, str]:
        return {"kt": self.key_type}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_get(f, "kt")[:32])


@dataclass(frozen=True)
class GetCsr(Request[ObjectInfo]):
    NAME: ClassVar[str] = "GET_CSR"
    RESPONSE: ClassVar[type[_Response]] = ObjectInfo
    cn: str = ""  # a hint only: the station builds the certificate subject itself

    def to_fields(self) -> dict[str, str]:
        return {"cn": self.cn} if self.cn else {}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(f.get("cn", "")[:64])


@dataclass(frozen=True)
class GetCert(Request[ObjectInfo]):
    NAME: ClassVar[str] = "GET_CERT"
    RESPONSE: ClassVar[type[_Response]] = ObjectInfo


@dataclass(frozen=True)
class Sign(Request[ObjectInfo]):
    NAME: ClassVar[str] = "SIGN"
    RESPONSE: ClassVar[type[_Response]] = ObjectInfo
    challenge: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"ch": b64(self.challenge)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        challenge = _b64(f, "ch")
        if not 16 <= len(challenge) <= 64:
            raise FieldError("challenge must be 16..64 bytes")
        return cls(challenge)


@dataclass(frozen=True)
class Read(Request[Chunk]):
    NAME: ClassVar[str] = "READ"
    RESPONSE: ClassVar[type[_Response]] = Chunk
    obj: str = ObjectKind.CSR.value
    off: int = 0

    def to_fields(self) -> dict[str, str]:
        return {"obj": self.obj, "off": str(self.off)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_enum(f, "obj", ObjectKind), _int(f, "off", 0, MAX_OBJECT))


@dataclass(frozen=True)
class PutCertBegin(Request[Accepted]):
    """PUT_CERT with ``total`` and ``sha``: starts a transfer (discarding any unfinished one)."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[_Response]] = Accepted
    total: int = 0
    sha256: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"total": str(self.total), "sha": self.sha256.hex()}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "total", 1, MAX_OBJECT), _sha(f))


@dataclass(frozen=True)
class PutCertChunk(Request[Accepted]):
    """PUT_CERT with ``off`` and ``data``: the board commits atomically on the final chunk."""

    NAME: ClassVar[str] = "PUT_CERT"
    RESPONSE: ClassVar[type[_Response]] = Accepted
    off: int = 0
    data: bytes = b""

    def to_fields(self) -> dict[str, str]:
        return {"off": str(self.off), "data": b64(self.data)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(_int(f, "off", 0, MAX_OBJECT), _b64(f, "data"))


@dataclass(frozen=True)
class Lock(Request[StateInfo]):
    NAME: ClassVar[str] = "LOCK"
    RESPONSE: ClassVar[type[_Response]] = StateInfo


AnyRequest = Hello | Keygen | GetCsr | GetCert | Sign | Read | PutCertBegin | PutCertChunk | Lock

_SIMPLE: dict[str, type[AnyRequest]] = {
    cls.NAME: cls for cls in (Hello, Keygen, GetCsr, GetCert, Sign, Read, Lock)
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
