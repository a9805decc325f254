"""The reservation in the cycle's durability order: the station SIGKILLed after the store
reserved the key and before anything was signed loses nothing, and a rerun completes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from fixtures.board import BoardServer
from tests.engine.conftest import ENV

#: The advisory lock every reservation takes in the store (migrations/0002_derive.sql).
STORE_LOCK = 7215150001


def station(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "station", "--home", str(home), *args]


def wait_for(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)  # polling another process's state, with a deadline


def test_sigkill_between_reservation_and_signing(
    home: Path, store_url: str, make_board: Callable[..., BoardServer]
) -> None:
    with (home / "station.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[factory]\nurl = "{store_url}"\nline = "L7"\nreserve = "required"\n')
    board = make_board()
    provision = station(home, "provision", "--operator", "op-9", "--port", board.url)
    with psycopg.connect(store_url, autocommit=True) as holder:
        # Hold the store's reservation lock: the station's reservation waits inside the server.
        holder.execute("SELECT pg_advisory_lock(%s)", (STORE_LOCK,))
        proc = subprocess.Popen(provision, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(
                "the station's reservation waits in the store",
                lambda: (
                    holder.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%%factory_reserve%%'"
                    ).fetchone()
                    == (1,)
                ),
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        # Let the orphaned request finish in the store: the key is reserved, nothing signed.
        holder.execute("SELECT pg_advisory_unlock(%s)", (STORE_LOCK,))
        count = "SELECT count(*) FROM reservations"
        wait_for("the reservation commits", lambda: holder.execute(count).fetchone() == (1,))

        db = sqlite3.connect(home / "audit.db")
        assert db.execute("SELECT count(*) FROM certificates").fetchone() == (0,)
        db.close()
        verify = subprocess.run(station(home, "audit", "verify"), env=ENV, check=False)
        assert verify.returncode == 0

        rerun = subprocess.run(provision, env=ENV, capture_output=True, text=True, check=False)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "PASS" in rerun.stdout
        # The board made a new key: a second reservation; the first one blocks only a key that
        # was never certified.
        assert holder.execute(count).fetchone() == (2,)
        assert holder.execute("SELECT count(*) FROM conflicts").fetchone() == (0,)
