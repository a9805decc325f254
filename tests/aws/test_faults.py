"""Faults on the way to AWS: throttling on every Nth call, the sync killed midway (SIGKILL) and
rerun, and a certificate revoked on one side only (the reconcile names both)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from station.audit import AuditDB
from station.aws.journal import read_journal
from station.engine.station import StationContext
from station.pki.policy import CsrPolicy, check_csr
from station.pki.profile import ReportedIdentity
from station.pki.signer import utc_now
from tests.pki.conftest import make_csr, never_seen

from .conftest import run_aws, station_cmd
from .endpoint import Proxy
from .seed import CTX, provisioned, record


def busiest_window(times: list[float], width: float) -> int:
    """The most calls in any window of ``width`` seconds."""
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t < start + width)
                for i, start in enumerate(times)), default=0)  # fmt: skip


def test_ok_sync_finishes_under_throttling_within_the_quota(
    station: StationContext, home: Path, aws: dict[str, str], endpoint: Proxy, iot: Any
) -> None:
    serials = provisioned(station, 12)
    assert run_aws(home, aws, "register-ca").returncode == 0
    endpoint.faults.throttle_every = 4
    done = run_aws(home, aws, "sync", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["registered"] == 12
    assert report["failures"] == []
    throttled = [c for c in endpoint.calls if c.throttled]
    assert throttled
    assert report["retries"] == len(throttled)
    registered = {c.json()["certificatePem"] for c in endpoint.of("RegisterCertificate")}
    assert registered == {record(station, s).pem for s in serials}
    # Every attempt counts against AWS's quota (about 10 registrations/s): the station spaces
    # them 0.1 s apart, so no 0.95 s window (a little under 1 s, for the proxy's own timing)
    # holds more than 10.
    attempts = [c.at for c in endpoint.calls if c.operation == "RegisterCertificate"]
    assert len(attempts) > 12
    assert busiest_window(attempts, 0.95) <= 10


def registered_events(audit: AuditDB) -> list[dict[str, Any]]:
    return [
        e
        for e in audit.events()
        if e["kind"] == "AWS_REGISTERED" and e["code"] == "register-certificate"
    ]


def test_ok_sync_killed_midway_and_rerun_registers_nothing_twice_and_misses_nothing(
    station: StationContext,
    home: Path,
    aws: dict[str, str],
    endpoint: Proxy,
    iot: Any,
    started: dict[str, str],
) -> None:
    serials = provisioned(station, 10)
    assert run_aws(home, aws, "register-ca").returncode == 0
    # The 4th registration reaches AWS, and its answer is held back: the cloud has the
    # certificate, the station has only its AWS_PENDING, when the station is killed.
    endpoint.faults.hold_operation, endpoint.faults.hold_nth = "RegisterCertificate", 4
    process = subprocess.Popen(
        station_cmd(home, aws, "sync"), env=started, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert endpoint.faults.held.wait(120), "the 4th registration never came"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        endpoint.faults.release.set()

    events = [e for e in station.audit.events() if str(e["kind"]).startswith("AWS_")]
    journal = read_journal(events)
    assert journal.interrupted, "the kill left no step between its PENDING and its outcome"
    assert len(registered_events(station.audit)) < len(serials)

    endpoint.faults.hold_operation = None
    done = run_aws(home, aws, "sync", "--json")
    assert done.returncode == 0, done.stderr

    events = registered_events(station.audit)
    assert sorted(e["serial"] for e in events) == sorted(serials)  # once each, none missing
    journal = read_journal(e for e in station.audit.events() if str(e["kind"]).startswith("AWS_"))
    assert not journal.interrupted
    in_aws = iot.list_certificates_by_ca(caCertificateId=journal.ca["certificate_id"])  # type: ignore[index]
    assert sorted(c["certificateId"] for c in in_aws["certificates"]) == sorted(
        record(station, s).sha256 for s in serials
    )
    for serial in serials:
        rec = record(station, serial)
        thing = rec.subject.split("CN=")[1].split(",")[0]
        arn = iot.describe_certificate(certificateId=rec.sha256)["certificateDescription"][
            "certificateArn"
        ]
        assert iot.list_thing_principals(thingName=thing)["principals"] == [arn]


def test_fail_reconcile_names_a_certificate_revoked_on_either_side_only(
    station: StationContext, home: Path, aws: dict[str, str], iot: Any
) -> None:
    serials = provisioned(station, 3)
    assert run_aws(home, aws, "register-ca").returncode == 0
    assert run_aws(home, aws, "sync").returncode == 0
    clean = run_aws(home, aws, "reconcile")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 difference(s)" in clean.stdout

    revoked_there, revoked_here = record(station, serials[0]), record(station, serials[1])
    iot.update_certificate(certificateId=revoked_there.sha256, newStatus="REVOKED")
    station.audit.revoke(revoked_here.serial, "key-compromise", utc_now(), CTX)

    found = run_aws(home, aws, "reconcile", "--json")
    assert found.returncode == 1, found.stderr
    findings = {(f["code"], f["serial"]) for f in json.loads(found.stdout)["findings"]}
    assert findings == {
        ("revoked-in-aws-only", revoked_there.serial),
        ("active-in-aws-only", revoked_here.serial),
    }
    text = run_aws(home, aws, "reconcile")
    assert text.returncode == 1
    assert f"station revoke {revoked_there.serial}" in text.stdout
    assert "run `station aws sync`" in text.stdout

    assert run_aws(home, aws, "sync").returncode == 0  # marks the one revoked here REVOKED
    after = json.loads(run_aws(home, aws, "reconcile", "--json").stdout)["findings"]
    assert [(f["code"], f["serial"]) for f in after] == [
        ("revoked-in-aws-only", revoked_there.serial)
    ]


def test_fail_reconcile_names_unknown_certificates_and_things_astray(
    station: StationContext, home: Path, aws: dict[str, str], iot: Any
) -> None:
    serials = provisioned(station, 3)
    assert run_aws(home, aws, "register-ca").returncode == 0
    assert run_aws(home, aws, "sync").returncode == 0
    # Signed with this station's CA and registered in AWS under it, never recorded here.
    key = ec.generate_private_key(ec.SECP256R1())
    board = ReportedIdentity(uid="stray-0001")
    accepted = check_csr(
        make_csr(key, cn=None),
        board,
        policy=CsrPolicy(),
        profile=station.profile,
        key_known=never_seen,
    )
    stray = station.signer.sign(accepted)
    iot.register_certificate(
        certificatePem=stray.pem, caCertificatePem=station.signer.issuer_pem, status="ACTIVE"
    )
    gone, astray = record(station, serials[0]), record(station, serials[1])
    gone_thing = gone.subject.split("CN=")[1].split(",")[0]
    arn = iot.describe_certificate(certificateId=gone.sha256)["certificateDescription"][
        "certificateArn"
    ]
    iot.detach_thing_principal(thingName=gone_thing, principal=arn)
    iot.delete_thing(thingName=gone_thing)
    astray_thing = astray.subject.split("CN=")[1].split(",")[0]
    astray_arn = iot.describe_certificate(certificateId=astray.sha256)["certificateDescription"][
        "certificateArn"
    ]
    iot.detach_thing_principal(thingName=astray_thing, principal=astray_arn)

    found = run_aws(home, aws, "reconcile", "--json")
    assert found.returncode == 1, found.stderr
    codes = {(f["code"], f["serial"]) for f in json.loads(found.stdout)["findings"]}
    assert ("thing-missing", gone.serial) in codes
    assert ("thing-other-certificate", astray.serial) in codes
    assert ("unknown-here", None) in codes
    unknown = [f for f in json.loads(found.stdout)["findings"] if f["code"] == "unknown-here"]
    assert [f["certificate_id"] for f in unknown] == [stray.sha256]
