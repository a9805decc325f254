"""The bench and the soak run end to end (their figures are reported, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

from station.bench.figures import at_least, at_most, info, table


def test_figures_and_table() -> None:
    figures = [at_most("a", 4.0, 5, "ms"), at_least("b", 0.8, 0.9, "x"), info("c", 3, "s")]
    assert [f.met for f in figures] == [True, False, None]
    text = table(figures)
    assert "NO" in text
    assert "<= 5 ms" in text


def test_quick_bench_reports_every_figure_with_its_target() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    names = [f["name"] for f in report["figures"]]
    for expected in (
        "cycle / (wire + board compute)",
        "station CPU / board",
        "throughput, 8 slots at once, unpaced",
        "station CPU / board, 8 slots at once",
        "scaling, 4 slots",
        "station CPU / board, token key",
        "per-board wall",
        "audit verify chain",
        "audit show one board",
    ):
        assert any(n.startswith(expected) for n in names), (expected, names)
    assert all(isinstance(f["value"], float | int) for f in report["figures"])
    assert all(f["target"] for f in report["figures"] if f["met"] is not None)


def test_the_cpu_profile_names_the_steps_and_the_functions_that_cost() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station", "bench", "--profile-cpu", "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "10 unpaced cycles, ec-p256 device, ec-p256 CA, mtu 256" in out
    for step in ("hello", "keygen", "csr", "policy", "issue", "deliver", "prove", "lock"):
        assert f"\n{step} " in out, step
    assert "Ordered by: internal time" in out
    assert "link.py" in out  # the functions, by own CPU time


def test_a_short_soak_loses_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station", "bench", "--soak", "24", "--seed", "5", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    report = json.loads(result.stdout)
    assert report["lost"] == []
    assert report["verify_ok"] is True
    assert report["unexplained"] == 0
    assert report["undefined"] == []
    assert report["cycles"] >= 24
    assert result.returncode == 0
