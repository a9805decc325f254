"""The hot loop of `audit verify`: each event's sequence, link and hash, and the certificate
statuses the events replay. Pure (takes rows, returns a :class:`ChainState`).

An event's hash is defined in :mod:`station.audit.chain`; this module computes the same bytes
with the canonical form spelled out for the columns' stored types (text or null, the seq an
integer), so a row costs one f-string, one SHA-256 and a few comparisons. Any other type (an
integer slot from before schema version 4, or a value an UPDATE put there) takes the general
encoder of :mod:`station.audit.chain`; a value that has no canonical form (a BLOB) breaks the
chain at its row. A test holds this loop equal to :func:`station.audit.chain.event_hash`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from station.audit.certificates import CertificateStatus
from station.audit.chain import GENESIS, SORTED_COLUMNS, values_hash

#: The hashed columns in canonical order, then the stored hash: how rows are read.
COLUMNS = (*SORTED_COLUMNS, "hash")
# scan() unpacks rows in this order: at, board_uid, code, data, kind, operator, port,
# prev_hash, seq, serial, slot, station_id, text, hash (a test holds it).
_HASH = COLUMNS.index("hash")
# ISSUED data is canonical JSON with sorted keys: its "sha256" key follows "{" or ",".
_SHA_RE = re.compile(r'[{,]"sha256":"([0-9a-f]{64})"')

STATUS_OF = {
    "ISSUED": CertificateStatus.ISSUED,
    "DELIVERED": CertificateStatus.DELIVERED,
    "VERIFIED": CertificateStatus.VERIFIED,
    "LOCKED": CertificateStatus.LOCKED,
    "REVOKED": CertificateStatus.REVOKED,
}


@dataclass
class ChainState:
    """What a pass over (a range of) the events learns: the first break, the ends, and each
    certificate's last status and issued fingerprint."""

    broken_at: int | None = None
    first_seq: int | None = None
    first_prev: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS
    count: int = 0
    status: dict[str, CertificateStatus] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)

    def then(self, later: ChainState) -> ChainState:
        """This range followed by the next one (ranges merge in sequence order)."""
        if later.count == 0:
            return self
        if self.count == 0:
            return later
        broken = self.broken_at
        if broken is None and (
            later.first_seq != self.head_seq + 1 or later.first_prev != self.head_hash
        ):
            broken = later.first_seq
        if broken is None:
            broken = later.broken_at
        self.status.update(later.status)
        self.sha256.update(later.sha256)
        return ChainState(
            broken,
            self.first_seq,
            self.first_prev,
            later.head_seq,
            later.head_hash,
            self.count + later.count,
            self.status,
            self.sha256,
        )


def _general_hash(row: Sequence[Any]) -> str | None:
    """The hash by the general encoder; None for a value with no canonical form."""
    try:
        return values_hash(row[:_HASH])
    except (TypeError, ValueError):
        return None


def issued_sha256(data: Any) -> str:
    """The certificate fingerprint an ISSUED event's data records ("" if none)."""
    if data.__class__ is not str:
        return ""
    # The first match can only start just before the first '"sha256":"' (found by a fast
    # substring search; the key follows the PEM, which the regex would scan char by char).
    at = data.find('"sha256":"')
    found = _SHA_RE.search(data, max(at - 1, 0)) if at >= 0 else None
    return found.group(1) if found else ""


def superseded(data: Any) -> CertificateStatus:
    """A SUPERSEDED event's status: revoked with it, or kept valid."""
    try:
        revoked = json.loads(data).get("revoked")
    except (ValueError, TypeError, AttributeError):
        revoked = None
    return CertificateStatus.REVOKED if revoked else CertificateStatus.SUPERSEDED


def note_certificate(
    status: dict[str, CertificateStatus],
    fingerprints: dict[str, str],
    serial: str,
    kind: str,
    data: Any,
) -> None:
    """What an event of certificate ``serial`` says of it: its status after the event, and its
    fingerprint when the event is ISSUED (one call per event: ~25 ns over inlining)."""
    if kind in STATUS_OF:
        status[serial] = STATUS_OF[kind]
        if kind == "ISSUED":
            fingerprints[serial] = issued_sha256(data)
    elif kind == "SUPERSEDED":
        status[serial] = superseded(data)


def scan(rows: Iterable[Sequence[Any]], start_seq: int, prev: str | None) -> ChainState:
    """Walk rows (tuples in :data:`COLUMNS` order) that should be events ``start_seq``,
    ``start_seq + 1``, ...; ``prev`` is the hash the first one links to, or None for "the
    first of a range: its link is checked when ranges are merged"."""
    rows = iter(rows)
    first = next(rows, None)
    state = ChainState()
    if first is None:
        return state
    state.first_seq, state.first_prev = first[8], first[7]
    link = first[7] if prev is None else prev
    status, fingerprints = state.status, state.sha256
    broken: int | None = None
    expected = start_seq
    enc = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
    sha256 = hashlib.sha256
    seq: int = 0
    h: str = GENESIS
    for row in chain((first,), rows):
        (at, board_uid, code, data, kind, operator, port, prev_hash, seq, serial, slot) = row[:11]
        station_id, text, h = row[11], row[12], row[13]
        if broken is None:
            try:
                canonical = (
                    f'{{"at":{enc(at)},'
                    f'"board_uid":{"null" if board_uid is None else enc(board_uid)},'
                    f'"code":{"null" if code is None else enc(code)},'
                    f'"data":{enc(data)},'
                    f'"kind":{enc(kind)},'
                    f'"operator":{"null" if operator is None else enc(operator)},'
                    f'"port":{"null" if port is None else enc(port)},'
                    f'"prev_hash":{enc(prev_hash)},'
                    f'"seq":{int.__repr__(seq)},'
                    f'"serial":{"null" if serial is None else enc(serial)},'
                    f'"slot":{"null" if slot is None else enc(slot)},'
                    f'"station_id":{enc(station_id)},'
                    f'"text":{"null" if text is None else enc(text)}}}'
                )
                digest: str | None = sha256(canonical.encode()).hexdigest()
            except TypeError:  # a value of another type: the general encoder decides
                digest = _general_hash(row)
            if seq != expected or prev_hash != link or digest != h:
                broken = seq
        link, expected = h, expected + 1
        if serial:
            note_certificate(status, fingerprints, serial, kind, data)
    state.broken_at = broken
    state.head_seq, state.head_hash = seq, h
    state.count = expected - start_seq
    return state
