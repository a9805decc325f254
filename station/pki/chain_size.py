"""How many bytes the chain written to a board can take, known before the board makes a key.

The station refuses a board whose chain storage cannot hold its chain right after HELLO, before
KEYGEN, so no certificate is issued to a board that would refuse it with TOO_LARGE. The device
certificate does not exist yet: this is an upper bound from its parts (names, key, signature),
all known in advance. Pure.
"""

from __future__ import annotations

import functools

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

#: DER SubjectPublicKeyInfo sizes by SPEC.md key type (RSA with exponent 65537).
_SPKI = {
    "ec-p256": 91,
    "ec-p384": 120,
    "ec-p521": 158,
    "rsa-2048": 294,
    "rsa-3072": 422,
    "rsa-4096": 550,
}
#: Everything else in a device certificate of our profile (version, a 20-byte serial, two
#: algorithm identifiers, validity as GeneralizedTime, the five extensions, DER headers),
#: generously rounded up.
_FIXED = 250


def _signature_bound(issuer_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> int:
    if isinstance(issuer_key, rsa.RSAPublicKey):
        return (issuer_key.key_size + 7) // 8
    coordinate = (issuer_key.curve.key_size + 7) // 8
    return 2 * (coordinate + 3) + 3  # SEQUENCE { INTEGER r, INTEGER s }, each maybe padded


def pem_length(der_length: int) -> int:
    """Bytes of a PEM certificate whose DER has ``der_length`` bytes (64-character lines)."""
    text = (der_length + 2) // 3 * 4
    lines = (text + 63) // 64
    return len("-----BEGIN CERTIFICATE-----\n") + text + lines + len("-----END CERTIFICATE-----\n")


def chain_bound(issuer: x509.Certificate, subject: x509.Name, key_type: str) -> int:
    """Upper bound, in bytes, of the PEM chain (device certificate + ``issuer``) for a board
    whose certificate will have ``subject`` and a ``key_type`` key."""
    issuer_der, signature, issuer_pem = _issuer_sizes(issuer)
    der = (
        _FIXED
        + issuer_der
        + len(subject.public_bytes())
        + _SPKI.get(key_type, max(_SPKI.values()))
        + signature
    )
    return pem_length(der) + issuer_pem


@functools.lru_cache(maxsize=8)
def _issuer_sizes(issuer: x509.Certificate) -> tuple[int, int, int]:
    """The issuer's part of :func:`chain_bound`, worked out once per issuer (every cycle asks):
    its subject's DER length, the bound of its signature, and its PEM length."""
    issuer_key = issuer.public_key()
    if not isinstance(issuer_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise TypeError(f"unsupported issuer key {type(issuer_key).__name__}")
    return (
        len(issuer.subject.public_bytes()),
        _signature_bound(issuer_key),
        len(issuer.public_bytes(serialization.Encoding.PEM)),
    )
