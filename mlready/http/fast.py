"""The fast path of `mlready serve`: a small JSON request checked and scored without pandas.

serve-batch's contract (mlready.serving.prepare.Contract) checks a chunk column by column with
pandas: about 5 ms for one row, mostly building Series. Here the same checks run on the request's
Python values, in the same order, with the same ids, descriptions and samples, producing the same
rejects (row, ids, reasons, messages) and the same contract state for the online profile. The
accepted rows go to the compiled pipeline (mlready.serving.compiled), or to the fitted Pipeline on a
minimal frame when it is not compiled, and the answers are built as the output rows serve-batch
writes.

Only requests whose values pandas would read unambiguously take this path: each column's values
all numbers (no booleans, integers within 2**53), all text or all missing; text in a number column
that does not look like a number (rejected, as pandas would); no check of a kind judged with
pandas' parsers (datetime and boolean types, freshness) on a column the request carries. Any
other request, and every CSV body, takes the batch path (``FastPath.score`` returns None), so the
answers never depend on which path a request took; tests hold both to serve-batch's bits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlready.http.scoring import RequestError, Scored, _checks
from mlready.spec import LoadedSpec

__all__ = ["FAST_ROWS", "FastPath", "FastPrepared"]

#: Requests of at most this many rows take the fast path (from about a thousand rows, pandas'
#: column-at-a-time checks catch up with the per-value loop).
FAST_ROWS = 500
_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_INT_LIMIT = 2**53
_NUMBER, _TEXT, _NONE = "number", "text", "none"


@dataclass
class FastPrepared:
    """The accepted rows' model input as plain arrays (the online profile counts them)."""

    numbers: Any  # accepted rows x numeric features, float64
    categories: dict[str, tuple[dict[str, int], int]]
    rows: int


@dataclass
class _Plan:
    """What the checks of one set of request columns need, built once."""

    checks: list[Any]
    warnings: list[str]
    template: Any  # a Contract: its numeric columns, row checks, type ids and severities
    numeric_columns: list[str]
    allowed: dict[str, tuple[bool, set[Any]]] = field(default_factory=dict)
    patterns: dict[str, Any] = field(default_factory=dict)
    unique: list[str] = field(default_factory=list)
    eligible: bool = True


class FastPath:
    """Scores small JSON requests for one served model."""

    def __init__(self, loaded: LoadedSpec, served: Any) -> None:
        from mlready.serving.compiled import compile_pipeline

        self.loaded = loaded
        self.served = served
        self.info = served.info
        self.compiled = compile_pipeline(served.scorer.model, served.info)
        self._plans: dict[tuple[str, ...], _Plan] = {}

    # ------------------------------------------------------------------------------ plans

    def _plan(self, columns: list[str]) -> _Plan:
        key = tuple(columns)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        from mlready.serving import unique_columns
        from mlready.serving.prepare import Contract

        info = self.info
        checks, warnings = _checks(self.loaded, self.served, columns)
        template = Contract(
            checks, info.numeric, info.categorical, self.served.known, {}, info.dtypes
        )
        present = set(columns)
        plan = _Plan(
            checks=checks,
            warnings=warnings,
            template=template,
            numeric_columns=[c for c in template.numeric_columns() if c in present],
            unique=[c for c in unique_columns(checks) if c in present],
        )
        if template.numeric_categories:
            plan.eligible = False
        for check in template.row_checks:
            if check.column not in present:
                continue
            if check.kind == "type" and check.params["type"] in ("datetime", "boolean"):
                plan.eligible = False
            elif check.kind == "allowed_values":
                allowed = check.params["values"]
                numeric = bool(allowed) and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in allowed
                )
                if numeric:
                    plan.allowed[check.id] = (True, {float(v) for v in allowed})
                else:
                    from mlready.serving.prepare import _text_of

                    plan.allowed[check.id] = (False, {_text_of(v) for v in allowed})
            elif check.kind == "regex":
                plan.patterns[check.id] = re.compile(check.params["regex"])
        for check in template.table_checks:
            if check.kind == "freshness" and check.column in present:
                plan.eligible = False
        if len(self._plans) < 256:
            self._plans[key] = plan
        return plan

    # ---------------------------------------------------------------------------- scoring

    def score(
        self,
        records: list[dict[str, Any]],
        *,
        on_invalid: str,
        cache: Any,
        run_id: str,
    ) -> Scored | None:
        """The request scored as serve-batch scores it, or None when it must take that path."""
        try:
            return self._score(records, on_invalid=on_invalid, cache=cache, run_id=run_id)
        except _Ineligible:
            return None

    def _score(
        self,
        records: list[dict[str, Any]],
        *,
        on_invalid: str,
        cache: Any,
        run_id: str,
    ) -> Scored | None:
        import numpy as np

        from mlready.serving.prepare import Contract

        if len(records) > FAST_ROWS:
            return None
        columns: dict[str, None] = {}
        for record in records:
            for name in record:
                columns.setdefault(str(name), None)
        names = list(columns)
        plan = self._plan(names)  # RequestError 422 for missing features or ids
        if not plan.eligible:
            return None
        info = self.info
        rows = len(records)
        values = {c: [r.get(c) for r in records] for c in names}
        kinds: dict[str, str] = {}
        for column, column_values in values.items():
            kind = _kind(column_values)
            if kind is None:
                return None
            kinds[column] = kind
        for column in info.categorical + info.id_columns:
            if kinds.get(column) == _NUMBER:
                return None
        contract = Contract(plan.checks, info.numeric, info.categorical, self.served.known)
        bad: dict[str, set[int]] = {}

        def fail(
            check_id: str, severity: str, description: str, failing: list[int], shown: list[Any]
        ) -> None:
            if not failing:
                return
            finding = contract._finding(check_id, severity, description)
            finding.note([shown[i] for i in failing[:40]], count=len(failing))
            if finding.count and severity == "error":
                bad.setdefault(check_id, set()).update(failing)

        numbers: dict[str, list[float]] = {}
        for column in plan.numeric_columns:
            column_values = values[column]
            if kinds[column] == _TEXT:
                if any(v is not None and _NUMERIC.match(v) for v in column_values):
                    return None  # pandas' number parser decides: the batch path
                numbers[column] = [float("nan")] * rows
                unparsable = [i for i, v in enumerate(column_values) if v is not None]
                check_id = plan.template.type_ids.get(column, f"{column}.numeric")
                severity = plan.template._severity(check_id, "error")
                fail(check_id, severity, "a number", unparsable, column_values)
            else:
                numbers[column] = [float("nan") if v is None else float(v) for v in column_values]
        # numeric features are finite here (JSON has no infinity, text numbers go the batch way)

        for check in plan.template.row_checks:
            column = check.column or ""
            if column not in values:
                continue
            column_values = values[column]
            failing = self._evaluate(
                check, plan, contract, column_values, kinds[column], numbers.get(column)
            )
            if failing is None:
                continue
            shown: list[Any] = (
                numbers[column] if column in numbers and check.kind == "range" else column_values
            )
            fail(check.id, check.severity, check.description, failing, shown)

        reasons: dict[int, list[str]] = {}
        for check_id, rows_failing in bad.items():
            for position in sorted(rows_failing):
                reasons.setdefault(position, []).append(check_id)
        accepted = [i for i in range(rows) if i not in reasons]
        rejected = []
        if reasons:
            descriptions = {f.id: f.description for f in contract.findings.values()}
            for position in sorted(reasons):
                entry: dict[str, Any] = {"row": position}
                for column in info.id_columns:
                    value = values[column][position]
                    entry[column] = None if value is None else str(value)
                row_reasons = reasons[position]
                entry["reasons"] = row_reasons
                entry["messages"] = [f"{r}: must be {descriptions.get(r, r)}" for r in row_reasons]
                rejected.append(entry)
            if on_invalid != "quarantine":
                raise RequestError(
                    422,
                    "invalid_rows",
                    f"{len(rejected)} of {rows} rows break the serving contract; nothing was "
                    "scored (fix them, or send ?on_invalid=quarantine to score the others)",
                    {"rows": rows, "rejected": rejected},
                )
        contract.rows += rows

        matrix = np.array(
            [[numbers[c][i] for c in info.numeric] for i in accepted], dtype=np.float64
        ).reshape(len(accepted), len(info.numeric))
        texts = {c: [values[c][i] for i in accepted] for c in info.categorical}
        categories = {c: _counts(texts[c]) for c in info.categorical}
        contract._count_unseen(categories)
        raw, hits = self._answers(matrix, texts, cache)
        scorer = self.served.scorer
        flagged = scorer.bad(raw)
        if flagged is not None and flagged.any():
            raise RequestError(
                500,
                "nan_prediction",
                f"{self.served.label} answered NaN or infinity for {int(flagged.sum())} rows: the "
                "model or its inputs are broken; nothing was returned",
            )
        ids = {c: [values[c][i] for i in accepted] for c in info.id_columns}
        predictions = _output(info, scorer, raw, ids, accepted, run_id)
        findings = [f.to_dict() for f in contract.findings.values()]
        findings += [f.to_dict() for f in contract.unseen.values()]
        return Scored(
            model=self.served,
            table=None,
            rows_in=rows,
            rejected=rejected,
            prepared=FastPrepared(numbers=matrix, categories=categories, rows=len(accepted)),
            raw=raw,
            hits=hits,
            misses=len(accepted) - hits,
            warnings=list(plan.warnings),
            findings=findings,
            contract_state=contract.state(),
            predictions=predictions,
        )

    def _evaluate(
        self,
        check: Any,
        plan: _Plan,
        contract: Any,
        column_values: list[Any],
        kind: str,
        number: list[float] | None,
    ) -> list[int] | None:
        """The rows failing one row-level check, as Contract._evaluate finds them."""
        present = [v is not None for v in column_values]
        if check.kind == "not_null":
            missing = [i for i, p in enumerate(present) if not p]
            contract.nulls[check.column or ""] += len(missing)
            if check.params["max_null_fraction"] > 0:
                return None
            return missing
        if check.kind == "range":
            low, high = check.params["min"], check.params["max"]
            assert number is not None  # range columns are number columns
            return [
                i
                for i, x in enumerate(number)
                if (low is not None and x < low) or (high is not None and x > high)
            ]
        if check.kind == "allowed_values":
            numeric, wanted = plan.allowed[check.id]
            if numeric:
                if kind == _TEXT:
                    # text that is no number is outside any list of numbers
                    if any(v is not None and _NUMERIC.match(v) for v in column_values):
                        raise _Ineligible
                    return [i for i, p in enumerate(present) if p]
                return [
                    i
                    for i, v in enumerate(column_values)
                    if v is not None and float(v) not in wanted
                ]
            if kind == _NUMBER:
                raise _Ineligible
            return [i for i, v in enumerate(column_values) if v is not None and v not in wanted]
        if check.kind == "regex":
            if kind == _NUMBER:
                raise _Ineligible
            pattern = plan.patterns[check.id]
            return [
                i for i, v in enumerate(column_values) if v is not None and not pattern.search(v)
            ]
        if check.kind == "unique":
            if check.severity != "error" or len(column_values) < 2:
                return None
            if kind == _NUMBER:
                raise _Ineligible
            seen: dict[str, int] = {}
            for v in column_values:
                if v is not None:
                    seen[v] = seen.get(v, 0) + 1
            return [i for i, v in enumerate(column_values) if v is not None and seen[v] > 1]
        if check.kind == "type":
            wanted_type = check.params["type"]
            if wanted_type == "integer":
                if number is None:
                    return None
                return [i for i, x in enumerate(number) if x == x and x % 1 != 0]
            if wanted_type == "string":
                return [i for i, p in enumerate(present) if p] if kind == _NUMBER else None
            return None
        return None

    def _answers(
        self, matrix: Any, texts: dict[str, list[Any]], cache: Any
    ) -> tuple[dict[str, Any], int]:
        """The model's answers for the accepted rows (from the cache where it has them)."""
        import numpy as np

        scorer = self.served.scorer
        rows = matrix.shape[0]
        if rows == 0:
            return scorer.empty(), 0
        info = self.info
        keys = None
        found: dict[int, tuple[Any, ...]] = {}
        if cache is not None:
            keys = [
                (
                    tuple(None if x != x else x for x in matrix[i].tolist()),
                    tuple(texts[c][i] for c in info.categorical),
                )
                for i in range(rows)
            ]
            found = cache.get_rows(self.served.sha256, keys)
        misses = [i for i in range(rows) if i not in found]
        fresh: dict[str, Any] = {}
        if misses:
            part = matrix if len(misses) == rows else matrix[misses]
            cats = [[texts[c][i] for i in misses] for c in info.categorical]
            if self.compiled is not None:
                fresh = self.compiled.raw(part, cats)
            else:
                fresh = scorer.raw(self._frame(part, cats))
        empty = scorer.empty()
        raw = {}
        for j, name in enumerate(scorer.payload):
            if not found:
                raw[name] = fresh[name]
                continue
            column = np.empty(rows, dtype=empty[name].dtype)
            for i, answer in found.items():
                column[i] = answer[j]
            if misses:
                column[misses] = fresh[name]
            raw[name] = column
        if cache is not None and keys is not None and misses:
            bad = scorer.bad(fresh)
            if bad is None or not bad.any():
                cache.put_rows(
                    self.served.sha256,
                    [keys[i] for i in misses],
                    [tuple(fresh[n][k] for n in scorer.payload) for k in range(len(misses))],
                )
        return raw, len(found)

    def _frame(self, matrix: Any, cats: list[list[Any]]) -> Any:
        """The model input as serve-batch builds it: numbers float64, categories text."""
        import numpy as np
        import pandas as pd

        info = self.info
        columns: dict[str, Any] = {c: matrix[:, j] for j, c in enumerate(info.numeric)}
        for c, values in zip(info.categorical, cats, strict=True):
            columns[c] = pd.Series(values, dtype="str").replace({None: np.nan})
        return pd.DataFrame(columns)[info.features]


class _Ineligible(Exception):
    """The request needs pandas' semantics: it takes the batch path."""


def _kind(values: list[Any]) -> str | None:
    """number, text or none when every value of a column is of that kind; None for a mix (or a
    boolean, or an integer past float64's exact range), which pandas reads its own way."""
    kind = _NONE
    for v in values:
        t = type(v)  # JSON values: exactly these types
        if v is None:
            continue
        if t is str:
            this = _TEXT
        elif t is float:
            this = _NUMBER
        elif t is int:
            if not -_INT_LIMIT <= v <= _INT_LIMIT:
                return None
            this = _NUMBER
        else:
            return None
        if kind is not this:
            if kind is not _NONE:
                return None
            kind = this
    return kind


def _counts(values: list[Any]) -> tuple[dict[str, int], int]:
    """category_counts of text values (None missing)."""
    counts: dict[str, int] = {}
    missing = 0
    for v in values:
        if v is None:
            missing += 1
        else:
            counts[v] = counts.get(v, 0) + 1
    return counts, missing


def _output(
    info: Any,
    scorer: Any,
    raw: dict[str, Any],
    ids: dict[str, list[Any]],
    accepted: list[int],
    run_id: str,
) -> list[dict[str, Any]]:
    """The output rows serve-batch writes, as the JSON answer lists them."""
    from mlready.serving import ROW_COLUMN

    columns: dict[str, list[Any]] = {}
    if info.id_columns:
        columns.update(ids)
    else:
        columns[ROW_COLUMN] = list(accepted)
    if info.binary:
        name = scorer.payload[0]
        cut = scorer.cut
        labels = (str(info.classes[0]), str(info.classes[1]))
        values = raw[name].tolist()
        columns["prediction"] = [labels[1] if v >= cut else labels[0] for v in values]
        columns[name] = values
    else:
        for name in scorer.payload:
            values = raw[name]
            columns[name] = (
                values.tolist() if values.dtype.kind == "f" else [str(v) for v in values.tolist()]
            )
    constants = {
        "model_name": info.name,
        "model_version": int(info.version),
        "model_run_id": info.run_id or "",
        "run_id": run_id,
    }
    names = list(columns)
    return [{**{n: columns[n][i] for n in names}, **constants} for i in range(len(accepted))]
