"""The CSR a board sends, as `cryptography` can load it: a fact of the wire, for every station
and for the conformance suite.

mbedTLS 2.x (which many boards ship) writes the CSR's outer ``signatureAlgorithm`` for ECDSA as
``SEQUENCE { ecdsa-with-SHA256, NULL }``; RFC 5758 3.2 says the parameters MUST be absent, and
recent `cryptography` refuses to load such a request. The outer AlgorithmIdentifier is not
covered by the signature (only ``certificationRequestInfo`` is), so dropping the NULL changes
nothing that was signed: the signature is verified afterwards as usual.
"""

from __future__ import annotations

from device_protocol.der import OID, SEQUENCE, DerError, encode_length, read

#: The DER NULL that mbedTLS 2.x writes as the ECDSA parameters.
NULL_PARAMETERS = b"\x05\x00"
#: DER of the OIDs ecdsa-with-SHA224/256/384/512 (1.2.840.10045.4.3.1-4), tag and length included.
ECDSA_SIGNATURE_OIDS = frozenset(
    bytes.fromhex("06082a8648ce3d0403") + bytes([n]) for n in (1, 2, 3, 4)
)


def normalise_csr_der(der: bytes) -> tuple[bytes, bool]:
    """Drop an explicit NULL from an ECDSA outer signatureAlgorithm.

    Returns the DER to load and whether it was changed. Anything else passes through unchanged
    (bad DER is left for the parser to reject with its own message).
    """
    try:
        request = read(der)
        if request.tag != SEQUENCE or request.end != len(der):
            return der, False
        info = read(der, request.body, request.end)
        algorithm = read(der, info.end, request.end)
        if algorithm.tag != SEQUENCE:
            return der, False
        oid = read(der, algorithm.body, algorithm.end)
    except DerError:
        return der, False
    if (
        oid.tag != OID
        or oid.raw not in ECDSA_SIGNATURE_OIDS
        or der[oid.end : algorithm.end] != NULL_PARAMETERS
    ):
        return der, False
    plain = bytes([SEQUENCE]) + encode_length(len(oid.raw)) + oid.raw
    body = info.raw + plain + der[algorithm.end : request.end]
    return bytes([SEQUENCE]) + encode_length(len(body)) + body, True
