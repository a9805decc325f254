"""What the conformance cases share: the line, what the board said so far, and the helpers that
turn an answer into a :class:`CaseFailed` naming what was expected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from device_protocol import messages as m
from device_protocol.conformance.pki import PublicKey
from device_protocol.conformance.wire import Exchange, RawClient, TappedTransport
from device_protocol.framing import Frame
from device_protocol.link import Link

S = m.Status
#: Scheduling slack allowed on top of SPEC.md's keep-alive times (0.5 s, then every 1 s).
BUSY_SLACK = 0.3


class CaseFailed(Exception):
    """A conformance case found the board off the contract; the text says where."""


@dataclass
class Session:
    """What the cases share: the line, and what the board told us so far."""

    port: TappedTransport
    raw: RawClient
    link: Link
    hello: m.HelloInfo | None = None
    mtu: int = m.MIN_MTU
    uid: str = ""
    keys: tuple[str, ...] = ()
    blank: bool = False
    key_type: str = ""
    csr_key: PublicKey | None = None
    chain: bytes = b""
    notes: list[str] = field(default_factory=list)

    def key(self) -> PublicKey:
        if self.csr_key is None:
            raise CaseFailed("no CSR key from an earlier case")
        return self.csr_key

    def info(self) -> m.HelloInfo:
        if self.hello is None:
            raise CaseFailed("no HELLO answer from an earlier case")
        return self.hello


def expect_ok(ex: Exchange, what: str) -> Frame:
    if ex.final is None or ex.final.name != m.OK:
        raise CaseFailed(f"{what}: expected OK, got {ex.describe()}")
    return ex.final


def expect_err(ex: Exchange, status: m.Status, what: str) -> None:
    if ex.status != status:
        raise CaseFailed(
            f"{what}: expected ERR code={int(status)} ({status.name}), got {ex.describe()}"
        )


def object_info(frame: Frame, what: str) -> m.ObjectInfo:
    try:
        return m.ObjectInfo.from_fields(frame.fields)
    except m.FieldError as e:
        raise CaseFailed(f"{what}: {e}") from e


def read_raw(s: Session, obj: str, info: m.ObjectInfo) -> bytes:
    """READ an object chunk by chunk (raw frames), checking echoes and the SHA-256."""
    data = bytearray()
    while len(data) < info.total:
        frame = expect_ok(s.raw.call("READ", {"obj": obj, "off": str(len(data))}), f"READ {obj}")
        try:
            chunk = m.Chunk.from_fields(frame.fields)
        except m.FieldError as e:
            raise CaseFailed(f"READ {obj}: {e}") from e
        if chunk.off != len(data) or not chunk.data:
            raise CaseFailed(
                f"READ {obj} at {len(data)}: answer off={chunk.off}, {len(chunk.data)} bytes"
            )
        data += chunk.data
    if len(data) != info.total or hashlib.sha256(data).digest() != info.sha256:
        raise CaseFailed(f"READ {obj}: {len(data)} bytes do not match total/sha")
    return bytes(data)
