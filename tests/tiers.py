"""Two tiers of tests: pure tests (`make test-fast`) and component tests (`make test` runs both).

A test is a component test when it starts processes, opens ptys or drives the app with a Textual
pilot. That is decided here, not test by test: the `component` marker is applied to every test
that uses one of COMPONENT_FIXTURES or lives under one of COMPONENT_PATHS. A test that slips
through (a new helper that starts `openssl`, a board made without `make_board`, a pure test that
grinds through a million rows) is not quietly slow in the fast tier: a test without the marker
fails when it starts a process, opens a pty, runs a pilot or uses more than PURE_CPU_SECONDS of
CPU, and the failure says how to classify it. So a pure test is fast by construction.
`@pytest.mark.component` by hand is the last resort, for a test among pure ones whose process
comes from a plain helper function, or that works at scale.

`pytest --fast` (what `make test-fast` runs) leaves the component tests out, and does not even
import the modules under COMPONENT_PATHS.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

MARKER = "component"

#: A pure test uses less CPU than this (the slowest uses under 2 s; the whole tier about 20 s).
PURE_CPU_SECONDS = 5.0

#: Fixtures that start processes or ptys (directly or through the fixtures they use).
COMPONENT_FIXTURES = frozenset(
    {
        "make_board",  # virtual boards on ptys
        "template_home",  # `station init` as a process
        "agent_binary",  # `make agent`
        "start_agent",  # the C agent as a process on a pty
        "qemu_elf",  # `make agent-qemu`
        "start_qemu",  # the C agent on an emulated Cortex-M, QEMU as a process
        "softhsm",  # softhsm2-util processes and a token
        "snap_compare",  # the app under a pilot
        "moto_server",  # the local AWS endpoint (tests/aws)
        "pg_server",  # a PostgreSQL server (the factory store)
    }
)

_TESTS = Path(__file__).resolve().parent

#: Folders and files of component tests only, relative to tests/.
COMPONENT_PATHS = tuple(
    _TESTS / p
    for p in (
        "aws",  # moto server as a process, `station aws` as a process
        "bench",  # `station bench` as a process
        "cli",  # `station` and openssl as processes, boards on ptys
        "component",  # real ptys
        "factory",  # a PostgreSQL server as a process
        "rules",  # lint-imports and pytest as processes
        "kit",  # the C agent and the conformance suite over ptys
        "pki/test_tls.py",  # openssl s_server / s_client handshakes
        "pki/test_verifiers.py",  # openssl and pkilint on what we issue
        "tui/test_demo.py",  # the demo: virtual boards and the app under a pilot
    )
)

#: Audit events of the standard library that start a process.
_PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn",
     "os.spawn", "pty.spawn"}
)  # fmt: skip
_PTY_PREFIXES = ("/dev/ptmx", "/dev/pts/")


def _under_component_path(path: Path) -> bool:
    path = path.resolve()
    return any(path == p or p in path.parents for p in COMPONENT_PATHS)


def is_component(item: pytest.Item) -> bool:
    """True for a test marked by hand, using a component fixture or under a component path."""
    if item.get_closest_marker(MARKER) is not None:
        return True
    if COMPONENT_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    return _under_component_path(item.path)


class _Guard:
    """What the pure test being run did that a pure test must not."""

    def __init__(self) -> None:
        self.active = False
        self.found: list[str] = []

    def note(self, what: str) -> None:
        if self.active:
            self.found.append(what)


_GUARD = _Guard()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _GUARD.active:
        return
    if event in _PROCESS_EVENTS:
        _GUARD.note(f"started a process ({event} {args[0] if args else ''})")
    elif event == "open" and isinstance(args[0], str) and args[0].startswith(_PTY_PREFIXES):
        _GUARD.note(f"opened a pty ({args[0]})")


# Audit hooks cannot be removed; this one does nothing while no pure test runs.
sys.addaudithook(_audit)


def _noted(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _GUARD.note(what)
        return original(*args, **kwargs)

    return wrapper


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="The fast tier: pure tests only, without the component tests (make test-fast).",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("fast") and _under_component_path(collection_path):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    component = []
    for item in items:
        if is_component(item):
            item.add_marker(MARKER)
            component.append(item)
    if config.getoption("fast") and component:
        config.hook.pytest_deselected(items=component)
        items[:] = [item for item in items if item.get_closest_marker(MARKER) is None]


@pytest.fixture(autouse=True)
def _pure_tests_stay_pure(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Around a pure test: note processes, ptys and pilots, and measure its CPU time."""
    if request.node.get_closest_marker(MARKER) is not None:
        yield
        return
    # A pty made in-process never passes an audit event; the station opening one does ("open").
    monkeypatch.setattr(os, "openpty", _noted("opened a pty (os.openpty)", os.openpty))
    textual_app = sys.modules.get("textual.app")
    if textual_app is not None:
        app = textual_app.App
        monkeypatch.setattr(app, "run_test", _noted("ran a Textual pilot", app.run_test))
    _GUARD.found.clear()
    _GUARD.active = True
    cpu = time.process_time()
    try:
        yield
    finally:
        _GUARD.active = False
    cpu = time.process_time() - cpu
    found = list(_GUARD.found)
    if cpu > PURE_CPU_SECONDS:
        found.append(f"used {cpu:.1f} s of CPU (a pure test stays under {PURE_CPU_SECONDS} s)")
    if found:
        pytest.fail(
            f"{request.node.nodeid} runs as a pure test (the fast tier) but {'; '.join(found)}. "
            "Make it a component test: use a fixture of COMPONENT_FIXTURES or move it under "
            "COMPONENT_PATHS (tests/tiers.py), or mark it @pytest.mark.component.",
            pytrace=False,
        )
