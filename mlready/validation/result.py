"""The result of validating one table against the contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlready.validation.checks import CheckResult


@dataclass(frozen=True)
class ValidationResult:
    """Everything validate-data found; the terminal, JSON, JUnit and HTML all render this."""

    source: str
    environment: str
    rows: int
    columns: list[str]
    results: list[CheckResult]
    fingerprint: str
    duration_s: float
    chunk_rows: int | None = None
    quarantine: dict[str, Any] | None = None

    @property
    def failed_errors(self) -> list[CheckResult]:
        """Failed checks of severity error: they fail the run."""
        return [r for r in self.results if r.failed_error]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed checks of severity warning: reported only."""
        return [r for r in self.results if not r.passed and not r.failed_error]

    @property
    def blocking(self) -> list[CheckResult]:
        """Error failures that fail the run: with quarantine, row-level ones were set aside."""
        if self.quarantine is None:
            return self.failed_errors
        return [r for r in self.failed_errors if not r.check.row_level]

    @property
    def passed(self) -> bool:
        """No error-severity check failed (or, with quarantine, none that rows cannot carry)."""
        return not self.blocking

    def ordered(self) -> list[CheckResult]:
        """Failures first, then warnings, then passes; the contract's order within each."""
        rank = {"failed": 0, "warning": 1, "passed": 2}
        return sorted(self.results, key=lambda r: rank[r.to_dict()["status"]])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (validation.json)."""
        return {
            "source": self.source,
            "environment": self.environment,
            "rows": self.rows,
            "columns": self.columns,
            "passed": self.passed,
            "checks": len(self.results),
            "failed": len(self.failed_errors),
            "warnings": len(self.warnings),
            "fingerprint": self.fingerprint,
            "duration_s": round(self.duration_s, 4),
            "chunk_rows": self.chunk_rows,
            "quarantine": self.quarantine,
            "results": [r.to_dict() for r in self.results],
        }
