"""A returning board against its audit record: the cycle's steps for a board that comes back
with a certificate recorded as current (:class:`ResumeSteps`), what resuming decided, and why a
locked board cannot be provisioned (pure: values in, values and words out).

The board's own state (its key, its chain, its lock) says how far an interrupted cycle got, and
the audit record says what was issued: the interrupted cycle is finished, an orphan (issued,
never on the board) is revoked once, or a locked board with its recorded certificate proves it
still holds the key and is already provisioned.

A locked board refuses a new key, so it fails; the operator needs to know whether it holds a
certificate of ours that is no longer current (provisioned again since, or revoked) or one this
station never issued to it (another line's, another station's, a factory test certificate).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from device_protocol import messages as m
from device_protocol.errors import DeviceError
from device_protocol.link import Link
from station.audit import CertificateRecord, CertificateStatus, EventContext
from station.engine.events import Step
from station.engine.station import StationContext
from station.pki.keys import spki_sha256
from station.pki.signer import Clock

if TYPE_CHECKING:
    from station.engine.cycle import CycleOptions, Write


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


class ResumeSteps:
    """The cycle's steps for a board whose audit record names a current certificate. A part of
    :class:`~station.engine.cycle.Cycle`, whose plumbing (audit writes in durability order,
    step events) they use."""

    station: StationContext
    options: CycleOptions
    _clock: Clock
    _serial: str | None
    _note: str
    _provisioned_at: datetime | None

    if TYPE_CHECKING:  # the cycle's own steps and plumbing

        @property
        def _ctx(self) -> EventContext: ...
        def _event(self, kind: str, **fields: Any) -> Write: ...
        def _advance(self, serial: str, status: CertificateStatus) -> Write: ...
        def _later(self, write: Write) -> None: ...
        def _durably(self, *writes: Write) -> None: ...
        def _enter(self, step: Step) -> None: ...
        def _deliver(self, link: Link, pem: str, chain: bytes) -> None: ...
        def _finish(
            self,
            link: Link,
            pem: str,
            chain: bytes,
            status: CertificateStatus,
            *,
            already_locked: bool,
            stored: bytes | None = None,
        ) -> None: ...
        def _prove(self, link: Link, pem: str) -> None: ...
        def _chain_pem(self, pem: str) -> bytes: ...

    def _resume(
        self, link: Link, info: m.HelloInfo, active: CertificateRecord
    ) -> tuple[Resumed, bytes | None]:
        """Decide what becomes of ``active``, the board's current certificate, from what the
        board holds; finish its interrupted cycle if there is one. Returns the decision and
        the chain the board returned, if it was read."""
        issued = active.status is CertificateStatus.ISSUED
        chain = self._chain_pem(active.pem)
        if info.state in (m.BoardState.CERTIFIED, m.BoardState.LOCKED):
            self._enter(Step.READBACK)
            held = link.get_cert()
            if held != chain:
                if issued:
                    self._revoke_orphan(active, "the board holds another certificate")
                    return Resumed.ORPHAN_REVOKED, held
                return Resumed.STILL_CURRENT, held
            self._serial = active.serial
            locked = info.state is m.BoardState.LOCKED
            if active.status is CertificateStatus.LOCKED:
                if not locked or self.options.reprovision:
                    return Resumed.STILL_CURRENT, held
                self._already_provisioned(link, active)
                return Resumed.ALREADY_PROVISIONED, held
            status = active.status
            if issued:
                self._later(self._advance(active.serial, CertificateStatus.DELIVERED))
                status = CertificateStatus.DELIVERED
            self._note = "resumed an interrupted cycle"
            self._finish(link, active.pem, chain, status, already_locked=locked)
            return Resumed.FINISHED, held
        if not issued:
            return Resumed.STILL_CURRENT, None
        if info.state is not m.BoardState.KEYED:
            self._revoke_orphan(active, f"the board came back {info.state.value}")
            return Resumed.ORPHAN_REVOKED, None
        # Issued, never confirmed delivered; the board still has a key: is it the same key?
        self._enter(Step.CSR)
        csr = x509.load_der_x509_csr(link.get_csr())
        if spki_sha256(csr.public_key()) != active.spki_sha256:
            self._revoke_orphan(active, "the board has a new key pair")
            return Resumed.ORPHAN_REVOKED, None
        self._serial = active.serial
        self._note = "delivered a certificate issued before an interruption"
        self._deliver(link, active.pem, chain)
        return Resumed.FINISHED, None

    def _already_provisioned(self, link: Link, active: CertificateRecord) -> None:
        """The board is locked with ``active``, recorded as locked: it must still prove it holds
        the certified key (a fresh challenge); then the cycle ends with no change."""
        self._prove(link, active.pem)
        since = self.station.audit.status_since(active.serial)
        self._provisioned_at = since or datetime.fromisoformat(active.not_before)
        self._note = (
            f"already provisioned: certificate {active.serial}, locked "
            f"{self._provisioned_at:%Y-%m-%d %H:%M} UTC"
        )
        self._durably(
            self._event(
                "ALREADY_PROVISIONED",
                text=self._note,
                data={"locked_at": self._provisioned_at.isoformat()},
            )
        )

    def _read_held(self, link: Link) -> bytes | None:
        """The chain a locked board holds, to say why it fails; None if it has none to give."""
        self._enter(Step.READBACK)
        try:
            return link.get_cert()
        except DeviceError:
            return None

    def _revoke_orphan(self, active: CertificateRecord, why: str) -> None:
        serial, ctx, at = active.serial, self._ctx, self._clock()
        self._durably(
            lambda: self.station.audit.revoke(serial, "cessation-of-operation", at, ctx),
            self._event("ORPHAN_REVOKED", serial=serial, text=f"never delivered: {why}"),
        )
