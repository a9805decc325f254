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

from device_protocol.signatures import verify_sha256

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: DER of ecdsa-with-SHA224/256/384/512, tag and length included.
_ECDSA_OIDS = {bytes.fromhex("06082a8648ce3d0403") + bytes([n]) for n in (1, 2, 3, 4)}


#: OID 2.5.4.5 (serialNumber) followed by the PrintableString tag, as DER writes them.
_SERIAL_PRINTABLE = bytes.fromhex("0603550405") + b"\x13"


class CsrProblem(ValueError):
    """The CSR does not parse, or its content or signature is wrong."""


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start, end) of the DER element at ``pos``; minimal checks only."""
    if pos + 2 > len(der):
        raise CsrProblem("truncated DER")
    tag, first, pos = der[pos], der[pos + 1], pos + 2
    length = first
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 3:
            raise CsrProblem("bad DER length")
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    if pos + length > len(der):
        raise CsrProblem("DER runs past the end")
    return tag, pos, pos + length


def _without_ecdsa_null(der: bytes) -> bytes:
    """mbedTLS 2.x writes ``ecdsa-with-SHA256`` with a NULL parameter in the outer
    signatureAlgorithm (not covered by the signature); `cryptography` refuses it, so drop it."""
    _, start, end = _tlv(der, 0)
    _, _, info_end = _tlv(der, start)
    _, alg_start, alg_end = _tlv(der, info_end)
    _, _, oid_end = _tlv(der, alg_start)
    if der[alg_start:oid_end] not in _ECDSA_OIDS or der[oid_end:alg_end] != b"\x05\x00":
        return der
    oid = der[alg_start:oid_end]
    body = der[start:info_end] + bytes([0x30, len(oid)]) + oid + der[alg_end:end]
    return bytes([0x30]) + _length(len(body)) + body


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def load_csr(der: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(_without_ecdsa_null(der))
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
