"""AWS IoT Core specifics: the CA verification certificate and the TLS 1.2 and 1.3 cipher lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.phrasing import quoted
from station.pki.ca import issuer_ski, require_key_matches
from station.pki.errors import PkiError
from station.pki.keys import CaPrivateKey
from station.pki.profile import key_usage, signature_hash

#: TLS 1.2 suites of AWS policy IoTSecurityPolicy_TLS12_1_2_2022_10 (OpenSSL names):
#: ECDHE-ECDSA/RSA with AES-128/256 in GCM or CBC, and plain RSA key exchange with AES.
AWS_IOT_TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-RSA-AES128-SHA256",
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-RSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-AES256-SHA384",
        "ECDHE-RSA-AES256-SHA384",
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-RSA-AES256-SHA",
        "AES128-GCM-SHA256",
        "AES128-SHA256",
        "AES128-SHA",
        "AES256-GCM-SHA384",
        "AES256-SHA256",
        "AES256-SHA",
    ]
)

#: TLS 1.3 suites of AWS policy IoTSecurityPolicy_TLS13_1_2_2022_10, AWS IoT's default policy
#: (OpenSSL names, as `openssl s_client -ciphersuites` takes them).
AWS_IOT_TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
)

VERIFICATION_CERT_DAYS = 30


def verification_certificate(
    issuer_cert: x509.Certificate,
    issuer_key: CaPrivateKey,
    registration_code: str,
    *,
    now: datetime,
    serial: int,
) -> x509.Certificate:
    """The certificate AWS IoT asks for when registering a CA in DEFAULT mode.

    CN = the account's registration code, signed by the CA key being registered. Its own key
    pair is throw-away: AWS only checks the issuer's signature, so the private key is not kept.
    """
    code = registration_code.strip()
    # AWS hands out 64 hex digits; a local endpoint (moto) a UUID, with hyphens.
    if not code or len(code) > 64 or not code.replace("-", "").isalnum():
        raise PkiError(
            f"registration code {quoted(registration_code)} does not look like one; copy it from "
            "`aws iot get-registration-code`"
        )
    require_key_matches(issuer_cert, issuer_key.public_key(), "the station intermediate")
    throwaway = ec.generate_private_key(ec.SECP256R1()).public_key()
    start = now.replace(microsecond=0)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]))
        .issuer_name(issuer_cert.subject)
        .public_key(throwaway)
        .serial_number(serial)
        .not_valid_before(start - timedelta(minutes=5))
        .not_valid_after(start + timedelta(days=VERIFICATION_CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(throwaway), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski(issuer_cert)),
            critical=False,
        )
        .sign(issuer_key, signature_hash(issuer_key))
    )
