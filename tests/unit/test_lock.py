"""The hash-pinned locks agree with pyproject.toml: every declared dependency is pinned, at a
version its specifier allows, with hashes. A dependency added to pyproject.toml without
`make lock` fails here, before an install from the lock would silently leave it out."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DEV_LOCK = ROOT / "requirements" / "dev.lock"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock_text: str) -> dict[str, tuple[Version, int]]:
    """Each pinned package of a lock: its version and how many hashes it carries."""
    found: dict[str, tuple[Version, int]] = {}
    name = None
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            found[name] = (Version(match.group(2)), 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
        elif not line.startswith(" "):
            name = None
    return found


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


def disagreements(
    requirements: list[Requirement], locked: dict[str, tuple[Version, int]]
) -> list[str]:
    """What an install from the lock would get wrong for ``requirements``."""
    problems = []
    for req in requirements:
        name = canonicalize_name(req.name)
        if name not in locked:
            problems.append(f"{req.name} is missing from the lock")
            continue
        version, hashes = locked[name]
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: the lock pins {version}, pyproject wants {req.specifier}")
        if hashes == 0:
            problems.append(f"{req.name} {version} has no hash")
    return problems


def test_pins_parse_with_their_hashes() -> None:
    text = (
        "a-b==1.2 \\\n    --hash=sha256:00\n    --hash=sha256:11\n    # via x\n"
        "c==3 ; sys_platform == 'win32' \\\n    --hash=sha256:22\n"
    )
    assert pins(text) == {"a-b": (Version("1.2"), 2), "c": (Version("3"), 1)}


def test_a_dependency_missing_from_the_lock_is_found() -> None:
    locked = {"textual": (Version("8.2.8"), 3)}
    reqs = [Requirement("textual>=8.0"), Requirement("tomlkit>=0.12"), Requirement("textual<8")]
    assert disagreements(reqs, locked) == [
        "tomlkit is missing from the lock",
        "textual: the lock pins 8.2.8, pyproject wants <8",
    ]


@pytest.mark.parametrize("lock", [DEV_LOCK, RUNTIME_LOCK], ids=["dev", "runtime"])
def test_every_declared_dependency_is_pinned_with_hashes(lock: Path) -> None:
    runtime, dev = declared()
    wanted = runtime + dev if lock == DEV_LOCK else runtime
    locked = pins(lock.read_text(encoding="utf-8"))
    assert disagreements(wanted, locked) == [], "run `make lock` after changing pyproject.toml"
    assert all(hashes for _, hashes in locked.values())


def test_runtime_pins_are_the_dev_pins() -> None:
    dev = pins(DEV_LOCK.read_text(encoding="utf-8"))
    runtime = pins(RUNTIME_LOCK.read_text(encoding="utf-8"))
    assert {name: dev.get(name) for name in runtime} == runtime
