"""`station aws register-ca` against the local AWS endpoint; what it sends checked with openssl."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from station.audit import AuditDB
from station.aws.ca import ca_certificate_id
from station.config import load_config
from station.home import StationHome
from station.pki.ca import load_certificate

from .conftest import run_aws
from .endpoint import Proxy


def aws_events(home: Path) -> list[dict[str, Any]]:
    config = load_config(StationHome(home))
    with AuditDB.open_readonly(config.home.audit_db) as audit:
        return [e for e in audit.events() if str(e["kind"]).startswith("AWS_")]


def test_ok_register_ca_default_mode_sends_a_verification_certificate_openssl_accepts(
    home: Path, aws: dict[str, str], endpoint: Proxy, iot: Any, tmp_path: Path
) -> None:
    done = run_aws(home, aws, "register-ca")
    assert done.returncode == 0, done.stderr
    assert "CA registered" in done.stdout

    config = load_config(StationHome(home))
    intermediate = load_certificate(config.ca.intermediate_cert)
    (code_call,) = endpoint.of("GetRegistrationCode")
    code = code_call.answer()["registrationCode"]
    (sent,) = endpoint.of("RegisterCACertificate")
    body = sent.json()
    assert body["certificateMode"] == "DEFAULT"
    assert sent.query == {"setAsActive": "true", "allowAutoRegistration": "true"}
    assert body["caCertificate"] == config.ca.intermediate_cert.read_text()

    proof_pem = tmp_path / "verification.pem"
    proof_pem.write_text(body["verificationCertificate"])
    proof = x509.load_pem_x509_certificate(proof_pem.read_bytes())
    assert proof.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == code
    verified = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-partial_chain",
            "-CAfile",
            str(config.ca.intermediate_cert),
            str(proof_pem),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    chained = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(config.ca.root_cert),
            "-untrusted",
            str(config.ca.intermediate_cert),
            str(proof_pem),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert chained.returncode == 0, chained.stdout + chained.stderr

    ca_id = ca_certificate_id(intermediate)
    described = iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]
    assert described["status"] == "ACTIVE"
    kinds = [(e["kind"], e["code"]) for e in aws_events(home)]
    assert kinds == [("AWS_PENDING", "register-ca"), ("AWS_CA_REGISTERED", "register-ca")]
    assert (
        json.loads(aws_events(home)[-1]["data"])["certificate_arn"] == described["certificateArn"]
    )


def test_ok_register_ca_twice_finds_it_and_registers_nothing(
    home: Path, aws: dict[str, str], endpoint: Proxy
) -> None:
    assert run_aws(home, aws, "register-ca").returncode == 0
    again = run_aws(home, aws, "register-ca")
    assert again.returncode == 0, again.stderr
    assert "CA already registered" in again.stdout
    assert len(endpoint.of("RegisterCACertificate")) == 1
    assert len(endpoint.of("GetRegistrationCode")) == 1
    assert [e["kind"] for e in aws_events(home)] == ["AWS_PENDING", "AWS_CA_REGISTERED"]


def test_ok_register_ca_sni_only_with_a_jitp_template(
    home: Path, aws: dict[str, str], endpoint: Proxy, tmp_path: Path
) -> None:
    template = tmp_path / "jitp.json"
    template.write_text(json.dumps({"Resources": {"thing": {"Type": "AWS::IoT::Thing"}}}))
    role = "arn:aws:iam::123456789012:role/JITPRole"
    done = run_aws(
        home,
        aws,
        "register-ca",
        "--mode",
        "sni-only",
        "--jitp-template",
        str(template),
        "--jitp-role-arn",
        role,
    )
    assert done.returncode == 0, done.stderr
    (sent,) = endpoint.of("RegisterCACertificate")
    body = sent.json()
    assert body["certificateMode"] == "SNI_ONLY"
    assert "verificationCertificate" not in body
    assert body["registrationConfig"] == {"templateBody": template.read_text(), "roleArn": role}
    assert endpoint.of("GetRegistrationCode") == []


def test_fail_sync_before_register_ca_says_what_to_run(home: Path, aws: dict[str, str]) -> None:
    done = run_aws(home, aws, "sync")
    assert done.returncode == 1
    assert "not registered with AWS IoT" in done.stderr
    assert "station aws register-ca" in done.stderr


def test_fail_without_credentials_says_how_to_give_them(
    home: Path, aws: dict[str, str], endpoint: Proxy
) -> None:
    bare = {k: v for k, v in aws.items() if not k.startswith("AWS_ACCESS") and "SECRET" not in k}
    done = run_aws(
        home, {**bare, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "register-ca"
    )
    assert done.returncode == 2, done.stderr
    assert "no AWS credentials" in done.stderr
    assert endpoint.calls == []
