"""`station factory export`: the fleet's record, signed, checked by openssl and by recomputing
every station's chain from the exported lines."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from station.audit.chain import GENESIS
from station.factory.local_chain import LocalChain
from station.factory.store import Store
from station.factory.sync import sync
from tests.engine.conftest import ENV
from tests.factory.stations import station_db


def test_the_fleet_export_verifies_independently(
    home: Path, store_url: str, new_db: Callable[[str], Path], tmp_path: Path
) -> None:
    with Store.connect(store_url) as store:
        for name, boards in (("st1", 3), ("st2", 2)):
            with LocalChain(station_db(new_db(name), name, boards)) as chain:
                sync(store, chain, name, "L1")
    out = tmp_path / "fleet"
    run = subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "factory", "export",
         "--out", str(out), "--url", store_url],
        env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "exported 25 events of 2 stations" in run.stdout

    verify = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(out / "manifest.json.p7s"), "-content", str(out / "manifest.json"),
         "-CAfile", str(home / "ca" / "root.cert.pem"), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr

    manifest = json.loads((out / "manifest.json").read_text())
    heads = {s["station"]: (s["head_seq"], s["head_hash"]) for s in manifest["stations"]}
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    prev: dict[str, str] = {}
    for line in (out / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        canonical = json.loads(event["canonical"])
        assert hashlib.sha256(event["canonical"].encode()).hexdigest() == event["hash"]
        assert canonical["prev_hash"] == prev.get(event["station"], GENESIS)
        prev[event["station"]] = event["hash"]
    assert {s: (heads[s][1]) for s in heads} == prev
    assert heads["st1"][0] == 15
    with (out / "certificates.csv").open() as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["locked"] * 5
    rerun = subprocess.run(
        [sys.executable, "-m", "station", "--home", str(home), "factory", "export",
         "--out", str(out), "--url", store_url],
        env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert rerun.returncode == 1
    assert "is not empty: give a new folder" in rerun.stderr
