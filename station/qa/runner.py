"""QA of one board over an open Link: HELLO, GET_CERT, SIGN, then the pure checks, then one QA
event in the audit database. Blocking; the TUI calls :func:`run_qa` from a worker thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from device_protocol import Link, LinkError
from station.audit import AuditDB, EventContext, NewEvent
from station.config import StationConfig
from station.errors import StationError
from station.pki.ca import load_certificate
from station.pki.signer import utc_now
from station.qa.checks import CheckResult, QaFacts, fingerprint, run_checks


class QaError(StationError):
    """QA could not talk to the board at all (no HELLO): nothing was checked."""


@dataclass(frozen=True)
class QaContext:
    """What QA needs from the station, passed down explicitly."""

    station_id: str
    audit: AuditDB
    root: x509.Certificate
    intermediate: x509.Certificate
    min_remaining_days: int = 30
    operator: str | None = None
    slot: str | None = None
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_config(
        cls, config: StationConfig, audit: AuditDB, operator: str | None = None
    ) -> QaContext:
        """The context for a station home's config and its open audit database."""
        return cls(
            station_id=config.station.id,
            audit=audit,
            root=load_certificate(config.ca.root_cert),
            intermediate=load_certificate(config.ca.intermediate_cert),
            min_remaining_days=config.qa.min_remaining_days,
            operator=operator,
        )


@dataclass(frozen=True)
class QaReport:
    """The outcome of QA on one board."""

    port: str
    board_uid: str
    model: str
    firmware: str
    serial: str | None  # of the certificate the board holds, if it holds one
    checks: tuple[CheckResult, ...]
    event_seq: int  # the QA event recorded

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return [c.name for c in self.checks if not c.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "board": self.board_uid,
            "model": self.model,
            "firmware": self.firmware,
            "serial": self.serial,
            "passed": self.passed,
            "failed": self.failed,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "event_seq": self.event_seq,
        }


def run_qa(link: Link, context: QaContext) -> QaReport:
    """Verify the board on ``link`` (opened by the caller) and record a QA event."""
    try:
        info = link.hello()
    except LinkError as e:
        raise QaError(
            f"{e}; nothing was checked: check the cable, the port and that the board is powered"
        ) from e
    chain, chain_error = None, ""
    try:
        chain = link.get_cert()
    except LinkError as e:
        chain_error = f"GET_CERT failed: {e.detail}"
    challenge = secrets.token_bytes(32)
    signature, signature_error = None, ""
    try:
        signature, _alg = link.sign(challenge)
    except LinkError as e:
        signature_error = f"SIGN failed: {e.detail}"
    now = context.clock()
    facts = QaFacts(
        uid=info.uid,
        locked=info.state.value == "locked",
        chain_pem=chain,
        chain_error=chain_error,
        challenge=challenge,
        signature=signature,
        signature_error=signature_error,
        root=context.root,
        intermediate=context.intermediate,
        records=context.audit.board_certificates(info.uid),
        min_remaining=timedelta(days=context.min_remaining_days),
        now=now,
    )
    checks = tuple(run_checks(facts))
    serial, sha256 = _leaf(chain)
    failed = [c.name for c in checks if not c.ok]
    event = NewEvent(
        "QA",
        info.uid,
        serial,
        code="qa.failed" if failed else "qa.passed",
        text=f"failed: {', '.join(failed)}" if failed else "all checks passed",
        data={
            "sha256": sha256,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        },
    )
    ctx = EventContext(context.station_id, context.operator, context.slot, link.url)
    seq = context.audit.record_event(event, ctx, now)
    return QaReport(link.url, info.uid, info.model, info.firmware, serial, checks, seq)


def _leaf(chain: bytes | None) -> tuple[str | None, str | None]:
    """Serial (hex) and SHA-256 of the first certificate in ``chain``, if it parses."""
    if not chain:
        return None, None
    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError:
        return None, None
    return format(leaf.serial_number, "x"), fingerprint(leaf)
