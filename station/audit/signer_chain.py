"""The chain of an export's signer, validated by `cryptography.x509.verification`. Pure.

RFC 5280 path validation is cryptography's (path building from the certificates the signature
carries to the given root, the WebPKI CA profile: basicConstraints CA:TRUE critical, keyUsage
keyCertSign, pathLenConstraint, permitted algorithms, each certificate valid at the signing
time). What stays ours is specific to a CMS document signer: its own profile (not a CA, a
signing key usage, an EKU for signing documents), a self-signed trust anchor, and no
certificate in the signature that the chain does not use.

cryptography says what failed, not always on which certificate; when it refuses, each CA
certificate is checked again on its own, nearest the root first, so the reason names it.
"""

from __future__ import annotations

import re
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    ClientVerifier,
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from station.audit.errors import AuditError

SIGNER_EKUS = {ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")}
CA_EKUS = SIGNER_EKUS | {ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
MAX_INTERMEDIATES = 4


class SignerChainError(AuditError):
    """The signer certificate, or a certificate above it, does not make a valid chain."""


def _not_a_ca(_: Policy, cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is not None and bc.ca:
        raise ValueError("a CA certificate cannot sign documents (basicConstraints CA:TRUE)")


def _signing_usage(_: Policy, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        raise ValueError("keyUsage allows neither digitalSignature nor nonRepudiation")


def _document_eku(_: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage) -> None:
    if not SIGNER_EKUS & set(eku):
        raise ValueError("not for signing documents (extendedKeyUsage)")


def _ca_purpose(_: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    if eku is not None and not CA_EKUS & set(eku):
        raise ValueError("its extendedKeyUsage limits it to other purposes than signing documents")


#: A CA above the signer: the WebPKI CA profile, except that a CA limited by extendedKeyUsage
#: must allow signing documents (the default would ask for the verifier's TLS purpose).
CA_POLICY = ExtensionPolicy.webpki_defaults_ca().may_be_present(
    x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _ca_purpose
)

#: The audit-signing certificate: not a TLS client, so its own profile, not the WebPKI one.
SIGNER_POLICY = (
    ExtensionPolicy.permit_all()
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _not_a_ca)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _signing_usage)
    .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _document_eku)
)


def _verifier(root: x509.Certificate, at: datetime, leaf: ExtensionPolicy) -> ClientVerifier:
    return (
        PolicyBuilder()
        .store(Store([root]))
        .time(at)
        .max_chain_depth(MAX_INTERMEDIATES)
        .extension_policies(ca_policy=CA_POLICY, ee_policy=leaf)
        .build_client_verifier()
    )


def verify_signer_chain(
    signer: x509.Certificate,
    carried: list[x509.Certificate],
    root: x509.Certificate,
    at: datetime,
) -> tuple[x509.Certificate, ...]:
    """signer -> intermediates among ``carried`` -> ``root``, valid at ``at``; every carried
    certificate used. Raises :class:`SignerChainError` naming the certificate that is wrong."""
    if root.issuer != root.subject or not _issued_by(root, root):
        raise SignerChainError(
            f"the trust anchor {_name(root)} is not a self-signed root; give the root CA "
            "certificate"
        )
    others = [c for c in carried if c != signer]
    try:
        chain = tuple(_verifier(root, at, SIGNER_POLICY).verify(signer, others).chain)
    except VerificationError as e:
        raise SignerChainError(_explain(signer, others, root, at, e)) from e
    if any(c not in chain for c in carried):
        raise SignerChainError("the signature carries a certificate outside its chain")
    return chain


def _explain(
    signer: x509.Certificate,
    others: list[x509.Certificate],
    root: x509.Certificate,
    at: datetime,
    error: VerificationError,
) -> str:
    """Why the chain was refused, naming the certificate at fault."""
    path, top = _issuers(signer, others, root)
    if top is not None:
        return f"{_name(top)} does not chain to the root {_name(root)}"
    for cert in (root, *path, signer):
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return _not_valid(cert, at)
    as_ca = _verifier(root, at, CA_POLICY)
    for n, ca in enumerate([root, *path]):  # nearest the root first: its issuers are known good
        try:
            as_ca.verify(ca, path[: max(n - 1, 0)])
        except VerificationError as e:
            return _path_length(root, path) or _fault(ca, e)
    return _path_length(root, path) or _fault(signer, error)


def _issuers(
    signer: x509.Certificate, others: list[x509.Certificate], root: x509.Certificate
) -> tuple[list[x509.Certificate], x509.Certificate | None]:
    """The carried CA certificates from the one under the root down to the signer's issuer,
    and None; or, when the path breaks, the certificate whose issuer is missing."""
    path: list[x509.Certificate] = []
    current = signer
    while not _issued_by(current, root):
        issuer = next((c for c in others if c not in path and _issued_by(current, c)), None)
        if issuer is None or len(path) > MAX_INTERMEDIATES:
            return path, current
        path.insert(0, issuer)
        current = issuer
    return path, None


def _path_length(root: x509.Certificate, path: list[x509.Certificate]) -> str | None:
    """The CA below a CA whose pathLenConstraint it breaks (RFC 5280 6.1.4 (l), (m))."""
    chain = [root, *path]
    for n, ca in enumerate(chain):
        try:
            limit = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
        except x509.ExtensionNotFound:
            continue
        below = [c for c in chain[n + 1 :] if c.subject != c.issuer]  # self-issued don't count
        if limit is not None and len(below) > limit:
            allowed = "no CA" if limit == 0 else f"at most {limit} CA certificate(s)"
            return (
                f"{_name(below[limit])} is a CA below {_name(ca)}, whose pathLenConstraint "
                f"{limit} allows {allowed} below it"
            )
    return None


def _fault(cert: x509.Certificate, error: VerificationError) -> str:
    """cryptography's reason, without its framing, said of ``cert``."""
    text = re.sub(r" \(encountered processing <Certificate.*\)$", "", str(error), flags=re.S)
    text = re.sub(r"^(validation failed: )?(candidates exhausted: )?", "", text)
    text = re.sub(r"^Python extension validator failed: \w+: ", "", text)
    return f"{_name(cert)}: {text}"


def _not_valid(cert: x509.Certificate, at: datetime) -> str:
    return (
        f"{_name(cert)} was not valid at the signing time {at.isoformat(timespec='seconds')} "
        f"(valid from {cert.not_valid_before_utc.isoformat()} "
        f"to {cert.not_valid_after_utc.isoformat()})"
    )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()
