"""QA verification of provisioned boards: pure checks (`checks`) apart from the board I/O
(`runner.run_qa`). No Textual here; the TUI's QA mode calls :func:`run_qa` from a worker."""

from station.qa.checks import CheckResult, QaFacts, run_checks
from station.qa.runner import QaContext, QaError, QaReport, run_qa

__all__ = ["CheckResult", "QaContext", "QaError", "QaFacts", "QaReport", "run_checks", "run_qa"]
