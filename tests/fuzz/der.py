"""A tiny DER writer for building hostile CSRs by hand (tests only).

`cryptography`'s builder refuses to write most of what a hostile board could send, so the
fuzz tests assemble ``certificationRequestInfo`` themselves and sign it with a real key: the
policy then sees a structurally odd request whose signature is nevertheless correct.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from device_protocol.der import encode_length, oid_der

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
CONTEXT_0 = 0xA0


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(content)) + content


def seq(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(SET, b"".join(items))


def integer(value: int) -> bytes:
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def oid_content(arcs: list[int]) -> bytes:
    """OID contents octets; arcs may be arbitrarily large (base-128)."""
    return oid_der(".".join(map(str, arcs)))


def oid(dotted: str) -> bytes:
    return tlv(OID, oid_content([int(a) for a in dotted.split(".")]))


def utf8(text: str) -> bytes:
    return tlv(UTF8_STRING, text.encode())


ECDSA_SHA256 = "1.2.840.10045.4.3.2"
RSA_SHA256 = "1.2.840.113549.1.1.11"
COMMON_NAME = "2.5.4.3"
SERIAL_NUMBER = "2.5.4.5"
EXTENSION_REQUEST = "1.2.840.113549.1.9.14"


def name(*pairs: tuple[str, bytes]) -> bytes:
    """A Name: one RDN per (attribute OID, encoded value)."""
    return seq(*(set_of(seq(oid(t), value)) for t, value in pairs))


def spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def request_info(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    subject: bytes | None = None,
    attributes: bytes = b"",
    *,
    public_key_info: bytes | None = None,
    version: bytes | None = None,
) -> bytes:
    """certificationRequestInfo; each part may be replaced by hostile bytes."""
    return seq(
        integer(0) if version is None else version,
        name(("2.5.4.3", utf8("board-0001"))) if subject is None else subject,
        spki(key) if public_key_info is None else public_key_info,
        tlv(CONTEXT_0, attributes),
    )


def sign_request(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    info: bytes,
    *,
    explicit_null: bool = False,
) -> bytes:
    """A CertificationRequest over ``info``, correctly signed with SHA-256 by ``key``.

    ``explicit_null`` writes the ECDSA AlgorithmIdentifier the mbedTLS 2.x way (with NULL).
    """
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(info, ec.ECDSA(hashes.SHA256()))
        algorithm = (
            seq(oid(ECDSA_SHA256), tlv(NULL, b"")) if explicit_null else seq(oid(ECDSA_SHA256))
        )
    else:
        signature = key.sign(info, padding.PKCS1v15(), hashes.SHA256())
        algorithm = seq(oid(RSA_SHA256), tlv(NULL, b""))
    return seq(info, algorithm, tlv(BIT_STRING, b"\x00" + signature))
