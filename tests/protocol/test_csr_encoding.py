"""The mbedTLS NULL-parameter fix-up, one copy in device_protocol, as the station's policy and the
conformance suite both use it."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from device_protocol.conformance.pki import load_csr
from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.der import read_all
from tests.fuzz import der

WITH_NULL = bytes.fromhex("300c06082a8648ce3d0403020500")
WITHOUT_NULL = bytes.fromhex("300a06082a8648ce3d040302")


def mbedtls_csr(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A correctly signed CSR whose outer ECDSA AlgorithmIdentifier carries NULL, as
    mbedtls_x509write_csr_der writes it."""
    return der.sign_request(key, der.request_info(key), explicit_null=True)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_an_mbedtls_csr_loads_once_normalised(curve: ec.EllipticCurve) -> None:
    key = ec.generate_private_key(curve)
    raw = mbedtls_csr(key)
    assert WITH_NULL in raw
    with pytest.raises(ValueError):
        x509.load_der_x509_csr(raw).is_signature_valid  # noqa: B018

    fixed, changed = normalise_csr_der(raw)

    assert changed
    assert WITH_NULL not in fixed
    assert WITHOUT_NULL in fixed
    read_all(fixed)  # still one well-formed DER element
    csr = x509.load_der_x509_csr(fixed)
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()


def test_the_conformance_suite_loads_what_the_station_loads() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = mbedtls_csr(key)
    assert (
        load_csr(raw).tbs_certrequest_bytes
        == x509.load_der_x509_csr(normalise_csr_der(raw)[0]).tbs_certrequest_bytes
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            der.sign_request(k := rsa.generate_private_key(65537, 2048), der.request_info(k)),
            id="rsa-with-its-null",
        ),
        pytest.param(
            der.sign_request(k := ec.generate_private_key(ec.SECP256R1()), der.request_info(k)),
            id="ecdsa-without-null",
        ),
        pytest.param(b"\x30\x03abc", id="not-a-csr"),
        pytest.param(b"", id="empty"),
    ],
)
def test_anything_else_passes_through_unchanged(raw: bytes) -> None:
    assert normalise_csr_der(raw) == (raw, False)


def test_trailing_bytes_are_left_for_the_parser_to_refuse() -> None:
    raw = mbedtls_csr(ec.generate_private_key(ec.SECP256R1())) + b"\x00"
    assert normalise_csr_der(raw) == (raw, False)
