"""A conformance suite for SPEC.md: run it against a board's firmware before the line sees it.

Destructive: it generates a key pair on the board, writes a throwaway certificate chain and
LOCKS the board. Run it on a blank development board. Imports nothing from ``station``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from device_protocol.conformance.pki import CsrProblem
from device_protocol.conformance.session import CaseFailed, Session
from device_protocol.conformance.suite import CASES, SUITE
from device_protocol.conformance.wire import RawClient, TappedTransport
from device_protocol.errors import Disconnected, LinkError
from device_protocol.link import Link
from device_protocol.rate_switch import return_to_default
from device_protocol.serial_port import open_serial

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass(frozen=True)
class CaseResult:
    name: str
    status: str  # PASSED, FAILED or NOT_RUN
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "passed": self.passed,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Report:
    port: str
    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if r.status == FAILED]

    @property
    def not_run(self) -> list[str]:
        return [r.name for r in self.results if r.status == NOT_RUN]

    def result(self, name: str) -> CaseResult:
        return next(r for r in self.results if r.name == name)

    def as_dict(self) -> dict[str, object]:
        return {
            "port": self.port,
            "passed": self.passed,
            "cases": [r.as_dict() for r in self.results],
        }


def run_conformance(
    url: str,
    *,
    baudrate: int = 115200,
    timeout: float = 2.0,
    on_result: Callable[[CaseResult], None] | None = None,
) -> Report:
    """Run every case of :data:`CASES` against the board on ``url``; never raises for a board
    that misbehaves (each case reports), only :class:`LinkError` when the port cannot be opened."""
    port = TappedTransport(open_serial(url, baudrate=baudrate, write_timeout=timeout))
    link = Link(port, baudrate=baudrate, timeout=timeout)
    session = Session(port=port, raw=RawClient(port, timeout), link=link)
    results: list[CaseResult] = []
    status: dict[str, str] = {}
    gone = ""
    try:
        for spec in SUITE:
            blocked = [need for need in spec.needs if status.get(need) != PASSED]
            if gone:
                result = CaseResult(spec.name, NOT_RUN, f"not run: {gone}")
            elif blocked:
                why = ", ".join(f"{need} {status.get(need, NOT_RUN)}" for need in blocked)
                result = CaseResult(spec.name, NOT_RUN, f"not run: it needs {why}")
            else:
                try:
                    result = CaseResult(spec.name, PASSED, spec.run(session))
                except Disconnected as e:
                    gone = e.detail
                    result = CaseResult(spec.name, FAILED, gone)
                except (CaseFailed, CsrProblem, LinkError, ValueError) as e:
                    result = CaseResult(spec.name, FAILED, str(e))
            status[spec.name] = result.status
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        return_to_default(link)  # RETURN (SPEC.md 7.10), whatever state a case left
        port.shutdown()
    return Report(url, tuple(results))


__all__ = ["CASES", "CaseResult", "Report", "run_conformance"]
