"""``--json`` on every command that acts: one object with ``command``, ``files`` (each file
written, by name) and the action's facts; certificates in one shape everywhere (README, "JSON
output"). Real files, a real audit database, click's runner; stdout must parse as JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from station.cli import cli

from .test_commands import ENV, device_csr

CERTIFICATE_KEYS = {"subject", "issuer", "serial", "not_before", "not_after", "key", "sha256"}


def run_json(home: Path, *args: str) -> dict[str, Any]:
    """Run ``station --home HOME ARGS --json``; its stdout, parsed (stderr kept apart)."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args, "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert isinstance(record, dict)
    return record


def assert_action(record: dict[str, Any], command: str, files: set[str]) -> None:
    assert record["command"] == command
    assert set(record["files"]) == files
    for name, path in record["files"].items():
        assert Path(path).is_file(), (name, path)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("json") / "home"


@pytest.fixture(scope="module")
def initialised(home: Path) -> dict[str, Any]:
    return run_json(home, "init", "--org", "Acme Devices", "--station-id", "st-json")


def test_init(initialised: dict[str, Any], home: Path) -> None:
    assert_action(
        initialised,
        "init",
        {
            "config",
            "audit_db",
            "intermediate_key",
            "intermediate_cert",
            "root_cert",
            "offline_root_key",
        },
    )
    assert initialised["station_id"] == "st-json"
    assert initialised["home"] == str(home)
    assert initialised["external_root"] is False
    assert set(initialised["certificate"]) == CERTIFICATE_KEYS
    assert initialised["certificate"]["key"] == "EC P-256"


def test_init_external_root(tmp_path: Path) -> None:
    record = run_json(
        tmp_path / "home", "init", "--org", "Acme", "--station-id", "st-x", "--external-root"
    )
    assert_action(record, "init", {"config", "audit_db", "intermediate_key", "intermediate_csr"})
    assert record["certificate"] is None


def test_sign_revoke_crl(initialised: dict[str, Any], home: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.pem"
    csr = device_csr(tmp_path, "board-json")
    signed = run_json(
        home, "sign", "--csr", str(csr), "--device-id", "board-json", "--out", str(out)
    )
    assert_action(signed, "sign", {"out"})
    revoked = run_json(home, "revoke", signed["serial"], "--reason", "key-compromise")
    assert revoked == {
        "command": "revoke",
        "files": {},
        "serial": signed["serial"],
        "reason": "key-compromise",
    }
    crl = run_json(home, "crl", "--out", str(tmp_path / "published.crl"))
    assert_action(crl, "crl", {"crl", "out"})
    assert crl["revoked"] == 1
    assert crl["number"] >= 1
    assert len(crl["sha256"]) == 64


def test_aws_verification_cert(initialised: dict[str, Any], home: Path, tmp_path: Path) -> None:
    to_stdout = run_json(home, "ca", "aws-verification-cert", "--registration-code", "Code1")
    assert_action(to_stdout, "ca aws-verification-cert", set())
    assert to_stdout["certificate"]["subject"] == "CN=Code1"
    assert to_stdout["pem"].startswith("-----BEGIN CERTIFICATE-----")
    out = tmp_path / "verify.pem"
    to_file = run_json(
        home, "ca", "aws-verification-cert", "--registration-code", "Code1", "--out", str(out)
    )
    assert_action(to_file, "ca aws-verification-cert", {"out"})
    assert out.read_text() == to_file["pem"]


def test_ca_step_by_step(tmp_path: Path) -> None:
    from station.config_template import render_config

    home, vault = tmp_path / "home", tmp_path / "vault"
    home.mkdir()
    (home / "station.toml").write_text(render_config("st-ca", "Acme"))
    root = run_json(home, "ca", "create-root", "--out-dir", str(vault))
    assert_action(root, "ca create-root", {"root_key", "root_cert"})
    assert root["certificate"]["subject"] == root["certificate"]["issuer"]
    inter = run_json(
        home,
        "ca",
        "create-intermediate",
        "--root-cert",
        str(vault / "root.cert.pem"),
        "--root-key",
        str(vault / "root.key.pem"),
    )
    assert_action(inter, "ca create-intermediate", {"intermediate_key", "intermediate_cert"})
    assert inter["certificate"]["issuer"] == root["certificate"]["subject"]
    csr = run_json(home, "ca", "intermediate-csr", "--out", str(tmp_path / "renew.csr"))
    assert_action(csr, "ca intermediate-csr", {"csr", "out"})
    assert csr["subject"] == inter["certificate"]["subject"]
    # Install the same certificate again, as if an external root had signed it.
    kept = tmp_path / "intermediate.pem"
    shutil.move(home / "ca" / "intermediate.cert.pem", kept)
    imported = run_json(
        home,
        "ca",
        "import-intermediate",
        "--cert",
        str(kept),
        "--root-cert",
        str(vault / "root.cert.pem"),
    )
    assert_action(imported, "ca import-intermediate", {"intermediate_cert", "root_cert"})
    assert imported["certificate"] == inter["certificate"]
    shown = run_json(home, "ca", "show")
    assert set(shown["intermediate"]) >= CERTIFICATE_KEYS
    assert {k: shown["intermediate"][k] for k in CERTIFICATE_KEYS} == inter["certificate"]
