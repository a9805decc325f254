"""The data files of an audit export, written one row at a time. No click, no signing.

Names and columns are part of the export format (README, "Audit export"):

- ``events.jsonl``: every event of the window, one JSON object per line, columns as stored
  (``data`` is the stored JSON text, so anyone can recompute the hash chain).
- ``certificates.csv``: certificates issued in the window, with their status now.
- ``revocations.csv``: certificates revoked in the window (mark them REVOKED in AWS IoT too).
- ``aws-bulk-registration.jsonl``: one line per certificate issued in the window that sits on a
  board (delivered, verified or locked): the parameters of an AWS IoT provisioning template.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from station.audit.certificates import CertificateStatus
from station.audit.errors import AuditError

EVENTS = "events.jsonl"
CERTIFICATES = "certificates.csv"
REVOCATIONS = "revocations.csv"
BULK = "aws-bulk-registration.jsonl"
SUMMARY_JSON = "summary.json"
SUMMARY_TXT = "summary.txt"
DATA_FILES = (EVENTS, CERTIFICATES, REVOCATIONS, BULK, SUMMARY_JSON, SUMMARY_TXT)

CERTIFICATE_COLUMNS = (
    "serial",
    "board_uid",
    "thing_name",
    "status",
    "aws_certificate_id",
    "sha256",
    "subject",
    "not_before",
    "not_after",
    "issued_at",
    "superseded_by",
    "revoked_at",
    "revocation_reason",
)
REVOCATION_COLUMNS = (
    "serial",
    "board_uid",
    "thing_name",
    "aws_certificate_id",
    "revoked_at",
    "reason",
    "superseded_by",
)

Progress = Callable[[int], None]


class ExportError(AuditError):
    """The export cannot be written, or the database disagrees with itself."""


def jsonl_line(obj: Mapping[str, Any]) -> str:
    """One line of a JSONL file: compact, keys sorted, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _der(pem: str) -> bytes:
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    return base64.b64decode(body, validate=True)


def _thing_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def aws_certificate_id(der: bytes) -> str:
    """AWS IoT's certificateId: the lower-case hex SHA-256 of the certificate's DER."""
    return hashlib.sha256(der).hexdigest()


def write_events(
    out: IO[str],
    rows: Iterable[Any],
    prev_hash: str,
    add: Callable[..., None],
    defined: Callable[[int], str],
) -> tuple[int, str]:
    """Write events, checking each hash and link on the way; return (rows, last hash).

    Each row is indexable: ``seq, prev_hash, hash`` first and the event's canonical form
    (what its hash covers) last, or None; where that is None or misses the hash, ``defined``
    gives the canonical form by the definition. Each line is the canonical form with ``hash``
    added last, so one JSON encoding serves both the check and the file.
    """
    n, prev = 0, prev_hash
    sha256 = hashlib.sha256
    try:
        for row in rows:
            seq, link, h, text = row[0], row[1], row[2], row[-1]
            if text is None or sha256(text.encode()).hexdigest() != h:
                text = defined(seq)
                if sha256(text.encode()).hexdigest() != h:
                    link = None
            if link != prev:
                raise _broken(seq)
            out.write(f'{text[:-1]},"hash":"{h}"}}\n')
            add(row)
            prev, n = h, n + 1
    except sqlite3.OperationalError as e:  # a value with no JSON form (a BLOB)
        raise _broken(None) from e
    except (TypeError, ValueError) as e:  # the same, found by the definition
        raise _broken(seq) from e
    return n, prev


def _broken(seq: int | None) -> ExportError:
    where = "an audit event" if seq is None else f"audit event seq {seq}"
    return ExportError(
        f"{where} breaks the hash chain; nothing was exported. "
        "Run `station audit verify` and report the database to whoever audits this line"
    )


def write_certificates(
    table: IO[str], bulk: IO[str], rows: Iterable[dict[str, Any]], ca_pem: str, tick: Progress
) -> tuple[int, int]:
    """certificates.csv and aws-bulk-registration.jsonl in one pass; return their row counts."""
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(CERTIFICATE_COLUMNS)
    n = registered = 0
    for row in rows:
        der = _der(row["pem"])
        aws_id = aws_certificate_id(der)
        if aws_id != row["sha256"]:
            raise ExportError(
                f"certificate {row['serial']}: its PEM does not match its recorded fingerprint; "
                "run `station audit verify`"
            )
        cert = x509.load_der_x509_certificate(der)
        thing = _thing_name(cert)
        record = {**row, "thing_name": thing, "aws_certificate_id": aws_id}
        writer.writerow([record.get(c) or "" for c in CERTIFICATE_COLUMNS])
        if CertificateStatus(row["status"]).on_board:  # registered with AWS IoT
            params = {
                "ThingName": thing,
                "SerialNumber": row["board_uid"],
                "CertificatePem": row["pem"],
                "CACertificatePem": ca_pem,
            }
            bulk.write(jsonl_line(params))
            registered += 1
        n += 1
        tick(1)
    return n, registered


def write_revocations(out: IO[str], rows: Iterable[dict[str, Any]], tick: Progress) -> int:
    """revocations.csv; return its row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVOCATION_COLUMNS)
    n = 0
    for row in rows:
        der = _der(row["pem"])
        cert = x509.load_der_x509_certificate(der)
        writer.writerow(
            [
                row["serial"],
                row["board_uid"],
                _thing_name(cert),
                aws_certificate_id(der),
                row["revoked_at"] or "",
                row["revocation_reason"] or "",
                row["superseded_by"] or "",
            ]
        )
        n += 1
        tick(1)
    return n


def file_sha256(path: Path) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
