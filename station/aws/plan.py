"""Which cloud steps each certificate still needs: pure, from the certificates and the journal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from station.aws.journal import (
    ATTACH_THING,
    CREATE_THING,
    REGISTER,
    REVOKE,
    Journal,
    policy_step,
)
from station.aws.source import LocalCertificate, LocalState


@dataclass(frozen=True)
class SyncOptions:
    """What `station aws sync` was asked for."""

    policy: str | None = None
    thing_type: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class Task:
    """One certificate and the steps it still needs, in order."""

    certificate: LocalCertificate
    steps: tuple[str, ...]


def steps_for(cert: LocalCertificate, options: SyncOptions) -> tuple[str, ...]:
    """Every step a certificate's handoff takes, done or not."""
    if cert.state is LocalState.ON_BOARD:
        steps = (REGISTER, CREATE_THING, ATTACH_THING)
        return steps + ((policy_step(options.policy),) if options.policy else ())
    if cert.state is LocalState.RETIRED:
        return (REVOKE,)
    return ()


def plan(
    certificates: Iterable[LocalCertificate], journal: Journal, options: SyncOptions
) -> list[Task]:
    """The tasks left: each certificate with the steps not yet recorded as done."""
    tasks = []
    for cert in certificates:
        if options.since is not None and cert.not_before < options.since:
            continue
        left = tuple(
            s for s in steps_for(cert, options) if not journal.is_done(cert.certificate_id, s)
        )
        if left:
            tasks.append(Task(cert, left))
    return tasks
