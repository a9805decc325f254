"""`station qa verify` over real ptys against virtual boards, with a real home and database."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from device_protocol import Link
from fixtures.board import BoardServer, Faults
from station.audit import EventContext
from station.config import load_config
from station.engine.cycle import Cycle, CycleOptions
from station.engine.station import StationContext
from station.home import StationHome
from station.pki.ca import CaValidity, build_intermediate, build_root, intermediate_name, root_name
from station.qa import QaContext, run_qa
from station.qa.checks import CHECK_NAMES
from tests.engine.conftest import ENV

MakeBoard = Callable[..., BoardServer]


def qa_verify(home: Path, port: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "--home",
            str(home),
            "qa",
            "verify",
            "--port",
            port,
            "--json",
            "--operator",
            "qa-1",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def provisioned(station: StationContext, make_board: MakeBoard) -> BoardServer:
    board = make_board()
    result = Cycle(station, "1", board.url, CycleOptions(operator="op-1")).run()
    assert result.passed, result.failure
    return board


def failed(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["checks"] if not c["ok"]]


def test_a_provisioned_board_passes_every_check(
    provisioned: BoardServer, home: Path, station: StationContext
) -> None:
    code, report = qa_verify(home, provisioned.url)
    assert code == 0, report
    assert report["passed"] is True
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    assert all(c["ok"] for c in report["checks"])
    certificate = report["checks"][0]["detail"]
    uid = provisioned.identity.uid
    assert f"serialNumber={uid}" in certificate, (
        "the subject reads as `provision` and `sign` say it"
    )
    assert "2.5.4.5" not in certificate
    qa_events = [e for e in station.audit.events() if e["kind"] == "QA"]
    assert len(qa_events) == 1
    assert qa_events[0]["code"] == "qa.passed"
    assert qa_events[0]["operator"] == "qa-1"
    assert qa_events[0]["board_uid"] == provisioned.identity.uid


def foreign_chain(board: BoardServer) -> bytes:
    """A certificate for the board's own key and name, issued by another organisation's CA."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = build_root(root_key, root_name("Other Corp"), CaValidity(now, 3650), 1)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = build_intermediate(
        root,
        root_key,
        inter_key.public_key(),
        intermediate_name("Other Corp", "x"),
        CaValidity(now, 3650),
        2,
    )
    key = board.device.element.key()
    assert key is not None
    mine = x509.load_pem_x509_certificates(board.device.element.chain() or b"")[0]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(mine.subject)
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(3)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(mine.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value, False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .sign(inter_key, mine.signature_hash_algorithm)
    )
    pem = serialization.Encoding.PEM
    return leaf.public_bytes(pem) + inter.public_bytes(pem)


def test_a_certificate_from_another_ca_fails_the_chain(
    provisioned: BoardServer, home: Path
) -> None:
    provisioned.device.element.store_chain(foreign_chain(provisioned))
    code, report = qa_verify(home, provisioned.url)
    assert code == 1
    assert failed(report) == ["chain", "audit-record", "status"]
    chain = next(c for c in report["checks"] if c["name"] == "chain")
    assert "Other Corp" in chain["detail"]
    assert "re-provision" in chain["detail"]


def test_a_board_holding_another_key_fails_possession(provisioned: BoardServer, home: Path) -> None:
    provisioned.faults = Faults(wrong_key=True)
    code, report = qa_verify(home, provisioned.url)
    assert code == 1
    assert failed(report) == ["possession"]


def test_a_revoked_certificate_fails_status(
    provisioned: BoardServer, home: Path, station: StationContext
) -> None:
    (cert,) = station.audit.board_certificates(provisioned.identity.uid)
    station.audit.revoke(
        cert.serial, "key-compromise", datetime.now(UTC), EventContext("line-7", "sup-1")
    )
    code, report = qa_verify(home, provisioned.url)
    assert code == 1
    assert failed(report) == ["status"]
    status = next(c for c in report["checks"] if c["name"] == "status")
    assert "revoked" in status["detail"]
    assert "key-compromise" in status["detail"]


def test_an_unknown_board_fails_the_audit_record(
    provisioned: BoardServer, template_home: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-home"  # same CA, but an audit database that never saw this board
    shutil.copytree(template_home, other)
    code, report = qa_verify(other, provisioned.url)
    assert code == 1
    assert failed(report) == ["audit-record", "status"]
    record = next(c for c in report["checks"] if c["name"] == "audit-record")
    assert "unknown to this station" in record["detail"]


def test_a_blank_board_fails_with_every_check_named(make_board: MakeBoard, home: Path) -> None:
    board = make_board()
    code, report = qa_verify(home, board.url)
    assert code == 1
    assert failed(report) == list(CHECK_NAMES)
    assert "GET_CERT failed" in report["checks"][0]["detail"]


def test_run_qa_for_the_tui_and_the_minimum_remaining_validity(
    provisioned: BoardServer, home: Path, station: StationContext
) -> None:
    config = load_config(StationHome(home))
    context = QaContext.from_config(config, station.audit, operator="qa-2")
    with Link.open_url(provisioned.url, timeout=0.5) as link:
        report = run_qa(link, context)
    assert report.passed, report.checks
    assert report.board_uid == provisioned.identity.uid
    strict = QaContext.from_config(config, station.audit)
    strict = QaContext(**{**strict.__dict__, "min_remaining_days": 7301})
    with Link.open_url(provisioned.url, timeout=0.5) as link:
        report = run_qa(link, strict)
    assert report.failed == ["validity"]
    validity = next(c for c in report.checks if c.name == "validity")
    assert "rotate it" in validity.detail


def test_a_silent_port_is_one_line_exit_1(home: Path, make_board: MakeBoard) -> None:
    board = make_board(Faults(hang="HELLO"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "--home",
            str(home),
            "qa",
            "verify",
            "--port",
            board.url,
            "--timeout",
            "0.2",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.returncode == 1
    assert "nothing was checked" in done.stderr
    assert "Traceback" not in done.stderr
