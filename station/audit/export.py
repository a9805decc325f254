"""Shift-end audit export: data files, summary, a manifest, and its detached CMS signature.

Library only (the `station audit export` command is a thin wrapper). Streams: rows go from a
SQLite cursor straight to the files, so memory does not grow with the number of events. The
export is written to a temporary folder beside ``out_dir`` and renamed into place when complete,
then recorded in the audit database (``exports`` row + EXPORTED event with the manifest hash),
so the next ``--shift current`` export starts right after this one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.audit import export_files as ef
from station.audit.db import AuditDB
from station.audit.export_files import ExportError, Progress, file_sha256
from station.audit.records import EventContext, ExportRecord, parse_timestamp, timestamp
from station.audit.snapshot import AuditSnapshot, Window
from station.audit.summary import ExportSummary, render_text

FORMAT = "station-audit-export/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"


class ManifestSigner(Protocol):
    """What signs the manifest (``station.pki.audit_signer.AuditSigner``)."""

    @property
    def certificate(self) -> x509.Certificate: ...
    @property
    def intermediate(self) -> x509.Certificate: ...
    def sign_detached(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class ExportRequest:
    """Which events to export: ``shift_current`` (after the last export) or a time range."""

    out_dir: Path
    now: datetime
    since: datetime | None = None
    until: datetime | None = None
    shift_current: bool = False


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    record: ExportRecord
    event_seq: int  # the EXPORTED event


def _prepare(out_dir: Path) -> Path:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} exists and is not empty: choose a new folder for the export")
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def _window(snap: AuditSnapshot, req: ExportRequest) -> tuple[Window, datetime | None]:
    """The window and its ``since`` time (None: from the beginning)."""
    if req.shift_current:
        last = snap.last_export()
        if last is None:
            return snap.window_after(0), None
        return snap.window_after(int(last["last_seq"])), parse_timestamp(last["until"])
    return snap.window_between(req.since, req.until), req.since


def export_audit(
    audit: AuditDB,
    req: ExportRequest,
    signer: ManifestSigner,
    ctx: EventContext,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the export to ``req.out_dir`` and record it; see the module docstring."""
    tick: Progress = progress or (lambda n: None)
    tmp = _prepare(req.out_dir)
    try:
        with AuditSnapshot(audit.path) as snap:
            window, since = _window(snap, req)
            prev_hash = snap.hash_at(window.after)
            counts = _write_data(snap, window, prev_hash, tmp, signer, tick, on_total)
            head_seq, head_hash = snap.head_seq, snap.head_hash
        until = req.until or req.now
        summary = {
            "station_id": ctx.station_id,
            "since": timestamp(since) if since else None,
            "until": timestamp(until),
            "first_seq": window.first_seq,
            "last_seq": window.last,
            "certificates_issued": counts["certificates"],
            "certificates_revoked": counts["revocations"],
            "aws_registrations": counts["bulk"],
        }
        body = counts["summary"].as_dict(counts["cycles"], summary)
        _write(tmp / ef.SUMMARY_JSON, json.dumps(body, indent=2, sort_keys=True) + "\n")
        text = render_text(body)
        _write(tmp / ef.SUMMARY_TXT, text)
        rows = {
            ef.EVENTS: counts["events"],
            ef.CERTIFICATES: counts["certificates"],
            ef.REVOCATIONS: counts["revocations"],
            ef.BULK: counts["bulk"],
            ef.SUMMARY_JSON: 1,
            ef.SUMMARY_TXT: text.count("\n"),
        }
        manifest = {
            "format": FORMAT,
            "station_id": ctx.station_id,
            "created_at": timestamp(req.now),
            "window": {
                "since": summary["since"],
                "until": summary["until"],
                "shift": "current" if req.shift_current else None,
                "first_seq": window.first_seq,
                "last_seq": window.last,
                "prev_hash": prev_hash,
                "last_hash": counts["last_hash"],
            },
            "chain": {"head_seq": head_seq, "head_hash": head_hash},
            "files": [_entry(tmp / name, rows[name]) for name in ef.DATA_FILES],
            "signer": {
                "subject": signer.certificate.subject.rfc4514_string(),
                "serial": format(signer.certificate.serial_number, "x"),
            },
        }
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        _write_bytes(tmp / MANIFEST, manifest_bytes)
        _write_bytes(tmp / SIGNATURE, signer.sign_detached(manifest_bytes))
        if req.out_dir.exists():
            req.out_dir.rmdir()  # empty, checked above
        tmp.rename(req.out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest_sha256 = file_sha256(req.out_dir / MANIFEST)[1]
    record = ExportRecord(
        created_at=req.now,
        out_dir=str(req.out_dir.resolve()),
        since=since,
        until=until,
        first_seq=window.first_seq,
        last_seq=window.last,
        head_seq=head_seq,
        head_hash=head_hash,
        manifest_sha256=manifest_sha256,
    )
    seq = audit.record_export(record, ctx)
    return ExportResult(req.out_dir, manifest, manifest_sha256, record, seq)


def _write_data(
    snap: AuditSnapshot,
    window: Window,
    prev_hash: str,
    folder: Path,
    signer: ManifestSigner,
    tick: Progress,
    on_total: Callable[[int], None] | None,
) -> dict[str, Any]:
    if on_total is not None:
        on_total(
            snap.count_events(window) + snap.count_issued(window) + snap.count_revocations(window)
        )
    summary = ExportSummary()

    def add(row: Any) -> None:  # sqlite3.Row: the summary reads its columns by name
        summary.add(row)
        tick(1)

    ca_pem = signer.intermediate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    with _open(folder / ef.EVENTS) as out:
        events, last_hash = ef.write_events(
            out, snap.canonical_events(window), prev_hash, add, snap.defined_canonical
        )
    with _open(folder / ef.CERTIFICATES) as table, _open(folder / ef.BULK) as bulk:
        certificates, registered = ef.write_certificates(
            table, bulk, snap.issued(window), ca_pem, tick
        )
    with _open(folder / ef.REVOCATIONS) as out:
        revocations = ef.write_revocations(out, snap.revocations(window), tick)
    return {
        "events": events,
        "last_hash": last_hash,
        "certificates": certificates,
        "bulk": registered,
        "revocations": revocations,
        "summary": summary,
        "cycles": snap.cycle_times(window),
    }


@contextmanager
def _open(path: Path) -> Iterator[IO[str]]:
    """A UTF-8 text file with \\n line ends on every platform, fsynced when done."""
    with path.open("w", encoding="utf-8", newline="") as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def _write(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _entry(path: Path, rows: int) -> dict[str, Any]:
    size, sha = file_sha256(path)
    return {"name": path.name, "size": size, "sha256": sha, "rows": rows}
