"""The serving contract, checked chunk by chunk before a row reaches the model.

Two sources of rules: the model's recorded features (each numeric feature must hold a finite
number; categories never seen in training are counted, not rejected, since the model's encoders
take them) and the spec's expectations for serving data (the same checks and ids as
``validate-data``). Row-level checks are evaluated per value with vectorised pandas code, not
Great Expectations, because serving runs them on every chunk of every batch and Great
Expectations costs about 0.5 s per call plus ~8 s per million rows: more than scoring itself
(tests compare the rows rejected here with validate-data's quarantine on the same data).
Table-level checks (row count, share of missing values, freshness) are judged once the whole
batch has been read, from counts gathered per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mlready.profiles import category_counts
from mlready.validation.checks import Check

NUMERIC_RE = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
INTEGER_RE = r"^\s*[-+]?\d+(\.0*)?\s*$"
SAMPLE_SIZE = 10
#: Check kinds judged on single rows (failing rows are rejected or stop the run).
ROW_KINDS = {"type", "not_null", "range", "allowed_values", "regex", "unique"}
#: Check kinds judged on the whole batch after the last chunk.
TABLE_KINDS = {"row_count", "freshness"}
#: Check kinds judged on the columns before any row is read.
SCHEMA_KINDS = {"required", "target", "target_absent", "unexpected_columns"}


@dataclass
class Finding:
    """What one check (or model rule) found over the chunks seen so far."""

    id: str
    severity: str
    description: str
    count: int = 0
    sample: list[str] = field(default_factory=list)

    def note(self, values: Any, count: int | None = None) -> None:
        """Count ``count`` failing rows (default: as many as ``values``), sampling ``values``."""
        self.count += len(values) if count is None else count
        for value in values[: SAMPLE_SIZE * 2]:
            text = "<missing>" if _missing(value) else str(value)
            if text not in self.sample and len(self.sample) < SAMPLE_SIZE:
                self.sample.append(text[:80])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "description": self.description,
            "count": self.count,
            "sample": self.sample,
        }


def _missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))  # NaN, NA, None, NaT
    except (TypeError, ValueError):
        return False


@dataclass
class Prepared:
    """One chunk after the checks: the model's input, and which rows were rejected why."""

    X: Any  # the feature columns of the accepted rows, typed as the model was trained
    accepted: Any  # boolean numpy array over the chunk's rows
    reasons: dict[int, list[str]]  # chunk row position -> ids of failed error checks
    categories: dict[str, tuple[dict[str, int], int]]  # categorical feature -> (counts, missing)
    #: the numeric features of the accepted rows as float64 arrays (the columns of X)
    numbers: dict[str, Any] = field(default_factory=dict)


class Contract:
    """The rules a batch must meet, and what the chunks so far broke."""

    def __init__(
        self,
        checks: list[Check],
        numeric: list[str],
        categorical: list[str],
        known_categories: dict[str, set[str]],
        duplicates: dict[str, Any] | None = None,
        dtypes: dict[str, str] | None = None,
    ) -> None:
        self.numeric = list(numeric)
        # categorical features the model was trained on as numbers (a Parquet integer column,
        # or a model trained before codes were read as text): served as numbers too, so the
        # model sees the categories it learned ("1234", not "01234")
        self.numeric_categories = [
            c for c in categorical if _numeric_dtype_name((dtypes or {}).get(c, ""))
        ]
        self.categorical = list(categorical)
        self.features = self.numeric + self.categorical
        self.known = known_categories
        self.duplicates = duplicates or {}
        self.row_checks = [c for c in checks if c.kind in ROW_KINDS]
        self.table_checks = [c for c in checks if c.kind in TABLE_KINDS]
        self.findings: dict[str, Finding] = {}
        self.unseen: dict[str, Finding] = {}
        self.rows = 0
        self.nulls: dict[str, int] = defaultdict(int)
        self.newest: dict[str, Any] = {}
        self.type_ids = {c.column: c.id for c in self.row_checks if c.kind == "type"}

    # ------------------------------------------------------------------------------ columns

    def numeric_columns(self) -> set[str]:
        """Columns read as numbers: numeric features, and columns the contract treats as such."""
        out = set(self.numeric)
        for check in self.row_checks:
            if check.kind == "range" or (
                check.kind == "type" and check.params["type"] in ("integer", "float", "number")
            ):
                out.add(check.column or "")
        return out

    def columns(self) -> list[str]:
        """Every column the checks or the model read."""
        names = list(self.features)
        for check in self.row_checks + self.table_checks:
            if check.column and check.column not in names:
                names.append(check.column)
        return names

    # -------------------------------------------------------------------------------- chunks

    def _finding(self, id_: str, severity: str, description: str) -> Finding:
        if id_ not in self.findings:
            self.findings[id_] = Finding(id_, severity, description)
        return self.findings[id_]

    def prepare(self, chunk: Any) -> Prepared:
        """Check one chunk; return the model input of its accepted rows."""
        import numpy as np
        import pandas as pd

        rows = len(chunk)
        chunk = chunk.reset_index(drop=True)
        self.rows += rows
        bad: dict[str, Any] = {}  # check id -> boolean mask of rows that fail it (error only)
        numbers: dict[str, Any] = {}
        present_columns = set(chunk.columns)
        columns: dict[str, Any] = {}  # each column taken out of the chunk once

        def column_of(name: str) -> Any:
            if name not in columns:
                columns[name] = chunk[name]
            return columns[name]

        def fail(check_id: str, severity: str, description: str, mask: Any, values: Any) -> None:
            if not mask.any():
                return
            finding = self._finding(check_id, severity, description)
            finding.note(list(values[mask][: SAMPLE_SIZE * 2]), count=int(mask.sum()))
            if self._finding(check_id, severity, description).count and severity == "error":
                bad[check_id] = mask | bad[check_id] if check_id in bad else mask

        for column in self.numeric_columns():
            if column not in present_columns:
                continue
            series = column_of(column)
            values, unparsable = to_number(series)
            numbers[column] = values
            if unparsable.any():
                check_id = self.type_ids.get(column, f"{column}.numeric")
                severity = self._severity(check_id, "error")
                fail(check_id, severity, "a number", unparsable, series.to_numpy(dtype=object))
        for column in self.numeric:
            infinite = np.isinf(numbers[column])
            if infinite.any():
                fail(f"{column}.finite", "error", "a finite number", infinite, numbers[column])

        for check in self.row_checks:
            column = check.column or ""
            if column not in present_columns:
                continue
            series = column_of(column)
            mask = self._evaluate(check, series, numbers.get(column))
            if mask is None:
                continue
            shown = numbers[column] if column in numbers and check.kind == "range" else series
            fail(check.id, check.severity, check.description, mask, _objects(shown))

        for check in self.table_checks:
            column = check.column or ""
            if check.kind == "freshness" and column in present_columns:
                from mlready.validation.engine import naive_utc

                newest = naive_utc(column_of(column)).max()
                if pd.notna(newest):
                    old = self.newest.get(column)
                    self.newest[column] = newest if old is None else max(old, newest)

        accepted = np.ones(rows, dtype=bool)
        reasons: dict[int, list[str]] = defaultdict(list)
        for check_id, mask in bad.items():
            accepted &= ~mask
            for position in np.flatnonzero(mask):
                reasons[int(position)].append(check_id)
        # the model's input built in one go: the numbers already converted, the other columns
        # as read (no copy of a chunk whose rows all passed)
        everyone = bool(accepted.all())
        inputs: dict[str, Any] = {}
        for column in self.features:
            if column in numbers and column in self.numeric:
                inputs[column] = numbers[column] if everyone else numbers[column][accepted]
            else:
                values = column_of(column).array
                inputs[column] = values if everyone else values[accepted]
        X = pd.DataFrame(inputs, columns=self.features)
        for column in self.numeric_categories:
            X[column] = inputs[column] = to_number(X[column])[0]
        categories = {
            c: category_counts(pd.Series(inputs[c], copy=False)) for c in self.categorical
        }
        self._count_unseen(categories)
        return Prepared(
            X=X,
            accepted=accepted,
            reasons=dict(reasons),
            categories=categories,
            numbers={c: inputs[c] for c in self.numeric},
        )

    def _count_unseen(self, categories: dict[str, tuple[dict[str, int], int]]) -> None:
        """Categories of accepted rows that training never saw (the model takes them as unknown)."""
        for column, (counts, _) in categories.items():
            known = self.known.get(column)
            if known is None:
                continue
            unseen = {k: n for k, n in counts.items() if k not in known}
            if unseen:
                if column not in self.unseen:
                    self.unseen[column] = Finding(
                        f"{column}.unseen_category", "warning", "a category seen in training"
                    )
                finding = self.unseen[column]
                finding.count += sum(unseen.values())
                for key in unseen:
                    if key not in finding.sample and len(finding.sample) < SAMPLE_SIZE:
                        finding.sample.append(key[:80])

    def _severity(self, check_id: str, default: str) -> str:
        for check in self.row_checks:
            if check.id == check_id:
                return check.severity
        return default

    def _evaluate(self, check: Check, series: Any, number: Any) -> Any:
        """The rows failing one row-level check (None: nothing to judge per row)."""
        import numpy as np
        import pandas as pd

        kind = check.kind
        if kind == "type" and _typed_as_wanted(check.params["type"], series):
            return None  # nothing to judge per row (most chunks of most columns)
        present = series.notna().to_numpy()
        if kind == "not_null":
            missing = ~present
            self.nulls[check.column or ""] += int(missing.sum())
            if check.params["max_null_fraction"] > 0:
                return None  # a share: judged on the whole batch
            return missing
        if kind == "range":
            low, high = check.params["min"], check.params["max"]
            with np.errstate(invalid="ignore"):
                outside = np.zeros(len(series), dtype=bool)
                if low is not None:
                    outside |= number < low
                if high is not None:
                    outside |= number > high
            return outside
        if kind == "allowed_values":
            allowed = check.params["values"]
            if allowed and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in allowed
            ):
                values, unparsable = to_number(series)
                inside = np.isin(values, np.asarray(allowed, dtype=float))
                return present & (unparsable | ~inside)
            from mlready.training.pipeline import to_text

            text = to_text(pd.DataFrame({"v": series}))["v"]
            wanted = {_text_of(v) for v in allowed}
            return present & ~text.isin(wanted).to_numpy()
        if kind == "regex":
            text = series[present].astype(str)
            matched = text.str.contains(check.params["regex"], regex=True).to_numpy(dtype=bool)
            out = np.zeros(len(series), dtype=bool)
            out[np.flatnonzero(present)] = ~matched
            return out
        if kind == "unique":
            found = self.duplicates.get(check.column or "")
            if found is None or len(found) == 0:
                return None
            keys = value_hashes(series[present])
            out = np.zeros(len(series), dtype=bool)
            out[np.flatnonzero(present)] = np.isin(keys, found)
            return out
        if kind == "type":
            return _type_failures(check.params["type"], series, number, present)
        return None

    # --------------------------------------------------------------------------------- end

    def state(self) -> dict[str, Any]:
        """What the chunks so far found, as plain data (to merge across processes)."""
        return {
            "rows": self.rows,
            "nulls": dict(self.nulls),
            "newest": dict(self.newest),
            "findings": [f.to_dict() for f in self.findings.values()],
            "unseen": [f.to_dict() for f in self.unseen.values()],
        }

    def merge(self, state: dict[str, Any]) -> None:
        """Add another contract's findings (a partition checked elsewhere)."""
        self.rows += state["rows"]
        for column, count in state["nulls"].items():
            self.nulls[column] += count
        for column, newest in state["newest"].items():
            old = self.newest.get(column)
            self.newest[column] = newest if old is None else max(old, newest)
        for key, store in (("findings", self.findings), ("unseen", self.unseen)):
            for item in state[key]:
                mine = store.setdefault(
                    item["id"], Finding(item["id"], item["severity"], item["description"])
                )
                mine.count += item["count"]
                for value in item["sample"]:
                    if value not in mine.sample and len(mine.sample) < SAMPLE_SIZE:
                        mine.sample.append(value)

    def table_findings(self) -> list[Finding]:
        """The verdicts that need the whole batch: row count, missing share, freshness."""
        import pandas as pd

        out = []
        for check in self.table_checks:
            if check.kind == "row_count":
                low, high = check.params["min"], check.params["max"]
                if self.rows < low or (high is not None and self.rows > high):
                    finding = Finding(check.id, check.severity, check.description, 1)
                    finding.sample.append(f"{self.rows:,} rows")
                    out.append(finding)
            elif check.kind == "freshness":
                newest = self.newest.get(check.column or "")
                if newest is None or newest < pd.Timestamp(check.params["oldest"]):
                    finding = Finding(check.id, check.severity, check.description, 1)
                    finding.sample.append("no date" if newest is None else f"newest {newest}")
                    out.append(finding)
        for check in self.row_checks:
            share = check.params.get("max_null_fraction") if check.kind == "not_null" else None
            if share and self.rows:
                missing = self.nulls.get(check.column or "", 0)
                if missing / self.rows > share:
                    finding = Finding(check.id, check.severity, check.description, missing)
                    finding.sample.append(f"{missing / self.rows:.2%} missing")
                    out.append(finding)
        return out


def _numeric_dtype_name(name: str) -> bool:
    """Whether a recorded pandas dtype name is a number type (int64, Float64, uint8...)."""
    return name.lower().startswith(("int", "uint", "float"))


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _objects(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype=object)


def to_number(series: Any) -> tuple[Any, Any]:
    """(float64 values, mask of present values that are not numbers) of one column."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or (
        pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype)
    ):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return values, np.zeros(len(values), dtype=bool)
    present = series.notna().to_numpy()
    text = series.astype("string")
    ok = text.str.match(NUMERIC_RE).fillna(False).to_numpy(dtype=bool)
    values = np.full(len(series), np.nan)
    if ok.any():
        values[ok] = pd.to_numeric(text[ok].str.strip(), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    return values, present & ~ok


def _typed_as_wanted(wanted: str, series: Any) -> bool:
    """Whether a type check has nothing to judge per row: numbers are judged while converting
    them, and a text column is text (both as :func:`_type_failures` decides)."""
    import pandas as pd

    if wanted in ("float", "number"):
        return True
    if wanted == "string":
        return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))
    return False


def _type_failures(wanted: str, series: Any, number: Any, present: Any) -> Any:
    import numpy as np
    import pandas as pd

    if wanted in ("float", "number"):
        return None  # judged while converting to numbers
    if wanted == "integer":
        if number is None:
            return None
        with np.errstate(invalid="ignore"):
            return present & np.isfinite(number) & (number % 1 != 0)
    if wanted == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            return None
        parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        return present & parsed.isna().to_numpy()
    if wanted == "boolean":
        if pd.api.types.is_bool_dtype(series):
            return None
        text = series.astype("string").str.strip().str.lower()
        ok = text.isin(["true", "false", "0", "1", "yes", "no"]).fillna(False).to_numpy(dtype=bool)
        return present & ~ok
    if wanted == "string":
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            return present  # a typed file whose column holds numbers, not text
        return None
    return None


def value_hashes(series: Any) -> Any:
    """64-bit hashes of values (as text, so 7 and "7" agree)."""
    import numpy as np
    import pandas as pd

    from mlready.training.pipeline import to_text

    text = to_text(pd.DataFrame({"v": series}))["v"]
    return pd.util.hash_pandas_object(text, index=False).to_numpy(dtype=np.uint64)
