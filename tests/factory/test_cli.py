"""`station factory ...` as a process, against a real PostgreSQL, on a real station home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from station.config import load_config
from station.factory.local_chain import LocalChain
from station.home import StationHome
from tests.factory.stations import station_db
from tests.factory.tamper import rewrite


def station(home: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STATION_HOME": str(home)}
    if url:
        env["STATION_FACTORY_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def with_factory(home: Path, url: str, reserve: str = "required") -> Path:
    with (home / "station.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[factory]\nurl = "{url}"\nline = "L7"\nreserve = "{reserve}"\n')
    return load_config(StationHome(home)).home.audit_db


def test_sync_verify_find_and_divergence(home: Path, store_url: str) -> None:
    db = with_factory(home, store_url)
    with LocalChain(db) as chain:
        before = chain.head()[0]  # `station init` records its own events
    station_db(db, "line-7", 12)
    total = before + 60
    first = station(home, "factory", "sync", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["pushed"] == total
    again = station(home, "factory", "sync")
    assert again.returncode == 0
    assert f"pushed 0 events; the store holds up to seq {total}" in again.stdout

    verified = station(home, "factory", "verify")
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.strip() == f"OK line-7: {total} events, chain intact"
    found = station(home, "factory", "find", "line-7-B00003", "--json")
    assert found.returncode == 0
    record = json.loads(found.stdout)
    assert [c["status"] for c in record["certificates"]] == ["locked"]
    assert [e["kind"] for e in record["events"]] == [
        "STARTED", "ISSUED", "DELIVERED", "VERIFIED", "LOCKED"
    ]  # fmt: skip
    assert station(home, "factory", "find", "NO-SUCH-BOARD").returncode == 1
    clean = station(home, "factory", "conflicts")
    assert (clean.returncode, clean.stdout.strip()) == (0, "no conflicts")

    rewrite(db, 23, "edited")
    diverged = station(home, "factory", "sync")
    assert diverged.returncode == 1
    assert "DIVERGED at seq 23" in diverged.stdout
    assert "call the supervisor" in diverged.stdout
    status = station(home, "factory", "status", "--json")
    assert json.loads(status.stdout)["diverged_seq"] == 23
    check = station(home, "factory", "verify")
    assert check.returncode == 1
    assert "DIVERGED line-7 at seq 23" in check.stdout
    resolved = station(home, "factory", "resolve", "line-7", "--note", "restored from backup")
    assert resolved.returncode == 0, resolved.stderr
    assert f"{total - 22} stored events set aside" in resolved.stdout
    assert "its next sync pushes from seq 23" in resolved.stdout
    assert station(home, "factory", "sync").returncode == 0
    assert station(home, "factory", "verify").returncode == 0


def test_without_a_store_the_commands_say_what_to_set(home: Path, tmp_path: Path) -> None:
    unset = station(home, "factory", "sync")
    assert unset.returncode == 2
    assert "no factory store: set [factory] url in" in unset.stderr
    secret = station(home, "factory", "status", url="postgresql://u:hunter2@h/db")
    assert secret.returncode == 2
    assert "PGPASSWORD" in secret.stderr
    assert "hunter2" not in secret.stderr
    down = station(home, "factory", "conflicts", url=f"postgresql:///x?host={tmp_path}")
    assert down.returncode == 1
    assert "cannot reach the factory store x on" in down.stderr
    assert "PGPASSWORD or ~/.pgpass" in down.stderr


def test_report_as_text_and_json(home: Path, store_url: str) -> None:
    station_db(with_factory(home, store_url), "line-7", 3)
    assert station(home, "factory", "sync").returncode == 0
    window = ("--since", "2026-03-01T00:00Z", "--until", "2026-03-02T00:00Z")
    text = station(home, "factory", "report", *window)
    assert text.returncode == 0, text.stderr
    assert "line      L7                   passed      3  failed     0  yield 100.0%" in text.stdout
    figures = json.loads(station(home, "factory", "report", *window, "--json").stdout)
    assert figures["by_station"] == [
        {"line": "L7", "station_id": "line-7", "passed": 3, "failed": 0, "yield": 1.0}
    ]
    bad = station(home, "factory", "report", "--since", "yesterday")
    assert bad.returncode == 2
    assert "is not an ISO 8601 time" in bad.stderr
