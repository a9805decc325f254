"""`station aws reconcile`: the audit database against the cloud, each difference with what to
do. Pure: :func:`reconcile` takes what the station knows and a snapshot of the cloud (read by
:func:`station.aws.snapshot.read_snapshot`) and returns findings; it never changes anything.

Each finding has a stable code, like the CSR policy's rejections:

| code | meaning |
| --- | --- |
| ``not-in-aws`` | on a board here, unknown to AWS IoT |
| ``not-active-in-aws`` | on a board here, INACTIVE (or pending) in AWS IoT |
| ``revoked-in-aws-only`` | on a board here, REVOKED in AWS IoT |
| ``active-in-aws-only`` | revoked or superseded here, still ACTIVE in AWS IoT |
| ``unknown-here`` | in AWS IoT under this station's CA, not in this database |
| ``thing-missing`` | the certificate's thing does not exist |
| ``thing-other-certificate`` | the thing exists without this certificate attached |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from station.aws.source import LocalCertificate, LocalState


@dataclass(frozen=True)
class CloudCertificate:
    certificate_id: str
    status: str  # ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, ...
    arn: str = ""


@dataclass(frozen=True)
class CloudSnapshot:
    """What AWS IoT holds: certificates (under our CA, or all in SNI_ONLY setups) and, for each
    thing asked about, the certificate ids attached to it (None: no such thing)."""

    certificates: Mapping[str, CloudCertificate]
    things: Mapping[str, tuple[str, ...] | None]
    under_ca: bool = True  # False: certificates are the whole account's (SNI_ONLY)


@dataclass(frozen=True)
class Finding:
    code: str
    certificate_id: str
    serial: str | None
    board_uid: str | None
    thing_name: str | None
    what: str
    action: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finding(code: str, cert: LocalCertificate, what: str, action: str) -> Finding:
    return Finding(
        code, cert.certificate_id, cert.serial, cert.board_uid, cert.thing_name, what, action
    )


def _on_board(cert: LocalCertificate, cloud: CloudSnapshot) -> Iterable[Finding]:
    there = cloud.certificates.get(cert.certificate_id)
    if there is None:
        yield _finding(
            "not-in-aws",
            cert,
            "on a board here, unknown to AWS IoT",
            "run `station aws sync`; if the audit already records it registered, it was "
            "deleted in AWS since: register it by hand (`aws iot register-certificate`)",
        )
        return
    if there.status == "REVOKED":
        yield _finding(
            "revoked-in-aws-only",
            cert,
            "on a board here, REVOKED in AWS IoT",
            "AWS cannot reactivate it: if the revocation was meant, revoke it here too "
            f"(`station revoke {cert.serial} --reason key-compromise`) and re-provision the "
            "board (`station rotate`); otherwise find who revoked it",
        )
        return
    if there.status != "ACTIVE":
        yield _finding(
            "not-active-in-aws",
            cert,
            f"on a board here, {there.status} in AWS IoT",
            f"activate it: `aws iot update-certificate --certificate-id {cert.certificate_id} "
            "--new-status ACTIVE`",
        )
    attached = cloud.things.get(cert.thing_name)
    if cert.thing_name in cloud.things and attached is None:
        yield _finding(
            "thing-missing",
            cert,
            f"thing {cert.thing_name} does not exist",
            f"run `station aws sync` if it is not registered yet; otherwise the thing was "
            f"deleted in AWS: `aws iot create-thing --thing-name {cert.thing_name}` and "
            "`aws iot attach-thing-principal`",
        )
    elif attached is not None and cert.certificate_id not in attached:
        others = ", ".join(attached) or "none"
        yield _finding(
            "thing-other-certificate",
            cert,
            f"thing {cert.thing_name} is attached to other certificates ({others}), not this one",
            f"attach it (`aws iot attach-thing-principal --thing-name {cert.thing_name} "
            "--principal ARN`) and detach the others if they are retired "
            "(`aws iot detach-thing-principal`)",
        )


def reconcile(local: Iterable[LocalCertificate], cloud: CloudSnapshot) -> list[Finding]:
    """Every difference between the station's certificates and the cloud, with what to do."""
    findings: list[Finding] = []
    known: set[str] = set()
    for cert in local:
        known.add(cert.certificate_id)
        if cert.state is LocalState.ON_BOARD:
            findings.extend(_on_board(cert, cloud))
        elif cert.state is LocalState.RETIRED:
            there = cloud.certificates.get(cert.certificate_id)
            if there is not None and there.status == "ACTIVE":
                findings.append(
                    _finding(
                        "active-in-aws-only",
                        cert,
                        "revoked or superseded here, ACTIVE in AWS IoT",
                        "run `station aws sync` (it marks it REVOKED)",
                    )
                )
    if cloud.under_ca:
        for cert_id, there in sorted(cloud.certificates.items()):
            if cert_id not in known:
                findings.append(
                    Finding(
                        "unknown-here",
                        cert_id,
                        None,
                        None,
                        None,
                        f"{there.status} in AWS IoT under this station's CA, not in this database",
                        "find which station or database issued it; if none did, revoke it in AWS "
                        f"(`aws iot update-certificate --certificate-id {cert_id} "
                        "--new-status REVOKED`)",
                    )
                )
    return findings
