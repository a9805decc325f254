"""A returning board against its audit record: what resuming decided, and why a locked board
cannot be provisioned. Pure: values in, values and words out.

A locked board refuses a new key, so it fails; the operator needs to know whether it holds a
certificate of ours that is no longer current (provisioned again since, or revoked) or one this
station never issued to it (another line's, another station's, a factory test certificate).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.audit import CertificateRecord, CertificateStatus


class Resumed(enum.Enum):
    """What resuming the board's current certificate decided (and did)."""

    FINISHED = "finished"  # the interrupted cycle is complete: the board is locked with it
    ALREADY_PROVISIONED = "already-provisioned"  # locked with it before; possession proven
    ORPHAN_REVOKED = "orphan-revoked"  # it never reached the board and is now revoked
    STILL_CURRENT = "still-current"  # it stays the board's current certificate, unchanged


def leaf_sha256(chain: bytes) -> str | None:
    """SHA-256 (hex) of the first certificate's DER in a PEM chain; None if it does not parse."""
    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError:
        return None
    return hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()


def locked_board_reason(uid: str, held: bytes | None, records: Sequence[CertificateRecord]) -> str:
    """The operator's message for board ``uid``, locked, holding ``held`` (None: unread).

    ``records`` are the audit database's certificates for the board, newest first.
    """
    erase = "erase it before re-provisioning"
    sha = leaf_sha256(held) if held else None
    if sha is None:
        return f"board {uid} is locked and refuses a new key; {erase}"
    record = next((r for r in records if r.sha256 == sha), None)
    if record is None:
        return (
            f"board {uid} is locked with a certificate this station did not issue to it "
            f"(SHA-256 {sha[:16]}...); it is not ours to ship: set it aside, or {erase}"
        )
    if record.status is CertificateStatus.LOCKED:
        return (
            f"board {uid} is locked with certificate {record.serial} and refuses a new key; {erase}"
        )
    why = f" ({record.revocation_reason})" if record.revocation_reason else ""
    current = next((r for r in records if r.status.active), None)
    instead = f"certificate {current.serial}" if current else "no certificate"
    return (
        f"board {uid} is locked with certificate {record.serial}, which this station "
        f"recorded as {record.status}{why}; the record says {instead} is current for this "
        f"board, so it must not ship: {erase}"
    )
