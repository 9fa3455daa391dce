"""The data contract as a list of checks: what each one asks, how serious a failure is."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from mlready.spec.models import ColumnExpectation, ProjectSpec

#: Checks that judge single rows: their failing rows can be quarantined.
ROW_LEVEL = {"type_values", "not_null", "range", "allowed_values", "regex", "unique"}


@dataclass(frozen=True)
class Check:
    """One expectation of the contract, as mlready states it."""

    id: str
    kind: str
    column: str | None
    severity: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def row_level(self) -> bool:
        """Whether failures point at rows (and can be quarantined). A tolerated share of
        missing values judges the table, not a row: no single row breaks it."""
        if self.kind == "not_null" and self.params.get("max_null_fraction", 0) > 0:
            return False
        return self.kind in ROW_LEVEL


@dataclass(frozen=True)
class CheckResult:
    """What one check found."""

    check: Check
    passed: bool
    unexpected_count: int | None = None
    unexpected_fraction: float | None = None
    sample: tuple[str, ...] = ()
    observed: str | None = None
    error: str | None = None
    #: positions (0-based) of the failing rows; kept out of JSON, used for quarantine
    bad_rows: tuple[int, ...] = field(default=(), repr=False)

    @property
    def failed_error(self) -> bool:
        """A failure that fails the run."""
        return not self.passed and self.check.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the row positions)."""
        out = asdict(self.check)
        out["row_level"] = self.check.row_level
        out.update(
            passed=self.passed,
            status="passed" if self.passed else ("failed" if self.failed_error else "warning"),
            unexpected_count=self.unexpected_count,
            unexpected_fraction=self.unexpected_fraction,
            sample=list(self.sample),
            observed=self.observed,
            error=self.error,
        )
        return out


def _severity(expectation: ColumnExpectation, check: str) -> str:
    severities: dict[str, str] = {str(k): str(v) for k, v in expectation.severities.items()}
    return severities.get(check, expectation.severity)


def known_columns(spec: ProjectSpec) -> set[str]:
    """Every column the spec names, so the rest count as unexpected."""
    data = spec.data
    names = set(spec.expectations.columns) | {data.target} | set(data.id_columns)
    names |= set(data.features.numeric or ()) | set(data.features.categorical or ())
    names |= set(data.features.exclude) | set(data.forbidden_columns)
    if data.timestamp_column:
        names.add(data.timestamp_column)
    return names


def build_checks(
    spec: ProjectSpec,
    columns: list[str],
    environment: str,
    *,
    now: dt.datetime | None = None,
) -> list[Check]:
    """The checks that apply to a table with these columns in this environment."""
    contract = spec.expectations
    target = spec.data.target
    present = set(columns)
    checks: list[Check] = []

    if contract.row_count is not None:
        bounds = contract.row_count
        text = f"at least {bounds.min:,} rows" + (
            f" and at most {bounds.max:,}" if bounds.max is not None else ""
        )
        checks.append(
            Check(
                "table.row_count",
                "row_count",
                None,
                bounds.severity,
                text,
                {"min": bounds.min, "max": bounds.max},
            )
        )

    if environment == "training":
        checks.append(
            Check(
                f"{target}.target",
                "target",
                target,
                "error",
                "the target column is present in training data",
            )
        )
    elif contract.target_in_serving == "absent":
        checks.append(
            Check(
                f"{target}.target",
                "target_absent",
                target,
                "error",
                "serving data does not carry the target",
            )
        )

    if contract.unexpected_columns != "allow":
        known = known_columns(spec)
        checks.append(
            Check(
                "table.unexpected_columns",
                "unexpected_columns",
                None,
                "error" if contract.unexpected_columns == "error" else "warning",
                "no column outside the contract",
                {"allowed": sorted(known & present)},
            )
        )

    if contract.freshness is not None:
        column = contract.freshness.column or spec.data.timestamp_column
        moment = now or dt.datetime.now(dt.timezone.utc)
        oldest = (moment - dt.timedelta(days=contract.freshness.max_age_days)).replace(tzinfo=None)
        if column in present:
            checks.append(
                Check(
                    f"{column}.freshness",
                    "freshness",
                    column,
                    contract.freshness.severity,
                    f"newest value no older than {contract.freshness.max_age_days:g}"
                    f" days (on or after {oldest:%Y-%m-%d})",
                    {"oldest": oldest.isoformat()},
                )
            )

    for column, expectation in contract.columns.items():
        if environment not in expectation.environments:
            continue
        if environment == "serving" and column == target:
            continue  # the target is not expected in serving data
        if column not in present:
            if expectation.required:
                checks.append(
                    Check(
                        f"{column}.required",
                        "required",
                        column,
                        _severity(expectation, "required"),
                        "the column is present",
                    )
                )
            continue
        checks.extend(_column_checks(column, expectation))
    return checks


def _column_checks(column: str, e: ColumnExpectation) -> list[Check]:
    checks = []
    if e.required:
        checks.append(
            Check(
                f"{column}.required",
                "required",
                column,
                _severity(e, "required"),
                "the column is present",
            )
        )
    if e.type is not None:
        checks.append(
            Check(
                f"{column}.type",
                "type",
                column,
                _severity(e, "type"),
                f"values are of type {e.type}",
                {"type": e.type},
            )
        )
    if e.max_null_fraction is not None:
        text = (
            "never missing"
            if e.max_null_fraction == 0
            else f"at most {e.max_null_fraction:.2%} missing"
        )
        checks.append(
            Check(
                f"{column}.not_null",
                "not_null",
                column,
                _severity(e, "not_null"),
                text,
                {"max_null_fraction": e.max_null_fraction},
            )
        )
    if e.min is not None or e.max is not None:
        if e.min is not None and e.max is not None:
            text = f"between {e.min:g} and {e.max:g}"
        elif e.min is not None:
            text = f"at least {e.min:g}"
        else:
            text = f"at most {e.max:g}"
        checks.append(
            Check(
                f"{column}.range",
                "range",
                column,
                _severity(e, "range"),
                text,
                {"min": e.min, "max": e.max},
            )
        )
    if e.allowed_values is not None:
        shown = ", ".join(str(v) for v in e.allowed_values[:8])
        more = f" (+{len(e.allowed_values) - 8} more)" if len(e.allowed_values) > 8 else ""
        checks.append(
            Check(
                f"{column}.allowed_values",
                "allowed_values",
                column,
                _severity(e, "allowed_values"),
                f"one of {shown}{more}",
                {"values": list(e.allowed_values)},
            )
        )
    if e.regex is not None:
        checks.append(
            Check(
                f"{column}.regex",
                "regex",
                column,
                _severity(e, "regex"),
                f"matches {e.regex}",
                {"regex": e.regex},
            )
        )
    if e.unique:
        checks.append(
            Check(
                f"{column}.unique",
                "unique",
                column,
                _severity(e, "unique"),
                "no value occurs twice",
            )
        )
    return checks
