"""The conformance suite against virtual boards: healthy ones pass, each fault fails its case."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from device_protocol.conformance import CASES, run_conformance
from fixtures.board import BoardServer, Faults, parse_fault

MakeBoard = Callable[..., BoardServer]


def test_a_healthy_virtual_board_passes(make_board: MakeBoard) -> None:
    board = make_board(Faults(chatter=1.0))
    report = run_conformance(board.url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    assert [r.name for r in report.results] == [name for name, _ in CASES]
    assert board.device.element.locked


def test_the_minimum_mtu_passes(make_board: MakeBoard) -> None:
    report = run_conformance(make_board(mtu=128, key_types=("ec-p256", "ec-p384")).url)
    assert report.passed, report.failed
    assert "<= mtu 128" in report.result("line-length").detail


def test_a_hello_answer_that_can_pass_the_mtu_fails_hello_fits(make_board: MakeBoard) -> None:
    # Three key types at mtu=128: the worst case (seq 65535, state=certified, kt=rsa-2048) is
    # over 128, though the answers of this run (kt=ec-p256) may fit; the suite computes it.
    report = run_conformance(make_board(mtu=128).url)
    assert "hello-fits" in report.failed
    assert set(report.failed) <= {"hello-fits", "line-length"}
    assert "over mtu 128 (SPEC.md 7.1)" in report.result("hello-fits").detail


@pytest.mark.parametrize(
    ("spec", "case", "says"),
    [
        ("uid=VB1.A_B", "uid", "'.', '_', outside A-Z a-z 0-9 : -"),
        ("store=1000", "chain-storage", "store=1000, below the minimum of 4096 bytes"),
    ],
)
def test_boards_a_station_refuses_before_keygen_fail(
    make_board: MakeBoard, spec: str, case: str, says: str
) -> None:
    report = run_conformance(make_board(parse_fault(spec)).url)
    assert case in report.failed
    assert says in report.result(case).detail
    assert "refuses the board before KEYGEN" in report.result(case).detail


@pytest.mark.parametrize(
    ("spec", "mtu"),
    [
        ("fragment", 256),
        ("lower-escapes", 256),
        ("crlf", 256),
        ("reorder", 256),
        ("no-boot-chatter", 16384),
    ],
)
def test_boards_the_spec_allows_pass(make_board: MakeBoard, spec: str, mtu: int) -> None:
    """A console fragment before each answer, escapes in lower case, CR LF, fields in another
    order, a large mtu (whose chain fills a READ answer): all within SPEC.md."""
    report = run_conformance(make_board(parse_fault(spec), mtu=mtu).url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    if mtu > 4096:
        assert "a full mtu-sized READ among them" in report.result("get-cert").detail


def test_cases_whose_prerequisite_failed_are_not_run(make_board: MakeBoard) -> None:
    report = run_conformance(make_board(Faults(hang="KEYGEN")).url, timeout=0.5)
    assert {"keep-alive", "keygen"} <= set(report.failed)
    assert "get-csr" in report.not_run
    assert report.result("bad-crc").detail == "not run: it needs keygen failed"
    assert report.result("uid").passed


@pytest.mark.parametrize(
    ("spec", "case"),
    [
        ("wrong-key", "sign"),
        ("flash-fail", "put-cert"),
        ("no-replay-cache", "replay"),
        ("bad-csr=signature", "get-csr"),
        ("bad-csr=foreign-subject", "get-csr"),
        ("stale-cache", "hello-clears-cache"),
        ("nak-text", "framing"),
        ("tilde-console", "console"),
    ],
)
def test_each_fault_fails_its_case(make_board: MakeBoard, spec: str, case: str) -> None:
    report = run_conformance(make_board(parse_fault(spec)).url)
    assert not report.result(case).passed, report.result(case).detail


def test_keygen_without_keep_alives_fails(make_board: MakeBoard) -> None:
    faults = parse_fault("no-busy", parse_fault("keygen-delay=1.2"))
    report = run_conformance(make_board(faults).url)
    assert not report.result("keep-alive").passed
    assert "without a single BUSY" in report.result("keep-alive").detail
    slow = run_conformance(make_board(parse_fault("keygen-delay=1.2")).url)
    assert slow.result("keep-alive").passed, slow.result("keep-alive").detail
    assert "BUSY, first at" in slow.result("keep-alive").detail


def test_cli_json_and_exit_code(make_board: MakeBoard) -> None:
    good, bad = make_board(), make_board(Faults(wrong_key=True))
    for board, code in ((good, 0), (bad, 1)):
        done = subprocess.run(
            [sys.executable, "-m", "station", "conformance", "--port", board.url, "--json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == code, done.stderr
        record = json.loads(done.stdout)
        assert record["passed"] is (code == 0)
        assert {c["name"] for c in record["cases"]} == {name for name, _ in CASES}


def test_help_says_it_is_destructive() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "station", "conformance", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "DESTRUCTIVE" in done.stdout
    assert "LOCKS" in done.stdout


def test_a_board_with_bauds_and_the_stored_digest_passes_the_1_2_cases(
    make_board: MakeBoard,
) -> None:
    board = make_board(Faults(bauds=(460800, 921600), boot_chatter=False))
    report = run_conformance(board.url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    assert "BAUD 921600: proved and confirmed" in report.result("baud-switch").detail
    assert "back at 115200 within 2 s" in report.result("baud-fallback").detail
    assert "GET_CERT's sha agrees" in report.result("stored-digest").detail
    assert board.rate.rate == 115200  # the run ended with the line at the default rate


def test_a_1_1_board_passes_the_optional_cases_trivially(make_board: MakeBoard) -> None:
    report = run_conformance(make_board(Faults(no_stored_digest=True)).url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    for case in ("baud-switch", "baud-fallback", "stored-digest"):
        assert "nothing to check" in report.result(case).detail


def test_a_board_that_cannot_hold_its_rate_fails_baud_switch(make_board: MakeBoard) -> None:
    board = make_board(Faults(bauds=(921600,), garble_after_switch=True, boot_chatter=False))
    report = run_conformance(board.url)
    assert report.failed == ["baud-switch"]
    assert "both ends fell back to 115200" in report.result("baud-switch").detail
    assert report.result("baud-fallback").passed


def test_a_1_3_board_passes_the_1_3_cases_with_findings(make_board: MakeBoard) -> None:
    report = run_conformance(make_board(Faults(boot_chatter=False)).url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    inline = report.result("inline-objects").detail
    assert "GET_CSR: 111 of " in inline
    assert "SIGN: " in inline
    assert "each equals READ from offset 0" in inline
    text = report.result("text-chunks").detail
    assert "text chunks (one starting and ending on an escaped LF) stored byte for byte" in text


@pytest.mark.parametrize("spec", ["spec-1.2", "no-stored-digest"])
def test_a_1_2_or_1_1_board_passes_the_1_3_cases_with_nothing_to_check(
    make_board: MakeBoard, spec: str
) -> None:
    report = run_conformance(make_board(parse_fault(spec)).url)
    assert report.passed, [(r.name, r.detail) for r in report.results if not r.passed]
    assert "nothing to check" in report.result("inline-objects").detail
    assert "nothing to check" in report.result("text-chunks").detail


def test_wrong_inline_bytes_fail_inline_objects(make_board: MakeBoard) -> None:
    report = run_conformance(make_board(parse_fault("bad-inline")).url)
    assert "inline-objects" in report.failed
    detail = report.result("inline-objects").detail
    assert "is not the csr's first bytes as READ from offset 0 returns them" in detail
