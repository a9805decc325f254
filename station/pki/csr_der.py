"""A CSR's bytes before `cryptography` sees them: PEM or DER in, DER out, and the public key's
algorithm read from the DER when `cryptography` cannot load the key. The mbedTLS fix-up is a
fact of the wire, in :mod:`device_protocol.csr_encoding`.
"""

from __future__ import annotations

import base64
import binascii
import re

from device_protocol.der import DerError, read

#: DER of id-ecPublicKey (1.2.840.10045.2.1), tag and length included.
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")
_PEM = re.compile(rb"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(.+?)-----END", re.DOTALL)


def pem_or_der_to_der(data: bytes) -> bytes:
    """The DER of a CSR given as PEM (``CERTIFICATE REQUEST`` or ``NEW ...``) or as DER."""
    if data.lstrip().startswith(b"-----BEGIN"):
        match = _PEM.search(data)
        if match is None:
            raise DerError("PEM input has no CERTIFICATE REQUEST block")
        try:
            return base64.b64decode(b"".join(match.group(1).split()), validate=True)
        except binascii.Error as e:
            raise DerError(f"bad base64 in PEM: {e}") from e
    return data


def spki_algorithm(der: bytes) -> bytes:
    """The DER OID (tag and length included) of a CSR's subjectPublicKeyInfo algorithm,
    or ``b""`` if the structure cannot be walked."""
    try:
        request = read(der)  # CertificationRequest
        info = read(der, request.body, request.end)  # certificationRequestInfo
        pos = info.body
        for _ in range(2):  # version, subject
            pos = read(der, pos, info.end).end
        spki = read(der, pos, info.end)  # subjectPKInfo
        algorithm = read(der, spki.body, spki.end)
        oid = read(der, algorithm.body, algorithm.end)
    except DerError:
        return b""
    return oid.raw
