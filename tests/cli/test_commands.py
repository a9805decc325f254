"""The CLI end to end: init, ca, sign, revoke, crl, on real files with real openssl."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from station.cli import cli
from station.errors import ConfigError
from station.pki.errors import CaMismatch, PolicyRejection

ENV = {"STATION_CA_PASSPHRASE": "intermediate-secret", "STATION_ROOT_PASSPHRASE": "root-secret!"}
STATION = [sys.executable, "-m", "station"]


def invoke(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], env=env or ENV)


def openssl(*args: str | Path) -> str:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("station") / "home"
    result = invoke(path, "init", "--org", "Acme Devices", "--station-id", "line1-st01")
    assert result.exit_code == 0, result.output
    assert "move that folder to offline storage" in result.output.lower()
    return path


def device_csr(directory: Path, cn: str = "board-0001", curve: str = "prime256v1") -> Path:
    key, csr = directory / f"{cn}-{curve}.key", directory / f"{cn}-{curve}.csr"
    openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
    return csr


def test_init_layout(home: Path) -> None:
    for name, mode in [
        ("offline-root/root.key.pem", 0o600),
        ("ca/intermediate.key.pem", 0o600),
        ("ca/intermediate.cert.pem", 0o644),
        ("ca/root.cert.pem", 0o644),
        ("station.toml", 0o644),
    ]:
        assert stat.S_IMODE((home / name).stat().st_mode) & 0o077 == mode & 0o077, name
    assert (home / "ca/intermediate.key.pem").read_text().startswith("-----BEGIN ENCRYPTED")
    text = openssl("x509", "-in", home / "offline-root/root.cert.pem", "-noout", "-text")
    assert "NIST CURVE: P-384" in text
    events = sqlite3.connect(home / "audit.db").execute("SELECT kind FROM events").fetchall()
    assert events == [("STATION_INIT",)]
    assert isinstance(
        invoke(home, "init", "--org", "x", "--station-id", "y").exception, ConfigError
    )


def test_ca_show_json(home: Path) -> None:
    result = invoke(home, "ca", "show", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["intermediate"]["subject"] == "CN=Acme Devices Station line1-st01 CA,O=Acme Devices"
    assert info["intermediate"]["key"] == "EC P-256"
    assert info["intermediate"]["path_length"] == 0
    assert info["root"]["key"] == "EC P-384"
    assert "Station line1-st01" in invoke(home, "ca", "show").output


def test_sign_revoke_crl(home: Path, tmp_path: Path) -> None:
    csr = device_csr(tmp_path)
    out = tmp_path / "device.pem"
    result = invoke(
        home,
        "sign",
        "--csr",
        str(csr),
        "--device-id",
        "board-0001",
        "--out",
        str(out),
        "--json",
        "--operator",
        "alice",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    ca_dir = home / "ca"
    verified = openssl(
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca_dir / "root.cert.pem",
        "-untrusted",
        ca_dir / "intermediate.cert.pem",
        out,
    )
    assert verified.strip() == f"{out}: OK"
    db = sqlite3.connect(home / "audit.db")
    assert db.execute(
        "SELECT status FROM certificates WHERE serial = ?", (record["serial"],)
    ).fetchone() == ("issued",)
    # The same key again is refused, and the refusal is audited.
    again = invoke(home, "sign", "--csr", str(csr), "--device-id", "board-0001")
    assert isinstance(again.exception, PolicyRejection)
    assert again.exception.code == "key.already_issued"
    rejected = db.execute("SELECT code FROM events WHERE kind = 'REJECTED'").fetchall()
    assert ("key.already_issued",) in rejected

    assert (
        invoke(home, "revoke", record["serial"].upper(), "--reason", "key-compromise").exit_code
        == 0
    )
    crl_out = tmp_path / "out.crl"
    result = invoke(home, "crl", "--out", str(crl_out))
    assert result.exit_code == 0, result.output
    assert "verify OK" in openssl(
        "crl", "-in", crl_out, "-noout", "-verify", "-CAfile", ca_dir / "intermediate.cert.pem"
    )
    check = subprocess.run(
        [
            "openssl",
            "verify",
            "-crl_check",
            "-CAfile",
            ca_dir / "root.cert.pem",
            "-untrusted",
            ca_dir / "intermediate.cert.pem",
            "-CRLfile",
            crl_out,
            out,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode != 0
    assert "certificate revoked" in check.stdout + check.stderr
    assert invoke(home, "crl").exit_code == 0
    numbers = db.execute("SELECT number FROM crls ORDER BY number").fetchall()
    assert numbers == [(1,), (2,)]


def test_sign_refuses_foreign_subject(home: Path, tmp_path: Path) -> None:
    result = invoke(
        home, "sign", "--csr", str(device_csr(tmp_path, "board-0009")), "--device-id", "board-0001"
    )
    assert isinstance(result.exception, PolicyRejection)
    assert result.exception.code == "subject.foreign_device"


def test_aws_verification_cert(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "verify.pem"
    result = invoke(
        home, "ca", "aws-verification-cert", "--registration-code", "abc123DEF", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "subject=CN = abc123DEF" in openssl("x509", "-in", out, "-noout", "-subject")


def test_wrong_passphrase_is_one_line_exit_1(home: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [*STATION, "--home", str(home), "crl"],
        env={"STATION_CA_PASSPHRASE": "not-the-passphrase", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: cannot decrypt CA key")
    assert "Traceback" not in done.stderr


def test_config_error_exit_2(tmp_path: Path) -> None:
    (tmp_path / "station.toml").write_text('[station]\nid = "a"\norg = "b"\nbogus = 1\n')
    done = subprocess.run(
        [*STATION, "--home", str(tmp_path), "ca", "show"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "station.bogus: unknown key" in done.stderr


def test_external_root(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke(home, "init", "--org", "Acme", "--station-id", "st2", "--external-root")
    assert result.exit_code == 0, result.output
    csr = home / "ca" / "intermediate.csr.pem"
    assert "verify OK" in openssl("req", "-in", csr, "-noout", "-verify")
    # The organisation's own root, made with openssl alone.
    root_key, root = tmp_path / "root.key", tmp_path / "root.pem"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        root_key,
        "-out",
        root,
        "-days",
        "3650",
        "-subj",
        "/O=Acme/CN=Acme Root",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    ext = tmp_path / "ext.cnf"
    ext.write_text(
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    leaf_ext = tmp_path / "leaf.cnf"
    leaf_ext.write_text("basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\n")
    inter, leaf = tmp_path / "inter.pem", tmp_path / "leaf.pem"
    for out, extfile in ((inter, ext), (leaf, leaf_ext)):
        openssl(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            root,
            "-CAkey",
            root_key,
            "-CAcreateserial",
            "-days",
            "1000",
            "-sha384",
            "-extfile",
            extfile,
            "-out",
            out,
        )
    refused = invoke(
        home, "ca", "import-intermediate", "--cert", str(leaf), "--root-cert", str(root)
    )
    assert isinstance(refused.exception, CaMismatch)
    # Not signed by the root given.
    other = invoke(
        home, "ca", "import-intermediate", "--cert", str(inter), "--root-cert", str(inter)
    )
    assert isinstance(other.exception, CaMismatch)
    result = invoke(
        home, "ca", "import-intermediate", "--cert", str(inter), "--root-cert", str(root)
    )
    assert result.exit_code == 0, result.output
    # Now the station issues under the imported intermediate.
    out = tmp_path / "device.pem"
    signed = invoke(
        home,
        "sign",
        "--csr",
        str(device_csr(tmp_path)),
        "--device-id",
        "board-0001",
        "--out",
        str(out),
    )
    assert signed.exit_code == 0, signed.output
    assert (
        openssl(
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            root,
            "-untrusted",
            inter,
            out,
        ).strip()
        == f"{out}: OK"
    )


def test_every_command_has_help() -> None:
    def walk(command: click.Command, path: str) -> None:
        assert command.help, f"{path} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts} has no help"
        if isinstance(command, click.Group):  # the top level loads its commands on demand
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, f"{path} {name} is listed but not found"
                walked.append(f"{path} {name}")
                walk(sub, f"{path} {name}")

    walked: list[str] = []
    walk(cli, "station")
    assert {"station init", "station crl", "station audit verify", "station tui"} <= set(walked)


def test_ca_commands_step_by_step(tmp_path: Path) -> None:
    from station.config_template import render_config

    home = tmp_path / "home"
    home.mkdir()
    (home / "station.toml").write_text(render_config("st3", "Acme"))
    vault = tmp_path / "vault"
    result = invoke(home, "ca", "create-root", "--key-type", "rsa-3072", "--out-dir", str(vault))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((vault / "root.key.pem").stat().st_mode) == 0o600
    result = invoke(
        home,
        "ca",
        "create-intermediate",
        "--root-cert",
        str(vault / "root.cert.pem"),
        "--root-key",
        str(vault / "root.key.pem"),
        "--key-type",
        "ec-p384",
    )
    assert result.exit_code == 0, result.output
    info = json.loads(invoke(home, "ca", "show", "--json").output)
    assert (info["root"]["key"], info["intermediate"]["key"]) == ("RSA 3072", "EC P-384")
    again = invoke(
        home,
        "ca",
        "create-intermediate",
        "--root-cert",
        str(vault / "root.cert.pem"),
        "--root-key",
        str(vault / "root.key.pem"),
    )
    assert isinstance(again.exception, CaMismatch)
    csr = tmp_path / "renew.csr"
    assert invoke(home, "ca", "intermediate-csr", "--out", str(csr)).exit_code == 0
    assert "verify OK" in openssl("req", "-in", csr, "-noout", "-verify")
