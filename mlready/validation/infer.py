"""--infer: bootstrap a data contract from a reference table, as YAML a person reviews."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlready.errors import UsageError

if TYPE_CHECKING:
    from mlready.spec import LoadedSpec

MAX_CATEGORIES = 50


def _shape(value: str) -> str:
    """A value's shape as a regex: runs of digits, upper and lower letters, literal others."""
    parts: list[str] = []
    for run in re.finditer(r"\d+|[A-Z]+|[a-z]+|.", value):
        text = run.group()
        if text.isdigit():
            parts.append(rf"\d{{{len(text)}}}")
        elif text.isupper() and text.isalpha() and text.isascii():
            parts.append(f"[A-Z]{{{len(text)}}}")
        elif text.islower() and text.isalpha() and text.isascii():
            parts.append(f"[a-z]{{{len(text)}}}")
        else:
            parts.append(re.escape(text))
    return "^" + "".join(parts) + "$"


def _nice(value: float, direction: str) -> float:
    """Round a bound outward to 3 significant digits, so the file reads well."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 3 - math.floor(math.log10(abs(value))) - 1
    factor = 10.0**digits
    rounded = (math.floor if direction == "down" else math.ceil)(value * factor) / factor
    return int(rounded) if float(rounded).is_integer() else rounded


def _null_tolerance(fraction: float) -> float:
    if fraction == 0:
        return 0.0
    return min(1.0, math.ceil(fraction * 2 * 1000) / 1000)


def infer_contract(frame: Any, *, target: str | None, margin: float = 0.1) -> dict[str, Any]:
    """Expectations that ``frame`` passes: types, ranges with a margin, sets, nulls, uniqueness."""
    import pandas as pd

    columns: dict[str, Any] = {}
    rows = len(frame)
    for name in frame.columns:
        series = frame[name]
        present = series.dropna()
        entry: dict[str, Any] = {}
        nulls = float(series.isna().mean()) if rows else 0.0
        entry["max_null_fraction"] = _null_tolerance(nulls)
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            entry["type"] = "boolean"
        elif pd.api.types.is_numeric_dtype(dtype):
            whole = bool(len(present)) and bool((present == present.round()).all())
            entry["type"] = "integer" if pd.api.types.is_integer_dtype(dtype) or whole else "number"
            distinct = present.unique()
            if whole and 0 < len(distinct) <= 2:
                entry["allowed_values"] = sorted(int(v) for v in distinct)
            elif len(present):
                low, high = float(present.min()), float(present.max())
                spread = (high - low) or abs(high) or 1.0
                lower = low - margin * spread
                if low >= 0:
                    lower = max(0.0, lower)  # non-negative data stays non-negative
                entry["min"] = _nice(lower, "down")
                entry["max"] = _nice(high + margin * spread, "up")
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            entry["type"] = "datetime"
        else:
            entry["type"] = "string"
            text = present.astype(str)
            distinct = text.unique()
            parsed = pd.to_datetime(text.head(1000), errors="coerce", format="ISO8601")
            if len(text) and parsed.notna().all():
                entry["type"] = "datetime"
            elif 0 < len(distinct) <= MAX_CATEGORIES and len(distinct) < max(2, len(text) // 2):
                entry["allowed_values"] = sorted(str(v) for v in distinct)
            elif len(text):
                shapes = {_shape(v) for v in distinct[:10_000]}
                if len(shapes) == 1 and text.map(_shape).nunique() == 1:
                    entry["regex"] = shapes.pop()
        if (
            len(present) > 1
            and present.is_unique
            and entry.get("type") in ("string", "integer")
            and "allowed_values" not in entry
        ):
            entry["unique"] = True
        if name == target:
            entry["environments"] = ["training"]
        columns[str(name)] = entry
    return {"unexpected_columns": "warning", "row_count": {"min": 1}, "columns": columns}


#: How the comment above an inferred contract starts (in a file, or in the spec with --write).
HEADER = "# Expectations inferred by `mlready validate-data --infer`"


def contract_yaml(contract: dict[str, Any], source: str) -> str:
    """The contract as YAML under an `expectations:` key, with a header to review it by."""
    import yaml

    header = (
        f"{HEADER} from {source}.\n"
        "# Review every line: ranges carry a margin, category sets list only the values seen,\n"
        "# and a unique or regex rule may be chance.\n"
    )

    class _Dumper(yaml.SafeDumper):
        pass

    def _flow_lists(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)

    _Dumper.add_representer(list, _flow_lists)
    body = yaml.dump(
        {"expectations": contract}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


@dataclass(frozen=True)
class InferredContract:
    """The expectations a reference table passes, and what that table was."""

    expectations: dict[str, Any]
    source: str

    def to_yaml(self) -> str:
        """As reviewable YAML: a header, then an `expectations:` section."""
        return contract_yaml(self.expectations, self.source)


def infer_from_data(
    loaded: LoadedSpec | None,
    *,
    source: str | None = None,
    sql: tuple[str, str] | None = None,
    margin: float = 0.1,
) -> InferredContract:
    """The contract inferred from ``source`` (a file, a glob, or ``sql``; with a spec, default
    its training data). Without a spec the table is read with no declared types (digit codes
    with leading zeros are still text) and no column is taken for the target."""
    from mlready.columns import ColumnTypes

    target = None
    if loaded is None:
        if source is None and sql is None:
            raise UsageError("without a spec, name the data to infer a contract from: --from FILE")
        types = ColumnTypes()
    else:
        # the spec's typed reading: declared text stays text, and codes (leading zeros) are text
        types = ColumnTypes.of(loaded.spec)
        target = loaded.spec.data.target
        spec_source = loaded.spec.data.source
        if sql is None and source is None and spec_source.sql is not None:
            sql = (spec_source.sql.url, spec_source.sql.query)
        if sql is None and source is None:
            source = spec_source.path
    if sql is not None:
        frame, label = types.read(sql=sql), f"the query on {sql[0]}"
    else:
        label = source or ""
        frame = types.read(label)
    return InferredContract(infer_contract(frame, target=target, margin=margin), str(label))


def infer_expectations(
    loaded: LoadedSpec | None,
    *,
    source: str | None = None,
    sql: tuple[str, str] | None = None,
    margin: float = 0.1,
) -> str:
    """The contract inferred from ``source`` (see :func:`infer_from_data`), as reviewable YAML."""
    return infer_from_data(loaded, source=source, sql=sql, margin=margin).to_yaml()


@dataclass(frozen=True)
class SpecUpdate:
    """What ``--infer --write`` changed in the spec's `expectations:` section."""

    path: Path
    replaced: bool  # the whole section replaced (--force), not merged
    columns_added: list[str]  # columns the section did not name before
    rules_added: int  # rules (a column's type, range, ...) the section did not have
    rules_kept: int  # rules the spec had, kept as they were


def merge_contracts(
    existing: dict[str, Any], inferred: dict[str, Any]
) -> tuple[dict[str, Any], list[str], int, int]:
    """``inferred`` under ``existing``: a column the spec declares keeps its rules as written
    (mixing in inferred ones could contradict them), a column it does not gets the inferred
    rules, and so do the section's settings it leaves out. Returns the merged section, the
    columns added, and the numbers of rules added and kept."""
    merged = {**inferred, **{k: v for k, v in existing.items() if k != "columns"}}
    old_columns: dict[str, Any] = dict(existing.get("columns") or {})
    new_columns: dict[str, Any] = dict(inferred.get("columns") or {})
    added = [name for name in new_columns if name not in old_columns]
    columns = {name: old_columns.get(name, new_columns.get(name)) for name in new_columns}
    columns.update(old_columns)  # declared columns the data lacks stay too
    merged["columns"] = columns
    rules_added = sum(len(new_columns[name] or {}) for name in added)
    rules_added += sum(1 for key in inferred if key != "columns" and key not in existing)
    rules_kept = sum(len(rules or {}) for rules in old_columns.values())
    rules_kept += sum(1 for key in existing if key != "columns")
    return merged, added, rules_added, rules_kept


def write_into_spec(loaded: LoadedSpec, contract: InferredContract, *, replace: bool) -> SpecUpdate:
    """Put ``contract`` into the spec file's `expectations:` section: merged under the rules the
    spec has (see :func:`merge_contracts`), or, with ``replace``, instead of them. Every line of
    the spec outside that section stays as written. The new spec is validated first, then
    written atomically: on any problem the file is left as it was."""
    from mlready.errors import SpecError
    from mlready.io import atomic_write_text
    from mlready.spec.loading import parse_spec
    from mlready.spec.sections import replace_section

    existing = loaded.raw.get("expectations") or {}
    inferred = contract.expectations
    replace = replace or not isinstance(existing, dict) or not existing
    if replace:
        columns = inferred.get("columns") or {}
        before = (existing.get("columns") or {}) if isinstance(existing, dict) else {}
        section, added = inferred, [c for c in columns if c not in before]
        rules, kept = sum(len(r) for r in columns.values()), 0
    else:
        section, added, rules, kept = merge_contracts(existing, inferred)
    update = SpecUpdate(loaded.path, replace, added, rules, kept)
    text = loaded.path.read_text(encoding="utf-8-sig")
    block = contract_yaml(section, contract.source)
    new_text = replace_section(text, "expectations", block, header=HEADER)
    try:
        parse_spec(new_text, loaded.path)
    except SpecError as exc:
        raise SpecError(
            f"{loaded.path.name} with the inferred expectations would not be valid, so it was "
            f"left as it was: {exc.message}",
            hint="write them to a file with -o FILE instead, and merge them by hand",
        ) from None
    atomic_write_text(loaded.path, new_text)
    return update
