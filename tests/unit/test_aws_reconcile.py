"""The AWS handoff's pure parts: the journal of cloud steps, the plan a rerun makes from it,
and the reconcile's findings (table-driven, ok/... and fail/...)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from station.aws.journal import FAILED, PENDING, REGISTERED, REVOKED, StepEvent, read_journal
from station.aws.plan import SyncOptions, plan
from station.aws.reconcile import CloudCertificate, CloudSnapshot, reconcile
from station.aws.source import LocalCertificate, LocalState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cert(n: int, state: LocalState = LocalState.ON_BOARD) -> LocalCertificate:
    return LocalCertificate(
        serial=f"{n:02x}",
        board_uid=f"b{n}",
        certificate_id=f"id{n}",
        pem=f"PEM{n}",
        thing_name=f"thing{n}",
        state=state,
        not_before=T0.replace(day=n),
    )


def stored(kind: str, step: str, c: LocalCertificate, arn: str | None = None) -> dict[str, Any]:
    event = StepEvent(step, c.certificate_id, c.serial, c.board_uid, c.thing_name, arn)
    new = event.event(kind)
    return {"kind": new.kind, "code": new.code, "serial": new.serial, "data": json.dumps(new.data)}


def test_ok_journal_done_interrupted_and_failed() -> None:
    a, b, c = cert(1), cert(2), cert(3)
    journal = read_journal(
        [
            stored(PENDING, "register-certificate", a),
            stored(REGISTERED, "register-certificate", a, "arn:cert/id1"),
            stored(PENDING, "register-certificate", b),  # killed here
            stored(PENDING, "revoke", c),
            stored(FAILED, "revoke", c),
        ]
    )
    assert journal.is_done("id1", "register-certificate")
    assert journal.arns == {"id1": "arn:cert/id1"}
    assert journal.interrupted == {("id2", "register-certificate")}
    assert not journal.is_done("id3", "revoke")


def test_ok_plan_skips_done_steps_and_pending_certificates() -> None:
    a, b = cert(1), cert(2)
    retired, pending = cert(3, LocalState.RETIRED), cert(4, LocalState.PENDING)
    journal = read_journal(
        [
            stored(REGISTERED, "register-certificate", a, "arn:cert/id1"),
            stored(REGISTERED, "create-thing", a, "arn:cert/id1"),
            stored(REVOKED, "revoke", retired),
        ]
    )
    tasks = plan([a, b, retired, pending], journal, SyncOptions(policy="P"))
    assert [(t.certificate.serial, t.steps) for t in tasks] == [
        ("01", ("attach-thing-principal", "attach-policy:P")),
        (
            "02",
            ("register-certificate", "create-thing", "attach-thing-principal", "attach-policy:P"),
        ),
    ]


def test_ok_plan_since_leaves_older_certificates() -> None:
    tasks = plan([cert(1), cert(5)], read_journal([]), SyncOptions(since=T0.replace(day=3)))
    assert [t.certificate.serial for t in tasks] == ["05"]


def snapshot(
    certs: dict[str, str], things: dict[str, tuple[str, ...] | None] | None = None
) -> CloudSnapshot:
    return CloudSnapshot(
        {k: CloudCertificate(k, v) for k, v in certs.items()},
        things if things is not None else {"thing1": ("id1",)},
    )


CASES = [
    ("ok/in-sync", [cert(1)], snapshot({"id1": "ACTIVE"}), []),
    (
        "ok/retired-here-revoked-there",
        [cert(1, LocalState.RETIRED)],
        snapshot({"id1": "REVOKED"}, {}),
        [],
    ),
    ("ok/retired-never-registered", [cert(1, LocalState.RETIRED)], snapshot({}, {}), []),
    ("ok/pending-is-not-for-the-cloud", [cert(1, LocalState.PENDING)], snapshot({}, {}), []),
    ("fail/not-in-aws", [cert(1)], snapshot({}), ["not-in-aws"]),
    ("fail/inactive", [cert(1)], snapshot({"id1": "INACTIVE"}), ["not-active-in-aws"]),
    ("fail/revoked-there-only", [cert(1)], snapshot({"id1": "REVOKED"}), ["revoked-in-aws-only"]),
    (
        "fail/revoked-here-only",
        [cert(1, LocalState.RETIRED)],
        snapshot({"id1": "ACTIVE"}, {}),
        ["active-in-aws-only"],
    ),
    (
        "fail/unknown-here",
        [cert(1)],
        snapshot({"id1": "ACTIVE", "id9": "ACTIVE"}),
        ["unknown-here"],
    ),
    (
        "fail/thing-missing",
        [cert(1)],
        snapshot({"id1": "ACTIVE"}, {"thing1": None}),
        ["thing-missing"],
    ),
    (
        "fail/thing-other-certificate",
        [cert(1)],
        snapshot({"id1": "ACTIVE"}, {"thing1": ("id7",)}),
        ["thing-other-certificate"],
    ),
]


@pytest.mark.parametrize(
    ("local", "cloud", "codes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reconcile(local: list[LocalCertificate], cloud: CloudSnapshot, codes: list[str]) -> None:
    findings = reconcile(local, cloud)
    assert [f.code for f in findings] == codes
    for f in findings:
        assert f.what
        assert f.action


def test_ok_unknown_certificates_are_not_judged_in_sni_only_mode() -> None:
    cloud = CloudSnapshot({"id9": CloudCertificate("id9", "ACTIVE")}, {}, under_ca=False)
    assert reconcile([], cloud) == []
