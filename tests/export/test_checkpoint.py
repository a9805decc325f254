"""`station audit verify --from-checkpoint`: only the events after an export's signed head, on
a real home, real exports and a real database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from station.bench.seed import seed
from tests.audit.seeded import event, tamper, template
from tests.export.helpers import station as run

BEFORE, AFTER = 30, 12  # boards before and after the checkpoint


@pytest.fixture
def checkpointed(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """BEFORE boards, an export (the checkpoint), then AFTER boards; (home, export folder)."""
    cert = template()
    seed(home / "audit.db", cert, BEFORE, "line-7")
    out = tmp_path / "export"
    done = run(home, "audit", "export", "--out", out, "--shift", "current")
    assert done.returncode == 0, done.stderr
    seed(home / "audit.db", cert, AFTER, "line-7", first=BEFORE)
    return home, out


def verify(home: Path, *args: str | Path) -> tuple[int, dict[str, object] | None, str]:
    done = run(home, "audit", "verify", "--from-checkpoint", *args, "--json")
    report = json.loads(done.stdout) if done.stdout else None
    return done.returncode, report, done.stderr


def head_of(folder: Path) -> tuple[int, str]:
    chain = json.loads((folder / "manifest.json").read_text())["chain"]
    return chain["head_seq"], chain["head_hash"]


def test_only_the_events_after_the_checkpoint_are_walked(checkpointed: tuple[Path, Path]) -> None:
    home, out = checkpointed
    code, report, _ = verify(home)
    assert code == 0
    assert report is not None
    seq, head = head_of(out)
    assert report["checkpoint"] == {  # the newest export of the home, by default
        **report["checkpoint"],  # type: ignore[dict-item]
        "folder": str(out.resolve()),
        "seq": seq,
        "hash": head,
    }
    assert report["events"] == 1 + AFTER * 5  # the export's own EXPORTED event, then the boards
    assert report["findings"] == []
    done = run(home, "audit", "verify", "--from-checkpoint", out)  # a path, and plain text
    assert done.returncode == 0
    assert done.stdout.startswith(f"OK from checkpoint event {seq} ")


@pytest.mark.parametrize("where", ["first-after", "last"])
@pytest.mark.parametrize("how", ["update", "delete"])
def test_tampering_after_the_checkpoint_is_named(
    checkpointed: tuple[Path, Path], where: str, how: str
) -> None:
    home, out = checkpointed
    seq, _ = head_of(out)
    last = seq + 1 + AFTER * 5
    k = seq + 1 if where == "first-after" else last - 1
    if how == "update":
        tamper(home / "audit.db", ("UPDATE events SET text = 'x' WHERE seq = ?", (k,)))
        named = k
    else:
        tamper(home / "audit.db", ("DELETE FROM events WHERE seq = ?", (k,)))
        named = k + 1
    code, report, _ = verify(home)
    assert code == 1
    assert report is not None
    assert report["findings"][0] == (  # type: ignore[index]
        f"events: event seq {named}: hash chain broken here (row changed, removed or reordered)"
    )


def test_a_changed_certificate_record_after_the_checkpoint_is_named(
    checkpointed: tuple[Path, Path],
) -> None:
    home, out = checkpointed
    serial = event(home / "audit.db", head_of(out)[0] + 3)["serial"]
    tamper(
        home / "audit.db", ("UPDATE certificates SET status = 'issued' WHERE serial = ?", (serial,))
    )
    code, report, _ = verify(home)
    assert code == 1
    assert report is not None
    assert report["findings"] == [
        f'certificates: certificate {serial}: status "issued" but the events say "locked"'
    ]


def test_the_checkpoint_event_itself_must_still_hash_to_the_signed_hash(
    checkpointed: tuple[Path, Path],
) -> None:
    home, out = checkpointed
    seq, _ = head_of(out)
    tamper(home / "audit.db", ("UPDATE events SET operator = 'mallory' WHERE seq = ?", (seq,)))
    code, report, _ = verify(home)
    assert code == 1
    assert report is not None
    findings = report["findings"]
    assert isinstance(findings, list)
    (finding,) = findings
    assert finding.startswith(f"events: event seq {seq}: does not hash to the checkpoint's")
    assert "run a full `station audit verify`" in finding


def test_a_change_before_the_checkpoint_is_left_to_the_full_verify(
    checkpointed: tuple[Path, Path],
) -> None:
    home, _ = checkpointed
    tamper(home / "audit.db", "UPDATE events SET operator = 'mallory' WHERE seq = 5")
    assert verify(home)[0] == 0  # not what this mode looks for (help and README say so)
    full = run(home, "audit", "verify")
    assert full.returncode == 1
    assert "BAD events: event seq 5: hash chain broken here" in full.stdout


def test_no_checkpoint_says_what_to_do(home: Path, tmp_path: Path) -> None:
    seed(home / "audit.db", template(), 3, "line-7")
    code, report, stderr = verify(home)
    assert (code, report) == (2, None)
    assert "no signed checkpoint" in stderr
    assert "no export was ever made" in stderr
    assert "`station audit export`" in stderr
    assert "full `station audit verify`" in stderr
    assert "Traceback" not in stderr


def test_a_moved_export_is_no_checkpoint(checkpointed: tuple[Path, Path], tmp_path: Path) -> None:
    home, out = checkpointed
    moved = tmp_path / "moved"
    shutil.move(out, moved)
    code, _, stderr = verify(home)
    assert code == 2
    assert "none of the 1 recorded export folders is there any more" in stderr
    assert verify(home, moved)[0] == 0  # given by path, it still serves


def test_a_forged_checkpoint_is_refused(checkpointed: tuple[Path, Path]) -> None:
    home, out = checkpointed
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["chain"]["head_seq"] += 3  # skip three events past the check
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    code, report, stderr = verify(home)
    assert (code, report) == (1, None)
    assert f"checkpoint {out.resolve()}: its signature does not verify" in stderr
    assert "cannot be trusted" in stderr


def test_an_unsigned_checkpoint_is_refused(checkpointed: tuple[Path, Path]) -> None:
    home, out = checkpointed
    (out / "manifest.json.p7s").unlink()
    code, _, stderr = verify(home, out)
    assert code == 1
    assert "cannot read manifest.json.p7s" in stderr


def test_a_checkpoint_signed_by_another_station_key_is_refused(
    checkpointed: tuple[Path, Path], tmp_path: Path
) -> None:
    home, _ = checkpointed
    other = tmp_path / "other"
    assert run(other, "init", "--org", "Other", "--station-id", "line-7").returncode == 0
    theirs = tmp_path / "theirs"
    assert run(other, "audit", "export", "--out", theirs).returncode == 0
    code, _, stderr = verify(home, theirs)
    assert code == 1
    assert "its signature does not verify against the station's root" in stderr
    assert "does not chain to the root" in stderr


def test_the_help_says_what_this_mode_does_not_look_for(home: Path) -> None:
    text = " ".join(run(home, "audit", "verify", "--help").stdout.split())
    assert "A change to an event before the checkpoint is not what this looks for" in text
