"""Certificate material for the suite: load and verify a board's CSR, a throwaway chain for it.

The suite must not depend on a station's CA, so it issues the chain it writes with a CA made
for the run. A board stores the chain as bytes; nothing here has to satisfy a real policy.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.signatures import verify_sha256

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: OID 2.5.4.5 (serialNumber) followed by the PrintableString tag, as DER writes them.
_SERIAL_PRINTABLE = bytes.fromhex("0603550405") + b"\x13"


class CsrProblem(ValueError):
    """The CSR does not parse, or its content or signature is wrong."""


def load_csr(der: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(normalise_csr_der(der)[0])
    except ValueError as e:
        raise CsrProblem(f"the CSR does not parse as DER PKCS#10: {e}") from e


def public_key(csr: x509.CertificateSigningRequest) -> PublicKey:
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise CsrProblem(f"unexpected public key type {type(key).__name__}")
    return key


def key_type_of(key: PublicKey) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"rsa-{key.key_size}"
    return {"secp256r1": "ec-p256", "secp384r1": "ec-p384", "secp521r1": "ec-p521"}.get(
        key.curve.name, key.curve.name
    )


def check_csr(der: bytes, uid: str, cn: str, key_type: str) -> PublicKey:
    """The CSR's public key, after checking subject, key type and signature."""
    csr = load_csr(der)
    key = public_key(csr)
    if not verify_sha256(key, csr.signature, csr.tbs_certrequest_bytes):
        raise CsrProblem("the CSR's signature does not verify with its public key")
    names = {a.oid: a.value for a in csr.subject}
    if names.get(NameOID.COMMON_NAME) != cn:
        raise CsrProblem(f"CN is {names.get(NameOID.COMMON_NAME)!r}, expected {cn!r}")
    if names.get(NameOID.SERIAL_NUMBER) != uid:
        raise CsrProblem(f"serialNumber is {names.get(NameOID.SERIAL_NUMBER)!r}, expected {uid!r}")
    if _SERIAL_PRINTABLE not in csr.subject.public_bytes():
        raise CsrProblem("the subject's serialNumber is not a PrintableString (SPEC.md 7.3)")
    if key_type_of(key) != key_type:
        raise CsrProblem(f"the CSR holds a {key_type_of(key)} key, KEYGEN made {key_type}")
    return key


def throwaway_chain(key: PublicKey, uid: str, *, at_least: int = 0, at_most: int = 65536) -> bytes:
    """A PEM chain (device certificate + a CA made for this run) for ``key``; repeated copies
    of the CA certificate make it at least ``at_least`` bytes when ``at_most`` allows."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Conformance Throwaway CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, uid)]))
        .issuer_name(ca_name)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain, filler = leaf.public_bytes(pem) + ca.public_bytes(pem), ca.public_bytes(pem)
    while len(chain) < at_least and len(chain) + len(filler) <= at_most:
        chain += filler
    return chain
