"""`station aws sync` against the local AWS endpoint: what it sends, what the cloud then holds,
and the audit events; checked against the audit's own PEMs and the station's CRL."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path
from typing import Any

from cryptography import x509

from station.audit import AuditDB
from station.aws.journal import read_journal
from station.engine.station import StationContext
from station.pki.signer import utc_now
from tests.export.helpers import station as run_station

from .conftest import run_aws, station_cmd
from .endpoint import Proxy
from .seed import CTX, provisioned, record

POLICY = "DevicePolicy"


def create_policy(iot: Any) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}],
    }
    iot.create_policy(policyName=POLICY, policyDocument=json.dumps(document))


def step_events(audit: AuditDB, kind: str, step: str) -> list[dict[str, Any]]:
    return [e for e in audit.events() if e["kind"] == kind and e["code"] == step]


def test_ok_sync_registers_each_certificate_once_with_its_thing_and_policy(
    station: StationContext, home: Path, aws: dict[str, str], endpoint: Proxy, iot: Any
) -> None:
    serials = provisioned(station, 5)
    create_policy(iot)
    assert run_aws(home, aws, "register-ca").returncode == 0
    done = run_aws(home, aws, "sync", "--policy", POLICY, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["registered"], report["steps"], report["failures"]) == (5, 20, [])

    intermediate_pem = station.signer.issuer_pem
    sent = {c.json()["certificatePem"]: c.json() for c in endpoint.of("RegisterCertificate")}
    for serial in serials:
        rec = record(station, serial)
        body = sent[rec.pem]  # the PEM on the wire is byte-identical to the audit's
        assert body["caCertificatePem"] == intermediate_pem
        desc = iot.describe_certificate(certificateId=rec.sha256)["certificateDescription"]
        assert desc["certificatePem"] == rec.pem
        assert desc["status"] == "ACTIVE"
        cert = x509.load_pem_x509_certificate(rec.pem.encode())
        thing = cert.subject.rfc4514_string().split("CN=")[1].split(",")[0]
        assert iot.describe_thing(thingName=thing)["thingName"] == thing
        assert iot.list_thing_principals(thingName=thing)["principals"] == [desc["certificateArn"]]
        policies = iot.list_attached_policies(target=desc["certificateArn"])["policies"]
        assert [p["policyName"] for p in policies] == [POLICY]
    assert len(sent) == 5

    for step in (
        "register-certificate",
        "create-thing",
        "attach-thing-principal",
        f"attach-policy:{POLICY}",
    ):
        events = step_events(station.audit, "AWS_REGISTERED", step)
        assert sorted(e["serial"] for e in events) == sorted(serials)
        assert all(
            json.loads(e["data"])["certificate_arn"].endswith(
                json.loads(e["data"])["certificate_id"]
            )
            for e in events
        )
        assert len(step_events(station.audit, "AWS_PENDING", step)) == 5

    again = run_aws(home, aws, "sync", "--policy", POLICY)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 certificate(s) to hand over")
    assert len(endpoint.of("RegisterCertificate", ok=False)) == 5


def crl_serials(home: Path, tmp_path: Path) -> set[str]:
    out = tmp_path / "station.crl.pem"
    made = run_station(home, "crl", "--out", out)
    assert made.returncode == 0, made.stderr
    text = subprocess.run(
        ["openssl", "crl", "-in", str(out), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {f"{int(s, 16):x}" for s in re.findall(r"Serial Number: ([0-9A-F]+)", text)}


def test_ok_certificates_revoked_here_are_revoked_there_and_match_the_crl(
    station: StationContext, home: Path, aws: dict[str, str], iot: Any, tmp_path: Path
) -> None:
    serials = provisioned(station, 4)
    assert run_aws(home, aws, "register-ca").returncode == 0
    assert run_aws(home, aws, "sync").returncode == 0
    for serial in serials[:2]:
        station.audit.revoke(serial, "key-compromise", utc_now(), CTX)
    done = run_aws(home, aws, "sync", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revoked"] == 2

    ca_id = read_journal(e for e in station.audit.events() if str(e["kind"]).startswith("AWS_")).ca[
        "certificate_id"
    ]  # type: ignore[index]
    revoked_in_aws = set()
    for c in iot.list_certificates_by_ca(caCertificateId=ca_id)["certificates"]:
        if c["status"] == "REVOKED":
            pem = iot.describe_certificate(certificateId=c["certificateId"])[
                "certificateDescription"
            ]["certificatePem"]
            revoked_in_aws.add(f"{x509.load_pem_x509_certificate(pem.encode()).serial_number:x}")
    assert revoked_in_aws == crl_serials(home, tmp_path) == {s.lstrip("0") for s in serials[:2]}
    assert len(step_events(station.audit, "AWS_REVOKED", "revoke")) == 2


def test_ok_sni_only_registers_without_the_ca(
    station: StationContext, home: Path, aws: dict[str, str], endpoint: Proxy
) -> None:
    provisioned(station, 2)
    assert run_aws(home, aws, "register-ca", "--mode", "sni-only").returncode == 0
    done = run_aws(home, aws, "sync")
    assert done.returncode == 0, done.stderr
    assert len(endpoint.of("RegisterCertificateWithoutCA")) == 2
    assert endpoint.of("RegisterCertificate", ok=False) == []


def test_fail_a_step_that_fails_is_recorded_named_and_retried_by_the_next_run(
    station: StationContext, home: Path, aws: dict[str, str], iot: Any
) -> None:
    serials = provisioned(station, 2)
    assert run_aws(home, aws, "register-ca").returncode == 0
    done = run_aws(home, aws, "sync", "--policy", POLICY)  # no such policy yet
    assert done.returncode == 1
    for serial in serials:
        assert f"FAIL {serial} (board " in done.stderr
        assert f"at attach-policy:{POLICY}" in done.stderr
    assert "rerun `station aws sync`" in done.stderr
    assert "2 failed" in done.stdout
    assert len(step_events(station.audit, "AWS_FAILED", f"attach-policy:{POLICY}")) == 2

    create_policy(iot)
    again = run_aws(home, aws, "sync", "--policy", POLICY, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["planned"], report["registered"], report["steps"]) == (2, 0, 2)


def test_ok_progress_bar_on_a_terminal(
    station: StationContext, home: Path, aws: dict[str, str], started: dict[str, str]
) -> None:
    provisioned(station, 3)
    assert run_aws(home, aws, "register-ca").returncode == 0
    master, slave = pty.openpty()
    process = subprocess.Popen(
        station_cmd(home, aws, "sync"),
        env=started,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:  # until the process closes the terminal (EIO on Linux)
        ready, _, _ = select.select([master], [], [], 60)
        assert ready, "no output from the sync within 60 s"
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert b"Syncing" in seen
    assert b"100%" in seen
    assert out.startswith(b"3 certificate(s) to hand over: 3 registered")
