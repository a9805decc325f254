"""`station aws register-ca|sync|reconcile`: the AWS IoT Core handoff (needs the [aws] extra).

AWS region, credentials and endpoint come the standard boto3 way (environment, including
AWS_ENDPOINT_URL, shared config, instance role), never from station.toml or the command line.
With ``--from-store``, sync and reconcile run over the factory store (every station's
certificates; [factory] url, or --url / STATION_FACTORY_URL) instead of this station's database.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization

from station.aws.ca import DEFAULT, SNI_ONLY, register_ca, require_ca
from station.aws.cloud import DEFAULT_RATE, IotCloud, iot_client
from station.aws.journal import read_journal
from station.aws.plan import SyncOptions, Task
from station.aws.reconcile import reconcile as find_differences
from station.aws.snapshot import read_snapshot
from station.aws.source import LocalCertificate, StationSource
from station.aws.sync import DEFAULT_WORKERS, Sync, SyncReport
from station.commands.factory import open_store, url_option
from station.commands.loaders import (
    config_of,
    event_context,
    open_audit,
    open_audit_readonly,
    open_ca_key,
    operator_option,
)
from station.commands.options import TimeType, json_option
from station.config import StationConfig
from station.factory.aws_fleet import FleetCas
from station.factory.aws_source import StoreSource
from station.pki.ca import load_certificate
from station.pki.serials import random_serial
from station.pki.signer import utc_now


@click.group()
def aws() -> None:
    """Hand certificates over to AWS IoT Core: register the CA, sync, reconcile."""


from_store_option = click.option(
    "--from-store",
    is_flag=True,
    help="Every station's certificates from the factory store ([factory] url or --url), "
    "instead of this station's audit database.",
)


def _cloud(rate: float = DEFAULT_RATE) -> IotCloud:
    return IotCloud(iot_client(), rate=rate)


@aws.command("register-ca")
@click.option(
    "--mode",
    type=click.Choice(["default", "sni-only"]),
    default="default",
    show_default=True,
    help="DEFAULT (proved with a verification certificate) or SNI_ONLY (multi-account).",
)
@click.option(
    "--jitp-template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A just-in-time provisioning template (JSON) to register with the CA.",
)
@click.option("--jitp-role-arn", help="The IAM role JITP assumes (needed with --jitp-template).")
@operator_option
@click.pass_context
def register_ca_command(
    ctx: click.Context,
    mode: str,
    jitp_template: Path | None,
    jitp_role_arn: str | None,
    operator: str | None,
) -> None:
    """Register the station intermediate with AWS IoT (ACTIVE, auto-registration on); an
    intermediate already registered is reported, not registered twice."""
    config = config_of(ctx)
    intermediate = load_certificate(config.ca.intermediate_cert)
    template = jitp_template.read_text(encoding="utf-8") if jitp_template else None
    cloud = _cloud()
    with open_audit(config) as audit:
        source = StationSource(audit, event_context(config, operator), utc_now)
        found = register_ca(
            cloud,
            intermediate,
            lambda: open_ca_key(config),
            source.record,
            mode=SNI_ONLY if mode == "sni-only" else DEFAULT,
            template=template,
            role_arn=jitp_role_arn,
            now=utc_now(),
            serial=random_serial(),
        )
    said = "already registered" if found.already else "registered"
    click.echo(f"CA {said}: {found.certificate_id} ({found.mode}, {found.status}) {found.arn}")


class _Progress:
    """A progress bar on a terminal (stderr), nothing otherwise."""

    def __init__(self, total: int) -> None:
        self.bar: Any = None
        if sys.stderr.isatty() and total:
            self.bar = click.progressbar(length=total, label="Syncing", file=sys.stderr)
            self.bar.__enter__()

    def __call__(self, _task: Task) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _summary(report: SyncReport) -> str:
    return (
        f"{report.planned} certificate(s) to hand over: {report.registered} registered, "
        f"{report.revoked} revoked, {report.not_in_aws} revoked here but never in AWS, "
        f"{report.steps} step(s) done, {report.retries} call(s) retried, "
        f"{len(report.failures)} failed"
    )


@aws.command()
@click.option("--policy", help="Attach this AWS IoT policy to each certificate registered.")
@click.option("--thing-type", help="Create things with this thing type.")
@click.option("--since", type=TimeType(), help="Only certificates issued at or after TIME.")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Certificates handed over at once.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.1, 50),
    default=DEFAULT_RATE,
    show_default=True,
    help="Calls per second of each AWS IoT API (AWS quota: about 10 registrations/s).",
)
@from_store_option
@url_option
@json_option
@operator_option
@click.pass_context
def sync(
    ctx: click.Context,
    policy: str | None,
    thing_type: str | None,
    since: datetime | None,
    workers: int,
    rate: float,
    from_store: bool,
    url: str | None,
    as_json: bool,
    operator: str | None,
) -> None:
    """Register each certificate on a board with AWS IoT (thing, attachment, policy) and mark
    each certificate revoked or superseded here REVOKED there. Each step is recorded; a rerun
    skips what is done and resumes what was interrupted. Exit 1 naming what failed."""
    options = SyncOptions(policy=policy, thing_type=thing_type, since=since)
    if from_store:
        report = _sync_store(ctx, url, options, workers, rate, operator)
        _print_sync(report, as_json, "station aws sync --from-store")
        if not report.ok:
            ctx.exit(1)
        return
    config = config_of(ctx)
    intermediate = load_certificate(config.ca.intermediate_cert)
    cloud = _cloud(rate)
    ca = require_ca(cloud, intermediate, _recorded_mode(config))
    ca_pem = intermediate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    with open_audit(config) as audit:
        source = StationSource(audit, event_context(config, operator), utc_now)
        job = Sync(source, cloud, None if ca.mode == SNI_ONLY else ca_pem, options, workers=workers)
        report = _run(job)
    _print_sync(report, as_json)
    if not report.ok:
        ctx.exit(1)


def _run(job: Sync) -> SyncReport:
    progress = _Progress(len(job.tasks()[1]))
    try:
        return job.run(progress)
    finally:
        progress.close()


def _sync_store(
    ctx: click.Context,
    url: str | None,
    options: SyncOptions,
    workers: int,
    rate: float,
    operator: str | None,
) -> SyncReport:
    """The sync over every station's certificates in the factory store, each registered with
    its own station's CA."""
    cloud = _cloud(rate)
    with open_store(ctx, url) as store:
        source = StoreSource(store, operator)
        cas = FleetCas.read(cloud, source.recorded_ca_modes())

        def ca_of(cert: LocalCertificate) -> str | None:
            return cas.ca_pem_for(cert, source.station_of(cert.certificate_id))

        return _run(Sync(source, cloud, None, options, workers=workers, ca_of=ca_of))


def _print_sync(report: SyncReport, as_json: bool, rerun: str = "station aws sync") -> None:
    if as_json:
        out = {
            "ok": report.ok,
            "planned": report.planned,
            "registered": report.registered,
            "revoked": report.revoked,
            "not_in_aws": report.not_in_aws,
            "steps": report.steps,
            "retries": report.retries,
            "failures": [f.__dict__ for f in report.failures],
        }
        click.echo(json.dumps(out))
        return
    for f in report.failures:
        click.echo(
            f"FAIL {f.serial} (board {f.board_uid}) at {f.step}: {f.error}; rerun "
            f"`{rerun}` once the cause is fixed",
            err=True,
        )
    click.echo(_summary(report))


def _recorded_mode(config: StationConfig) -> str | None:
    """The CA mode register-ca recorded here, if it did."""
    with open_audit_readonly(config) as audit:
        ca = read_journal(StationSource(audit, event_context(config), utc_now).cloud_events()).ca
    return str(ca["mode"]) if ca and ca.get("mode") else None


def _local(config: StationConfig) -> list[LocalCertificate]:
    with open_audit_readonly(config) as audit:
        return list(StationSource(audit, event_context(config), utc_now).certificates())


@aws.command()
@from_store_option
@url_option
@json_option
@click.pass_context
def reconcile(ctx: click.Context, from_store: bool, url: str | None, as_json: bool) -> None:
    """Compare the audit database (or, with --from-store, the factory store) with AWS IoT
    (reads only); list every difference with what to do. Exit 1 if there is any."""
    cloud = _cloud()
    if from_store:
        with open_store(ctx, url) as store:
            source = StoreSource(store)
            local = list(source.certificates())
            cas = FleetCas.read(cloud, source.recorded_ca_modes())
        findings = find_differences(local, cas.snapshot(cloud, local))
        where = "the factory store"
    else:
        config = config_of(ctx)
        intermediate = load_certificate(config.ca.intermediate_cert)
        ca = require_ca(cloud, intermediate, _recorded_mode(config))
        local = _local(config)
        findings = find_differences(local, read_snapshot(cloud, ca, local))
        where = "this station"
    if as_json:
        click.echo(json.dumps({"ok": not findings, "findings": [f.as_dict() for f in findings]}))
    else:
        for f in findings:
            who = f"{f.serial} (board {f.board_uid})" if f.serial else f.certificate_id
            click.echo(f"{f.code}: {who}: {f.what}; {f.action}")
        click.echo(f"{len(findings)} difference(s) between {where} and AWS IoT")
    if findings:
        ctx.exit(1)


COMMANDS = (aws,)
