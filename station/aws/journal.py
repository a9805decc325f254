"""The cloud steps as audit events, and what a rerun learns from them.

Order that makes a crash harmless: before each cloud call an ``AWS_PENDING`` event names the
step; after the call succeeds an ``AWS_REGISTERED`` (registration, thing, attachments, CA) or
``AWS_REVOKED`` event records it with the AWS certificate id and ARN. A crash between the two
leaves a PENDING without its outcome: the next run repeats that step, and every step is made
safe to repeat (a certificate already registered is looked up, not registered twice; creating
an existing thing, attaching twice and revoking twice change nothing). A step that failed after
its retries is recorded as ``AWS_FAILED`` with the error, and is tried again by the next run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from station.audit import NewEvent

PENDING = "AWS_PENDING"
REGISTERED = "AWS_REGISTERED"
REVOKED = "AWS_REVOKED"
FAILED = "AWS_FAILED"
CA_REGISTERED = "AWS_CA_REGISTERED"

#: The steps of one certificate's handoff, as recorded in the events' ``code``.
REGISTER = "register-certificate"
CREATE_THING = "create-thing"
ATTACH_THING = "attach-thing-principal"
ATTACH_POLICY = "attach-policy"
REVOKE = "revoke"
REGISTER_CA = "register-ca"


def policy_step(policy: str) -> str:
    """The step that attaches one named policy (each policy is a step of its own)."""
    return f"{ATTACH_POLICY}:{policy}"


@dataclass(frozen=True)
class StepEvent:
    """One step of one certificate, about to run or done."""

    step: str
    certificate_id: str
    serial: str | None = None
    board_uid: str | None = None
    thing_name: str | None = None
    arn: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step, "certificate_id": self.certificate_id}
        if self.arn:
            data["certificate_arn"] = self.arn
        if self.thing_name:
            data["thing_name"] = self.thing_name
        return {**data, **self.detail}

    def event(self, kind: str, text: str | None = None) -> NewEvent:
        return NewEvent(
            kind, self.board_uid, self.serial, code=self.step, text=text, data=self._data()
        )


@dataclass
class Journal:
    """What the recorded AWS events say: which steps are done, and the ARNs learnt."""

    done: set[tuple[str, str]] = field(default_factory=set)  # (certificate id, step)
    interrupted: set[tuple[str, str]] = field(default_factory=set)  # PENDING without outcome
    arns: dict[str, str] = field(default_factory=dict)
    ca: dict[str, Any] | None = None

    def is_done(self, certificate_id: str, step: str) -> bool:
        return (certificate_id, step) in self.done


def read_journal(events: Iterable[Mapping[str, Any]]) -> Journal:
    """Fold the AWS events (in order) into a :class:`Journal`."""
    journal = Journal()
    for event in events:
        raw = event.get("data") or {}
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
        key = (str(data.get("certificate_id", "")), str(data.get("step", event.get("code"))))
        kind = event["kind"]
        if kind == PENDING:
            journal.interrupted.add(key)
        elif kind in (REGISTERED, REVOKED, CA_REGISTERED):
            journal.interrupted.discard(key)
            journal.done.add(key)
            if data.get("certificate_arn"):
                journal.arns[key[0]] = str(data["certificate_arn"])
            if kind == CA_REGISTERED:
                journal.ca = data
        elif kind == FAILED:
            journal.interrupted.discard(key)
    return journal
