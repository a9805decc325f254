"""Certificate lifecycle: rotation (superseded + revoked + linked), the CRL that lists the old
certificate (checked with openssl), and `audit expiring`."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.board import BoardServer
from station.audit import CertificateStatus
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext
from station.pki.signer import DeviceSigner
from tests.export.helpers import openssl
from tests.export.helpers import station as run

MakeBoard = Callable[..., BoardServer]


def erase(board: BoardServer) -> None:
    """What a reflash does to the virtual board: key, chain and lock are gone."""
    board.device.element.wipe()


@pytest.fixture
def provisioned(station: StationContext, make_board: MakeBoard) -> BoardServer:
    board = make_board()
    assert Cycle(station, "1", board.url, CycleOptions(operator="op-1")).run().passed
    return board


def crl_serials(text: str) -> set[int]:
    return {int(s, 16) for s in re.findall(r"Serial Number: ([0-9A-F]+)", text)}


def test_rotation_supersedes_revokes_links_and_the_crl_lists_the_old_certificate(
    provisioned: BoardServer, station: StationContext, home: Path, tmp_path: Path
) -> None:
    uid = provisioned.identity.uid
    (old,) = station.audit.board_certificates(uid)
    erase(provisioned)
    done = run(home, "rotate", "--port", provisioned.url, "--operator", "op-9", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    new_serial = report["new_serial"]
    assert report["old_serial"] == old.serial
    assert report["old_status"] == "revoked"

    before = station.audit.certificate(old.serial)
    assert before is not None
    assert before.status is CertificateStatus.REVOKED
    assert before.revocation_reason == "superseded"
    assert before.superseded_by == new_serial
    superseded = [e for e in station.audit.events() if e["kind"] == "SUPERSEDED"]
    assert len(superseded) == 1
    assert superseded[0]["serial"] == old.serial
    assert json.loads(superseded[0]["data"])["superseded_by"] == new_serial
    assert superseded[0]["operator"] == "op-9"

    # The rotated board passes QA with its new certificate.
    qa = run(home, "qa", "verify", "--port", provisioned.url, "--json")
    assert qa.returncode == 0, qa.stdout

    # The next CRL lists the old certificate; openssl refuses it and accepts the new one.
    crl = tmp_path / "crl.pem"
    assert run(home, "crl", "--out", crl).returncode == 0
    text = openssl("crl", "-in", crl, "-noout", "-text").stdout
    assert crl_serials(text) == {int(old.serial, 16)}
    assert "Superseded" in text
    root, inter = home / "ca/root.cert.pem", home / "ca/intermediate.cert.pem"
    new = station.audit.certificate(new_serial)
    assert new is not None
    for name, pem in (("old", old.pem), ("new", new.pem)):
        (tmp_path / f"{name}.pem").write_text(pem)
    refused = openssl(
        "verify", "-crl_check", "-CRLfile", crl, "-CAfile", root, "-untrusted", inter,
        tmp_path / "old.pem",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout + refused.stderr
    accepted = openssl(
        "verify", "-crl_check", "-CRLfile", crl, "-CAfile", root, "-untrusted", inter,
        tmp_path / "new.pem",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr


def test_rotation_can_keep_the_old_certificate_valid(
    provisioned: BoardServer, station: StationContext, home: Path
) -> None:
    (old,) = station.audit.board_certificates(provisioned.identity.uid)
    erase(provisioned)
    done = run(home, "rotate", "--port", provisioned.url, "--operator", "op-9", "--keep-old-valid")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is now superseded" in done.stdout
    row = station.audit.certificate(old.serial)
    assert row is not None
    assert (row.status, row.revoked_at) == (CertificateStatus.SUPERSEDED, None)


def test_rotation_refuses_an_unknown_board_and_explains_a_locked_one(
    make_board: MakeBoard, provisioned: BoardServer, home: Path
) -> None:
    stranger = make_board()
    done = run(home, "rotate", "--port", stranger.url, "--operator", "op-9")
    assert done.returncode == 1
    assert "provision it with `station provision`" in done.stderr
    locked = run(home, "rotate", "--port", provisioned.url, "--operator", "op-9")
    assert locked.returncode == 1
    assert "erase it" in locked.stdout


def test_expiring_lists_certificates_that_end_soon(
    station: StationContext, make_board: MakeBoard, home: Path
) -> None:
    short = dataclasses.replace(station.signer.profile, validity_days=10)
    signer = DeviceSigner(station.signer.issuer_cert, station.signer.issuer_key, short)
    short_lived = dataclasses.replace(station, signer=signer)
    soon, later = make_board(), make_board()
    assert Cycle(short_lived, "1", soon.url, CycleOptions(operator="op-1")).run().passed
    assert Cycle(station, "2", later.url, CycleOptions(operator="op-1")).run().passed

    done = run(home, "audit", "expiring", "--within", "30", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["board_uid"] for r in rows] == [soon.identity.uid]
    assert 9 < rows[0]["days_left"] <= 10
    assert run(home, "audit", "expiring", "--within", "5").stdout == ""
    # QA fails it on remaining validity alone (30 days by default, as AWS IoT flags them).
    qa = run(home, "qa", "verify", "--port", soon.url, "--json")
    assert qa.returncode == 1
    assert json.loads(qa.stdout)["failed"] == ["validity"]
