"""The limits of SPEC.md 1.1 that a board must meet before a station asks it for anything
irreversible: its uid alphabet, its HELLO answer within its mtu, its chain storage. Pure.

The station checks them right after HELLO (before KEYGEN) and the conformance suite has a case
for each, so a board that passes conformance is not refused on the line.
"""

from __future__ import annotations

import re
from dataclasses import replace

from device_protocol import messages as m
from device_protocol.framing import SEQ_MODULO, Frame, encode

#: SPEC.md 7.1: the uid alphabet, one for the wire, the certificate's serialNumber
#: (PrintableString) and the AWS IoT thing name. Version 1.0 also allowed "." and "_".
UID_CHARACTERS = "A-Z a-z 0-9 : -"
_UID_RE = re.compile(r"[A-Za-z0-9:-]{1,64}\Z")
#: SPEC.md 7.1 ``store``: chain storage a board has when its HELLO does not say.
MIN_CHAIN_STORE = 4096
#: Key type names, longest first: the longest ``kt`` a board can report.
_KT_LONGEST = max((k.value for k in m.KeyType), key=len)


def uid_problem(uid: str) -> str | None:
    """Why ``uid`` is not a SPEC.md 1.1 board id, or None when it is one."""
    if _UID_RE.match(uid):
        return None
    if not 1 <= len(uid) <= 64:
        return f"it is {len(uid)} characters long, not 1 to 64"
    bad = sorted({c for c in uid if not _UID_RE.match(c)})
    shown = ", ".join(repr(c) for c in bad[:8])
    return f"it holds {shown}, outside {UID_CHARACTERS}"


def worst_case_hello(info: m.HelloInfo) -> int:
    """The longest line this board's HELLO answer can take (LF included): the largest
    sequence number, state ``certified`` and the longest key type it could hold (SPEC.md 7.1)."""
    kts = [k for k in info.key_types if k in m.KeyType._value2member_map_] or [_KT_LONGEST]
    worst = replace(info, state=m.BoardState.CERTIFIED, key_type=max(kts, key=len))
    return len(encode(Frame(seq=SEQ_MODULO - 1, name=m.OK, fields=worst.to_fields())))


def chain_store(info: m.HelloInfo) -> int:
    """Bytes of certificate chain the board can store: its ``store``, else the minimum."""
    return info.store if info.store is not None else MIN_CHAIN_STORE
