"""A station whose intermediate key is on a SoftHSM2 token, end to end: `station init --pkcs11`,
virtual boards provisioned to PASS, certificates checked by openssl and pkilint, the CRL by
openssl, and the CA commands that create or use the token key."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fixtures.board import BoardServer
from station.audit import AuditDB
from station.bench.softhsm import SoftHsm
from station.config import load_config
from station.engine.compose import device_signer, station_context
from station.engine.gang import provision_all
from station.engine.station import StationContext
from station.home import StationHome
from station.pki import ca
from station.pki.ca import load_certificate
from station.pki.keys import KeySecrets, load_ca_key
from station.pki.pkcs11_keys import TokenEcKey, TokenRsaKey
from station.pki.pkcs11_uri import Pkcs11Uri
from tests.export.helpers import cms_verify
from tests.pki.conftest import BIN, run, run_all
from tests.token.conftest import PIN, uri

MakeBoard = Callable[..., BoardServer]
LINT_CERT = [BIN / "lint_pkix_cert", "lint", "-s", "WARNING"]
LINT_CRL = [BIN / "lint_crl", "lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"]
ROOT_PASS = "token-test-root-pass"


def station(env: dict[str, str], home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), *map(str, args)],
        env={**env, "STATION_ROOT_PASSPHRASE": ROOT_PASS, "STATION_OPERATOR": "op-11"},
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def init(env: dict[str, str], home: Path, *args: str) -> None:
    result = station(env, home, "init", "--org", "Acme Token", "--station-id", "tok-1", *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module", params=["ec-p256", "rsa-2048"])
def token_home(
    request: pytest.FixtureRequest,
    token_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    home = tmp_path_factory.mktemp("token-home") / "home"
    kind = request.param
    init(token_env, home, "--intermediate-key", kind, "--pkcs11", uri(f"station-{kind}"))
    return home


def context(home: Path, softhsm: SoftHsm, audit: AuditDB) -> StationContext:
    config = load_config(StationHome(home))
    assert isinstance(config.ca.intermediate_key, Pkcs11Uri)
    key = load_ca_key(config.ca.intermediate_key, KeySecrets(pin=PIN, module=softhsm.module))
    assert isinstance(key, TokenEcKey | TokenRsaKey)
    signer = device_signer(config, lambda: key)
    return station_context(config, audit, signer, request_timeout=0.5, retries=2, guard_space=False)


def test_init_points_station_toml_at_the_token(token_home: Path, softhsm: SoftHsm) -> None:
    data = tomllib.loads((token_home / "station.toml").read_text())
    assert data["ca"]["intermediate_key"].startswith("pkcs11:token=station-test;object=station-")
    assert data["ca"]["pkcs11_module"] == softhsm.module
    assert not (token_home / "ca" / "intermediate.key.pem").exists()
    assert list((token_home / "ca").glob("*.key*")) == []


def test_boards_provision_and_certificates_verify(
    token_home: Path,
    token_env: dict[str, str],
    softhsm: SoftHsm,
    make_board: MakeBoard,
    tmp_path: Path,
) -> None:
    boards = [make_board(), make_board(key_types=("rsa-2048",)), make_board()]
    with AuditDB.open(token_home / "audit.db") as audit:
        results = provision_all(
            context(token_home, softhsm, audit), [b.url for b in boards], operator="op-11"
        )
    assert [r.failure for r in results] == [None, None, None]
    root, inter = token_home / "ca" / "root.cert.pem", token_home / "ca" / "intermediate.cert.pem"
    certs = []
    for i, board in enumerate(boards):
        chain = board.device.element.chain()
        assert chain is not None
        end = chain.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")
        path = tmp_path / f"board{i}.pem"
        path.write_bytes(chain[:end])
        certs.append(path)
        result = run(
            ["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", root,
             "-untrusted", inter, path]
        )  # fmt: skip
        assert (result.returncode, result.stdout.strip()) == (0, f"{path}: OK"), result
    lints = run_all([[*LINT_CERT, c] for c in certs] + [[*LINT_CERT, inter]])
    for lint in lints:
        assert (lint.returncode, lint.stdout.strip()) == (0, ""), lint.args
    # revoke one through the CLI and publish a CRL signed on the token
    serial = results[0].serial
    assert serial
    revoked = station(token_env, token_home, "revoke", serial, "--reason", "key-compromise")
    assert revoked.returncode == 0, revoked.stderr
    crl = station(token_env, token_home, "crl")
    assert crl.returncode == 0, crl.stderr
    crl_path = token_home / "crl" / "station.crl.pem"
    check = run(["openssl", "crl", "-in", crl_path, "-noout", "-verify", "-CAfile", inter])
    # openssl 3.0 exits 0 even when the signature is bad: read what it says.
    assert "verify OK" in check.stdout + check.stderr, check
    assert "verify failure" not in check.stdout + check.stderr
    lint = run_all([[*LINT_CRL, crl_path]])[0]
    assert (lint.returncode, lint.stdout.strip()) == (0, ""), lint.stdout
    bad = run(
        ["openssl", "verify", "-crl_check", "-CAfile", root, "-untrusted", inter, "-CRLfile",
         crl_path, certs[0]]
    )  # fmt: skip
    assert "certificate revoked" in bad.stdout + bad.stderr


def test_provision_command_signs_on_the_token(
    token_home: Path, token_env: dict[str, str], make_board: MakeBoard
) -> None:
    board = make_board()
    result = station(token_env, token_home, "provision", "--port", board.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS")


def test_audit_export_is_signed_through_the_token_key(
    token_home: Path, token_env: dict[str, str], make_board: MakeBoard, tmp_path: Path
) -> None:
    """The audit-signing certificate is issued by the token-held intermediate; the signed
    manifest verifies with openssl against the station root."""
    board = make_board()
    assert station(token_env, token_home, "provision", "--port", board.url).returncode == 0
    out = tmp_path / "export"
    env = {**token_env, "STATION_AUDIT_PASSPHRASE": "audit-signer-pass"}
    result = station(env, token_home, "audit", "export", "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    root = token_home / "offline-root" / "root.cert.pem"
    cms = cms_verify(out, root)
    assert "Verification successful" in cms.stderr, cms.stderr
    verify = station(token_env, token_home, "audit", "verify-export", out)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_ca_create_intermediate_on_the_token(token_env: dict[str, str], tmp_path: Path) -> None:
    """A home made for an external root, then given a token intermediate from a local root."""
    home = tmp_path / "home"
    init({**token_env, "STATION_CA_PASSPHRASE": "unused-file-pass"}, home, "--external-root")
    (home / "ca" / "intermediate.key.pem").unlink()  # this station goes the token way instead
    root_dir = tmp_path / "root"
    made = station(token_env, home, "ca", "create-root", "--out-dir", root_dir)
    assert made.returncode == 0, made.stderr
    result = station(
        token_env, home, "ca", "create-intermediate", "--root-cert", root_dir / "root.cert.pem",
        "--root-key", root_dir / "root.key.pem", "--key-type", "ec-p384",
        "--pkcs11", uri("created-later"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = load_config(StationHome(home))
    assert str(config.ca.intermediate_key) == uri("created-later")
    verify = station(
        token_env, home, "ca", "aws-verification-cert", "--registration-code", "abc123"
    )
    assert verify.returncode == 0, verify.stderr
    again = station(token_env, home, "ca", "intermediate-csr", "--pkcs11", uri("created-later"))
    assert again.returncode == 0, again.stderr
    check = run(
        ["openssl", "req", "-in", home / "ca" / "intermediate.csr.pem", "-noout", "-verify"]
    )
    assert "verify OK" in check.stdout + check.stderr, check
    dup = station(
        token_env, home, "ca", "create-intermediate", "--root-cert", root_dir / "root.cert.pem",
        "--root-key", root_dir / "root.key.pem", "--pkcs11", uri("created-later"),
    )  # fmt: skip
    assert dup.returncode == 1
    assert "already exists" in dup.stderr


def test_create_intermediate_keeps_a_commented_station_toml(
    token_env: dict[str, str], tmp_path: Path
) -> None:
    """A comment after [ca] is valid TOML; the edit keeps it (and every other comment), and the
    new token key is recorded in the audit database. It used to crash with a TOML traceback
    once the token key and the certificate existed, with no audit event written."""
    home = tmp_path / "home"
    init({**token_env, "STATION_CA_PASSPHRASE": "unused-file-pass"}, home, "--external-root")
    (home / "ca" / "intermediate.key.pem").unlink()
    toml = home / "station.toml"
    before = toml.read_text().replace("[ca]\n", "[ca]  # the CA key moves to the token\n")
    toml.write_text(before)
    root_dir = tmp_path / "root"
    assert station(token_env, home, "ca", "create-root", "--out-dir", root_dir).returncode == 0
    result = station(
        token_env, home, "ca", "create-intermediate", "--root-cert", root_dir / "root.cert.pem",
        "--root-key", root_dir / "root.key.pem", "--pkcs11", uri("commented"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    after = toml.read_text()
    assert "[ca]  # the CA key moves to the token\n" in after
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == comments
    assert str(load_config(StationHome(home)).ca.intermediate_key) == uri("commented")
    cert = load_certificate(home / "ca" / "intermediate.cert.pem")
    with AuditDB.open(home / "audit.db") as audit:
        created = [e for e in audit.events() if e["kind"] == "CA_INTERMEDIATE_CREATED"]
    assert len(created) == 1
    assert json.loads(created[0]["data"]) == {
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "key": uri("commented"),
    }


def test_external_root_csr_on_the_token_then_import(
    token_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    init(token_env, home, "--external-root", "--pkcs11", uri("external"))
    assert not (home / "ca" / "intermediate.key.pem").exists()
    csr = home / "ca" / "intermediate.csr.pem"
    check = run(["openssl", "req", "-in", csr, "-noout", "-verify"])
    assert "verify OK" in check.stdout + check.stderr, check
    # our own "external" root signs it, and the station imports the result
    root_key = ec.generate_private_key(ec.SECP384R1())
    now = datetime.now(UTC)
    root = ca.build_root(root_key, ca.root_name("Acme Token"), ca.CaValidity(now, 3650), 11)
    request = x509.load_pem_x509_csr(csr.read_bytes())
    subject = request.subject
    cert = ca.build_intermediate(
        root,
        root_key,
        request.public_key(),
        subject,
        ca.CaValidity(now, 365),
        12,  # type: ignore[arg-type]
    )
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "inter.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    imported = station(
        token_env, home, "ca", "import-intermediate", "--cert", tmp_path / "inter.pem",
        "--root-cert", tmp_path / "root.pem",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    crl = station(token_env, home, "crl")
    assert crl.returncode == 0, crl.stderr
