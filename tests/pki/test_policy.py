"""CSR policy: table-driven accept and reject cases, each reject with its own reason code."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from device_protocol.der import encode_length
from station.pki.errors import PolicyRejection
from station.pki.keys import spki_sha256
from station.pki.policy import CsrPolicy, check_csr, parse_csr
from station.pki.profile import DeviceProfile, ReportedIdentity

from .conftest import BOARD, make_csr, never_seen, rsa_key
from .roca_vector import roca_private_key


def ec_csr(curve: ec.EllipticCurve, **kw: object) -> bytes:
    return make_csr(ec.generate_private_key(curve), **kw)  # type: ignore[arg-type]


def with_null_params(der: bytes) -> bytes:
    """Re-encode the outer ecdsa-with-SHA256 AlgorithmIdentifier with an explicit NULL, as
    mbedTLS 2.x's mbedtls_x509write_csr_der does."""
    plain = bytes.fromhex("300a06082a8648ce3d040302")
    with_null = bytes.fromhex("300c06082a8648ce3d0403020500")
    assert der.count(plain) == 1
    csr = x509.load_der_x509_csr(der)
    body = csr.tbs_certrequest_bytes + with_null + der[der.index(plain) + len(plain) :]
    return b"\x30" + encode_length(len(body)) + body


def tampered() -> bytes:
    der = make_csr(ec.generate_private_key(ec.SECP256R1()))
    return der.replace(b"board-0001", b"board-0002")


def invalid_ec_point() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    der = make_csr(key)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    broken = point[:-1] + bytes([point[-1] ^ 1])
    return der.replace(point, broken)


def ed25519_csr() -> bytes:
    key = ed25519.Ed25519PrivateKey.generate()
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, None)
    return csr.public_bytes(serialization.Encoding.DER)


def sha1_csr() -> bytes:
    """cryptography no longer signs with SHA-1; openssl still does."""
    key_pem = rsa_key(2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    result = subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-sha1",
            "-key",
            "/dev/stdin",
            "-subj",
            "/CN=board-0001",
            "-outform",
            "DER",
        ],
        input=key_pem,
        capture_output=True,
        check=True,
    )
    csr = x509.load_der_x509_csr(result.stdout)
    assert csr.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.5"
    return result.stdout


def pem_csr() -> bytes:
    der = make_csr(ec.generate_private_key(ec.SECP256R1()))
    return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM)


CA_TRUE = (x509.BasicConstraints(ca=True, path_length=None), True)
KEY_CERT_SIGN = (
    x509.KeyUsage(False, False, False, False, False, True, True, False, False),
    True,
)
SAN = (x509.SubjectAlternativeName([x509.DNSName("evil.example")]), False)

OK: dict[str, Callable[[], bytes]] = {
    "ok/ec-p256": lambda: ec_csr(ec.SECP256R1()),
    "ok/ec-p384": lambda: ec_csr(ec.SECP384R1()),
    "ok/ec-p521": lambda: ec_csr(ec.SECP521R1()),
    "ok/rsa-2048": lambda: make_csr(rsa_key(2048)),
    "ok/rsa-3072": lambda: make_csr(rsa_key(3072)),
    "ok/rsa-4096": lambda: make_csr(rsa_key(4096)),
    "ok/pem": pem_csr,
    "ok/empty-subject": lambda: ec_csr(ec.SECP256R1(), cn=None),
    "ok/subject-names-this-board": lambda: ec_csr(
        ec.SECP256R1(), cn="board-0001", serial_number="board-0001"
    ),
    "ok/requested-extensions-ignored": lambda: ec_csr(ec.SECP256R1(), extensions=[SAN]),
    "ok/mbedtls-ecdsa-null-params": lambda: with_null_params(ec_csr(ec.SECP256R1())),
    # A P-521 CSR is longer than 255 bytes: the outer length uses the long form.
    "ok/mbedtls-ecdsa-null-params-p521": lambda: with_null_params(ec_csr(ec.SECP521R1())),
}

FAIL: dict[str, tuple[str, Callable[[], bytes]]] = {
    "fail/rsa-1024": ("key.rsa_too_small", lambda: make_csr(rsa_key(1024))),
    "fail/ec-secp256k1": ("key.curve_not_allowed", lambda: ec_csr(ec.SECP256K1())),
    "fail/ec-p192": ("key.curve_not_allowed", lambda: ec_csr(ec.SECP192R1())),
    "fail/ed25519": ("key.type_not_allowed", ed25519_csr),
    "fail/invalid-ec-point": ("key.invalid_ec_point", invalid_ec_point),
    "fail/tampered-signature": ("csr.bad_signature", tampered),
    "fail/sha1-signature": ("csr.signature_algorithm_not_allowed", sha1_csr),
    "fail/requests-ca-true": (
        "csr.requests_ca",
        lambda: ec_csr(ec.SECP256R1(), extensions=[CA_TRUE]),
    ),
    "fail/requests-keycertsign": (
        "csr.requests_ca_usage",
        lambda: ec_csr(ec.SECP256R1(), extensions=[KEY_CERT_SIGN]),
    ),
    "fail/roca-modulus": ("key.roca", lambda: make_csr(roca_private_key())),
    "fail/garbage": ("csr.unparsable", lambda: b"\x30\x82\x01\x00garbage" + bytes(300)),
    "fail/empty": ("csr.unparsable", lambda: b""),
    "fail/pem-without-csr": ("csr.unparsable", lambda: b"-----BEGIN CERTIFICATE-----\nAAAA\n"),
    "fail/truncated": ("csr.unparsable", lambda: ec_csr(ec.SECP256R1())[:-10]),
    "fail/oversized": ("csr.too_large", lambda: b"\x30" * 16385),
    "fail/foreign-cn": ("subject.foreign_device", lambda: ec_csr(ec.SECP256R1(), cn="board-0002")),
    "fail/foreign-serialnumber": (
        "subject.foreign_device",
        lambda: ec_csr(ec.SECP256R1(), cn=None, serial_number="board-0002"),
    ),
}


@pytest.mark.parametrize("build", OK.values(), ids=OK.keys())
def test_accepted(build: Callable[[], bytes]) -> None:
    data = build()
    accepted = check_csr(
        data, BOARD, policy=CsrPolicy(), profile=DeviceProfile(), key_known=never_seen
    )
    assert accepted.spki_sha256 == spki_sha256(accepted.public_key)
    assert accepted.board == BOARD


@pytest.mark.parametrize(
    ("code", "build"),
    [
        # openssl makes the SHA-1 request: a process, so that case is a component test.
        pytest.param(code, build, marks=pytest.mark.component if build is sha1_csr else ())
        for code, build in FAIL.values()
    ],
    ids=FAIL.keys(),
)
def test_rejected(code: str, build: Callable[[], bytes]) -> None:
    with pytest.raises(PolicyRejection) as info:
        check_csr(build(), BOARD, policy=CsrPolicy(), profile=DeviceProfile(), key_known=never_seen)
    assert info.value.code == code
    assert str(info.value).startswith(code + ": ")
    assert len(info.value.message) > 30  # says what failed and what to do


def test_mbedtls_csr_really_needs_the_fix() -> None:
    data = with_null_params(ec_csr(ec.SECP256R1()))
    with pytest.raises(ValueError):
        x509.load_der_x509_csr(data).is_signature_valid  # noqa: B018
    accepted = check_csr(
        data, BOARD, policy=CsrPolicy(), profile=DeviceProfile(), key_known=never_seen
    )
    assert accepted.normalised


def test_mbedtls_fix_still_checks_the_signature() -> None:
    data = with_null_params(tampered())
    with pytest.raises(PolicyRejection) as info:
        check_csr(data, BOARD, policy=CsrPolicy(), profile=DeviceProfile(), key_known=never_seen)
    assert info.value.code == "csr.bad_signature"


def test_key_already_issued_is_looked_up_by_spki() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = {spki_sha256(key.public_key())}
    with pytest.raises(PolicyRejection) as info:
        check_csr(
            make_csr(key),
            BOARD,
            policy=CsrPolicy(),
            profile=DeviceProfile(),
            key_known=issued.__contains__,
        )
    assert info.value.code == "key.already_issued"


@pytest.mark.parametrize(
    ("code", "board"),
    [
        ("subject.invalid_uid", ReportedIdentity(uid="")),
        ("subject.invalid_uid", ReportedIdentity(uid="board_0001")),  # '_' is not PrintableString
        ("subject.invalid_uid", ReportedIdentity(uid="x" * 65)),
        ("subject.invalid_thing_name", ReportedIdentity(uid="board 0001")),
    ],
    ids=["fail/empty-uid", "fail/uid-not-printable", "fail/uid-too-long", "fail/thing-name"],
)
def test_board_identity_rejected(code: str, board: ReportedIdentity) -> None:
    with pytest.raises(PolicyRejection) as info:
        check_csr(
            ec_csr(ec.SECP256R1(), cn=None),
            board,
            policy=CsrPolicy(),
            profile=DeviceProfile(),
            key_known=never_seen,
        )
    assert info.value.code == code


def test_configured_policy_narrows_what_aws_accepts() -> None:
    policy = CsrPolicy(ec_curves=("P-256",), rsa_sizes=(3072,))
    for data, code in [
        (ec_csr(ec.SECP384R1()), "key.curve_not_allowed"),
        (make_csr(rsa_key(2048)), "key.rsa_too_small"),
        (make_csr(rsa_key(4096)), "key.rsa_size_not_allowed"),
    ]:
        with pytest.raises(PolicyRejection) as info:
            check_csr(data, BOARD, policy=policy, profile=DeviceProfile(), key_known=never_seen)
        assert info.value.code == code


def test_subject_cn_may_be_the_thing_name_from_the_template() -> None:
    profile = DeviceProfile(common_name="{model}-{uid}")
    board = ReportedIdentity(uid="board-0001", model="sensor")
    check_csr(
        ec_csr(ec.SECP256R1(), cn="sensor-board-0001"),
        board,
        policy=CsrPolicy(),
        profile=profile,
        key_known=never_seen,
    )


@pytest.mark.parametrize("cn", [None, "board-0001", "sensor-board-0001"])
def test_the_csr_subject_is_decoded_once_for_every_check(cn: str | None) -> None:
    data = make_csr(ec.generate_private_key(ec.SECP256R1()), cn=cn)
    req = parse_csr(data, BOARD, CsrPolicy(), DeviceProfile())
    assert req.subject == x509.load_der_x509_csr(data).subject
    assert req.subject.public_bytes() == req.csr.subject.public_bytes()
