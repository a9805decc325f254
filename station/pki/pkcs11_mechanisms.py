"""Which PKCS#11 mechanism signs a given hash on a given token, and the encodings around it.
Pure: mechanism sets in, a plan out.

Some tokens hash on the card (CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS); others only sign a digest
the host computed (CKM_ECDSA, or CKM_RSA_PKCS over a DER DigestInfo). We prefer the first, fall
back to the second, and refuse a token that offers neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Mechanism

from station.pki.errors import TokenError

ECDSA_HASHED = {
    "sha224": Mechanism.ECDSA_SHA224,
    "sha256": Mechanism.ECDSA_SHA256,
    "sha384": Mechanism.ECDSA_SHA384,
    "sha512": Mechanism.ECDSA_SHA512,
}
RSA_HASHED = {
    "sha224": Mechanism.SHA224_RSA_PKCS,
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}
#: DER of DigestInfo up to the digest (RFC 8017 section 9.2, note 1).
DIGEST_INFO_PREFIX = {
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class SignPlan:
    """How to sign: the mechanism, whether the host hashes first, and a prefix for the digest."""

    mechanism: Mechanism
    host_hash: bool
    prefix: bytes = b""

    def payload(self, data: bytes, hash_name: str, prehashed: bool) -> bytes:
        """What the token is given: the data, or (prefix +) its digest."""
        if not self.host_hash or prehashed:
            return self.prefix + data
        digest = hashes.Hash(HASHES[hash_name]())
        digest.update(data)
        return self.prefix + digest.finalize()


def _hash_name(name: str) -> str:
    if name not in HASHES:
        raise TokenError(f"hash {name} is not supported for token signatures; use SHA-256/384/512")
    return name


def ecdsa_plan(offered: frozenset[Mechanism], hash_name: str, prehashed: bool) -> SignPlan:
    """ECDSA with ``hash_name``: on-token hashing if offered (and the data is not a digest
    already), else host hashing with raw CKM_ECDSA."""
    hashed = ECDSA_HASHED[_hash_name(hash_name)]
    if not prehashed and hashed in offered:
        return SignPlan(hashed, host_hash=False)
    if Mechanism.ECDSA in offered:
        return SignPlan(Mechanism.ECDSA, host_hash=True)
    raise TokenError(
        f"the token offers neither CKM_ECDSA nor {hashed.name} for EC signatures; "
        "use a token (or firmware) that does"
    )


def rsa_plan(offered: frozenset[Mechanism], hash_name: str, prehashed: bool) -> SignPlan:
    """RSA PKCS#1 v1.5 with ``hash_name``: CKM_SHAxxx_RSA_PKCS if offered, else raw
    CKM_RSA_PKCS over a DigestInfo the host builds."""
    name = _hash_name(hash_name)
    hashed = RSA_HASHED[name]
    if not prehashed and hashed in offered:
        return SignPlan(hashed, host_hash=False)
    if Mechanism.RSA_PKCS in offered:
        return SignPlan(Mechanism.RSA_PKCS, host_hash=True, prefix=DIGEST_INFO_PREFIX[name])
    raise TokenError(
        f"the token offers neither CKM_RSA_PKCS nor {hashed.name} for RSA signatures; "
        "use a token (or firmware) that does"
    )


def raw_ecdsa_to_der(raw: bytes) -> bytes:
    """PKCS#11 returns ECDSA signatures as r || s (equal halves); X.509 wants DER SEQUENCE."""
    if not raw or len(raw) % 2:
        raise TokenError(f"the token returned a malformed ECDSA signature ({len(raw)} bytes)")
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )
