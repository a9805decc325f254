"""`station factory export`: the fleet's record for the auditor, signed.

Files (each written whole, then renamed into place; the manifest and its signature last):

- ``events.jsonl``: every stored event, one line each: station, seq, hash and the canonical
  text the station hashed (so every chain can be recomputed: SHA-256 of ``canonical`` is
  ``hash``, and its ``prev_hash`` is the previous line's ``hash``);
- ``certificates.csv``: every certificate with station, board, status and AWS certificate id;
- ``conflicts.csv``: every conflict, resolved or not;
- ``manifest.json``: each file's size, SHA-256 and rows, and every station's head (seq, hash,
  diverged); ``manifest.json.p7s``: a detached CMS signature by the audit-signing certificate.

Events are streamed from a server-side cursor: memory stays flat whatever the fleet's size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography import x509

from station.audit.export_files import file_sha256
from station.factory.errors import FactoryError
from station.factory.store import Store


class ManifestSigner(Protocol):
    @property
    def certificate(self) -> x509.Certificate: ...
    def sign_detached(self, data: bytes) -> bytes: ...


_CERT_COLUMNS = ("station", "serial", "board", "status", "aws_certificate_id", "spki_sha256",
                 "not_before", "not_after")  # fmt: skip
_CONFLICT_COLUMNS = ("id", "kind", "found_by", "found_at", "spki_sha256", "board", "first_station",
                     "first_board", "first_serial", "second_station", "second_board",
                     "second_serial", "resolved_at")  # fmt: skip


@contextmanager
def _atomic(path: Path) -> Iterator[IO[str]]:
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as out:
        yield out
    part.rename(path)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_fleet(
    store: Store, out_dir: Path, signer: ManifestSigner, now: datetime
) -> dict[str, Any]:
    """Write the fleet export into ``out_dir`` (new or empty); return the manifest."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FactoryError(f"{out_dir} is not empty: give a new folder for the export")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with store.conn.transaction():  # one snapshot for every file; a named cursor streams
        heads = store.rows(
            "SELECT station_id, line, head_seq, head_hash, diverged_seq FROM stations "
            "ORDER BY station_id"
        )
        with _atomic(out_dir / "events.jsonl") as out, store.conn.cursor(name="fleet") as cur:
            cur.itersize = 5000
            cur.execute("SELECT station_id, seq, hash, canonical FROM events "
                        "ORDER BY station_id, seq")  # fmt: skip
            n = 0
            for station, seq, digest, canonical in cur:
                line = {"station": station, "seq": seq, "hash": digest, "canonical": canonical}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                n += 1
            rows["events.jsonl"] = n
        certs = store.rows(
            "SELECT station_id, serial, board_uid, status, sha256, spki_sha256, not_before, "
            "not_after FROM certificates ORDER BY station_id, issued_seq"
        )
        conflicts = store.rows(
            "SELECT id, kind, found_by, found_at, spki_sha256, board_uid, first_station, "
            "first_board, first_serial, second_station, second_board, second_serial, "
            "resolved_at FROM conflicts ORDER BY id"
        )
    for name, columns, table in (
        ("certificates.csv", _CERT_COLUMNS, certs),
        ("conflicts.csv", _CONFLICT_COLUMNS, conflicts),
    ):
        with _atomic(out_dir / name) as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_plain(v) for v in row] for row in table)
        rows[name] = len(table)
    files = []
    for name, count in rows.items():
        size, digest = file_sha256(out_dir / name)
        files.append({"name": name, "size": size, "sha256": digest, "rows": count})
    manifest = {
        "kind": "factory-export",
        "created_at": now.isoformat(),
        "signer": signer.certificate.subject.rfc4514_string(),
        "files": files,
        "stations": [
            {"station": s, "line": line, "head_seq": seq, "head_hash": h, "diverged_seq": d}
            for s, line, seq, h, d in heads
        ],
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (out_dir / "manifest.json").write_bytes(data)
    (out_dir / "manifest.json.p7s").write_bytes(signer.sign_detached(data))
    return manifest
