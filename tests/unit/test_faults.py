"""Fault spec strings, table-driven."""

from __future__ import annotations

import pytest

from fixtures.board.faults import Faults, FaultSpecError, parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("corrupt=0.01", Faults(corrupt=0.01), id="ok/corrupt"),
        pytest.param("drop=0.5", Faults(drop=0.5), id="ok/drop"),
        pytest.param("chatter", Faults(chatter=0.5), id="ok/chatter-default"),
        pytest.param("no-boot-chatter", Faults(boot_chatter=False), id="ok/quiet-boot"),
        pytest.param("baud=115200", Faults(baud=115200), id="ok/baud"),
        pytest.param("keygen-delay=10", Faults(keygen_delay=10.0), id="ok/keygen-delay"),
        pytest.param("hang@keygen", Faults(hang="KEYGEN"), id="ok/hang"),
        pytest.param("disconnect@PUT_CERT", Faults(disconnect="PUT_CERT"), id="ok/disconnect"),
        pytest.param("flash-fail", Faults(flash_fail=True), id="ok/flash"),
        pytest.param("bad-csr=weak-key", Faults(bad_csr="weak-key"), id="ok/bad-csr"),
        pytest.param("wrong-key", Faults(wrong_key=True), id="ok/wrong-key"),
    ],
)
def test_ok(spec: str, expected: Faults) -> None:
    assert parse_fault(spec) == expected


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param("corrupt=2", "between 0 and 1", id="fail/rate-range"),
        pytest.param("corrupt=lots", "probability", id="fail/rate-text"),
        pytest.param("hang", "needs a step", id="fail/hang-no-step"),
        pytest.param("hang@REBOOT", "must be one of", id="fail/unknown-step"),
        pytest.param("bad-csr=evil", "one of", id="fail/bad-csr-kind"),
        pytest.param("baud=9", "rate", id="fail/baud"),
        pytest.param("melt", "unknown fault", id="fail/unknown"),
    ],
)
def test_fail(spec: str, reason: str) -> None:
    with pytest.raises(FaultSpecError, match=reason):
        parse_fault(spec)


def test_faults_accumulate() -> None:
    faults = parse_fault("hang@LOCK", parse_fault("corrupt=0.1"))
    assert faults == Faults(corrupt=0.1, hang="LOCK")
    assert "hang=LOCK" in faults.describe()
