"""The README's account of the command line stays whole: every environment variable the code
reads is in its table, and the completion it shows works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PACKAGES = ("station", "device_protocol", "fixtures")
#: How the code names an environment variable: click's envvar=, os.environ / getenv, and the
#: module constants that hold a variable's name (``PIN_ENV = "STATION_PKCS11_PIN"``).
READS = re.compile(
    r"""envvar=["']([A-Z0-9_]+)["']"""
    r"""|environ(?:\.get)?[\[(]["']([A-Z0-9_]+)["']"""
    r"""|getenv\(["']([A-Z0-9_]+)["']"""
    r"""|^[A-Z_]*ENV\s*=\s*["']([A-Z0-9_]+)["']""",
    re.MULTILINE,
)


def variables_read() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for match in READS.finditer(path.read_text(encoding="utf-8")):
                found.add(next(g for g in match.groups() if g))
    return found


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]


def test_the_readme_lists_every_environment_variable() -> None:
    read = variables_read()
    assert {"STATION_HOME", "STATION_CA_PASSPHRASE", "STATION_PKCS11_PIN"} <= read
    table = readme_table()
    missing = sorted(name for name in read if f"`{name}`" not in table)
    assert not missing, f"README's environment table lacks {missing}"


def complete(**env: str) -> str:
    """The installed ``station`` script with click's completion variables set."""
    script = Path(sys.executable).parent / "station"
    done = subprocess.run(
        [str(script)], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bash_completion_as_the_readme_shows_it() -> None:
    assert 'eval "$(_STATION_COMPLETE=bash_source station)"' in README.read_text("utf-8")
    assert "complete -o nosort -F _station_completion station" in complete(
        _STATION_COMPLETE="bash_source"
    )
    words = complete(_STATION_COMPLETE="bash_complete", COMP_WORDS="station ca cr", COMP_CWORD="2")
    assert words.split() == ["plain,create-intermediate", "plain,create-root"]
