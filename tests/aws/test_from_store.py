"""`station aws sync|reconcile --from-store`: two stations, each with its own intermediate, synced
to a real PostgreSQL factory store, handed over to the local AWS endpoint in one fleet run.
What is sent is checked against each station's audit (PEMs byte for byte, each station's own
CA) and its CRL, not only against what moto accepts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509

from station.audit import AuditDB, EventContext, NewEvent
from station.aws.journal import read_journal
from station.config import load_config
from station.engine.compose import device_signer, station_context
from station.engine.station import StationContext
from station.factory.aws_source import StoreSource
from station.factory.errors import FactoryError
from station.factory.store import Store
from station.home import StationHome
from station.pki.keys import KeySecrets, load_ca_key
from station.pki.signer import utc_now
from tests.engine.conftest import CA_PASS, ENV
from tests.factory.conftest import pg_server, store_url  # noqa: F401 (fixtures)
from tests.factory.test_cli import with_factory

from .conftest import run_aws, station_cmd
from .endpoint import Proxy
from .seed import provisioned, record
from .test_sync import POLICY, create_policy, crl_serials

CTX_B = EventContext(station_id="line-8", operator="op-2")


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )


@pytest.fixture
def home_b(tmp_path: Path) -> Path:
    """A second station, line-8, with its own root and intermediate."""
    target = tmp_path / "home-b"
    made = run(target, "init", "--org", "Acme Test", "--station-id", "line-8")
    assert made.returncode == 0, made.stderr
    return target


@pytest.fixture
def station_b(home_b: Path) -> Iterator[StationContext]:
    config = load_config(StationHome(home_b))
    secrets = KeySecrets(passphrase=CA_PASS)
    signer = device_signer(config, lambda: load_ca_key(config.ca.intermediate_key, secrets))
    with AuditDB.open(config.home.audit_db) as audit:
        yield station_context(
            config, audit, signer, request_timeout=0.5, retries=2, guard_space=False
        )


def factory_sync(home: Path) -> None:
    pushed = run(home, "factory", "sync")
    assert pushed.returncode == 0, pushed.stderr


def aws_steps(url: str, kind: str, step: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT station_id, serial FROM aws_steps WHERE kind = %s AND code = %s ORDER BY id",
            (kind, step),
        ).fetchall()
    return [(str(s), str(n)) for s, n in rows]


@pytest.fixture
def fleet(
    station: StationContext,
    home: Path,
    station_b: StationContext,
    home_b: Path,
    store_url: str,  # noqa: F811 (the fixture)
    aws: dict[str, str],
) -> dict[str, list[str]]:
    """Three boards on line-7, two on line-8, both CAs registered, both stations synced to the
    store; each station's serials."""
    serials = {
        "line-7": provisioned(station, 3, "a"),
        "line-8": provisioned(station_b, 2, "b", CTX_B),
    }
    for h in (home, home_b):
        with_factory(h, store_url)
        registered = run_aws(h, aws, "register-ca")
        assert registered.returncode == 0, registered.stderr
        factory_sync(h)
    return serials


def test_ok_sync_from_store_registers_both_stations_once_and_revokes(
    station: StationContext,
    station_b: StationContext,
    home: Path,
    home_b: Path,
    fleet: dict[str, list[str]],
    store_url: str,  # noqa: F811 (the fixture)
    aws: dict[str, str],
    endpoint: Proxy,
    iot: Any,
    tmp_path: Path,
) -> None:
    create_policy(iot)
    done = run_aws(home, aws, "sync", "--from-store", "--policy", POLICY, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["registered"], report["steps"], report["failures"]) == (5, 20, [])

    sent = [c.json() for c in endpoint.of("RegisterCertificate", ok=False)]
    assert len(sent) == 5  # every certificate once, nothing tried twice
    by_pem = {body["certificatePem"]: body for body in sent}
    for ctx, ours in ((station, "line-7"), (station_b, "line-8")):
        for serial in fleet[ours]:
            rec = record(ctx, serial)
            body = by_pem[rec.pem]  # byte-identical to this station's audit
            assert body["caCertificatePem"] == ctx.signer.issuer_pem  # its own station's CA
            desc = iot.describe_certificate(certificateId=rec.sha256)["certificateDescription"]
            assert (desc["certificatePem"], desc["status"]) == (rec.pem, "ACTIVE")
            thing = x509.load_pem_x509_certificate(rec.pem.encode()).subject.rfc4514_string()
            name = thing.split("CN=")[1].split(",")[0]
            assert iot.list_thing_principals(thingName=name)["principals"] == [
                desc["certificateArn"]
            ]
    assert station.signer.issuer_pem != station_b.signer.issuer_pem
    registered = aws_steps(store_url, "AWS_REGISTERED", "register-certificate")
    assert sorted(registered) == sorted((st, s) for st, ss in fleet.items() for s in ss)

    # A revocation on line-8 reaches the store with its next sync, and AWS with the next run.
    revoked = fleet["line-8"][0]
    station_b.audit.revoke(revoked, "key-compromise", utc_now(), CTX_B)
    factory_sync(home_b)
    again = run_aws(home, aws, "sync", "--from-store", "--policy", POLICY, "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert (second["planned"], second["registered"], second["revoked"]) == (1, 0, 1)
    assert len(endpoint.of("RegisterCertificate", ok=False)) == 5  # nothing registered twice
    rec = record(station_b, revoked)
    desc = iot.describe_certificate(certificateId=rec.sha256)["certificateDescription"]
    assert desc["status"] == "REVOKED"
    assert crl_serials(home_b, tmp_path) == {revoked.lstrip("0")}
    assert aws_steps(store_url, "AWS_REVOKED", "revoke") == [("line-8", revoked)]

    third = run_aws(home, aws, "sync", "--from-store", "--policy", POLICY, "--json")
    assert json.loads(third.stdout)["planned"] == 0


def test_ok_reconcile_from_store_names_each_difference(
    station: StationContext,
    station_b: StationContext,
    home: Path,
    home_b: Path,
    fleet: dict[str, list[str]],
    store_url: str,  # noqa: F811 (the fixture)
    aws: dict[str, str],
    iot: Any,
) -> None:
    assert run_aws(home, aws, "sync", "--from-store").returncode == 0
    clean = run_aws(home, aws, "reconcile", "--from-store", "--url", store_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 difference(s) between the factory store and AWS IoT" in clean.stdout

    cloud_only = record(station, fleet["line-7"][1])  # revoked in AWS, not here
    iot.update_certificate(certificateId=cloud_only.sha256, newStatus="REVOKED")
    here_only = fleet["line-8"][1]  # revoked at line-8, not yet in AWS
    station_b.audit.revoke(here_only, "key-compromise", utc_now(), CTX_B)
    factory_sync(home_b)

    found = run_aws(home, aws, "reconcile", "--from-store", "--json")
    assert found.returncode == 1, found.stderr
    findings = {(f["code"], f["serial"]) for f in json.loads(found.stdout)["findings"]}
    assert findings == {
        ("revoked-in-aws-only", cloud_only.serial),
        ("active-in-aws-only", here_only),
    }


def test_fail_a_station_whose_ca_is_not_registered_is_named_and_the_others_go_on(
    station: StationContext,
    station_b: StationContext,
    home: Path,
    home_b: Path,
    store_url: str,  # noqa: F811 (the fixture)
    aws: dict[str, str],
    endpoint: Proxy,
) -> None:
    ours = provisioned(station, 2, "a")
    theirs = provisioned(station_b, 1, "b", CTX_B)
    assert run_aws(home, aws, "register-ca").returncode == 0  # line-8 never registered its CA
    for h in (home, home_b):
        with_factory(h, store_url)
        factory_sync(h)

    done = run_aws(home, aws, "sync", "--from-store", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["registered"] == 2
    [failure] = report["failures"]
    assert (failure["serial"], failure["step"]) == (theirs[0], "register-certificate")
    assert "station line-8" in failure["error"]
    assert (
        "run `station aws register-ca` and then `station factory sync` on that station"
        in (failure["error"])
    )
    assert sorted(aws_steps(store_url, "AWS_REGISTERED", "register-certificate")) == sorted(
        ("line-7", s) for s in ours
    )
    assert aws_steps(store_url, "AWS_FAILED", "register-certificate") == [("line-8", theirs[0])]


def test_ok_sync_from_store_killed_midway_and_rerun_registers_nothing_twice(
    station: StationContext,
    station_b: StationContext,
    home: Path,
    fleet: dict[str, list[str]],
    store_url: str,  # noqa: F811 (the fixture)
    aws: dict[str, str],
    endpoint: Proxy,
    iot: Any,
    started: dict[str, str],
) -> None:
    # The 3rd registration reaches AWS and its answer is held back: the cloud has the
    # certificate, the store only its AWS_PENDING, when the run is killed.
    endpoint.faults.hold_operation, endpoint.faults.hold_nth = "RegisterCertificate", 3
    process = subprocess.Popen(
        station_cmd(home, aws, "sync", "--from-store", "--workers", "1"), env=started,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert endpoint.faults.held.wait(120), "the 3rd registration never came"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        endpoint.faults.release.set()

    with Store.connect(store_url) as store:
        journal = read_journal(StoreSource(store).cloud_events())
    assert journal.interrupted, "the kill left no step between its PENDING and its outcome"
    assert len(aws_steps(store_url, "AWS_REGISTERED", "register-certificate")) == 2

    endpoint.faults.hold_operation = None
    done = run_aws(home, aws, "sync", "--from-store", "--json")
    assert done.returncode == 0, done.stderr
    registered = aws_steps(store_url, "AWS_REGISTERED", "register-certificate")
    assert sorted(registered) == sorted((st, s) for st, ss in fleet.items() for s in ss)
    with Store.connect(store_url) as store:
        assert not read_journal(StoreSource(store).cloud_events()).interrupted
    ids = sorted(c["certificateId"] for c in iot.list_certificates()["certificates"])
    ours = [record(station, s).sha256 for s in fleet["line-7"]]
    theirs = [record(station_b, s).sha256 for s in fleet["line-8"]]
    assert ids == sorted(ours + theirs)  # each once, none missing


def test_fail_the_fleet_runs_steps_are_never_changed(store_url: str) -> None:  # noqa: F811
    with Store.connect(store_url) as store:
        source = StoreSource(store, operator="sup-1")
        source.record(NewEvent("AWS_PENDING", "b-1", "01", code="revoke", data={"step": "revoke"}))
        for change in ("UPDATE aws_steps SET kind = 'AWS_REVOKED'", "DELETE FROM aws_steps"):
            with pytest.raises(FactoryError, match="aws_steps is append-only"):
                store.rows(change)
        assert store.rows("SELECT kind, operator, serial FROM aws_steps") == [
            ("AWS_PENDING", "sup-1", "01")
        ]
