"""Bounded memory of the export, and the strict CMS verifier against every changed byte."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from station.audit import EventContext
from station.audit.cms import CmsError, ContentChanged, verify_detached
from station.audit.export import ExportRequest, export_audit
from station.audit.verify_export import verify_export
from tests.export.helpers import cms_verify
from tests.export.memory_probe import make_signer, measure, seed


@pytest.mark.component  # 120,000 events through a real SQLite file: seconds of CPU
def test_export_memory_does_not_grow_with_the_number_of_events(tmp_path: Path) -> None:
    signer, root = make_signer()
    small, _ = measure(tmp_path, 20_000, signer)
    large, _ = measure(tmp_path, 100_000, signer)
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    for n in (20_000, 100_000):
        assert cms_verify(tmp_path / f"export-{n}", root_pem).returncode == 0
    # Streaming: five times the events, about the same peak (measured: ~150 KiB for both).
    assert large < small * 1.5 + 64 * 1024, (small, large)


@pytest.mark.component  # openssl as a process
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_every_single_byte_change_of_the_signature_is_refused(tmp_path: Path) -> None:
    signer, root = make_signer()
    with seed(tmp_path / "audit.db", 10) as audit:
        request = ExportRequest(tmp_path / "ex", datetime.now(UTC))
        export_audit(audit, request, signer, EventContext("probe"))
    assert verify_export(tmp_path / "ex", root).ok
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    assert cms_verify(tmp_path / "ex", root_pem).returncode == 0
    manifest = (tmp_path / "ex/manifest.json").read_bytes()
    p7s = (tmp_path / "ex/manifest.json.p7s").read_bytes()
    accepted = []
    for i in range(len(p7s)):
        changed = bytearray(p7s)
        changed[i] ^= 0x01
        try:
            verify_detached(bytes(changed), manifest, root)
        except CmsError:
            continue
        accepted.append(i)
    assert accepted == []
    with pytest.raises(ContentChanged):
        verify_detached(p7s, manifest.replace(b"probe", b"prob3"), root)
    with pytest.raises(CmsError, match="not a self-signed root"):
        verify_detached(p7s, manifest, signer.intermediate)  # not the trust anchor
