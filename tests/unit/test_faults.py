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
        pytest.param("uid=VB.1_X", Faults(uid="VB.1_X"), id="ok/uid"),
        pytest.param("store=1000", Faults(store=1000), id="ok/store"),
        pytest.param("overrun=8192", Faults(overrun=8192), id="ok/overrun"),
        pytest.param("fragment", Faults(fragment=True), id="ok/fragment"),
        pytest.param("nak-text", Faults(nak_text=True), id="ok/nak-text"),
        pytest.param("stale-cache", Faults(stale_cache=True), id="ok/stale-cache"),
        pytest.param("tilde-console", Faults(tilde_console=True), id="ok/tilde-console"),
        pytest.param("reorder", Faults(reorder=True), id="ok/reorder"),
        pytest.param("lower-escapes", Faults(lower_escapes=True), id="ok/lower-escapes"),
        pytest.param("crlf", Faults(crlf=True), id="ok/crlf"),
        pytest.param("bauds=921600", Faults(bauds=(921600,)), id="ok/bauds"),
        pytest.param("bauds=230400,921600", Faults(bauds=(230400, 921600)), id="ok/bauds-several"),
        pytest.param(
            "garble-after-switch", Faults(garble_after_switch=True), id="ok/garble-after-switch"
        ),
        pytest.param("no-stored-digest", Faults(no_stored_digest=True), id="ok/no-stored-digest"),
        pytest.param("flash-corrupt", Faults(flash_corrupt=True), id="ok/flash-corrupt"),
        pytest.param("spec-1.2", Faults(spec_12=True), id="ok/spec-1.2"),
        pytest.param("bad-inline", Faults(bad_inline=True), id="ok/bad-inline"),
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
        pytest.param("uid=", "needs the id", id="fail/uid-empty"),
        pytest.param("store=lots", "number of bytes", id="fail/store-text"),
        pytest.param("bauds=921600,460800", "ascending rates", id="fail/bauds-order"),
        pytest.param("bauds=fast", "ascending rates", id="fail/bauds-text"),
    ],
)
def test_fail(spec: str, reason: str) -> None:
    with pytest.raises(FaultSpecError, match=reason):
        parse_fault(spec)


def test_faults_accumulate() -> None:
    faults = parse_fault("hang@LOCK", parse_fault("corrupt=0.1"))
    assert faults == Faults(corrupt=0.1, hang="LOCK")
    assert "hang=LOCK" in faults.describe()
