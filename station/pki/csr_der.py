"""CSR encoding fix-ups done on raw DER before `cryptography` sees the request.

mbedTLS 2.x writes the CSR's outer ``signatureAlgorithm`` for ECDSA as
``SEQUENCE { ecdsa-with-SHA256, NULL }``; RFC 5758 3.2 says the parameters MUST be absent, and
recent `cryptography` refuses to load such a request. The outer AlgorithmIdentifier is not covered
by the signature (only ``certificationRequestInfo`` is), so dropping the NULL changes nothing that
was signed: the signature is verified afterwards as usual.
"""

from __future__ import annotations

import base64
import binascii
import re

_SEQUENCE = 0x30
_OID = 0x06
_NULL_PARAMS = b"\x05\x00"
#: DER of the OIDs ecdsa-with-SHA224/256/384/512 (1.2.840.10045.4.3.1-4), tag and length included.
_ECDSA_OIDS = {bytes.fromhex("06082a8648ce3d0403") + bytes([n]) for n in (1, 2, 3, 4)}
#: DER of id-ecPublicKey (1.2.840.10045.2.1), tag and length included.
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")
_PEM = re.compile(rb"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(.+?)-----END", re.DOTALL)


class CsrDerError(ValueError):
    """The bytes are not the DER structure expected."""


def pem_or_der_to_der(data: bytes) -> bytes:
    """The DER of a CSR given as PEM (``CERTIFICATE REQUEST`` or ``NEW ...``) or as DER."""
    if data.lstrip().startswith(b"-----BEGIN"):
        match = _PEM.search(data)
        if match is None:
            raise CsrDerError("PEM input has no CERTIFICATE REQUEST block")
        try:
            return base64.b64decode(b"".join(match.group(1).split()), validate=True)
        except binascii.Error as e:
            raise CsrDerError(f"bad base64 in PEM: {e}") from e
    return data


def read_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """Read one DER TLV at ``offset``: return (tag, start of contents, end of contents)."""
    if offset + 2 > len(data):
        raise CsrDerError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CsrDerError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise CsrDerError("non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise CsrDerError("DER length runs past the end")
    return tag, pos, pos + length


def encode_length(length: int) -> bytes:
    """DER length octets for ``length``."""
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def normalise_csr_der(der: bytes) -> tuple[bytes, bool]:
    """Drop an explicit NULL from an ECDSA outer signatureAlgorithm.

    Returns the DER to load and whether it was changed. Anything else passes through unchanged
    (bad DER is left for the parser to reject with its own message).
    """
    try:
        tag, start, end = read_tlv(der, 0)
        if tag != _SEQUENCE or end != len(der):
            return der, False
        _, _, info_end = read_tlv(der, start)
        alg_tag, alg_start, alg_end = read_tlv(der, info_end)
        if alg_tag != _SEQUENCE:
            return der, False
        oid_tag, _, oid_end = read_tlv(der, alg_start)
    except CsrDerError:
        return der, False
    oid = der[alg_start:oid_end]
    if oid_tag != _OID or oid not in _ECDSA_OIDS or der[oid_end:alg_end] != _NULL_PARAMS:
        return der, False
    algorithm = bytes([_SEQUENCE]) + encode_length(len(oid)) + oid
    body = der[start:info_end] + algorithm + der[alg_end:end]
    return bytes([_SEQUENCE]) + encode_length(len(body)) + body, True


def spki_algorithm(der: bytes) -> bytes:
    """The DER OID (tag and length included) of a CSR's subjectPublicKeyInfo algorithm,
    or ``b""`` if the structure cannot be walked."""
    try:
        _, start, _ = read_tlv(der, 0)  # CertificationRequest
        _, pos, _ = read_tlv(der, start)  # certificationRequestInfo
        for _ in range(2):  # version, subject
            _, _, pos = read_tlv(der, pos)
        _, spki, _ = read_tlv(der, pos)  # subjectPKInfo
        _, alg, _ = read_tlv(der, spki)  # algorithm
        _, _, oid_end = read_tlv(der, alg)
    except CsrDerError:
        return b""
    return der[alg:oid_end]
