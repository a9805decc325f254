"""Token-held CA keys as `cryptography` private keys.

`cryptography`'s builders (``CertificateBuilder.sign``, ``CertificateSigningRequestBuilder.sign``,
``CertificateRevocationListBuilder.sign``, ``pkcs7.PKCS7SignatureBuilder.add_signer``) accept any
instance of the abstract ``ec.EllipticCurvePrivateKey`` / ``rsa.RSAPrivateKey`` and call only its
``sign`` (and ``public_key``): ECDSA keys get ``sign(data, ec.ECDSA(hash))``, RSA keys
``sign(data, PKCS1v15(), hash)``. These subclasses forward that to the token; everything that
would reveal the private value raises :class:`~station.pki.errors.KeyNotExportable`.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pkcs11 import Mechanism

from station.pki.errors import KeyNotExportable
from station.pki.pkcs11_mechanisms import ecdsa_plan, raw_ecdsa_to_der, rsa_plan


class TokenSigner(Protocol):
    """What a token key needs from its token: the mechanisms offered, and signing."""

    mechanisms: frozenset[Mechanism]

    @property
    def label(self) -> str: ...

    def sign(self, mechanism: Mechanism, data: bytes) -> bytes: ...


def _hash_of(algorithm: Any) -> tuple[str, bool]:
    if isinstance(algorithm, Prehashed):
        return algorithm._algorithm.name, True
    if isinstance(algorithm, hashes.HashAlgorithm):
        return algorithm.name, False
    raise UnsupportedAlgorithm(f"token keys sign with a hash algorithm, not {algorithm!r}")


def _not_exportable(token: TokenSigner) -> NoReturn:
    raise KeyNotExportable(
        f"the CA key lives on {token.label} and cannot be exported; sign through it instead"
    )


class TokenEcKey(ec.EllipticCurvePrivateKey):
    """An EC private key on a PKCS#11 token."""

    def __init__(self, token: TokenSigner, public: ec.EllipticCurvePublicKey) -> None:
        self.token = token
        self._public = public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: Any, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """ECDSA over ``data`` (or over a digest, with ``Prehashed``), DER-encoded."""
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise UnsupportedAlgorithm("token EC keys sign with ECDSA only")
        if getattr(signature_algorithm, "deterministic_signing", False):
            raise UnsupportedAlgorithm("deterministic ECDSA is not available from a token")
        name, prehashed = _hash_of(signature_algorithm.algorithm)
        plan = ecdsa_plan(self.token.mechanisms, name, prehashed)
        raw = self.token.sign(plan.mechanism, plan.payload(bytes(data), name, prehashed))
        return raw_ecdsa_to_der(raw)

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise UnsupportedAlgorithm("a CA key signs; it is not used for key agreement")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        _not_exportable(self.token)

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        _not_exportable(self.token)

    def __copy__(self) -> TokenEcKey:
        return self  # a handle to the same token object

    def __deepcopy__(self, memo: dict[int, object]) -> TokenEcKey:
        return self

    def __repr__(self) -> str:
        return f"<TokenEcKey {self.token.label} {self.curve.name}>"


class TokenRsaKey(rsa.RSAPrivateKey):
    """An RSA private key on a PKCS#11 token (PKCS#1 v1.5 signatures)."""

    def __init__(self, token: TokenSigner, public: rsa.RSAPublicKey) -> None:
        self.token = token
        self._public = public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(self, data: bytes, padding: padding.AsymmetricPadding, algorithm: Any) -> bytes:
        """RSASSA-PKCS1-v1_5 over ``data`` (or over a digest, with ``Prehashed``)."""
        if not isinstance(padding, _PKCS1v15):
            raise UnsupportedAlgorithm(
                f"token RSA keys sign with PKCS#1 v1.5 only, not {padding.name}"
            )
        name, prehashed = _hash_of(algorithm)
        plan = rsa_plan(self.token.mechanisms, name, prehashed)
        return self.token.sign(plan.mechanism, plan.payload(bytes(data), name, prehashed))

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        raise UnsupportedAlgorithm("a CA key signs; it does not decrypt")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        _not_exportable(self.token)

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        _not_exportable(self.token)

    def __copy__(self) -> TokenRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenRsaKey:
        return self

    def __repr__(self) -> str:
        return f"<TokenRsaKey {self.token.label} {self.key_size}>"


_PKCS1v15 = padding.PKCS1v15
