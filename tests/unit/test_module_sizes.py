"""No module of the product is over 400 lines (issue 14): split it along a real seam first."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400


def test_no_module_outside_tests_is_over_the_limit() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for package in ("station", "device_protocol", "fixtures")
        for path in (ROOT / package).rglob("*.py")
    }
    assert len(sizes) > 100  # the packages were found
    over = {name: lines for name, lines in sizes.items() if lines > LIMIT}
    assert over == {}, f"modules over {LIMIT} lines; split them along a real seam: {over}"
