"""CA keys on a PKCS#11 token: open one the URI names, or generate one there that can never
leave it (CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_PRIVATE, CKA_SIGN only).
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

from station.pki.errors import CaMismatch, TokenError
from station.pki.keys import CURVES, CaPrivateKey, CertifiablePublicKey, KeySpec
from station.pki.pkcs11_keys import TokenEcKey, TokenRsaKey
from station.pki.pkcs11_token import TokenSession, find_objects
from station.pki.pkcs11_uri import Pkcs11Uri

#: DER of the named-curve ECParameters (CKA_EC_PARAMS) of the curves the station uses.
EC_PARAMS = {
    bytes.fromhex("06082a8648ce3d030107"): "P-256",
    bytes.fromhex("06052b81040022"): "P-384",
    bytes.fromhex("06052b81040023"): "P-521",
}
_CURVE_OID_NAME = {"P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1"}

#: The private half: on the token, secret, never leaves it, signs and does nothing else.
PRIVATE_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
PUBLIC_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: False,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}


def _ec_point(raw: bytes, curve: ec.EllipticCurve) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING around the point (some tokens give it bare)."""
    size = 1 + 2 * ((curve.key_size + 7) // 8)
    if len(raw) == size and raw[0] == 4:
        return raw
    if raw[:1] == b"\x04":
        if raw[1] < 0x80:
            return raw[2:]
        return raw[2 + (raw[1] & 0x7F) :]
    raise TokenError(f"the token's EC public point is not DER ({raw[:4].hex()}...)")


def read_public_key(session: Any, private: Any, uri: Pkcs11Uri) -> CertifiablePublicKey:
    """The public half of ``private``: RSA from the private object, EC from its public twin."""
    key_type = private[Attribute.KEY_TYPE]
    if key_type == KeyType.RSA:
        n = int.from_bytes(private[Attribute.MODULUS], "big")
        e = int.from_bytes(private[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if key_type != KeyType.EC:
        raise TokenError(f"{uri.describe()} is a {key_type!r} key; CA keys must be EC or RSA")
    curve_name = EC_PARAMS.get(bytes(private[Attribute.EC_PARAMS]))
    if curve_name is None:
        raise TokenError(f"{uri.describe()} is on a curve the station does not use")
    curve = CURVES[curve_name]()
    twin = _public_twin(session, private, uri)
    point = _ec_point(bytes(twin[Attribute.EC_POINT]), curve)
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def _public_twin(session: Any, private: Any, uri: Pkcs11Uri) -> Any:
    key_id = bytes(private[Attribute.ID] or b"")
    attrs: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PUBLIC_KEY}
    if key_id:
        attrs[Attribute.ID] = key_id
    else:
        attrs[Attribute.LABEL] = private[Attribute.LABEL]
    found = list(session.get_objects(attrs))
    if len(found) != 1:
        raise TokenError(
            f"found {len(found)} public keys next to {uri.describe()}; the station needs exactly "
            "one (same CKA_ID) to know the CA's public key"
        )
    return found[0]


def _wrap(session: TokenSession) -> CaPrivateKey:
    public = session.run(
        "reading the public key",
        lambda s: read_public_key(s, session.private_key(), session.uri),
    )
    if isinstance(public, ec.EllipticCurvePublicKey):
        return TokenEcKey(session, public)
    return TokenRsaKey(session, public)


def open_token_key(uri: Pkcs11Uri, pin: str, module: str) -> CaPrivateKey:
    """The CA key the URI names, as a `cryptography` private key that signs on the token.

    ``module`` is used when the URI has no ``module-path``.
    """
    return _wrap(TokenSession(uri.module_path or module, uri, pin))


def create_token_key(uri: Pkcs11Uri, spec: KeySpec, pin: str, module: str) -> CaPrivateKey:
    """Generate a key pair on the token, labelled and identified as the URI says."""
    if uri.object is None:
        raise TokenError(f"{uri} has no object= label; name the new key, e.g. object=intermediate")
    session = TokenSession(uri.module_path or module, uri, pin, rw=True)
    existing = session.run(
        "looking for keys",
        lambda s: (
            find_objects(s, uri, ObjectClass.PRIVATE_KEY)
            + find_objects(s, uri, ObjectClass.PUBLIC_KEY)
        ),
    )
    if existing:
        raise CaMismatch(
            f"{session.label} already holds {uri.describe()}; choose another object= label in "
            "the URI, or delete the old key from the token first"
        )
    key_id = uri.id or os.urandom(16)
    label = uri.object
    common: dict[str, Any] = {
        "id": key_id,
        "label": label,
        "store": True,
        "capabilities": MechanismFlag.SIGN | MechanismFlag.VERIFY,
        "private_template": PRIVATE_TEMPLATE,
        "public_template": PUBLIC_TEMPLATE,
    }

    def generate(s: Any) -> None:
        if spec.kind == "ec":
            params = encode_named_curve_parameters(_CURVE_OID_NAME[spec.curve])
            domain = s.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: params}, local=True
            )
            domain.generate_keypair(**common)
        else:
            public = {
                **PUBLIC_TEMPLATE,
                Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01",
            }  # 65537, big-endian
            s.generate_keypair(KeyType.RSA, spec.bits, **{**common, "public_template": public})

    session.run(f"generating an {spec} key", generate)
    return _wrap(session)
