"""`station aws sync`: hand each certificate over to AWS IoT, step by step, recorded.

Each step is recorded before (AWS_PENDING) and after (AWS_REGISTERED / AWS_REVOKED) its cloud
call, in that order, so a crash anywhere leaves at most one step to repeat, and every step is
safe to repeat (see :mod:`station.aws.journal`). Certificates run in parallel on a small pool
(bounded concurrency); each API is paced by the cloud's rate limiter whatever the pool size.
One certificate's steps run in order; a failed step stops that certificate (recorded as
AWS_FAILED) and the others go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from station.aws.cloud import IotCloud
from station.aws.errors import AwsError
from station.aws.journal import (
    ATTACH_POLICY,
    ATTACH_THING,
    CREATE_THING,
    FAILED,
    PENDING,
    REGISTER,
    REGISTERED,
    REVOKE,
    REVOKED,
    Journal,
    StepEvent,
    read_journal,
)
from station.aws.plan import SyncOptions, Task, plan
from station.aws.source import HandoffSource, LocalCertificate

#: Certificates handed over at once: enough to keep each API at its rate, few enough to stay
#: well inside AWS's quotas on throttling.
DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class StepFailure:
    """A certificate whose handoff stopped at a step."""

    serial: str
    board_uid: str
    step: str
    error: str


@dataclass
class SyncReport:
    """What one sync did."""

    planned: int = 0
    registered: int = 0
    revoked: int = 0
    not_in_aws: int = 0  # retired here and never registered: nothing to revoke
    steps: int = 0
    retries: int = 0
    failures: list[StepFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class Sync:
    """One run of the handoff over a source, with a CA mode found in the cloud."""

    def __init__(
        self,
        source: HandoffSource,
        cloud: IotCloud,
        ca_pem: str | None,
        options: SyncOptions,
        *,
        workers: int = DEFAULT_WORKERS,
        ca_of: Callable[[LocalCertificate], str | None] | None = None,
    ) -> None:
        self.source = source
        self.cloud = cloud
        self.ca_pem = ca_pem  # None: SNI_ONLY, RegisterCertificateWithoutCA
        # Each certificate's CA where they differ (a fleet of stations, each with its own
        # intermediate); it may raise AwsError, which fails that certificate's registration.
        self.ca_of = ca_of
        self.options = options
        self.workers = max(1, workers)
        self._count = threading.Lock()

    def tasks(self) -> tuple[Journal, list[Task]]:
        journal = read_journal(self.source.cloud_events())
        return journal, plan(self.source.certificates(), journal, self.options)

    def run(self, progress: Callable[[Task], None] = lambda _: None) -> SyncReport:
        journal, tasks = self.tasks()
        report = SyncReport(planned=len(tasks))
        with ThreadPoolExecutor(self.workers, thread_name_prefix="aws-sync") as pool:
            for task, failure in zip(
                tasks, pool.map(lambda t: self._one(t, journal, report), tasks), strict=True
            ):
                if failure is not None:
                    report.failures.append(failure)
                progress(task)
        report.retries = self.cloud.retries
        return report

    def _one(self, task: Task, journal: Journal, report: SyncReport) -> StepFailure | None:
        cert = task.certificate
        arn = journal.arns.get(cert.certificate_id)
        for step in task.steps:
            base = StepEvent(
                step, cert.certificate_id, cert.serial, cert.board_uid, cert.thing_name, arn
            )
            self.source.record(base.event(PENDING))
            try:
                kind, arn, text = self._step(step, task, arn)
            except AwsError as e:
                self.source.record(base.event(FAILED, str(e)))
                return StepFailure(cert.serial, cert.board_uid, step, str(e))
            done = StepEvent(
                step, cert.certificate_id, cert.serial, cert.board_uid, cert.thing_name, arn
            )
            self.source.record(done.event(kind, text))
            with self._count:
                report.steps += 1
                if step == REGISTER:
                    report.registered += 1
                elif step == REVOKE:
                    report.revoked += arn is not None
                    report.not_in_aws += arn is None
        return None

    def _step(self, step: str, task: Task, arn: str | None) -> tuple[str, str | None, str]:
        """Run one step; return the event kind, the certificate's ARN and the event text."""
        cert = task.certificate
        if step == REGISTER:
            ca_pem = self.ca_of(cert) if self.ca_of is not None else self.ca_pem
            got = self.cloud.register_certificate(cert.pem, ca_pem, cert.certificate_id)
            return REGISTERED, got.arn, "ACTIVE in AWS IoT"
        if step == REVOKE:
            revoked = self.cloud.revoke(cert.certificate_id)
            text = "REVOKED in AWS IoT" if revoked else "not registered in AWS IoT: nothing to do"
            return REVOKED, revoked, text
        if arn is None:  # the journal always has it once REGISTER is done
            raise AwsError(f"no AWS ARN recorded for certificate {cert.serial}; rerun the sync")
        if step == CREATE_THING:
            self.cloud.create_thing(cert.thing_name, self.options.thing_type)
            return REGISTERED, arn, f"thing {cert.thing_name}"
        if step == ATTACH_THING:
            self.cloud.attach_thing(cert.thing_name, arn)
            return REGISTERED, arn, f"attached to thing {cert.thing_name}"
        if step.startswith(ATTACH_POLICY):
            policy = step.partition(":")[2]
            self.cloud.attach_policy(policy, arn)
            return REGISTERED, arn, f"policy {policy} attached"
        raise AssertionError(f"unknown step {step}")
