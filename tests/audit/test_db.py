"""The audit database foundation: pragmas, migrations, durable issuance, hash chain, revocation."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from station.audit import AuditDB, CertificateStatus, EventContext, NewEvent
from station.audit.chain import GENESIS, event_hash
from station.audit.errors import AlreadyRevoked, KeyAlreadyRecorded, UnknownCertificate
from station.audit.migrations import MIGRATIONS

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CTX = EventContext(station_id="line1-st01", operator="op7", slot="3", port="/dev/ttyUSB3")


@dataclass(frozen=True)
class Board:
    uid: str = "board-0001"
    model: str = "sensor"
    firmware: str = "1.2.3"


@dataclass(frozen=True)
class Issued:
    """Shaped like station.pki.signer.IssuedCertificate, as far as the database cares."""

    serial_hex: str
    spki_sha256: str
    board: Board = field(default_factory=Board)
    sha256: str = ""
    subject: str = "CN=board-0001"
    not_before: datetime = T0
    not_after: datetime = T0 + timedelta(days=365)
    pem: str = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", self.sha256 or f"fp-{self.serial_hex}")


@pytest.fixture
def audit(tmp_path: Path) -> AuditDB:
    db = AuditDB.open(tmp_path / "audit.db")
    yield db  # type: ignore[misc]
    db.close()


def test_pragmas_and_migrations(audit: AuditDB, tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "audit.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert audit._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"boards", "certificates", "events", "crls", "schema_migrations"} <= tables
    audit.close()
    again = AuditDB.open(tmp_path / "audit.db")  # reopening applies nothing twice
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_record_issued_commits_certificate_board_and_event(audit: AuditDB, tmp_path: Path) -> None:
    seq = audit.record_issued(Issued("ab01", "k1"), CTX, T0)
    assert seq == 1
    assert audit.key_known("k1")
    assert not audit.key_known("k2")
    # Visible to another connection: committed.
    other = sqlite3.connect(tmp_path / "audit.db")
    row = other.execute("SELECT status, board_uid, spki_sha256 FROM certificates").fetchone()
    assert row == ("issued", "board-0001", "k1")
    board = other.execute("SELECT uid, model, firmware, first_seen FROM boards").fetchone()
    assert board == ("board-0001", "sensor", "1.2.3", "2025-06-01T12:00:00.000000Z")
    event = next(audit.events())
    assert (event["kind"], event["serial"], event["slot"], event["operator"]) == (
        "ISSUED",
        "ab01",
        "3",
        "op7",
    )
    assert '"pem":' in event["data"]
    assert event["prev_hash"] == GENESIS


def test_same_key_twice_is_refused_and_nothing_is_written(audit: AuditDB) -> None:
    audit.record_issued(Issued("ab01", "k1"), CTX, T0)
    with pytest.raises(KeyAlreadyRecorded):
        audit.record_issued(Issued("ab02", "k1", board=Board(uid="board-0002")), CTX, T0)
    assert audit.certificate("ab02") is None
    assert [e["seq"] for e in audit.events()] == [1]
    assert audit._conn.execute("SELECT COUNT(*) FROM boards").fetchone()[0] == 1


def test_events_are_hash_chained_and_append_only(audit: AuditDB) -> None:
    audit.record_event(NewEvent("REJECTED", "b1", code="key.roca", text="ROCA"), CTX, T0)
    audit.record_issued(Issued("ab01", "k1"), CTX, T0)
    audit.record_event(NewEvent("NOTE", data={"ü": [1, 2]}), CTX, T0)
    events = list(audit.events())
    assert [e["seq"] for e in events] == [1, 2, 3]
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    assert all(event_hash(e) == e["hash"] for e in events)
    assert audit.first_broken_event() is None
    for statement in ("UPDATE events SET text = 'x' WHERE seq = 1", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            audit._conn.execute(statement)


def test_tampering_is_found(audit: AuditDB, tmp_path: Path) -> None:
    for n in range(3):
        audit.record_event(NewEvent("NOTE", text=str(n)), CTX, T0)
    conn = sqlite3.connect(tmp_path / "audit.db")
    conn.execute("DROP TRIGGER events_append_only_update")  # what an attacker would do
    conn.execute("UPDATE events SET text = 'forged' WHERE seq = 2")
    conn.commit()
    assert audit.first_broken_event() == 2


def test_canonical_hash_is_stable() -> None:
    """A golden value: changing the canonical form breaks every existing chain."""
    row = {
        "seq": 1,
        "at": "2025-06-01T12:00:00.000000Z",
        "kind": "NOTE",
        "station_id": "s",
        "operator": None,
        "slot": None,
        "port": None,
        "board_uid": None,
        "serial": None,
        "code": None,
        "text": "é",
        "data": "{}",
        "prev_hash": GENESIS,
    }
    import hashlib
    import json

    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event_hash(row) == hashlib.sha256(text.encode()).hexdigest()
    assert '"text":"é"' in text


def test_revoke_and_crl_numbers(audit: AuditDB) -> None:
    audit.record_issued(Issued("ab01", "k1"), CTX, T0)
    audit.record_issued(Issued("ab02", "k2", board=Board(uid="board-0002")), CTX, T0)
    audit.revoke("ab01", "key-compromise", T0 + timedelta(hours=1), CTX)
    row = audit.certificate("ab01")
    assert row is not None
    assert (row.status, row.revocation_reason) == (CertificateStatus.REVOKED, "key-compromise")
    [revoked] = audit.revoked()
    assert (revoked.serial_hex, revoked.reason) == ("ab01", "key-compromise")
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    with pytest.raises(AlreadyRevoked):
        audit.revoke("ab01", "superseded", T0, CTX)
    with pytest.raises(UnknownCertificate):
        audit.revoke("ffff", "superseded", T0, CTX)
    kinds = [e["kind"] for e in audit.events()]
    assert kinds == ["ISSUED", "ISSUED", "REVOKED"]
    assert audit.next_crl_number() == 1
    audit.record_crl(1, T0, T0 + timedelta(days=7), "crlhash", CTX)
    assert audit.next_crl_number() == 2
    assert [e["kind"] for e in audit.events()][-1] == "CRL"


# ---- the fast canonical form is the documented one -------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from station.audit.chain import HASHED_COLUMNS, reference_event_hash  # noqa: E402

_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({c: _VALUES for c in HASHED_COLUMNS}))
def test_fast_event_hash_equals_the_reference(row: dict[str, object]) -> None:
    try:
        expected = reference_event_hash(row)
    except UnicodeEncodeError:  # lone surrogates: neither form can hash them
        return
    assert event_hash(row) == expected


def test_an_issued_certificate_is_checked_for_storability_once(
    audit: AuditDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ISSUED event holds the certificate's PEM: checked before the boards row is written,
    # and not again when the event is appended.
    import station.audit.db as db
    from station.audit.errors import UnstorableEvent

    checked: list[str] = []
    check = db.check_storable

    def counting(event: NewEvent, ctx: EventContext) -> None:
        checked.append(event.kind)
        check(event, ctx)

    monkeypatch.setattr(db, "check_storable", counting)
    audit.record_issued(Issued("ab01", "k1"), CTX, T0)
    assert checked == ["ISSUED"]
    with pytest.raises(UnstorableEvent):  # still refused before anything is written
        audit.record_issued(Issued("ab02", "k2", subject="CN=\udc80"), CTX, T0)
    assert [c.serial for c in audit.board_certificates("board-0001")] == ["ab01"]
    assert audit.first_broken_event() is None
