"""`station aws register-ca`: the station intermediate registered with AWS IoT, once.

DEFAULT mode proves to AWS that we hold the CA key: the verification certificate (CN = the
account's registration code) is signed by the intermediate key, file or token. SNI_ONLY mode
needs no proof (devices then connect with SNI and their certificates are registered without a
CA). An intermediate AWS already has is found by its certificate id (the SHA-256 of its DER,
as AWS computes it) and reported, never registered twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.audit import NewEvent
from station.aws.cloud import IotCloud
from station.aws.errors import CaNotRegistered
from station.aws.journal import CA_REGISTERED, PENDING, REGISTER_CA
from station.pki.aws import verification_certificate
from station.pki.keys import CaPrivateKey

DEFAULT = "DEFAULT"
SNI_ONLY = "SNI_ONLY"


def ca_certificate_id(cert: x509.Certificate) -> str:
    """AWS IoT's id for a certificate: the lowercase hex SHA-256 of its DER."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class CaRegistration:
    """The intermediate as AWS IoT knows it."""

    certificate_id: str
    arn: str
    status: str
    mode: str
    already: bool  # found registered, nothing done


def find_ca(
    cloud: IotCloud, intermediate: x509.Certificate, recorded_mode: str | None = None
) -> CaRegistration | None:
    """The intermediate's registration in this account and region, if any. Its mode is what
    AWS says, or else what register-ca recorded (an endpoint may leave certificateMode out)."""
    ca_id = ca_certificate_id(intermediate)
    desc = cloud.ca_description(ca_id)
    if desc is None:
        return None
    return CaRegistration(
        ca_id,
        str(desc.get("certificateArn", "")),
        str(desc.get("status", "")),
        str(desc.get("certificateMode") or recorded_mode or DEFAULT),
        already=True,
    )


def require_ca(
    cloud: IotCloud, intermediate: x509.Certificate, recorded_mode: str | None = None
) -> CaRegistration:
    """The intermediate's registration; CaNotRegistered saying what to run if there is none."""
    found = find_ca(cloud, intermediate, recorded_mode)
    if found is None:
        raise CaNotRegistered(
            f"the station intermediate ({intermediate.subject.rfc4514_string()}, AWS id "
            f"{ca_certificate_id(intermediate)}) is not registered with AWS IoT in this account "
            "and region: run `station aws register-ca` first"
        )
    return found


def register_ca(
    cloud: IotCloud,
    intermediate: x509.Certificate,
    open_key: Callable[[], CaPrivateKey],
    record: Callable[[NewEvent], None],
    *,
    mode: str,
    template: str | None,
    role_arn: str | None = None,
    now: datetime,
    serial: int,
) -> CaRegistration:
    """Register the intermediate ACTIVE (auto-registration on, with the JITP template if
    given) unless AWS already has it; record the step before and after."""
    found = find_ca(cloud, intermediate)
    if found is not None:
        return found
    ca_id = ca_certificate_id(intermediate)
    ca_pem = intermediate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    kwargs: dict[str, Any] = {
        "caCertificate": ca_pem,
        "setAsActive": True,
        "allowAutoRegistration": True,
        "certificateMode": mode,
    }
    if template is not None:
        config = {"templateBody": template}
        kwargs["registrationConfig"] = {**config, "roleArn": role_arn} if role_arn else config
    if mode == DEFAULT:
        code = str(cloud.call("get_registration_code")["registrationCode"])
        proof = verification_certificate(intermediate, open_key(), code, now=now, serial=serial)
        kwargs["verificationCertificate"] = proof.public_bytes(serialization.Encoding.PEM).decode(
            "ascii"
        )
    data = {"step": REGISTER_CA, "certificate_id": ca_id, "mode": mode}
    record(NewEvent(PENDING, code=REGISTER_CA, text="registering the CA", data=data))
    out = cloud.call("register_ca_certificate", **kwargs)
    arn = str(out["certificateArn"])
    done = {**data, "certificate_arn": arn, "jitp_template": template is not None}
    record(NewEvent(CA_REGISTERED, code=REGISTER_CA, text=f"{mode}, ACTIVE", data=done))
    return CaRegistration(str(out.get("certificateId", ca_id)), arn, "ACTIVE", mode, already=False)
