"""Key types, key generation, CA key files (encrypted PKCS#8, created with mode 0600), and the
one seam every CA signer loads its key through: :func:`load_ca_key`.

Everything above this module handles keys as `cryptography` objects (:data:`CaPrivateKey`):
a PKCS#11-backed key is a subclass of the same abstract classes, so no code may assume a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from station.files import write_new_file
from station.phrasing import quoted
from station.pki.errors import CaKeyMissing, KeyFileError, PkiError, WrongPassphrase
from station.pki.pkcs11_uri import Pkcs11Uri

#: A private key that can sign certificates and CRLs.
CaPrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
#: A public key the station can certify.
CertifiablePublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
#: Where a CA key lives: an encrypted PKCS#8 file, or an object on a PKCS#11 token.
KeyRef = Path | Pkcs11Uri

#: Curve names as written in station.toml and on the command line, and their objects.
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_BY_OID_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

MIN_PASSPHRASE_CHARS = 8


@dataclass(frozen=True)
class KeySpec:
    """A key type: ``ec`` with a NIST curve name, or ``rsa`` with a modulus size."""

    kind: str
    curve: str = ""
    bits: int = 0

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        """Parse ``ec-p256``, ``ec-p384``, ``ec-p521``, ``rsa-2048``, ``rsa-3072``, ``rsa-4096``."""
        kind, _, size = text.strip().lower().partition("-")
        if kind == "ec" and f"P-{size[1:]}" in CURVES and size.startswith("p"):
            return cls("ec", curve=f"P-{size[1:]}")
        if kind == "rsa" and size.isdigit() and int(size) in (2048, 3072, 4096):
            return cls("rsa", bits=int(size))
        raise ValueError(
            f"unknown key type {quoted(text)}: use ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072 "
            "or rsa-4096"
        )

    def __str__(self) -> str:
        return f"ec-p{self.curve[2:]}" if self.kind == "ec" else f"rsa-{self.bits}"


def generate_private_key(spec: KeySpec) -> CaPrivateKey:
    """Generate a fresh key of the given type."""
    if spec.kind == "ec":
        return ec.generate_private_key(CURVES[spec.curve]())
    return rsa.generate_private_key(public_exponent=65537, key_size=spec.bits)


def curve_label(curve: ec.EllipticCurve) -> str:
    """``P-256`` for secp256r1 and so on; other curves keep their OpenSSL name."""
    return _CURVE_BY_OID_NAME.get(curve.name, curve.name)


def describe_public_key(key: object) -> str:
    """A short human label: ``EC P-256``, ``RSA 2048``, else the algorithm (``Ed25519``)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {curve_label(key.curve)}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__.removesuffix("PublicKey")


def spki_der(key: PublicKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_sha256(key: PublicKeyTypes) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo: the station's identity for a public key."""
    return hashlib.sha256(spki_der(key)).hexdigest()


def check_passphrase(passphrase: str) -> bytes:
    """Return the passphrase as bytes, refusing ones too short to protect a CA key."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise PkiError(
            f"CA key passphrase too short ({len(passphrase)} characters): "
            f"use at least {MIN_PASSPHRASE_CHARS}"
        )
    return passphrase.encode("utf-8")


def save_private_key(path: Path, key: CaPrivateKey, passphrase: str) -> None:
    """Write ``key`` as encrypted PKCS#8 PEM to a new file created with mode 0600."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(check_passphrase(passphrase)),
    )
    # Key folders are private too; created here so their mode is set at creation.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_new_file(path, pem, 0o600)


def load_private_key(path: Path, passphrase: str) -> CaPrivateKey:
    """Read an encrypted PKCS#8 CA key; a wrong passphrase is a :class:`WrongPassphrase`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise CaKeyMissing(f"cannot read CA key {path}: it does not exist") from e
    except OSError as e:
        raise KeyFileError(f"cannot read CA key {path}: {e.strerror}") from e
    try:
        key = serialization.load_pem_private_key(data, passphrase.encode("utf-8"))
    except (ValueError, TypeError) as e:
        if b"ENCRYPTED" in data:
            raise WrongPassphrase(
                f"cannot decrypt CA key {path}: wrong passphrase (check STATION_CA_PASSPHRASE "
                "or STATION_ROOT_PASSPHRASE, or what you typed)"
            ) from e
        raise KeyFileError(f"{path} is not an encrypted PKCS#8 PEM private key") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; CA keys must be EC or RSA")
    return key


@dataclass(frozen=True)
class KeySecrets:
    """What unlocks a CA key: a passphrase for a file, a PIN (and module) for a token.

    ``module`` is the PKCS#11 library to load when the key URI has no ``module-path``.
    """

    passphrase: str = field(default="", repr=False)
    pin: str = field(default="", repr=False)
    module: str = ""


def load_ca_key(ref: KeyRef, secrets: KeySecrets) -> CaPrivateKey:
    """Open a CA key wherever it lives; every signer (certificates, CRLs, the audit export)
    gets its key here. A token key signs on the token and cannot be exported."""
    if isinstance(ref, Pkcs11Uri):
        from station.pki.token_keys import open_token_key  # loads the PKCS#11 binding

        return open_token_key(ref, secrets.pin, secrets.module)
    return load_private_key(ref, secrets.passphrase)


def create_ca_key(ref: KeyRef, spec: KeySpec, secrets: KeySecrets) -> CaPrivateKey:
    """Generate a new CA key where ``ref`` says: an encrypted file (refusing to overwrite one),
    or a non-extractable key pair on the token."""
    if isinstance(ref, Pkcs11Uri):
        from station.pki.token_keys import create_token_key

        return create_token_key(ref, spec, secrets.pin, secrets.module)
    check_passphrase(secrets.passphrase)
    if ref.exists():
        raise KeyFileError(f"a CA key already exists at {ref}; move it away first")
    key = generate_private_key(spec)
    save_private_key(ref, key, secrets.passphrase)
    return key
