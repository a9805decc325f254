"""`station audit verify-export`: check an export folder against its signed manifest.

The signature (detached CMS over manifest.json, chaining to the given root), then each file's
size, SHA-256 and row count, the event hash chain inside events.jsonl against the window the
manifest states, and the summary's counts against the files. Every mismatch names its file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from station.audit import export_files as ef
from station.audit.chain import event_hash
from station.audit.cms import CmsError, ContentChanged, VerifiedSignature, verify_detached
from station.audit.export import FORMAT, MANIFEST, SIGNATURE
from station.audit.export_files import file_sha256
from station.phrasing import quoted


@dataclass(frozen=True)
class Mismatch:
    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass(frozen=True)
class ExportCheck:
    mismatches: list[Mismatch]
    manifest: dict[str, Any] | None
    signature: VerifiedSignature | None

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify_export(folder: Path, root: x509.Certificate) -> ExportCheck:
    """Every mismatch between ``folder`` and its signed manifest."""
    problems: list[Mismatch] = []
    try:
        manifest_bytes = (folder / MANIFEST).read_bytes()
        p7s = (folder / SIGNATURE).read_bytes()
    except OSError as e:
        name = Path(str(e.filename)).name
        return ExportCheck([Mismatch(name, f"cannot read it ({e.strerror})")], None, None)
    signature = None
    try:
        signature = verify_detached(p7s, manifest_bytes, root)
    except ContentChanged as e:
        problems.append(Mismatch(MANIFEST, str(e)))
    except CmsError as e:
        problems.append(Mismatch(SIGNATURE, f"signature check failed: {e}"))
    try:
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            raise ValueError(
                f"format is {quoted(manifest.get('format'))}, expected {quoted(FORMAT)}"
            )
    except ValueError as e:
        problems.append(Mismatch(MANIFEST, f"not a manifest this station understands: {e}"))
        return ExportCheck(problems, None, signature)
    problems += _check_files(folder, manifest)
    return ExportCheck(problems, manifest, signature)


def _check_files(folder: Path, manifest: dict[str, Any]) -> list[Mismatch]:
    problems: list[Mismatch] = []
    listed = {entry["name"]: entry for entry in manifest.get("files", [])}
    for name in ef.DATA_FILES:
        if name not in listed:
            problems.append(Mismatch(name, "not listed in the manifest"))
    present = {p.name for p in folder.iterdir()}
    for name in sorted(present - set(listed) - {MANIFEST, SIGNATURE}):
        problems.append(Mismatch(name, "not part of the export (not in the manifest)"))
    rows: dict[str, int] = {}
    for name, entry in listed.items():
        path = folder / name
        if name not in present or "/" in name or "\\" in name:
            problems.append(Mismatch(name, "missing"))
            continue
        size, sha = file_sha256(path)
        if size != entry["size"]:
            problems.append(Mismatch(name, f"size {size} bytes, manifest says {entry['size']}"))
        if sha != entry["sha256"]:
            problems.append(Mismatch(name, "SHA-256 differs from the manifest (file changed)"))
        try:
            rows[name] = _count_rows(path)
        except (ValueError, csv.Error) as e:
            problems.append(Mismatch(name, f"cannot be read as {path.suffix[1:]}: {e}"))
            continue
        if rows[name] != entry["rows"]:
            problems.append(Mismatch(name, f"{rows[name]} rows, manifest says {entry['rows']}"))
    if ef.EVENTS in rows:
        problems += _check_chain(folder / ef.EVENTS, manifest.get("window", {}))
    if ef.SUMMARY_JSON in rows:
        problems += _check_summary(folder / ef.SUMMARY_JSON, rows)
    return problems


def _count_rows(path: Path) -> int:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            return max(0, sum(1 for _ in csv.reader(f)) - 1)  # minus the header
    if path.suffix == ".jsonl":
        return sum(1 for _ in _jsonl(path))
    if path.suffix == ".json":
        json.loads(path.read_bytes())
        return 1
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a line is not a JSON object")
            yield obj


def _check_chain(path: Path, window: dict[str, Any]) -> list[Mismatch]:
    prev, seq = window.get("prev_hash"), int(window.get("first_seq") or 0)
    for n, row in enumerate(_jsonl(path), start=1):
        where = f"line {n} (event seq {row.get('seq')})"
        if row.get("seq") != seq:
            return [Mismatch(ef.EVENTS, f"{where}: expected seq {seq}")]
        if row.get("prev_hash") != prev or event_hash(row) != row.get("hash"):
            return [Mismatch(ef.EVENTS, f"{where}: breaks the hash chain (event changed)")]
        prev, seq = row["hash"], seq + 1
    if prev != window.get("last_hash"):
        return [Mismatch(ef.EVENTS, "the chain does not end at the manifest's last_hash")]
    return []


def _check_summary(path: Path, rows: dict[str, int]) -> list[Mismatch]:
    summary = json.loads(path.read_bytes())
    expect = {
        "events": ef.EVENTS,
        "certificates_issued": ef.CERTIFICATES,
        "certificates_revoked": ef.REVOCATIONS,
        "aws_registrations": ef.BULK,
    }
    return [
        Mismatch(ef.SUMMARY_JSON, f"{key} is {summary.get(key)}, {name} has {rows[name]} rows")
        for key, name in expect.items()
        if name in rows and summary.get(key) != rows[name]
    ]
