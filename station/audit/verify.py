"""`audit verify`: walk the hash chain, then check the certificates table against the chain.

The certificates table is a projection of the events: replaying ISSUED, DELIVERED, VERIFIED,
LOCKED, REVOKED and SUPERSEDED must give each row's status, and each row's DER fingerprint must
be the one its ISSUED event recorded. So an UPDATE, DELETE or reordering of either table names
the first row that no longer fits. One streaming pass over each table: memory grows with the
number of certificates (a status and a fingerprint each), not with the number of events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from station.audit.chain import GENESIS, event_hash

_STATUS_OF = {
    "ISSUED": "issued",
    "DELIVERED": "delivered",
    "VERIFIED": "verified",
    "LOCKED": "locked",
    "REVOKED": "revoked",
}


@dataclass(frozen=True)
class Finding:
    table: str
    key: str  # events: the seq; certificates: the serial
    problem: str

    def __str__(self) -> str:
        row = "event seq" if self.table == "events" else "certificate"
        return f"{self.table}: {row} {self.key}: {self.problem}"


@dataclass
class ChainState:
    """What one pass over the events learns: the first break, the head, each certificate."""

    broken_at: int | None = None
    head_seq: int = 0
    head_hash: str = GENESIS
    count: int = 0
    status: dict[str, str] | None = None
    sha256: dict[str, str] | None = None


def walk(events: Iterable[Mapping[str, Any]]) -> ChainState:
    """Check each event's sequence, link and hash, and replay certificate statuses."""
    state = ChainState(status={}, sha256={})
    status, sha = state.status, state.sha256
    assert status is not None
    assert sha is not None
    prev, expected = GENESIS, 1
    for event in events:
        state.count += 1
        if state.broken_at is None and (
            event["seq"] != expected
            or event["prev_hash"] != prev
            or event_hash(event) != event["hash"]
        ):
            state.broken_at = int(event["seq"])
        prev, expected = event["hash"], expected + 1
        state.head_seq, state.head_hash = int(event["seq"]), str(event["hash"])
        serial, kind = event["serial"], event["kind"]
        if not serial:
            continue
        if kind == "ISSUED":
            sha[serial] = json.loads(event["data"]).get("sha256", "")
        if kind in _STATUS_OF:
            status[serial] = _STATUS_OF[kind]
        elif kind == "SUPERSEDED":
            revoked = json.loads(event["data"]).get("revoked")
            status[serial] = "revoked" if revoked else "superseded"
    return state


def pem_sha256(pem: str) -> str | None:
    """SHA-256 of the DER inside a one-certificate PEM (no X.509 parsing: fast at scale)."""
    lines = [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]
    try:
        return hashlib.sha256(base64.b64decode("".join(lines), validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def check(
    events: Iterable[Mapping[str, Any]], certificates: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """Every problem found, the chain's first break first."""
    state = walk(events)
    return findings(state, certificates)


def findings(state: ChainState, certificates: Iterable[Mapping[str, Any]]) -> list[Finding]:
    out = []
    if state.broken_at is not None:
        out.append(
            Finding(
                "events",
                str(state.broken_at),
                "hash chain broken here (row changed, removed or reordered)",
            )
        )
    status = dict(state.status or {})
    sha = state.sha256 or {}
    for row in certificates:
        serial = row["serial"]
        expected = status.pop(serial, None)
        if expected is None:
            out.append(Finding("certificates", serial, "no ISSUED event for this row"))
            continue
        if row["status"] != expected:
            out.append(
                Finding(
                    "certificates",
                    serial,
                    f"status {row['status']!r} but the events say {expected!r}",
                )
            )
        if row["sha256"] != sha.get(serial) or pem_sha256(row["pem"]) != row["sha256"]:
            out.append(
                Finding(
                    "certificates",
                    serial,
                    "certificate or fingerprint differs from the one recorded when it was issued",
                )
            )
    for serial in sorted(status):
        out.append(Finding("certificates", serial, "row missing (the events record it)"))
    return out
