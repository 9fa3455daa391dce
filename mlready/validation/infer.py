"""--infer: bootstrap a data contract from a reference table, as YAML a person reviews."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

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


def contract_yaml(contract: dict[str, Any], source: str) -> str:
    """The contract as YAML under an `expectations:` key, with a header to review it by."""
    import yaml

    header = (
        f"# Expectations inferred by `mlready validate-data --infer` from {source}.\n"
        "# Review every line before pasting this into mlready.yaml: ranges carry a margin,\n"
        "# category sets list only the values seen, and a unique or regex rule may be chance.\n"
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


def infer_expectations(
    loaded: LoadedSpec,
    *,
    source: str | None = None,
    sql: tuple[str, str] | None = None,
    margin: float = 0.1,
) -> str:
    """The contract inferred from ``source`` (a file, a glob, or ``sql``; default the training
    data), as reviewable YAML."""
    from mlready.columns import ColumnTypes

    # the spec's typed reading: declared text stays text, and codes (leading zeros) are text
    types = ColumnTypes.of(loaded.spec)
    spec_source = loaded.spec.data.source
    if sql is None and source is None and spec_source.sql is not None:
        sql = (spec_source.sql.url, spec_source.sql.query)
    if sql is not None:
        frame, label = types.read(sql=sql), f"the query on {sql[0]}"
    else:
        label = source or spec_source.path or ""
        frame = types.read(label)
    contract = infer_contract(frame, target=loaded.spec.data.target, margin=margin)
    return contract_yaml(contract, str(label))
