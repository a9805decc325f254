"""The end-of-shift export from the operator's screen: the signed audit export of the shift.

Headless (no Textual): `station tui` builds it before the screen starts, so every passphrase is
asked on the terminal first; the app calls :meth:`AuditShiftExporter.export` from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from station.audit import AuditDB, EventContext
from station.audit.export import ExportRequest, ManifestSigner, export_audit
from station.line.shift import ShiftSummary


@dataclass(frozen=True)
class AuditShiftExporter:
    """Exports every event since the previous export into a new folder under ``folder``."""

    audit: AuditDB
    signer: ManifestSigner
    folder: Path
    station_id: str

    def export(self, summary: ShiftSummary) -> str:
        out = self.folder / f"{self.station_id}-{summary.ended:%Y%m%d-%H%M%S}"
        out.parent.mkdir(parents=True, exist_ok=True)
        request = ExportRequest(out, summary.ended, shift_current=True)
        context = EventContext(station_id=self.station_id, operator=summary.operator)
        result = export_audit(self.audit, request, self.signer, context)
        rows = {f["name"]: f["rows"] for f in result.manifest["files"]}
        return (
            f"Shift exported to {result.out_dir}: {rows['events.jsonl']} events, "
            f"{rows['certificates.csv']} certificates, signed (manifest.json.p7s)"
        )
