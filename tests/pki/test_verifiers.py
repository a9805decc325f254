"""Independent verification: what we issue is checked by openssl and pkilint, tools we did not
write. Every device certificate, both CA certificates, the CRL and the intermediate CSR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.pki import ca
from station.pki.aws import verification_certificate
from station.pki.crl import RevokedEntry, build_crl
from station.pki.profile import DeviceProfile
from station.pki.signer import DeviceSigner

from .conftest import BIN, Hierarchy, accept, build_hierarchy, make_csr, pem, rsa_key, run, run_all

LINT_CERT = [BIN / "lint_pkix_cert", "lint", "-s", "WARNING"]
LINT_CHAIN = [BIN / "lint_pkix_signer_signee_cert_chain", "lint", "-s", "WARNING"]
LINT_CRL = [BIN / "lint_crl", "lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"]


def assert_clean(results: list) -> None:  # type: ignore[type-arg]
    for result in results:
        assert (result.returncode, result.stdout.strip()) == (0, ""), result.args


DEVICE_KEYS = {
    "ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ec-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ec-p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "rsa-2048": lambda: rsa_key(2048),
    "rsa-4096": lambda: rsa_key(4096),
}


def issue_all(signer: DeviceSigner, directory: Path) -> list[Path]:
    paths = []
    for name, make in DEVICE_KEYS.items():
        issued = signer.sign(accept(make_csr(make())))
        path = directory / f"{name}.pem"
        path.write_text(issued.pem)
        paths.append(path)
    return paths


@pytest.fixture(
    params=["ec-root-ec-intermediate", "rsa-root-rsa-intermediate"],
)
def any_hierarchy(
    request: pytest.FixtureRequest, hierarchy: Hierarchy, tmp_path: Path
) -> Hierarchy:
    if request.param.startswith("ec"):
        return hierarchy
    return build_hierarchy(tmp_path / "rsa-ca", rsa_key(4096), rsa_key(3072))


@pytest.mark.parametrize("validity", [365, None], ids=["days", "forever"])
def test_device_and_ca_certificates_pass_openssl_and_pkilint(
    any_hierarchy: Hierarchy, tmp_path: Path, validity: int | None
) -> None:
    h = any_hierarchy
    profile = DeviceProfile(organization="Acme Devices", validity_days=validity)
    signer = DeviceSigner(h.intermediate, h.key, profile)
    devices = issue_all(signer, tmp_path)
    for device in devices:
        result = run(
            [
                "openssl",
                "verify",
                "-x509_strict",
                "-purpose",
                "sslclient",
                "-CAfile",
                h.root_pem,
                "-untrusted",
                h.intermediate_pem,
                device,
            ]
        )
        assert (result.returncode, result.stdout.strip()) == (0, f"{device}: OK"), result
    lints = [[*LINT_CERT, d] for d in devices] + [[*LINT_CHAIN, h.intermediate_pem, devices[0]]]
    if validity is not None:  # the CA certificates once per hierarchy
        lints += [[*LINT_CERT, h.intermediate_pem], [*LINT_CERT, h.root_pem]]
        lints += [[*LINT_CHAIN, h.root_pem, h.intermediate_pem]]
    assert_clean(run_all(lints))


def test_openssl_refuses_a_device_certificate_from_another_ca(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    other = build_hierarchy(
        tmp_path / "other",
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    device = issue_all(DeviceSigner(other.intermediate, other.key, DeviceProfile()), tmp_path)[0]
    result = run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            hierarchy.root_pem,
            "-untrusted",
            other.intermediate_pem,
            device,
        ]
    )
    assert result.returncode != 0


def test_crl_passes_lint_and_verify_and_revokes(hierarchy: Hierarchy, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    signer = DeviceSigner(hierarchy.intermediate, hierarchy.key, DeviceProfile(validity_days=365))
    revoked = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    good = signer.sign(accept(make_csr(ec.generate_private_key(ec.SECP256R1()))))
    superseded = signer.sign(accept(make_csr(rsa_key(2048))))
    entries = [
        RevokedEntry(revoked.serial, now - timedelta(minutes=1), "key-compromise"),
        RevokedEntry(superseded.serial, now - timedelta(minutes=2), "unspecified"),
    ]
    crl = build_crl(
        hierarchy.intermediate,
        hierarchy.key,
        entries,
        number=7,
        this_update=now,
        next_update=now + timedelta(days=7),
    )
    crl_path = tmp_path / "station.crl.pem"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "revoked.pem").write_text(revoked.pem)
    (tmp_path / "good.pem").write_text(good.pem)
    check = run(
        [
            "openssl",
            "crl",
            "-in",
            crl_path,
            "-noout",
            "-verify",
            "-CAfile",
            hierarchy.intermediate_pem,
        ]
    )
    # openssl 3.0 exits 0 even when the signature is bad: read what it says.
    assert "verify OK" in check.stdout + check.stderr, check
    text = run(["openssl", "crl", "-in", crl_path, "-noout", "-text"]).stdout
    assert "X509v3 CRL Number: \n                7" in text
    assert "Key Compromise" in text
    assert_clean(run_all([[*LINT_CRL, crl_path]]))
    base = [
        "openssl",
        "verify",
        "-crl_check",
        "-CAfile",
        hierarchy.root_pem,
        "-untrusted",
        hierarchy.intermediate_pem,
        "-CRLfile",
        crl_path,
    ]
    bad = run([*base, tmp_path / "revoked.pem"])
    assert bad.returncode != 0
    assert "certificate revoked" in bad.stdout + bad.stderr
    ok = run([*base, tmp_path / "good.pem"])
    assert ok.returncode == 0, ok


def test_crl_signed_by_another_key_fails_openssl_verify(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    other = build_hierarchy(
        tmp_path / "o",
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    now = datetime.now(UTC)
    crl = build_crl(
        other.intermediate,
        other.key,
        [],
        number=1,
        this_update=now,
        next_update=now + timedelta(days=1),
    )
    path = tmp_path / "c.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    check = run(
        ["openssl", "crl", "-in", path, "-noout", "-verify", "-CAfile", hierarchy.intermediate_pem]
    )
    assert "verify OK" not in check.stdout + check.stderr


def test_intermediate_csr_verifies_with_openssl(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = ca.build_intermediate_csr(key, ca.intermediate_name("Acme", "st1"))
    path = tmp_path / "i.csr"
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    result = run(["openssl", "req", "-in", path, "-noout", "-verify"])
    assert "verify OK" in result.stdout + result.stderr
    assert "fail" not in result.stderr.lower()


def test_aws_verification_certificate(hierarchy: Hierarchy, tmp_path: Path) -> None:
    cert = verification_certificate(
        hierarchy.intermediate, hierarchy.key, "a1b2c3d4e5f6", now=datetime.now(UTC), serial=99
    )
    path = tmp_path / "verification.pem"
    path.write_bytes(pem(cert))
    subject = run(["openssl", "x509", "-in", path, "-noout", "-subject"]).stdout
    assert subject.strip() == "subject=CN = a1b2c3d4e5f6"
    result = run(
        [
            "openssl",
            "verify",
            "-CAfile",
            hierarchy.root_pem,
            "-untrusted",
            hierarchy.intermediate_pem,
            path,
        ]
    )
    assert result.returncode == 0, result
    assert_clean(run_all([[*LINT_CERT, path]]))
