"""One board's provisioning cycle (DESIGN section 1) as a state machine over a Link.

Order of durability: a certificate is recorded ISSUED before its first byte goes to the board;
DELIVERED, VERIFIED and LOCKED follow each step the board confirmed. A cycle interrupted at any
point is resumed on the board's return: the board's own state (its key, its chain, its lock)
says how far it got, and the audit record says what was issued. A certificate issued but not on
the board when it returns (a new key, another chain, a blank or locked board) is an orphan: it
is revoked (cessation-of-operation), once, and the board starts afresh with nothing to
supersede. A board that returns locked with the certificate recorded as locked proves it still
holds the key and is reported ALREADY PROVISIONED; nothing is written but the check's events.
With a factory store, the key is reserved there after the policy and before signing (the order
and why a crash is harmless: station/engine/reservation.py).
The steps for a board that returns are in :mod:`station.engine.resume`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from device_protocol import messages as m
from device_protocol.errors import DeviceError
from device_protocol.link import Link
from device_protocol.rate_switch import return_to_default
from device_protocol.signatures import verify_sha256
from station.audit import CertificateRecord, CertificateStatus, EventContext, NewEvent
from station.engine.events import (
    BoardIdentified,
    ConsoleText,
    CycleResult,
    Listener,
    Step,
    StepProgress,
    StepStarted,
)
from station.engine.failures import BoardRefused, IdentityMismatch, ReadbackMismatch, classify
from station.engine.hello_check import check_hello, pick_key_type
from station.engine.options import CycleOptions as CycleOptions  # built where cycles are
from station.engine.rate import negotiate
from station.engine.result_text import result_line
from station.engine.resume import Resumed, ResumeSteps, locked_board_reason
from station.engine.station import StationContext
from station.pki.policy import check_csr
from station.pki.profile import ReportedIdentity
from station.pki.signer import Clock, utc_now

#: A deferred audit write (the audit methods return the event's sequence number).
Write = Callable[[], object]

log = logging.getLogger(__name__)


class Cycle(ResumeSteps):
    """Provision the board on one slot. ``run()`` never raises: it returns a CycleResult."""

    def __init__(
        self,
        station: StationContext,
        slot: str,
        port: str,
        options: CycleOptions,
        *,
        listener: Listener | None = None,
        link_factory: Callable[..., Link] = Link.open_url,
        clock: Clock = utc_now,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """``link_factory`` opens the port (``Link.open_url``'s signature); ``clock`` stamps
        the audit records, ``timer`` (monotonic seconds) measures the steps."""
        self.station = station
        self.slot = slot
        self.port = port
        self.options = options
        self.listener = listener or (lambda event: None)
        self._link_factory = link_factory
        self._clock = clock
        self._timer = timer
        self._start = 0.0
        self._step = Step.HELLO
        self._uid: str | None = None
        self._serial: str | None = None
        self._note = ""
        self._provisioned_at: datetime | None = None
        self._deferred: list[Write] = []
        self._baud: int | None = None  # the line rate the cycle ran at, once HELLO passed
        #: Public keys of the certificates this cycle issued, by PEM: no need to parse them back.
        self._issued_keys: dict[str, PublicKeyTypes] = {}

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def _ctx(self) -> EventContext:
        return EventContext(
            station_id=self.station.station_id,
            operator=self.options.operator,
            slot=self.slot,
            port=self.port,
        )

    def _event(self, kind: str, **fields: Any) -> Write:
        """An event, stamped now, to record now or later."""
        event = NewEvent(kind, self._uid, fields.pop("serial", self._serial), **fields)
        ctx, at = self._ctx, self._clock()
        return lambda: self.station.audit.record_event(event, ctx, at)

    def _advance(self, serial: str, status: CertificateStatus) -> Write:
        ctx, at = self._ctx, self._clock()
        return lambda: self.station.audit.advance(serial, status, ctx, at)

    def _later(self, write: Write) -> None:
        """A record whose loss in a crash loses nothing: the board's own state tells the same
        story on its return (STARTED, DELIVERED, VERIFIED). It is committed with the next
        durable write, with the time it happened."""
        self._deferred.append(write)

    def _durably(self, *writes: Write) -> None:
        """Commit the deferred records and ``writes`` in one transaction, before going on: the
        audit's group commit, so slots that finish together share one COMMIT (the writes run
        inside it in order, rolled back alone if one raises; this returns after the COMMIT)."""
        batch = (*self._deferred, *writes)

        def work() -> None:
            for write in batch:
                write()

        self.station.audit.commit_group(work)
        self._deferred.clear()

    def _enter(self, step: Step) -> None:
        self._step = step
        log.debug("slot %s %s: step %s", self.slot, self.port, step.value)
        self.listener(StepStarted(self.slot, step, self._timer() - self._start))

    def _progress(self, _what: str, done: int, total: int) -> None:
        self.listener(StepProgress(self.slot, self._step, done, total))

    def _console(self, text: str) -> None:
        self.listener(ConsoleText(self.slot, text))

    # ---- the cycle ---------------------------------------------------------------------------

    def run(self) -> CycleResult:
        self._start = self._timer()
        failure = None
        try:
            if self.station.space is not None:
                self.station.space.check()  # before the port is even opened
            with self._link_factory(
                self.port,
                timeout=self.station.request_timeout,
                retries=self.station.retries,
                on_console=self._console,
                on_progress=self._progress,
            ) as link:
                try:
                    self._cycle(link)
                finally:  # RETURN (SPEC.md 7.10): the slot's watcher probes at the default rate
                    return_to_default(link)
        except Exception as error:  # every outcome becomes a result and an audit event
            failure = classify(error, self._step, self.slot)
            try:
                self._durably(
                    self._event(
                        "FAILED",
                        code=failure.code,
                        text=failure.message,
                        data={"step": failure.step.value, "kind": failure.kind.value},
                    )
                )
            except Exception as audit_error:  # the database itself failed: say so, keep going
                failure = classify(audit_error, self._step, self.slot)
        result = CycleResult(
            slot=self.slot,
            port=self.port,
            board_uid=self._uid,
            failure=failure,
            serial=self._serial,
            elapsed=self._timer() - self._start,
            note=self._note,
            provisioned_at=self._provisioned_at if failure is None else None,
            baud=self._baud,
        )
        if log.isEnabledFor(logging.INFO):
            log.info("slot %s %s", self.slot, result_line(result, where=self.port))
        self.listener(result)
        return result

    def _cycle(self, link: Link) -> None:
        self._enter(Step.HELLO)
        info = link.hello()
        self._uid = info.uid
        self.listener(
            BoardIdentified(self.slot, info.uid, info.model, info.firmware, info.state.value)
        )
        board = ReportedIdentity(uid=info.uid, model=info.model, firmware=info.firmware)
        expected = self.options.expect_id
        if expected is not None and expected != info.uid:
            raise IdentityMismatch(
                "identity.label-mismatch",
                f"the label says {expected} but the board reports {info.uid}; check the label "
                "and that the board sits in the right slot",
            )
        started: dict[str, Any] = {"state": info.state.value, "firmware": info.firmware}
        refusal = check_hello(
            info,
            profile=self.station.profile,
            key_preference=self.station.key_preference,
            issuer=self.station.signer.issuer_cert,
        )
        try:
            if refusal is None:  # every later byte at the fastest rate both ends hold
                self._baud, note = negotiate(
                    link, info, self.slot, self.station.max_baud, self.station.rates
                )
                self._note = note
                started["baud"] = self._baud
        finally:
            self._later(self._event("STARTED", data=started))
        if refusal is not None:  # before KEYGEN: no key made, no certificate issued
            raise BoardRefused(refusal.code, refusal.message)
        audit = self.station.audit
        active = next((c for c in audit.board_certificates(info.uid) if c.status.active), None)
        held: bytes | None = None
        if active is not None:
            resumed, held = self._resume(link, info, active)
            if resumed in (Resumed.FINISHED, Resumed.ALREADY_PROVISIONED):
                return
            if resumed is Resumed.ORPHAN_REVOKED:
                active = None  # revoked, never on a board: nothing for a new one to supersede
        if info.state is m.BoardState.LOCKED:
            if held is None:
                held = self._read_held(link)
            records = audit.board_certificates(info.uid)  # as they are now, after any orphan
            raise IdentityMismatch("identity.locked", locked_board_reason(info.uid, held, records))
        if active is not None and not self.options.reprovision:
            raise IdentityMismatch(
                "identity.already-provisioned",
                f"board {info.uid} was provisioned before (certificate {active.serial}, "
                f"{active.status}); re-provision it only if that is intended",
            )
        self._fresh(link, info, board, active)

    def _fresh(
        self,
        link: Link,
        info: m.HelloInfo,
        board: ReportedIdentity,
        previous: CertificateRecord | None,
    ) -> None:
        station = self.station
        self._enter(Step.KEYGEN)
        key_type = self._key_type(info)
        link.keygen(key_type)
        self._enter(Step.CSR)
        csr_der = link.get_csr(station.profile.thing_name(board))
        self._enter(Step.POLICY)
        accepted = check_csr(
            csr_der,
            board,
            policy=station.policy,
            profile=station.profile,
            key_known=station.audit.key_known,
        )
        self._enter(Step.ISSUE)
        if station.reserver is not None:  # before signing: see station/engine/reservation.py
            station.reserver.reserve(accepted.spki_sha256, board.uid)
        issued = station.signer.sign(accepted)
        ctx, at = self._ctx, self._clock()
        writes = [lambda: station.audit.record_issued(issued, ctx, at)]
        if previous is not None:
            writes.append(
                lambda: station.audit.supersede(
                    previous.serial,
                    issued.serial_hex,
                    ctx,
                    at,
                    revoke=station.revoke_superseded,
                )
            )
        self._durably(*writes)  # ISSUED is on disk before the first byte goes to the board
        self._serial = issued.serial_hex
        self._issued_keys[issued.pem] = accepted.public_key  # the certificate's key, as parsed
        self._deliver(link, issued.pem, self._chain_pem(issued.pem))

    def _deliver(self, link: Link, pem: str, chain: bytes) -> None:
        self._enter(Step.DELIVER)
        assert self._serial is not None
        try:
            stored = link.put_cert(chain)
        except DeviceError as error:
            if error.status in (
                m.Status.STORAGE_FAILED,
                m.Status.DIGEST_MISMATCH,
                m.Status.LOCKED,
                m.Status.TOO_LARGE,
            ):
                # The board says the chain is not stored: the certificate never went out.
                serial, ctx, at = self._serial, self._ctx, self._clock()
                self._durably(
                    lambda: self.station.audit.revoke(serial, "cessation-of-operation", at, ctx)
                )
            raise
        self._later(self._advance(self._serial, CertificateStatus.DELIVERED))
        self._finish(
            link, pem, chain, CertificateStatus.DELIVERED, already_locked=False, stored=stored
        )

    def _finish(
        self,
        link: Link,
        pem: str,
        chain: bytes,
        status: CertificateStatus,
        *,
        already_locked: bool,
        stored: bytes | None = None,
    ) -> None:
        """Read back, prove possession, lock; ``status`` is the certificate's as recorded.
        ``stored``: the SHA-256 of the chain the board read from its storage after the commit
        (SPEC.md 1.2), which proves the chain without moving it back; None: read it back."""
        assert self._serial is not None
        self._enter(Step.READBACK)
        if stored is not None:
            if stored != hashlib.sha256(chain).digest():
                raise ReadbackMismatch(
                    "readback.stored-digest",
                    f"board {self._uid} stored a different certificate chain than it was sent "
                    "(the SHA-256 it read back from its storage differs): retry the board, and "
                    "set it aside for repair if it fails again",
                )
        elif link.get_cert() != chain:
            raise ReadbackMismatch(
                "readback.mismatch",
                "the certificate chain read back differs from the one written; retry",
            )
        self._prove(link, pem)
        if status is CertificateStatus.DELIVERED:
            self._later(self._advance(self._serial, CertificateStatus.VERIFIED))
        self._enter(Step.LOCK)
        if not already_locked:
            link.lock()
        self._durably(self._advance(self._serial, CertificateStatus.LOCKED))

    def _prove(self, link: Link, pem: str) -> None:
        """SIGN over a fresh random challenge; the signature must verify with ``pem``'s key."""
        self._enter(Step.PROVE)
        key: PublicKeyTypes | None = self._issued_keys.get(pem)
        if key is None:  # a certificate issued before this cycle: read its key from the PEM
            key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        challenge = secrets.token_bytes(32)
        signature, _alg = link.sign(challenge)
        if not verify_sha256(key, signature, challenge):
            raise ReadbackMismatch(
                "possession.failed",
                "the board could not prove it holds the certified key; set it aside for repair",
            )

    # ---- helpers -----------------------------------------------------------------------------

    def _key_type(self, info: m.HelloInfo) -> str:
        key_type = pick_key_type(info, self.station.key_preference)
        if key_type is not None:
            return key_type
        raise IdentityMismatch(
            "identity.no-common-key-type",
            f"board {info.uid} offers key types {', '.join(info.key_types) or 'none'}, none of "
            "which the station is set to use; check the jig's key setting",
        )

    def _chain_pem(self, pem: str) -> bytes:
        return (pem + self.station.signer.issuer_pem).encode("ascii")
