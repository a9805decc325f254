"""HELLO and KEYGEN: who the board is, what state it is in, and the key pair it makes."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

from device_protocol.framing import VERSION
from device_protocol.messages.envelope import MIN_MTU, Request, Response
from device_protocol.messages.fields import FieldError, integer, one_of, required
from device_protocol.messages.rate import parse_bauds


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


_UID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
_CAP_RE = re.compile(r"[a-z][a-z0-9-]*\Z")
#: SPEC.md 7.1 ``caps`` (1.3): PUT_CERT chunks may carry ``text`` (7.5).
CAP_TEXT = "text"


def parse_caps(raw: str) -> tuple[str, ...]:
    """HELLO's ``caps``: comma-separated capability names, each ``[a-z][a-z0-9-]*``. Names a
    station does not know are kept (and ignored); an empty item or another character makes
    the answer a bad HELLO answer, as a bad ``bauds`` does."""
    names = raw.split(",")
    for name in names:
        if not _CAP_RE.match(name):
            shown = "an empty name" if not name else f"{name[:20]!r}"
            raise FieldError(
                f"field 'caps'={raw[:80]!r}: {shown} is not a capability name ([a-z][a-z0-9-]*)"
            )
    return tuple(names)


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
    bauds: tuple[int, ...] = ()  # rates it can switch to besides the default (SPEC.md 1.2)
    caps: tuple[str, ...] = ()  # capability names (SPEC.md 1.3), e.g. CAP_TEXT

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
        if self.bauds:
            out["bauds"] = ",".join(str(rate) for rate in self.bauds)
        if self.caps:
            out["caps"] = ",".join(self.caps)
        return out

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        uid = required(f, "uid")
        if not _UID_RE.match(uid):
            raise FieldError(f"board id {uid[:80]!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
        kt = f.get("kt") or None
        if kt is not None and kt not in KeyType._value2member_map_:
            raise FieldError(f"field 'kt'={kt!r} is not a known key type")
        return cls(
            version=integer(f, "v", 1, 999),
            model=required(f, "model")[:64],
            uid=uid,
            firmware=required(f, "fw")[:64],
            key_types=tuple(k for k in required(f, "keys").split(",") if k),
            state=BoardState(one_of(f, "state", BoardState)),
            mtu=integer(f, "mtu", MIN_MTU, 65536),
            key_type=kt,
            store=integer(f, "store", 1, 2**31) if "store" in f else None,
            bauds=parse_bauds(f["bauds"]) if "bauds" in f else (),
            caps=parse_caps(f["caps"]) if "caps" in f else (),
        )


@dataclass(frozen=True)
class KeyInfo:
    key_type: str

    def to_fields(self) -> dict[str, str]:
        return {"kt": self.key_type}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(one_of(f, "kt", KeyType))


@dataclass(frozen=True)
class Hello(Request[HelloInfo]):
    NAME: ClassVar[str] = "HELLO"
    RESPONSE: ClassVar[type[Response]] = HelloInfo
    max_version: int = VERSION

    def to_fields(self) -> dict[str, str]:
        return {"v": str(self.max_version)}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(integer(f, "v", 1, 999))


@dataclass(frozen=True)
class Keygen(Request[KeyInfo]):
    NAME: ClassVar[str] = "KEYGEN"
    RESPONSE: ClassVar[type[Response]] = KeyInfo
    key_type: str = KeyType.EC_P256.value

    def to_fields(self) -> dict[str, str]:
        return {"kt": self.key_type}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Self:
        return cls(required(f, "kt")[:32])
