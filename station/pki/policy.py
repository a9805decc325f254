"""CSR policy (DESIGN section 4): parse, then a list of small validators, each with its own code.

:func:`check_csr` is pure apart from the ``key_known`` look-up it is given (the audit
database's, in production). The first failing check raises :class:`PolicyRejection`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from device_protocol.csr_encoding import normalise_csr_der
from device_protocol.der import DerError
from station.phrasing import one_of, quoted
from station.pki.csr_der import EC_PUBLIC_KEY_OID, pem_or_der_to_der, spki_algorithm
from station.pki.errors import PolicyRejection
from station.pki.keys import CertifiablePublicKey, curve_label, describe_public_key, spki_sha256
from station.pki.profile import DeviceProfile, ReportedIdentity
from station.pki.weak_keys import rsa_weaknesses


class KeyLookup(Protocol):
    """Answers "was a certificate ever issued for this public key?" (by SPKI SHA-256 hex)."""

    def __call__(self, spki_sha256: str, /) -> bool: ...


@dataclass(frozen=True)
class CsrPolicy:
    """What a CSR may carry; defaults are what AWS IoT Core accepts."""

    ec_curves: tuple[str, ...] = ("P-256", "P-384", "P-521")
    rsa_sizes: tuple[int, ...] = (2048, 3072, 4096)
    max_csr_bytes: int = 16384


@dataclass(frozen=True)
class CsrRequest:
    """A parsed CSR with the board it is for: what validators look at."""

    csr: x509.CertificateSigningRequest
    der: bytes  # normalised DER, as loaded
    public_key: CertifiablePublicKey
    board: ReportedIdentity
    thing_name: str
    normalised: bool  # the mbedTLS NULL-parameter fix-up was applied
    #: ``csr.subject``, decoded once (the CSR object decodes it afresh on every access).
    subject: x509.Name


@dataclass(frozen=True)
class AcceptedCsr:
    """A CSR that passed every check: what the signer certifies."""

    public_key: CertifiablePublicKey
    spki_sha256: str
    key_label: str  # "EC P-256", "RSA 2048"
    board: ReportedIdentity
    csr_der: bytes
    normalised: bool


Validator = Callable[[CsrRequest, CsrPolicy], None]

#: PKCS#9 extensionRequest (1.2.840.113549.1.9.14).
_EXTENSION_REQUEST = x509.ObjectIdentifier("1.2.840.113549.1.9.14")
#: What loading a CSR may raise on malformed input. Besides ValueError, `cryptography` has its
#: own exception classes (not ValueError subclasses) for a bad version number, a duplicated
#: extension and an unsupported GeneralName type.
_UNPARSABLE = (
    DerError,
    ValueError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def parse_csr(
    data: bytes, board: ReportedIdentity, policy: CsrPolicy, profile: DeviceProfile
) -> CsrRequest:
    """Size limit, PEM/DER decoding, the mbedTLS fix-up, and the public key."""
    thing_name = profile.thing_name(board)
    if len(data) > policy.max_csr_bytes:
        raise PolicyRejection(
            "csr.too_large",
            f"CSR is {len(data)} bytes, more than max_csr_bytes={policy.max_csr_bytes}; "
            "check the board's CSR output or raise [policy] max_csr_bytes",
        )
    try:
        der, normalised = normalise_csr_der(pem_or_der_to_der(data))
        csr = x509.load_der_x509_csr(der)
        subject = _decoded_subject(csr)
        csr.extensions  # noqa: B018
        extension_requests = sum(
            attribute.oid == _EXTENSION_REQUEST for attribute in csr.attributes
        )
    except _UNPARSABLE as e:
        raise PolicyRejection(
            "csr.unparsable",
            f"not a PKCS#10 CSR in DER or PEM ({_why_unparsable(e)}); check the board "
            "firmware's CSR encoding",
        ) from e
    if extension_requests > 1:
        # `cryptography` reads only the first one: a CA request in another would go unseen.
        raise PolicyRejection(
            "csr.ambiguous_extension_request",
            f"CSR carries {extension_requests} extensionRequest attributes (PKCS#9 allows one); "
            "fix the board's CSR template",
        )
    try:
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as e:
        if spki_algorithm(der) == EC_PUBLIC_KEY_OID:
            raise PolicyRejection(
                "key.invalid_ec_point",
                f"the CSR's EC public key is not a valid point on a supported curve ({e}); "
                "the board's key generation is broken",
            ) from e
        raise PolicyRejection("key.unparsable", f"cannot read the CSR's public key ({e})") from e
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise PolicyRejection(
            "key.type_not_allowed",
            f"{describe_public_key(public_key)} keys are not accepted by AWS IoT; "
            "generate an EC or RSA key on the board",
        )
    return CsrRequest(csr, der, public_key, board, thing_name, normalised, subject)


#: What the ASN.1 parser's error kinds mean, in words (its message is a Rust debug dump).
_ASN1_PROBLEMS = {
    "ShortData": "the data ends too early",
    "ExtraData": "extra bytes after the request",
    "UnexpectedTag": "an element of the wrong type",
    "InvalidLength": "a bad length",
    "InvalidValue": "an invalid value",
    "InvalidTag": "an invalid tag",
    "UnknownDefinedBy": "an unknown algorithm",
}


def _decoded_subject(csr: x509.CertificateSigningRequest) -> x509.Name:
    """The CSR's subject, decoded now (it is decoded lazily). `cryptography` raises TypeError,
    not ValueError, for an attribute whose string type its OID may not have (a BIT STRING
    common name): that is malformed input too."""
    try:
        subject = csr.subject
        subject.rdns  # noqa: B018 - force parsing of lazily decoded fields
    except TypeError as e:
        raise ValueError(str(e)) from e
    return subject


def _why_unparsable(e: Exception) -> str:
    text = str(e)
    if not text.startswith("error parsing asn1 value"):
        return text
    kind = re.search(r"kind: (\w+)", text)
    problem = _ASN1_PROBLEMS.get(kind.group(1), "") if kind else ""
    return f"malformed DER: {problem or 'not valid ASN.1'}"


def check_key_type(req: CsrRequest, policy: CsrPolicy) -> None:
    """EC on an allowed curve, or RSA of an allowed size."""
    key = req.public_key
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = curve_label(key.curve)
        if curve not in policy.ec_curves:
            raise PolicyRejection(
                "key.curve_not_allowed",
                f"EC curve {curve} is not allowed (allowed: {one_of(policy.ec_curves)}); "
                "re-key the board on an allowed curve",
            )
        return
    bits = key.key_size
    if bits < min(policy.rsa_sizes, default=2048):
        raise PolicyRejection(
            "key.rsa_too_small",
            f"RSA {bits} is too small (allowed sizes: {one_of(policy.rsa_sizes)}); "
            "re-key the board",
        )
    if bits not in policy.rsa_sizes:
        raise PolicyRejection(
            "key.rsa_size_not_allowed",
            f"RSA {bits} is not an allowed size (allowed sizes: {one_of(policy.rsa_sizes)}); "
            "re-key the board",
        )


_SIGNATURE_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


def check_signature(req: CsrRequest, policy: CsrPolicy) -> None:
    """Proof of possession: the CSR is signed with SHA-2 by the key it carries."""
    try:
        algorithm = req.csr.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if not isinstance(algorithm, _SIGNATURE_HASHES):
        name = algorithm.name if algorithm else req.csr.signature_algorithm_oid.dotted_string
        raise PolicyRejection(
            "csr.signature_algorithm_not_allowed",
            f"CSR signed with {name}; sign it with SHA-256, SHA-384 or SHA-512",
        )
    if not req.csr.is_signature_valid:
        raise PolicyRejection(
            "csr.bad_signature",
            "CSR signature does not verify with its own public key (corrupted in transit, "
            "or the board does not hold the key); request the CSR again",
        )


def check_rsa_hygiene(req: CsrRequest, policy: CsrPolicy) -> None:
    """No ROCA fingerprint, small factors or other known RSA weakness (via badkeys)."""
    if isinstance(req.public_key, rsa.RSAPublicKey):
        numbers = req.public_key.public_numbers()
        found = rsa_weaknesses(numbers.n, numbers.e)
        if found:
            raise PolicyRejection(
                found[0].code,
                f"the RSA key {found[0].description}; the board's key generator is flawed: "
                "update its firmware or use an EC key, and do not retry with this key",
            )


def check_subject(req: CsrRequest, policy: CsrPolicy) -> None:
    """A CSR subject, if any, must name this board (CN = thing name or uid, serialNumber = uid)."""
    board = req.board
    for attribute in req.subject:
        value = attribute.value if isinstance(attribute.value, str) else None
        if attribute.oid == NameOID.COMMON_NAME and value not in (req.thing_name, board.uid):
            raise PolicyRejection(
                "subject.foreign_device",
                f"CSR asks for CN={quoted(value)}, but this board is {quoted(req.thing_name)}; "
                "the CSR belongs to another device, or the board's identity is misconfigured",
            )
        if attribute.oid == NameOID.SERIAL_NUMBER and value != board.uid:
            raise PolicyRejection(
                "subject.foreign_device",
                f"CSR asks for serialNumber={quoted(value)}, but this board's unique id is "
                f"{quoted(board.uid)}; the CSR belongs to another device",
            )


def check_no_ca_request(req: CsrRequest, policy: CsrPolicy) -> None:
    """Requested extensions are never copied; a request for CA powers is refused outright."""
    for extension in req.csr.extensions:
        value = extension.value
        if isinstance(value, x509.BasicConstraints) and value.ca:
            raise PolicyRejection(
                "csr.requests_ca",
                "CSR requests basicConstraints CA:TRUE; device keys never become CAs: "
                "fix the board's CSR template",
            )
        if isinstance(value, x509.KeyUsage) and (value.key_cert_sign or value.crl_sign):
            raise PolicyRejection(
                "csr.requests_ca_usage",
                "CSR requests keyCertSign or cRLSign key usage; device keys never sign "
                "certificates: fix the board's CSR template",
            )


#: The validators, in the order they run.
VALIDATORS: tuple[Validator, ...] = (
    check_key_type,
    check_signature,
    check_rsa_hygiene,
    check_subject,
    check_no_ca_request,
)


def check_csr(
    data: bytes,
    board: ReportedIdentity,
    *,
    policy: CsrPolicy,
    profile: DeviceProfile,
    key_known: KeyLookup,
) -> AcceptedCsr:
    """Run the whole policy on a CSR for ``board``; return what the signer needs."""
    req = parse_csr(data, board, policy, profile)
    for validator in VALIDATORS:
        validator(req, policy)
    fingerprint = spki_sha256(req.public_key)
    if key_known(fingerprint):
        raise PolicyRejection(
            "key.already_issued",
            f"a certificate was already issued for this public key (SPKI SHA-256 {fingerprint}); "
            "every board must generate a fresh key: run KEYGEN again",
        )
    return AcceptedCsr(
        public_key=req.public_key,
        spki_sha256=fingerprint,
        key_label=describe_public_key(req.public_key),
        board=board,
        csr_der=req.der,
        normalised=req.normalised,
    )
