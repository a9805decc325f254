"""`audit verify`: walk the hash chain, then check the certificates table against the chain.

The certificates table is a projection of the events: replaying ISSUED, DELIVERED, VERIFIED,
LOCKED, REVOKED and SUPERSEDED must give each row's status, and each row's DER fingerprint must
be the one its ISSUED event recorded. So an UPDATE, DELETE or reordering of either table names
the first row that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.audit.chain import first_broken

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


def replay(events: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Status and DER fingerprint of each certificate, as the event chain tells them."""
    status: dict[str, str] = {}
    sha: dict[str, str] = {}
    for event in events:
        serial, kind = event["serial"], event["kind"]
        if not serial:
            continue
        if kind == "ISSUED":
            sha[serial] = json.loads(event["data"]).get("sha256", "")
        if kind in _STATUS_OF:
            status[serial] = _STATUS_OF[kind]
        elif kind == "SUPERSEDED":
            status[serial] = "revoked" if json.loads(event["data"]).get("revoked") else "superseded"
    return status, sha


def check(
    events: Sequence[Mapping[str, Any]], certificates: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """Every problem found, the chain's first break first."""
    findings = []
    broken = first_broken(events)
    if broken is not None:
        findings.append(
            Finding(
                "events", str(broken), "hash chain broken here (row changed, removed or reordered)"
            )
        )
    status, sha = replay(events)
    seen = set()
    for row in certificates:
        serial = row["serial"]
        seen.add(serial)
        if serial not in status:
            findings.append(Finding("certificates", serial, "no ISSUED event for this row"))
            continue
        if row["status"] != status[serial]:
            findings.append(
                Finding(
                    "certificates",
                    serial,
                    f"status {row['status']!r} but the events say {status[serial]!r}",
                )
            )
        der = x509.load_pem_x509_certificate(row["pem"].encode()).public_bytes(
            serialization.Encoding.DER
        )
        actual = hashlib.sha256(der).hexdigest()
        if row["sha256"] != sha.get(serial) or actual != row["sha256"]:
            findings.append(
                Finding(
                    "certificates",
                    serial,
                    "certificate or fingerprint differs from the one recorded when it was issued",
                )
            )
    for serial in sorted(set(status) - seen):
        findings.append(Finding("certificates", serial, "row missing (the events record it)"))
    return findings
