"""The import contracts of pyproject.toml ([tool.importlinter]) catch a module that breaks them.

`make lint` runs lint-imports on the tree as it is; here it runs on a copy of our packages with an
offending import written into it, and must fail naming the contract broken and the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("station", "device_protocol", "fixtures")
CONTRACTS = 3
LAYERS = next(
    contract["name"]
    for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    if contract["id"] == "layers"
)

# Lines appended to modules of the copy (new modules are made), the contract then broken, and
# the import lint-imports must name.
BREAKS: dict[str, tuple[dict[str, str], str, str]] = {
    "fail/textual-in-the-engine": (
        {"station/engine/screen.py": "from textual.app import App"},
        "Textual is imported only by station.tui",
        "station.engine.screen -> textual",
    ),
    "fail/device-protocol-imports-station": (
        {"device_protocol/station_errors.py": "from station.errors import StationError"},
        "device_protocol stands alone: it imports neither station nor fixtures",
        "device_protocol.station_errors -> station.errors",
    ),
    "fail/pki-imports-the-engine": (
        {"station/pki/cycle_hook.py": "from station.engine import cycle"},
        LAYERS,
        "station.pki.cycle_hook -> station.engine",
    ),
    "fail/line-reaches-the-tui-through-another-module": (
        {
            "station/jig_screen.py": "import station.tui.app",
            "station/line/watch.py": "import station.jig_screen",
        },
        LAYERS,
        "station.jig_screen -> station.tui.app",
    ),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of our packages and pyproject.toml, for lint-imports to check."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy is first on the path, before the project's own (editable) install.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("edits", "contract", "offence"), BREAKS.values(), ids=BREAKS)
def test_an_import_that_breaks_a_contract_fails_lint(
    tree: Path, edits: dict[str, str], contract: str, offence: str
) -> None:
    for module, line in edits.items():
        with (tree / module).open("a") as source:
            source.write(f"\n{line}\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    # Only that contract: the rest of the copy keeps the others, as the tree itself does.
    assert f"Contracts: {CONTRACTS - 1} kept, 1 broken." in result.stdout, result.stdout
    assert offence in result.stdout, result.stdout
