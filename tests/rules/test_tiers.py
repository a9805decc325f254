"""tests/tiers.py: which tests are component tests, `--fast`, and pure tests kept pure.

Each case runs a small suite of its own under a real pytest process with the plugin loaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import pytest
import tests.tiers

pytest_plugins = ("tests.tiers",)
tests.tiers.PURE_CPU_SECONDS = 0.2  # a busy loop of half a second stands for a slow test

@pytest.fixture
def make_board():  # named like the real one: the name alone makes a test a component test
    return None
"""

SUITE = """
import os
import subprocess
import sys
import time

import pytest
from textual.app import App


def test_pure():
    assert sum(range(10)) == 45


def test_starts_a_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_opens_a_pty():
    for fd in os.openpty():
        os.close(fd)


def test_runs_a_pilot():
    App().run_test()


def test_uses_half_a_second_of_cpu():
    start = time.process_time()
    while time.process_time() - start < 0.5:
        pass


def test_catches_the_refusal_and_goes_on():
    try:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    except Exception:
        pass


def test_with_a_component_fixture(make_board):
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.component
def test_marked_by_hand():
    subprocess.run([sys.executable, "-c", "pass"], check=True)
"""

IMPURE = {
    "test_starts_a_process": "started a process (subprocess.Popen",
    "test_opens_a_pty": "opened a pty (os.openpty)",
    "test_runs_a_pilot": "ran a Textual pilot",
    "test_uses_half_a_second_of_cpu": "s of CPU (a pure test stays under 0.2 s)",
    "test_catches_the_refusal_and_goes_on": "started a process (subprocess.Popen",
}


# Plugins the small suite does without (the snapshot ones load Textual's whole app for nothing).
QUIET = [f"-pno:{name}" for name in ("randomly", "cacheprovider", "textual-snapshot", "syrupy")]


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # `tests.tiers` from this repository
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_fast_runs_the_pure_tests_and_fails_the_impure_ones(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("--fast", *QUIET)
    # The component tests are left out; each impure test runs to its end, then fails at teardown
    # saying what it did and what to do.
    result.assert_outcomes(passed=1 + len(IMPURE), errors=len(IMPURE), deselected=2)
    out = result.stdout.str()
    for name, what in IMPURE.items():
        assert f"ERROR at teardown of {name} " in out, out
        assert f"test_suite.py::{name} runs as a pure test (the fast tier) but" in out, out
        assert what in out, (name, out)
    assert "mark it @pytest.mark.component" in out
