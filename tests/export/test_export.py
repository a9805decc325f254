"""`station audit export` and `verify-export` on a real shift: real boards on ptys, a real
database, real files, checked with the standard library and openssl."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fixtures.board import BoardServer, Faults
from station.audit import EventContext
from station.audit.export_files import CERTIFICATE_COLUMNS, REVOCATION_COLUMNS
from station.engine.cycle import Cycle, CycleOptions
from station.engine.gang import provision_all
from station.engine.station import StationContext
from tests.export.helpers import cms_verify, openssl
from tests.export.helpers import station as run

MakeBoard = Callable[..., BoardServer]
FILES = (
    "events.jsonl",
    "certificates.csv",
    "revocations.csv",
    "aws-bulk-registration.jsonl",
    "summary.json",
    "summary.txt",
    "manifest.json",
    "manifest.json.p7s",
)


@pytest.fixture
def shift(station: StationContext, make_board: MakeBoard, home: Path) -> Path:
    """Three good boards, one that fails to store its chain, one re-provisioned, one revoked."""
    boards = [make_board() for _ in range(3)]
    results = provision_all(station, [b.url for b in boards], operator="op-1")
    assert all(r.passed for r in results)
    flaky = make_board(Faults(flash_fail=True))
    failed = Cycle(station, "4", flaky.url, CycleOptions(operator="op-2")).run()
    assert failed.failure is not None
    again = boards[0]
    again.device.element.wipe()
    assert (
        Cycle(station, "1", again.url, CycleOptions(operator="op-2", reprovision=True)).run().passed
    )
    station.audit.revoke(
        results[1].serial or "", "key-compromise", datetime.now(UTC), EventContext("line-7")
    )
    station.audit.close()
    return home


def db_count(home: Path, sql: str) -> int:
    conn = sqlite3.connect(home / "audit.db")
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def export(home: Path, out: Path, *args: str) -> dict[str, object]:
    """Export, and check the signature with openssl as every export here is checked."""
    done = run(home, "audit", "export", "--out", out, "--json", *args)
    assert done.returncode == 0, done.stderr
    assert not done.stderr  # no progress bar when stderr is not a terminal
    verified = cms_verify(out, home / "ca/root.cert.pem")
    assert verified.returncode == 0, verified.stderr
    return json.loads(done.stdout)


def test_a_fresh_export_verifies_with_openssl_and_station(shift: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export(shift, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    done = cms_verify(out, shift / "ca/root.cert.pem")
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    verified = run(shift, "audit", "verify-export", out)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK ")
    # The signer is issued by the intermediate (never the CA key signing documents itself).
    signer = x509.load_pem_x509_certificate((shift / "ca/audit-signer.cert.pem").read_bytes())
    inter = x509.load_pem_x509_certificate((shift / "ca/intermediate.cert.pem").read_bytes())
    assert signer.issuer == inter.subject
    assert (shift / "ca/audit-signer.key.pem").stat().st_mode & 0o077 == 0
    assert (shift / "ca/audit-signer.key.pem").read_text().startswith("-----BEGIN ENCRYPTED")


def test_files_parse_with_the_standard_library_and_match_the_database(
    shift: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export(shift, out)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    # The export itself is recorded after it was written: one EXPORTED event more.
    assert len(events) == db_count(shift, "SELECT COUNT(*) FROM events") - 1
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))

    with (out / "certificates.csv").open(newline="") as f:
        certs = list(csv.DictReader(f))
    assert tuple(certs[0]) == CERTIFICATE_COLUMNS
    assert len(certs) == db_count(shift, "SELECT COUNT(*) FROM certificates") == 5
    issued = {e["serial"]: json.loads(e["data"])["pem"] for e in events if e["kind"] == "ISSUED"}
    for row in certs:
        cert = x509.load_pem_x509_certificate(issued[row["serial"]].encode())
        der = cert.public_bytes(serialization.Encoding.DER)
        assert row["aws_certificate_id"] == hashlib.sha256(der).hexdigest() == row["sha256"]
    statuses = sorted(r["status"] for r in certs)
    # board 1's first certificate was superseded, board 2's revoked, the flaky board's never
    # delivered (revoked); board 1's new certificate and board 3's are on their boards
    assert statuses == ["locked", "locked", "revoked", "revoked", "revoked"]

    with (out / "revocations.csv").open(newline="") as f:
        revoked = list(csv.DictReader(f))
    assert tuple(revoked[0]) == REVOCATION_COLUMNS
    assert len(revoked) == db_count(
        shift, "SELECT COUNT(*) FROM certificates WHERE status = 'revoked'"
    )
    reasons = sorted(r["reason"] for r in revoked)
    # the failed delivery, the superseded one, the one revoked by hand
    assert reasons == ["cessation-of-operation", "key-compromise", "superseded"]
    superseded = next(r for r in revoked if r["reason"] == "superseded")
    assert superseded["superseded_by"]


def test_the_bulk_file_has_one_valid_object_per_line_chaining_to_the_intermediate(
    shift: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export(shift, out)
    inter_pem = (shift / "ca/intermediate.cert.pem").read_text()
    inter = x509.load_pem_x509_certificate(inter_pem.encode())
    lines = (out / "aws-bulk-registration.jsonl").read_text().splitlines()
    assert len(lines) == db_count(
        shift,
        "SELECT COUNT(*) FROM certificates WHERE status IN ('delivered','verified','locked')",
    )
    for n, line in enumerate(lines):
        params = json.loads(line)
        assert set(params) == {"ThingName", "SerialNumber", "CertificatePem", "CACertificatePem"}
        cert = x509.load_pem_x509_certificate(params["CertificatePem"].encode())
        cert.verify_directly_issued_by(inter)
        assert params["CACertificatePem"] == inter_pem
        assert params["ThingName"] == params["SerialNumber"]  # CN template "{uid}"
        leaf = tmp_path / f"leaf{n}.pem"
        leaf.write_text(params["CertificatePem"])
        done = openssl(
            "verify",
            "-CAfile",
            shift / "ca/root.cert.pem",
            "-untrusted",
            shift / "ca/intermediate.cert.pem",
            leaf,
        )
        assert done.returncode == 0, done.stderr


def test_summary_counts_outcomes_operators_slots_and_cycle_times(
    shift: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export(shift, out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cycles"]["passed"] == 4
    assert summary["cycles"]["failed"] == 1
    assert summary["cycles"]["yield"] == 0.8
    assert summary["by_operator"] == {
        "op-1": {"passed": 3, "failed": 0},
        "op-2": {"passed": 1, "failed": 1},
    }
    assert summary["by_slot"]["4"] == {"passed": 0, "failed": 1}
    (reason,) = summary["failure_reasons"]
    assert reason["count"] == 1
    assert "STORAGE_FAILED" in reason["code"]
    times = summary["cycle_time_seconds"]
    assert times["timed"] == 5
    assert 0 < times["median"] <= times["p95"]
    text = (out / "summary.txt").read_text()
    assert "yield 80.0%" in text
    assert "op-2" in text


@pytest.mark.parametrize("name", FILES)
def test_changing_one_byte_of_any_file_is_named(shift: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "export"
    export(shift, out)
    path = out / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    done = run(shift, "audit", "verify-export", out)
    assert done.returncode == 1
    bad = [line for line in done.stdout.splitlines() if line.startswith("BAD ")]
    assert bad, done.stdout
    assert all(line.startswith(f"BAD {name}:") for line in bad), bad
    # openssl agrees on the signature: broken by a change of the manifest or the signature only
    signed = cms_verify(out, shift / "ca/root.cert.pem").returncode == 0
    assert signed == (name not in ("manifest.json", "manifest.json.p7s"))


def test_an_extra_or_missing_file_is_named(shift: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export(shift, out)
    (out / "notes.txt").write_text("hello")
    (out / "revocations.csv").unlink()
    done = run(shift, "audit", "verify-export", "--json", out)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert sorted(report["mismatches"]) == [
        "notes.txt: not part of the export (not in the manifest)",
        "revocations.csv: missing",
    ]


def test_another_root_does_not_verify_the_signature(
    shift: Path, tmp_path: Path, make_board: MakeBoard
) -> None:
    out = tmp_path / "export"
    export(shift, out)
    other = tmp_path / "other"
    assert run(other, "init", "--org", "Other", "--station-id", "x").returncode == 0
    done = run(shift, "audit", "verify-export", "--root", other / "ca/root.cert.pem", out)
    assert done.returncode == 1
    assert "BAD manifest.json.p7s: signature check failed" in done.stdout
    assert "does not chain to the root" in done.stdout
    assert cms_verify(out, other / "ca/root.cert.pem").returncode != 0


def test_shift_current_starts_after_the_last_export(
    station: StationContext, make_board: MakeBoard, home: Path, tmp_path: Path
) -> None:
    first = make_board()
    assert Cycle(station, "1", first.url, CycleOptions(operator="op-1")).run().passed
    one = export(home, tmp_path / "one", "--shift", "current")
    second = make_board()
    assert Cycle(station, "1", second.url, CycleOptions(operator="op-1")).run().passed
    station.audit.close()
    two = export(home, tmp_path / "two", "--shift", "current")
    assert two["window"]["first_seq"] == one["window"]["last_seq"] + 1  # type: ignore[index]
    assert two["window"]["prev_hash"] == one["window"]["last_hash"]  # type: ignore[index]
    with (tmp_path / "two/certificates.csv").open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["board_uid"] == second.identity.uid
    events = (tmp_path / "two/events.jsonl").read_text().splitlines()
    assert json.loads(events[0])["kind"] == "EXPORTED"  # the first export's own record
    exports = db_count(home, "SELECT COUNT(*) FROM exports")
    assert exports == 2
    assert db_count(home, "SELECT COUNT(*) FROM events WHERE kind = 'EXPORTED'") == 2
    for name in ("one", "two"):
        assert run(home, "audit", "verify-export", tmp_path / name).returncode == 0


@pytest.mark.parametrize(
    "args",
    [["--since", "2099-01-01T00:00Z"], ["--until", "2000-01-01T00:00"]],
    ids=["future", "past"],
)
def test_an_empty_window_is_a_valid_export(home: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "empty"
    result = export(home, out, *args)
    assert result["rows"]["events.jsonl"] == 0  # type: ignore[index]
    assert (out / "events.jsonl").read_bytes() == b""
    assert cms_verify(out, home / "ca/root.cert.pem").returncode == 0
    assert run(home, "audit", "verify-export", out).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cycles"] == {
        "passed": 0,
        "failed": 0,
        "already_provisioned": 0,
        "yield": None,
    }


def test_an_empty_shift_right_after_an_export_is_valid(home: Path, tmp_path: Path) -> None:
    export(home, tmp_path / "one", "--shift", "current")
    result = export(home, tmp_path / "two", "--shift", "current")
    assert result["rows"]["certificates.csv"] == 0  # type: ignore[index]
    assert run(home, "audit", "verify-export", tmp_path / "two").returncode == 0


def test_export_refuses_a_folder_with_files_and_bad_options(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x").write_text("x")
    done = run(home, "audit", "export", "--out", out)
    assert done.returncode == 1
    assert "not empty" in done.stderr
    done = run(
        home,
        "audit",
        "export",
        "--out",
        tmp_path / "n",
        "--shift",
        "current",
        "--since",
        "2025-01-01",
    )
    assert done.returncode == 2
    assert "cannot be combined" in done.stderr
