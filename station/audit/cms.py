"""Verify a detached CMS SignedData (RFC 5652) over a manifest, and its chain to a root. Pure.

Accepts what :meth:`station.pki.audit_signer.AuditSigner.sign_detached` (and `openssl cms
-sign -binary`) writes: one signer, signed attributes, certificates, no CRLs, no unsigned
attributes. Anything else, or any changed byte, is a :class:`CmsError` saying what is wrong.
The signer's certificate chain is validated by :mod:`station.audit.signer_chain`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from device_protocol import der
from device_protocol.der import Tlv, oid_der, oid_of
from station.audit.errors import AuditError
from station.audit.signer_chain import SignerChainError, verify_signer_chain

SIGNED_DATA = oid_der("1.2.840.113549.1.7.2")
ID_DATA = oid_der("1.2.840.113549.1.7.1")
ATTR_CONTENT_TYPE = oid_der("1.2.840.113549.1.9.3")
ATTR_MESSAGE_DIGEST = oid_der("1.2.840.113549.1.9.4")
ATTR_SIGNING_TIME = oid_der("1.2.840.113549.1.9.5")
DIGESTS = {
    oid_der("2.16.840.1.101.3.4.2.1"): "sha256",
    oid_der("2.16.840.1.101.3.4.2.2"): "sha384",
    oid_der("2.16.840.1.101.3.4.2.3"): "sha512",
}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# signatureAlgorithm -> (key kind, hash or None for "the digestAlgorithm")
SIGNATURES: dict[bytes, tuple[str, str | None]] = {
    oid_der("1.2.840.10045.4.3.2"): ("ec", "sha256"),
    oid_der("1.2.840.10045.4.3.3"): ("ec", "sha384"),
    oid_der("1.2.840.10045.4.3.4"): ("ec", "sha512"),
    oid_der("1.2.840.113549.1.1.1"): ("rsa", None),
    oid_der("1.2.840.113549.1.1.11"): ("rsa", "sha256"),
    oid_der("1.2.840.113549.1.1.12"): ("rsa", "sha384"),
    oid_der("1.2.840.113549.1.1.13"): ("rsa", "sha512"),
}


class CmsError(AuditError):
    """The signature file is malformed, does not match the content, or does not chain."""


class ContentChanged(CmsError):
    """The signature is intact but signs other content: the signed file was changed."""


@dataclass(frozen=True)
class VerifiedSignature:
    signer: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # signer, intermediate(s), root


def _algorithm(tlv: Tlv, table: Collection[bytes], what: str) -> bytes:
    """An AlgorithmIdentifier whose OID is in ``table`` and whose parameters are absent/NULL."""
    parts = tlv.expect(der.SEQUENCE, what).children()
    oid = oid_of(parts[0])
    if oid not in table:
        raise CmsError(f"{what}: unsupported algorithm")
    if len(parts) > 2 or (len(parts) == 2 and parts[1].raw != b"\x05\x00"):
        raise CmsError(f"{what}: unexpected parameters")
    return oid


def _time(tlv: Tlv) -> datetime:
    text = tlv.value.decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if tlv.tag == der.UTC_TIME else "%Y%m%d%H%M%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def _attributes(signed_attrs: Tlv) -> dict[bytes, Tlv]:
    out: dict[bytes, Tlv] = {}
    for attr in signed_attrs.children():
        oid_tlv, values = attr.expect(der.SEQUENCE, "attribute").children()
        oid = oid_of(oid_tlv)
        items = values.expect(der.SET, "attribute values").children()
        if oid in out or len(items) != 1:
            raise CmsError("signed attributes: repeated attribute or value")
        out[oid] = items[0]
    return out


def _verify_signature(key: object, kind: str, hash_name: str, sig: bytes, data: bytes) -> None:
    algorithm = _HASHES[hash_name]()
    try:
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, data, ec.ECDSA(algorithm))
        elif kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PKCS1v15(), algorithm)
        else:
            raise CmsError("the signature algorithm does not fit the signer's key")
    except InvalidSignature as e:
        raise CmsError("the signature does not verify with the signer's key") from e


def verify_detached(p7s: bytes, content: bytes, root: x509.Certificate) -> VerifiedSignature:
    """Check that ``p7s`` signs ``content`` and that its signer chains to ``root``."""
    try:
        return _verify(p7s, content, root)
    except CmsError:
        raise
    except Exception as e:  # untrusted bytes: any parse failure of ours or cryptography's
        raise CmsError(f"not a well-formed CMS signature: {e}") from e


def _verify(p7s: bytes, content: bytes, root: x509.Certificate) -> VerifiedSignature:
    content_type, explicit = der.read_all(p7s).expect(der.SEQUENCE, "ContentInfo").children()
    if oid_of(content_type) != SIGNED_DATA:
        raise CmsError("not a CMS SignedData")
    (signed_data,) = explicit.expect(0xA0, "content").children()
    version, digest_set, encap, *rest = signed_data.expect(der.SEQUENCE, "SignedData").children()
    if der.integer(version) != 1:
        raise CmsError("SignedData version is not 1")
    if len(rest) != 2 or rest[0].tag != 0xA0:
        raise CmsError("expected certificates and one signer, no CRLs")
    certs_tlv, signer_infos = rest
    encap_parts = encap.expect(der.SEQUENCE, "encapContentInfo").children()
    if len(encap_parts) != 1 or oid_of(encap_parts[0]) != ID_DATA:
        raise CmsError("the signature is not detached over plain data")
    (signer_info,) = signer_infos.expect(der.SET, "signerInfos").children()
    parts = signer_info.expect(der.SEQUENCE, "SignerInfo").children()
    if len(parts) != 6 or der.integer(parts[0]) != 1 or parts[3].tag != 0xA0:
        raise CmsError("SignerInfo must be v1 with signed attributes and no unsigned ones")
    _, sid, digest_alg, signed_attrs, sig_alg, signature = parts
    digest = DIGESTS[_algorithm(digest_alg, DIGESTS, "digestAlgorithm")]
    if digest_alg.raw not in {d.raw for d in digest_set.expect(der.SET, "digests").children()}:
        raise CmsError("the signer's digest algorithm is not listed in digestAlgorithms")
    kind, sig_hash = SIGNATURES[_algorithm(sig_alg, SIGNATURES, "signatureAlgorithm")]
    attrs = _attributes(signed_attrs)
    if oid_of(attrs[ATTR_CONTENT_TYPE]) != ID_DATA:
        raise CmsError("signed contentType is not id-data")
    expected = hashlib.new(digest, content).digest()
    if attrs[ATTR_MESSAGE_DIGEST].expect(der.OCTET_STRING, "messageDigest").value != expected:
        raise ContentChanged("changed after signing: its digest is not the one signed")
    when = _time(attrs[ATTR_SIGNING_TIME]) if ATTR_SIGNING_TIME in attrs else None
    certs = [_certificate(c) for c in certs_tlv.children()]
    issuer_name, serial = sid.expect(der.SEQUENCE, "sid").children()
    signer = next(
        (
            c
            for c in certs
            if c.serial_number == der.integer(serial) and c.issuer.public_bytes() == issuer_name.raw
        ),
        None,
    )
    if signer is None:
        raise CmsError("no certificate in the signature matches its signer")
    attrs_der = b"\x31" + signed_attrs.raw[1:]  # the signature covers them as a SET OF
    sig = signature.expect(der.OCTET_STRING, "signature").value
    _verify_signature(signer.public_key(), kind, sig_hash or digest, sig, attrs_der)
    try:
        chain = verify_signer_chain(signer, certs, root, when or datetime.now(UTC))
    except SignerChainError as e:
        raise CmsError(str(e)) from e
    return VerifiedSignature(signer, chain)


def _certificate(tlv: Tlv) -> x509.Certificate:
    """A certificate, refusing the one unsigned field a parser may shrug off: the unused-bits
    octet of signatureValue (a changed octet there leaves the signature bytes as they were)."""
    parts = tlv.expect(der.SEQUENCE, "certificate").children()
    if len(parts) != 3 or parts[2].tag != 0x03 or parts[2].value[:1] != b"\x00":
        raise CmsError("a certificate in the signature is not DER (signatureValue)")
    return x509.load_der_x509_certificate(tlv.raw)
